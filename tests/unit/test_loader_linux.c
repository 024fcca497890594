/*
 * test_loader_linux.c — loader_load() (emu/loader.h): the Linux bzImage and PVH ELF loaders, the
 * initrd for all three formats, and the dispatcher's one-line refusals, on a 32 MiB machine with
 * files the tests write into a temporary directory.
 *
 * The images are synthetic and as small as the formats allow:
 *   - a bzImage: 4 setup sectors after the boot sector (setup_sects 4) holding a protocol 2.15
 *     setup header (LOADED_HIGH, KEEP_SEGMENTS set so the test sees it cleared, code32_start 1 MiB,
 *     cmdline_size 2047, pref_address 16 MiB, init_size 2 MiB: the kernel needs 18 MiB), then a
 *     4 KiB "protected-mode kernel" of recognisable bytes;
 *   - a PVH ELF: one PT_LOAD segment for physical 2 MiB and a PT_NOTE segment holding a "Xen"
 *     note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) whose entry differs from e_entry, so the test sees
 *     which one is used;
 *   - a Multiboot ELF (the one of test_loader.c) for its initrd module.
 * Each is checked down to what the guest finds: the zero page (setup header copy, type_of_loader,
 * loadflags, cmd_line_ptr, ramdisk fields, e820 table, memory sizes), the hvm_start_info with its
 * module list and memory map, the Multiboot module list, where the initrd went, and the entry
 * registers loader_enter() sets (selectors 0x10/0x18, ESI or EBX, TR for PVH, CR0, EFLAGS, EIP).
 * Every refusal is one line starting with the file it is about; truncating the bzImage at every
 * length and corrupting its fields never crashes.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/loader.h"
#include "emu/machine.h"

#define RAM_MIB 32u
#define RAM_END (RAM_MIB << 20)
#define SETUP_SECTS 4u
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define PM_BYTES 0x1000u
#define PVH_BASE 0x200000u
#define PVH_ENTRY (PVH_BASE + 0x40)
#define MB_MAGIC 0x1badb002u

static struct machine *m;
static char dir[64];
static char err[512];
static char path[PATH_MAX], initrd_path[PATH_MAX];
static struct boot_info bi;
static uint8_t img[16384];
static size_t img_len;

static void quiet(void *opaque, uint8_t byte) {}

static void setup(void)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = (uint64_t)RAM_MIB << 20;
    cfg.console = quiet;
    m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "machine_create: %s", err);
    snprintf(dir, sizeof dir, "/tmp/vmlab-test-loader-linux-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    err[0] = 0;
    memset(&bi, 0, sizeof bi);
}

static void teardown(void)
{
    machine_destroy(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(loader_linux, .init = setup, .fini = teardown);

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(uint32_t pa) { uint16_t v; memcpy(&v, m->ram + pa, 2); return v; }
static uint32_t get32(uint32_t pa) { uint32_t v; memcpy(&v, m->ram + pa, 4); return v; }
static uint64_t get64(uint32_t pa) { uint64_t v; memcpy(&v, m->ram + pa, 8); return v; }

static const char *write_to(char *out, const char *name, const void *bytes, size_t len)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return out;
}
static const char *write_file(const char *name, const void *bytes, size_t len)
{
    return write_to(path, name, bytes, len);
}

/* An initrd of `len` bytes, each byte its offset's low 8 bits plus 1. */
static const char *write_initrd(size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    cr_assert_not_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i + 1);
    write_to(initrd_path, "initrd.cpio", b, len);
    free(b);
    return initrd_path;
}
static bool initrd_at(uint32_t pa, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (m->ram[pa + i] != (uint8_t)(i + 1))
            return false;
    return true;
}

static int load(const char *p, const char *initrd, const char *cmdline)
{
    memset(&bi, 0, sizeof bi);
    err[0] = 0;
    return loader_load(m, p, initrd, cmdline, &bi, err, sizeof err);
}

