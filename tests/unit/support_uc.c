/*
 * support_uc.c — the bare-engine fixture of the Unicorn tests (support_uc.h).
 */
#include "support_uc.h"

#include <criterion/criterion.h>
#include <string.h>

uc_engine *uc;
struct uc_quirks q;
struct uct_exc seen[8];
unsigned nseen;
bool uct_stop_on_intr;

static void on_intr(uc_engine *u, uint32_t intno, void *opaque)
{
    (void)opaque;
    struct uct_exc *e = &seen[nseen < 8 ? nseen : 7];
    e->vector = intno;
    uc_reg_read(u, UC_X86_REG_EIP, &e->eip);
    uq_exception_info(&q, u, &e->error, &e->is_int);
    nseen++;
    if (uct_stop_on_intr)
        uc_emu_stop(u);
}

void uct_open(void)
{
    char err[256] = "";
    nseen = 0;
    memset(seen, 0, sizeof seen);
    uct_stop_on_intr = true;
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &uc), UC_ERR_OK);
    cr_assert_eq(uq_calibrate(&q, uc, err, sizeof err), 0, "%s", err);
}

void uct_load_gdt(const uint64_t *gdt, size_t bytes)
{
    cr_assert_eq(uc_mem_write(uc, GDT, gdt, bytes), UC_ERR_OK);
    uc_x86_mmr gdtr = {.base = GDT, .limit = (uint32_t)bytes - 1};
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
}

void uct_enter_ring0(void)
{
    wr32(UC_X86_REG_CS, 0x08);
    wr32(UC_X86_REG_SS, 0x10);
    wr32(UC_X86_REG_DS, 0x10);
    wr32(UC_X86_REG_ESP, STACK);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0), UC_ERR_OK);
}

void uct_close(void)
{
    uq_free(&q);
    uc_close(uc);
}

void wr32(int reg, uint32_t v) { cr_assert_eq(uc_reg_write(uc, reg, &v), UC_ERR_OK); }

uint32_t rd32(int reg)
{
    uint32_t v = 0;
    uc_reg_read(uc, reg, &v);
    return v;
}

uint64_t rd64(int reg)
{
    uint64_t v = 0;
    uc_reg_read(uc, reg, &v);
    return v;
}
