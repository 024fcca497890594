/*
 * fuzz_hypercall.c — libFuzzer target: hypercalls with arguments and guest memory from the input.
 *
 * What it exercises: emu/modes/pv_hypercall.c (every handler's argument decoding: request lists,
 * multicall entries, trap tables, the iret frame on the guest stack, console strings, counts and
 * commands) and behind it emu/modes/pv_mm.c (page-table validation, pins, type counts), through
 * pv_hypercall(), the entry point the `pv` mode itself calls on an int 0x82 (emu/modes/pv.h) —
 * no entry point was added for the fuzzer.
 *
 * The domain is real: tests/guests/pv_hello.elf (its path is compiled in, VMLAB_PV_GUEST) is
 * loaded into 16 MiB and built by mode_pv.setup() (start info, shared info, boot stack, initial
 * page tables mapping the first 4 MiB at 0xc0000000), and the CPU is left in its entry state. The
 * guest's code is never run: the input is the guest.
 *
 * Input layout:
 *   the whole input is copied into guest memory at physical SCRATCH_PA (mapped at
 *   virt_base + SCRATCH_PA, writable in the domain's tables), so pointer arguments can point at
 *   request lists, multicall entries, trap tables and strings that the input itself contains;
 *   ESP is virt_base + SCRATCH_PA + 0x800, in the input too (HYPERVISOR_iret pops its frame
 *   there, past the largest set of records);
 *   it is also read from its start as up to 64 records of 24 bytes, one hypercall each:
 *     u8  nr          the hypercall number (EAX), any value (unknown ones are refused)
 *     u8  pad
 *     u16 modes       2 bits per argument i (EBX, ECX, EDX, ESI, EDI): 0 the raw value;
 *                     1 virt_base + SCRATCH_PA + (value & 0xffff), a pointer into the input;
 *                     2 the page directory's virtual address + (value & 0x3fff) (pt_base);
 *                     3 the page directory's physical address + (value & 0x3fff) (a
 *                       machine address for mmu_update, MMUEXT_PIN_*, NEW_BASEPTR)
 *     u32 args[5]
 *   The calls stop at the end of the records or when the domain ended (shutdown, crash).
 *
 * What counts as a finding: a sanitizer report or a crash. A refused hypercall is a negative
 * errno in EAX and is normal. Seeds: tests/fuzz/corpus/hypercall/ (made by
 * tests/fuzz/make_seeds.py: console write, xen_version, multicall, trap table, mmu_update,
 * mmuext pin/unpin, update_va_mapping, iret, sched_op). Run: README.md, "Fuzzing".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"
#include "fuzz/fuzz_machine.h"
#include "emu/modes/pv.h"

#ifndef VMLAB_PV_GUEST
#error "VMLAB_PV_GUEST (the path of tests/guests/pv_hello.elf) must be defined by the build"
#endif

#define SCRATCH_PA 0x200000u   /* 2 MiB: inside the initial 4 MiB mapping, past the image */
#define SCRATCH_MAX 0x10000u   /* input bytes copied into guest memory */
#define RECORD 24
#define MAX_CALLS 64


static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine *m = fuzz_machine("fuzz_hypercall", 16u << 20, 1000000, "");
    char err[512] = "";
    struct boot_info bi;
    if (loader_load_multiboot(m, VMLAB_PV_GUEST, "", &bi, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_hypercall: cannot boot %s: %s\n", VMLAB_PV_GUEST, err);
        abort();
    }
    m->mode = &mode_pv;
    if (mode_pv.setup(m, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_hypercall: pv setup: %s\n", err);
        abort();
    }
    struct pv *p = pv_of(m);
    size_t n = size < SCRATCH_MAX ? size : SCRATCH_MAX;
    memcpy(m->ram + SCRATCH_PA, data, n);
    uint32_t scratch_va = p->virt_base + SCRATCH_PA;
    uint32_t esp = scratch_va + 0x800;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    uint32_t pd_pa = p->base << 12, pd_va = p->virt_base + pd_pa;

    for (size_t at = 0, calls = 0; at + RECORD <= size && calls < MAX_CALLS && !m->end;
         at += RECORD, calls++) {
        const uint8_t *r = data + at;
        uint32_t eax = r[0];
        uint16_t modes = (uint16_t)(r[2] | r[3] << 8);
        static const int regs[5] = {UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
                                    UC_X86_REG_ESI, UC_X86_REG_EDI};
        for (int i = 0; i < 5; i++) {
            uint32_t v = rd32(r + 4 + 4 * i);
            switch ((modes >> (2 * i)) & 3) {
            case 1: v = scratch_va + (v & 0xffff); break;
            case 2: v = pd_va + (v & 0x3fff); break;
            case 3: v = pd_pa + (v & 0x3fff); break;
            default: break;
            }
            uc_reg_write(m->uc, regs[i], &v);
        }
        uc_reg_write(m->uc, UC_X86_REG_EAX, &eax);
        uint32_t eip;
        uc_reg_read(m->uc, UC_X86_REG_EIP, &eip);
        if (pv_hypercall(m, eip) < 0)
            break;
    }
    mode_pv.teardown(m);
    machine_destroy(m);
    return 0;
}