/* The load fails with one line that starts with `who` and contains `what`. */
static void expect_refused(const char *p, const char *initrd, const char *who, const char *what)
{
    cr_assert_eq(load(p, initrd, "console=ttyS0"), -1, "loaded although it should not: %s", p);
    cr_assert(strstr(err, who) == err, "message does not start with '%s': '%s'", who, err);
    cr_assert(strstr(err, what), "message '%s' does not say '%s'", err, what);
    cr_assert_null(strchr(err, '\n'), "message is not one line: '%s'", err);
}

static uint32_t reg(int r)
{
    uint32_t v = 0;
    cr_assert_eq(uc_reg_read(m->uc, r, &v), UC_ERR_OK);
    return v;
}

/* ---- images -------------------------------------------------------------------------------- */

static void build_bzimage(void)
{
    memset(img, 0, sizeof img);
    img[0x1f1] = SETUP_SECTS;
    put32(img + 0x1f4, PM_BYTES / 16);        /* syssize */
    put16(img + 0x1fe, 0xaa55);
    img[0x200] = 0xeb;                        /* jmp: the header ends at 0x202 + 0x66 = 0x268 */
    img[0x201] = 0x66;
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, 0x020f);
    img[0x211] = 0x01 | 0x40;                 /* LOADED_HIGH | KEEP_SEGMENTS */
    put32(img + 0x214, 0x100000);             /* code32_start */
    put32(img + 0x22c, 0x7fffffff);           /* initrd_addr_max */
    put32(img + 0x230, 0x200000);             /* kernel_alignment */
    put32(img + 0x238, 2047);                 /* cmdline_size */
    put64(img + 0x258, 0x1000000);            /* pref_address */
    put32(img + 0x260, 0x200000);             /* init_size */
    img[0x268] = 0x90;                        /* past the header: must not be copied */
    for (unsigned i = 0; i < PM_BYTES; i++)
        img[SETUP_BYTES + i] = (uint8_t)(0xa5 ^ i);
    img_len = SETUP_BYTES + PM_BYTES;
}

/* PVH ELF: [ehdr][2 phdrs] @0x40 note, @0x100 the segment's bytes (0x80 of them). */
#define NOTE_OFF 0x80u
#define SEG_OFF 0x100u
#define SEG_BYTES 0x80u
static void build_pvh(bool with_phdr_note)
{
    memset(img, 0, sizeof img);
    Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = PVH_BASE;                   /* not the PVH entry */
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_phnum = with_phdr_note ? 2 : 1;
    Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof *eh);
    ph[0] = (Elf32_Phdr){.p_type = PT_LOAD, .p_offset = SEG_OFF, .p_vaddr = 0xc0000000u + PVH_BASE,
                         .p_paddr = PVH_BASE, .p_filesz = SEG_BYTES, .p_memsz = SEG_BYTES + 0x1000,
                         .p_flags = PF_R | PF_X, .p_align = 4};
    if (with_phdr_note)
        ph[1] = (Elf32_Phdr){.p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20, .p_align = 4};
    uint8_t *n = img + NOTE_OFF;
    put32(n, 4);                              /* namesz: "Xen\0" */
    put32(n + 4, 4);                          /* descsz */
    put32(n + 8, 18);                         /* XEN_ELFNOTE_PHYS32_ENTRY */
    memcpy(n + 12, "Xen", 4);
    put32(n + 16, PVH_ENTRY);
    for (unsigned i = 0; i < SEG_BYTES; i++)
        img[SEG_OFF + i] = (uint8_t)(0x5a ^ i);
    img_len = SEG_OFF + SEG_BYTES;
}

/* The same note found through a section header table only (sections at img_len). */
static void add_note_section(void)
{
    Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
    Elf32_Shdr *sh = (Elf32_Shdr *)(img + img_len);
    memset(sh, 0, 2 * sizeof *sh);
    sh[1].sh_type = SHT_NOTE;
    sh[1].sh_offset = NOTE_OFF;
    sh[1].sh_size = 20;
    eh->e_shoff = (Elf32_Off)img_len;
    eh->e_shentsize = sizeof *sh;
    eh->e_shnum = 2;
    img_len += 2 * sizeof *sh;
}

/* Multiboot ELF: the one of test_loader.c (header + code in one PT_LOAD at 1 MiB, 0x100 bss). */
static void build_multiboot(void)
{
    memset(img, 0, sizeof img);
    Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0x100000 + 12;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_phnum = 1;
    Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof *eh);
    *ph = (Elf32_Phdr){.p_type = PT_LOAD, .p_offset = 96, .p_vaddr = 0x100000, .p_paddr = 0x100000,
                       .p_filesz = 21, .p_memsz = 21 + 0x100, .p_flags = PF_R | PF_W | PF_X,
                       .p_align = 4};
    put32(img + 96, MB_MAGIC);
    put32(img + 100, 0);
    put32(img + 104, -MB_MAGIC);
    static const uint8_t code[] = {0xb8, 0x10, 0x00, 0x00, 0x00, 0xe7, 0xf4, 0xeb, 0xfe};
    memcpy(img + 108, code, sizeof code);
    img_len = 96 + 21;
}

/* ---- Linux bzImage ------------------------------------------------------------------------- */

Test(loader_linux, bzimage_loads_its_protected_mode_kernel_at_1_mib)
{
    build_bzimage();
    cr_assert_eq(load(write_file("bzImage", img, img_len), NULL, "console=ttyS0"), 0, "%s", err);
    cr_assert_eq(bi.kind, BOOT_LINUX);
    cr_assert_eq(bi.entry, 0x100000);
    cr_assert_eq(bi.load_low, 0x100000);
    cr_assert_eq(bi.load_high, 0x100000 + PM_BYTES);
    cr_assert_eq(memcmp(m->ram + 0x100000, img + SETUP_BYTES, PM_BYTES), 0);
    cr_assert_eq(bi.initrd, 0);
    cr_assert_eq(bi.initrd_size, 0);
}

Test(loader_linux, zero_page_holds_the_setup_header_and_the_loader_fields)
{
    build_bzimage();
    cr_assert_eq(load(write_file("bzImage", img, img_len), NULL, "console=ttyS0 quiet"), 0, "%s",
                 err);
    uint32_t zp = bi.mbi;
    cr_assert_eq(zp & 0xfff, 0);
    cr_assert_lt(zp + 0x1000, 0x9fc00, "zero page at 0x%x is not in low memory", zp);
    /* The header, 0x1f1 up to its end (0x268), as in the file but for what the loader fills. */
    for (uint32_t o = 0x1f1; o < 0x268; o++) {
        bool filled = o == 0x210 || o == 0x211 || (o >= 0x218 && o < 0x220) ||
                      (o >= 0x224 && o < 0x226) || (o >= 0x228 && o < 0x22c);
        if (!filled)
            cr_assert_eq(m->ram[zp + o], img[o], "header byte 0x%x", o);
    }
    cr_assert_eq(m->ram[zp + 0x268], 0, "copied past the header's end");
    cr_assert_eq(m->ram[zp + 0x210], 0xff, "type_of_loader");
    cr_assert_eq(m->ram[zp + 0x211], 0x81,
                 "loadflags: LOADED_HIGH | CAN_USE_HEAP, KEEP_SEGMENTS cleared");
    cr_assert_neq(get16(zp + 0x224), 0, "heap_end_ptr");
    uint32_t cl = get32(zp + 0x228);
    cr_assert_lt(cl, 0xa0000);
    cr_assert_str_eq((const char *)m->ram + cl, "console=ttyS0 quiet",
                     "the kernel sees the command line exactly, no path prefix");
    cr_assert_eq(get32(zp + 0x218), 0, "ramdisk_image without an initrd");
    cr_assert_eq(get32(zp + 0x21c), 0, "ramdisk_size without an initrd");
    cr_assert_eq(get32(zp + 0x1e0), (RAM_MIB - 1) * 1024, "alt_mem_k");
    cr_assert_eq(get16(zp + 0x002), (RAM_MIB - 1) * 1024, "ext_mem_k");
    cr_assert_eq(m->ram[zp + 0x1ef], 0, "sentinel");
}

Test(loader_linux, e820_table_is_the_bios_map)
{
    build_bzimage();
    cr_assert_eq(load(write_file("bzImage", img, img_len), NULL, ""), 0, "%s", err);
    uint32_t zp = bi.mbi;
    static const struct { uint64_t base, len; uint32_t type; } want[] = {
        {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2},
        {0x100000, (uint64_t)(RAM_MIB - 1) << 20, 1},
    };
    cr_assert_eq(m->ram[zp + 0x1e8], 4, "e820_entries");
    for (unsigned i = 0; i < 4; i++) {
        uint32_t e = zp + 0x2d0 + 20 * i;
        cr_assert_eq(get64(e), want[i].base, "entry %u base", i);
        cr_assert_eq(get64(e + 8), want[i].len, "entry %u size", i);
        cr_assert_eq(get32(e + 16), want[i].type, "entry %u type", i);
    }
    cr_assert_eq(get64(zp + 0x2d0 + 80), 0, "a fifth entry");
}

Test(loader_linux, initrd_goes_page_aligned_to_the_top_of_ram)
{
    build_bzimage();
    const char *ird = write_initrd(10000);
    cr_assert_eq(load(write_file("bzImage", img, img_len), ird, "console=ttyS0"), 0, "%s", err);
    uint32_t at = get32(bi.mbi + 0x218), size = get32(bi.mbi + 0x21c);
    cr_assert_eq(size, 10000);
    cr_assert_eq(at, (RAM_END - 10000) & ~0xfffu, "ramdisk_image 0x%x", at);
    cr_assert_eq(bi.initrd, at);
    cr_assert_eq(bi.initrd_size, size);
    cr_assert(initrd_at(at, size), "initrd bytes");
}

Test(loader_linux, initrd_stays_below_initrd_addr_max)
{
    build_bzimage();
    put32(img + 0x22c, 0x017fffff);            /* the last byte the initrd may occupy: 24 MiB - 1 */
    const char *ird = write_initrd(5000);
    cr_assert_eq(load(write_file("bzImage", img, img_len), ird, ""), 0, "%s", err);
    uint32_t at = get32(bi.mbi + 0x218);
    cr_assert_eq(at, (0x1800000u - 5000) & ~0xfffu, "ramdisk_image 0x%x", at);
    cr_assert(initrd_at(at, 5000));
}

Test(loader_linux, entry_state_is_the_32_bit_boot_protocol)
{
    build_bzimage();
    cr_assert_eq(load(write_file("bzImage", img, img_len), NULL, "console=ttyS0"), 0, "%s", err);
    uint32_t one = 1;
    uc_reg_write(m->uc, UC_X86_REG_EBX, &one);     /* must be cleared */
    uc_reg_write(m->uc, UC_X86_REG_EDI, &one);
    uc_reg_write(m->uc, UC_X86_REG_EBP, &one);
    cr_assert_eq(loader_enter(m, &bi, err, sizeof err), 0, "%s", err);
    cr_assert_eq(reg(UC_X86_REG_CS), 0x10);
    cr_assert_eq(reg(UC_X86_REG_DS), 0x18);
    cr_assert_eq(reg(UC_X86_REG_ES), 0x18);
    cr_assert_eq(reg(UC_X86_REG_SS), 0x18);
    cr_assert_eq(reg(UC_X86_REG_ESI), bi.mbi);
    cr_assert_eq(reg(UC_X86_REG_EBX), 0);
    cr_assert_eq(reg(UC_X86_REG_EDI), 0);
    cr_assert_eq(reg(UC_X86_REG_EBP), 0);
    cr_assert_eq(reg(UC_X86_REG_EIP), 0x100000);
    cr_assert_eq(reg(UC_X86_REG_EFLAGS), 0x2);
    uint64_t cr0 = 0;
    uc_reg_read(m->uc, UC_X86_REG_CR0, &cr0);
    cr_assert_eq(cr0 & 0x80000001u, 1, "protected mode, paging off: CR0 0x%llx",
                 (unsigned long long)cr0);
    uc_x86_mmr gdtr;
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
    cr_assert_eq(gdtr.base, bi.gdt);
    cr_assert_geq(gdtr.limit, 0x1f);
    /* (The CPU sets the accessed bit, 40, when it loads a descriptor.) */
    uint64_t acc = 1ull << 40;
    cr_assert_eq(get64(bi.gdt + 0x10) & ~acc, 0x00cf9a000000ffffull, "__BOOT_CS: flat exec/read");
    cr_assert_eq(get64(bi.gdt + 0x18) & ~acc, 0x00cf92000000ffffull, "__BOOT_DS: flat read/write");
}

Test(loader_linux, too_old_boot_protocol_is_refused_naming_the_version)
{
    build_bzimage();
    put16(img + 0x206, 0x0203);
    const char *p = write_file("old-bzImage", img, img_len);
    expect_refused(p, NULL, p, "Linux boot protocol 2.03 is too old (vmlab needs 2.06 or later)");
}

Test(loader_linux, truncated_protected_mode_kernel_is_refused)
{
    build_bzimage();
    const char *p = write_file("short-bzImage", img, SETUP_BYTES + PM_BYTES / 2);
    expect_refused(p, NULL, p, "truncated Linux bzImage: syssize says the protected-mode kernel "
                   "is 4096 bytes, the file holds 2048 after the setup");
}

Test(loader_linux, setup_sects_past_the_end_of_the_file_is_refused)
{
    build_bzimage();
    img[0x1f1] = 200;
    const char *p = write_file("sects-bzImage", img, img_len);
    expect_refused(p, NULL, p, "truncated Linux bzImage: setup_sects 200");
}

Test(loader_linux, file_ending_inside_the_setup_header_is_refused)
{
    build_bzimage();
    const char *p = write_file("hdr-bzImage", img, 0x230);
    expect_refused(p, NULL, p, "truncated Linux bzImage: the setup header ends at 0x268");
}

Test(loader_linux, zimage_is_refused)
{
    build_bzimage();
    img[0x211] = 0;
    const char *p = write_file("zImage", img, img_len);
    expect_refused(p, NULL, p, "Linux zImage");
}

Test(loader_linux, kernel_needing_more_ram_than_there_is_is_refused)
{
    build_bzimage();
    put32(img + 0x260, 0x1000000 + 1);          /* 16 MiB + init_size 16 MiB + 1 > 32 MiB */
    const char *p = write_file("big-bzImage", img, img_len);
    expect_refused(p, NULL, p, "more than the 32 MiB there is");
}

Test(loader_linux, code32_start_outside_the_kernel_is_refused)
{
    build_bzimage();
    put32(img + 0x214, 0x300000);
    const char *p = write_file("c32-bzImage", img, img_len);
    expect_refused(p, NULL, p, "code32_start 0x00300000 is outside");
}

Test(loader_linux, command_line_longer_than_cmdline_size_is_refused)
{
    build_bzimage();
    put32(img + 0x238, 8);
    const char *p = write_file("bzImage", img, img_len);
    expect_refused(p, NULL, p, "the command line is 13 bytes, the kernel takes at most 8");
}

Test(loader_linux, missing_initrd_is_refused_naming_the_initrd)
{
    build_bzimage();
    char nope[PATH_MAX];
    snprintf(nope, sizeof nope, "%s/no-such-initrd", dir);
    expect_refused(write_file("bzImage", img, img_len), nope, nope, "cannot open the initrd");
    cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(loader_linux, initrd_too_large_for_ram_is_refused)
{
    build_bzimage();
    /* The kernel needs up to 18 MiB; 15 MiB of initrd does not fit below 32 MiB. */
    const char *ird = write_initrd(15u << 20);
    expect_refused(write_file("bzImage", img, img_len), ird, ird, "is too large for RAM");
}

Test(loader_linux, every_truncation_and_corrupted_field_is_refused_or_loads_without_crashing)
{
    build_bzimage();
    uint8_t orig[sizeof img];
    memcpy(orig, img, sizeof img);
    for (size_t n = 0; n < img_len; n += n < 0x300 ? 1 : 97) {
        const char *p = write_file("cut", img, n);
        int r = load(p, NULL, "");
        cr_assert(r == 0 || (r == -1 && strstr(err, p) == err && !strchr(err, '\n')),
                  "length %zu: r %d '%s'", n, r, err);
    }
    static const unsigned fields[] = {0x1f1, 0x1f4, 0x201, 0x206, 0x211, 0x214, 0x22c, 0x238,
                                      0x258, 0x25c, 0x260};
    static const uint32_t values[] = {0, 1, 0xff, 0x7fffffff, 0x80000000u, 0xffffffffu};
    for (unsigned f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (unsigned v = 0; v < sizeof values / sizeof values[0]; v++) {
            memcpy(img, orig, sizeof img);
            if (fields[f] == 0x1f1 || fields[f] == 0x201 || fields[f] == 0x211)
                img[fields[f]] = (uint8_t)values[v];
            else
                put32(img + fields[f], values[v]);
            const char *p = write_file("bad", img, img_len);
            int r = load(p, NULL, "console=ttyS0");
            cr_assert(r == 0 || (r == -1 && strstr(err, p) == err && !strchr(err, '\n')),
                      "field 0x%x = 0x%x: r %d '%s'", fields[f], values[v], r, err);
        }
}

/* ---- PVH ELF ------------------------------------------------------------------------------- */

Test(loader_linux, pvh_elf_loads_by_paddr_and_enters_at_the_note_address)
{
    build_pvh(true);
    cr_assert_eq(load(write_file("vmlinux", img, img_len), NULL, "console=ttyS0"), 0, "%s", err);
    cr_assert_eq(bi.kind, BOOT_PVH);
    cr_assert_eq(bi.entry, PVH_ENTRY, "entry 0x%x: not the note's", bi.entry);
    cr_assert_eq(bi.load_low, PVH_BASE);
    cr_assert_eq(bi.load_high, PVH_BASE + SEG_BYTES + 0x1000);
    cr_assert_eq(memcmp(m->ram + PVH_BASE, img + SEG_OFF, SEG_BYTES), 0);
}

Test(loader_linux, pvh_note_in_a_section_only_is_found)
{
    build_pvh(false);
    add_note_section();
    cr_assert_eq(load(write_file("vmlinux", img, img_len), NULL, ""), 0, "%s", err);
    cr_assert_eq(bi.kind, BOOT_PVH);
    cr_assert_eq(bi.entry, PVH_ENTRY);
}

Test(loader_linux, hvm_start_info_has_the_command_line_memory_map_and_initrd_module)
{
    build_pvh(true);
    const char *ird = write_initrd(6000);
    cr_assert_eq(load(write_file("vmlinux", img, img_len), ird, "console=ttyS0 root=/dev/ram"),
                 0, "%s", err);
    uint32_t si = bi.mbi;
    cr_assert_lt(si + 56, 0xa0000);
    cr_assert_eq(get32(si + 0), 0x336ec578u, "magic");
    cr_assert_eq(get32(si + 4), 1, "version");
    cr_assert_eq(get32(si + 8), 0, "flags");
    cr_assert_eq(get32(si + 12), 1, "nr_modules");
    cr_assert_eq(get64(si + 32), 0, "rsdp_paddr");
    uint64_t cl = get64(si + 24);
    cr_assert_lt(cl, m->ram_size);
    cr_assert_str_eq((const char *)m->ram + cl, "console=ttyS0 root=/dev/ram");
    uint64_t ml = get64(si + 16);
    cr_assert_lt(ml + 32, m->ram_size);
    uint64_t at = get64((uint32_t)ml), size = get64((uint32_t)ml + 8);
    cr_assert_eq(size, 6000);
    cr_assert_eq(at, (RAM_END - 6000) & ~0xfffu, "module 0 at 0x%llx", (unsigned long long)at);
    cr_assert_eq(get64((uint32_t)ml + 24), 0, "reserved");
    cr_assert(initrd_at((uint32_t)at, 6000));
    uint64_t mm = get64(si + 40);
    cr_assert_eq(get32(si + 48), 4, "memmap_entries");
    static const struct { uint64_t base, len; uint32_t type; } want[] = {
        {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2},
        {0x100000, (uint64_t)(RAM_MIB - 1) << 20, 1},
    };
    for (unsigned i = 0; i < 4; i++) {
        uint32_t e = (uint32_t)mm + 24 * i;
        cr_assert_eq(get64(e), want[i].base, "entry %u addr", i);
        cr_assert_eq(get64(e + 8), want[i].len, "entry %u size", i);
        cr_assert_eq(get32(e + 16), want[i].type, "entry %u type", i);
        cr_assert_eq(get32(e + 20), 0, "entry %u reserved", i);
    }
}

Test(loader_linux, pvh_without_initrd_has_no_module)
{
    build_pvh(true);
    cr_assert_eq(load(write_file("vmlinux", img, img_len), NULL, ""), 0, "%s", err);
    cr_assert_eq(get32(bi.mbi + 12), 0, "nr_modules");
    cr_assert_str_eq((const char *)m->ram + get64(bi.mbi + 24), "");
}

Test(loader_linux, pvh_entry_state_has_ebx_the_start_info_and_a_valid_tr)
{
    build_pvh(true);
    cr_assert_eq(load(write_file("vmlinux", img, img_len), NULL, "console=ttyS0"), 0, "%s", err);
    cr_assert_eq(loader_enter(m, &bi, err, sizeof err), 0, "%s", err);
    cr_assert_eq(reg(UC_X86_REG_CS), 0x10);
    cr_assert_eq(reg(UC_X86_REG_DS), 0x18);
    cr_assert_eq(reg(UC_X86_REG_ES), 0x18);
    cr_assert_eq(reg(UC_X86_REG_SS), 0x18);
    cr_assert_eq(reg(UC_X86_REG_EBX), bi.mbi);
    cr_assert_eq(reg(UC_X86_REG_EIP), PVH_ENTRY);
    cr_assert_eq(reg(UC_X86_REG_EFLAGS), 0x2);
    uint64_t cr0 = 0;
    uc_reg_read(m->uc, UC_X86_REG_CR0, &cr0);
    cr_assert_eq(cr0 & ~0x10ull, 1, "CR0 0x%llx: PE only (ET is read-only)",
                 (unsigned long long)cr0);
    uc_x86_mmr tr;
    memset(&tr, 0, sizeof tr);
    uc_reg_read(m->uc, UC_X86_REG_TR, &tr);
    cr_assert_eq(tr.selector, 0x20);
    cr_assert_eq(tr.base, 0);
    cr_assert_eq(tr.limit, 0x67);
    cr_assert_eq((tr.flags >> 8) & 0xf, 0xb, "TR type: busy 32-bit TSS (flags 0x%x)", tr.flags);
    cr_assert(tr.flags & 0x8000, "TR present");
    uint64_t d = get64(bi.gdt + 0x20);
    cr_assert_eq((d >> 40) & 0x9f, 0x8b, "GDT entry 0x20 is a present 32-bit TSS: 0x%llx",
                 (unsigned long long)d);
    cr_assert_eq(d & 0xffff, 0x67, "TSS descriptor limit");
    for (uint32_t a = 0; a < 0x68; a++)
        cr_assert_eq(m->ram[a], 0, "TSS byte 0x%x not zero", a);
}

Test(loader_linux, elf_with_a_multiboot_header_and_a_pvh_note_loads_as_multiboot)
{
    build_pvh(true);
    /* The segment's first bytes become a Multiboot header; e_entry points into the segment. */
    put32(img + SEG_OFF, MB_MAGIC);
    put32(img + SEG_OFF + 4, 0);
    put32(img + SEG_OFF + 8, -MB_MAGIC);
    cr_assert_eq(load(write_file("both.elf", img, img_len), NULL, ""), 0, "%s", err);
    cr_assert_eq(bi.kind, BOOT_MULTIBOOT);
    cr_assert_eq(bi.entry, PVH_BASE, "the ELF entry, not the note's");
    cr_assert_eq(loader_enter(m, &bi, err, sizeof err), 0, "%s", err);
    cr_assert_eq(reg(UC_X86_REG_EAX), 0x2badb002u);
    cr_assert_eq(reg(UC_X86_REG_CS), 0x08);
}

Test(loader_linux, pvh_note_entry_outside_the_segments_is_refused)
{
    build_pvh(true);
    put32(img + NOTE_OFF + 16, 0x800000);
    const char *p = write_file("vmlinux", img, img_len);
    expect_refused(p, NULL, p,
                   "XEN_ELFNOTE_PHYS32_ENTRY 0x00800000 is not inside any loaded segment");
}

Test(loader_linux, elf_without_any_entry_is_refused_saying_what_it_is)
{
    build_pvh(true);
    put32(img + NOTE_OFF + 8, 17);            /* another Xen note type */
    const char *p = write_file("plain.elf", img, img_len);
    expect_refused(p, NULL, p, "not a Multiboot kernel, Linux bzImage or PVH ELF (found: ELF i386 "
                   "executable with neither a Multiboot header in its first 8 KiB nor a "
                   "XEN_ELFNOTE_PHYS32_ENTRY note)");
}

Test(loader_linux, malformed_note_table_is_no_note)
{
    build_pvh(true);
    put32(img + NOTE_OFF + 4, 0xfffffff0u);   /* descsz past everything */
    const char *p = write_file("badnote.elf", img, img_len);
    expect_refused(p, NULL, p, "nor a XEN_ELFNOTE_PHYS32_ENTRY note");
    build_pvh(true);
    Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(Elf32_Ehdr));
    ph[1].p_filesz = 0xffffff00u;             /* the note segment past the end of the file */
    expect_refused(write_file("badnote2.elf", img, img_len), NULL, path, "nor a XEN_ELFNOTE");
}

Test(loader_linux, sixty_four_bit_elf_is_named)
{
    build_pvh(true);
    img[EI_CLASS] = ELFCLASS64;
    put16(img + 18, EM_X86_64);
    const char *p = write_file("vmlinux64", img, img_len);
    expect_refused(p, NULL, p, "(found: ELF 64-bit x86-64 executable)");
}

/* ---- Multiboot with an initrd, and the other refusals -------------------------------------- */

Test(loader_linux, multiboot_initrd_is_module_0_after_the_kernel)
{
    build_multiboot();
    const char *ird = write_initrd(3000);
    const char *p = write_file("kernel.elf", img, img_len);
    cr_assert_eq(load(p, ird, "workload=x"), 0, "%s", err);
    cr_assert_eq(bi.kind, BOOT_MULTIBOOT);
    uint32_t mbi = bi.mbi;
    cr_assert_eq(get32(mbi), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9), "flags");
    cr_assert_eq(get32(mbi + 20), 1, "mods_count");
    uint32_t mods = get32(mbi + 24);
    uint32_t start = get32(mods), end = get32(mods + 4);
    cr_assert_eq(start & 0xfff, 0);
    cr_assert_geq(start, bi.load_high);
    cr_assert_eq(end - start, 3000);
    cr_assert(initrd_at(start, 3000));
    cr_assert_str_eq((const char *)m->ram + get32(mods + 8), ird, "module string");
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s workload=x", p);
    cr_assert_str_eq((const char *)m->ram + get32(mbi + 16), want, "Multiboot keeps the prefix");
}

Test(loader_linux, multiboot_without_initrd_is_as_before)
{
    build_multiboot();
    cr_assert_eq(load(write_file("kernel.elf", img, img_len), NULL, ""), 0, "%s", err);
    cr_assert_eq(get32(bi.mbi), (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9), "flags");
    cr_assert_eq(bi.entry, 0x100000 + 12);
    cr_assert_eq(bi.initrd_size, 0);
}

Test(loader_linux, unrecognised_files_say_what_was_found)
{
    static const char text[] = "this is not a kernel\n";
    const char *p = write_file("text", text, sizeof text - 1);
    expect_refused(p, NULL, p, "not a Multiboot kernel, Linux bzImage or PVH ELF (found: a "
                   "21-byte file starting with bytes 74 68 69 73 20 69 73 20)");
    p = write_file("empty", "", 0);
    expect_refused(p, NULL, p, "(found: an empty file)");
}
