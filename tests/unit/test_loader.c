/*
 * test_loader.c — Multiboot loading (emu/loader.h) into a 16 MiB machine, from files the tests
 * write into a temporary directory.
 *
 * The valid image is the smallest Multiboot ELF there is: an ELF header, one program header, and
 * at file offset 96 one PT_LOAD segment for physical 1 MiB holding the 12-byte Multiboot header
 * followed by a few bytes of code (the entry point) and 0x100 bytes of .bss. Each error test
 * breaks one thing in it and checks that the loader refuses with -1 and a message naming the file
 * and that one problem. The valid image is checked down to the Multiboot information structure the
 * guest finds at EBX: flags, memory sizes, command line ("<path> <cmdline>", as QEMU builds it),
 * memory map and boot loader name.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/loader.h"
#include "emu/machine.h"

#define RAM_MIB 16
#define KBASE 0x100000u
#define SEG_OFF 96u
#define MB_MAGIC 0x1badb002u
#define BSS 0x100u

static const uint8_t code[] = {0xb8, 0x10, 0x00, 0x00, 0x00, 0xe7, 0xf4, 0xeb, 0xfe};

struct image {
    uint8_t b[16384];
    size_t len;
    Elf32_Ehdr *eh;
    Elf32_Phdr *ph;
};

static struct machine *m;
static char dir[64];
static char err[512];
static struct image img;

static void quiet(void *opaque, uint8_t byte) {}

static void setup(void)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = (uint64_t)RAM_MIB << 20;
    cfg.console = quiet;
    m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "machine_create: %s", err);
    snprintf(dir, sizeof dir, "/tmp/vmlab-test-loader-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    err[0] = 0;
}

static void teardown(void)
{
    machine_destroy(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(loader, .init = setup, .fini = teardown);

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(uint32_t pa)
{
    uint32_t v;
    memcpy(&v, m->ram + pa, 4);
    return v;
}
static uint64_t get64(uint32_t pa)
{
    uint64_t v;
    memcpy(&v, m->ram + pa, 8);
    return v;
}

/* Multiboot header (magic, flags, checksum) at p. */
static void mb_header(uint8_t *p, uint32_t flags)
{
    put32(p, MB_MAGIC);
    put32(p + 4, flags);
    put32(p + 8, -(MB_MAGIC + flags));
}

/* The valid minimal image: segment at SEG_OFF = Multiboot header + code, loaded at 1 MiB. */
static void build_valid(void)
{
    memset(&img, 0, sizeof img);
    img.eh = (Elf32_Ehdr *)img.b;
    img.ph = (Elf32_Phdr *)(img.b + sizeof(Elf32_Ehdr));
    memcpy(img.eh->e_ident, ELFMAG, SELFMAG);
    img.eh->e_ident[EI_CLASS] = ELFCLASS32;
    img.eh->e_ident[EI_DATA] = ELFDATA2LSB;
    img.eh->e_ident[EI_VERSION] = EV_CURRENT;
    img.eh->e_type = ET_EXEC;
    img.eh->e_machine = EM_386;
    img.eh->e_version = EV_CURRENT;
    img.eh->e_entry = KBASE + 12;
    img.eh->e_phoff = sizeof(Elf32_Ehdr);
    img.eh->e_ehsize = sizeof(Elf32_Ehdr);
    img.eh->e_phentsize = sizeof(Elf32_Phdr);
    img.eh->e_phnum = 1;
    mb_header(img.b + SEG_OFF, 0);
    memcpy(img.b + SEG_OFF + 12, code, sizeof code);
    img.ph->p_type = PT_LOAD;
    img.ph->p_offset = SEG_OFF;
    img.ph->p_vaddr = img.ph->p_paddr = KBASE;
    img.ph->p_filesz = 12 + sizeof code;
    img.ph->p_memsz = 12 + sizeof code + BSS;
    img.ph->p_flags = PF_R | PF_W | PF_X;
    img.ph->p_align = 4;
    img.len = SEG_OFF + 12 + sizeof code;
}

static char path[PATH_MAX];

static const char *write_file(const char *name, const void *bytes, size_t len)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}

static struct boot_info bi;

static int load(const char *p, const char *cmdline)
{
    memset(&bi, 0, sizeof bi);
    return loader_load_multiboot(m, p, cmdline, &bi, err, sizeof err);
}

/* The load fails, and the one-line message names the file and contains `what`. */
static void expect_refused(const char *p, const char *what)
{
    cr_assert_eq(load(p, ""), -1, "loaded although it should not: %s", p);
    cr_assert(strstr(err, p) == err, "message does not start with the path: '%s'", err);
    cr_assert(strstr(err, what), "message '%s' does not say '%s'", err, what);
    cr_assert_null(strchr(err, '\n'), "message is not one line: '%s'", err);
}

/* ---- the valid image ----------------------------------------------------------------------- */

Test(loader, valid_elf_loads_its_segment_at_1_mib_and_returns_the_entry)
{
    build_valid();
    const char *p = write_file("kernel.elf", img.b, img.len);
    cr_assert_eq(load(p, ""), 0, "%s", err);
    cr_assert_eq(bi.entry, KBASE + 12);
    cr_assert_eq(bi.load_low, KBASE);
    cr_assert_eq(bi.load_high, KBASE + 12 + sizeof code + BSS);
    cr_assert_eq(get32(KBASE), MB_MAGIC);
    cr_assert_eq(memcmp(m->ram + KBASE + 12, code, sizeof code), 0);
}

/* An ELF file is bytes: e_phoff may be odd. The loader must read the program headers wherever they
 * are (it read them in place, a misaligned access that the -DVMLAB_SANITIZE=ON build's UBSan
 * aborts on; issue 13). */
Test(loader, program_headers_at_an_odd_offset_load_the_same)
{
    build_valid();
    Elf32_Phdr ph = *img.ph;
    memset(img.ph, 0, sizeof ph);
    memcpy(img.b + 53, &ph, sizeof ph);
    img.eh->e_phoff = 53;
    const char *p = write_file("odd_phoff.elf", img.b, img.len);
    cr_assert_eq(load(p, ""), 0, "%s", err);
    cr_assert_eq(bi.entry, KBASE + 12);
    cr_assert_eq(bi.load_high, KBASE + 12 + sizeof code + BSS);
    cr_assert_eq(memcmp(m->ram + KBASE + 12, code, sizeof code), 0);
}

Test(loader, bss_beyond_the_file_size_is_zeroed)
{
    build_valid();
    const char *p = write_file("kernel.elf", img.b, img.len);
    memset(m->ram + KBASE, 0xaa, 0x1000);
    cr_assert_eq(load(p, ""), 0, "%s", err);
    uint32_t bss = KBASE + 12 + sizeof code;
    for (uint32_t a = bss; a < bss + BSS; a++)
        cr_assert_eq(m->ram[a], 0, "bss byte at 0x%x", a);
    cr_assert_eq(m->ram[bss + BSS], 0xaa, "loaded past the segment's memory size");
}

Test(loader, info_flags_say_mem_cmdline_mmap_and_loader_name)
{
    build_valid();
    cr_assert_eq(load(write_file("kernel.elf", img.b, img.len), ""), 0, "%s", err);
    uint32_t flags = get32(bi.mbi);
    cr_assert_eq(flags, (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9), "flags 0x%x", flags);
}

Test(loader, info_memory_sizes_follow_the_ram_size)
{
    build_valid();
    cr_assert_eq(load(write_file("kernel.elf", img.b, img.len), ""), 0, "%s", err);
    cr_assert_eq(get32(bi.mbi + 4), 639, "mem_lower");
    cr_assert_eq(get32(bi.mbi + 8), (RAM_MIB - 1) * 1024, "mem_upper");
}

Test(loader, info_lies_in_usable_low_memory_below_the_kernel)
{
    build_valid();
    cr_assert_eq(load(write_file("kernel.elf", img.b, img.len), ""), 0, "%s", err);
    cr_assert_geq(bi.mbi, 0x1000);
    cr_assert_leq(bi.mbi + 0x1000, 0x9fc00);
}

Test(loader, cmdline_is_the_kernel_path_a_space_and_the_command_line)
{
    build_valid();
    const char *p = write_file("kernel.elf", img.b, img.len);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s workload=syscall n=1000", p);
    cr_assert_eq(load(p, "workload=syscall n=1000"), 0, "%s", err);
    uint32_t at = get32(bi.mbi + 16);
    cr_assert_lt(at, m->ram_size);
    cr_assert_str_eq((const char *)m->ram + at, want);
}

Test(loader, empty_cmdline_keeps_the_space_after_the_path_as_qemu_does)
{
    build_valid();
    const char *p = write_file("kernel.elf", img.b, img.len);
    char want[PATH_MAX + 2];
    snprintf(want, sizeof want, "%s ", p);
    cr_assert_eq(load(p, ""), 0, "%s", err);
    cr_assert_str_eq((const char *)m->ram + get32(bi.mbi + 16), want);
    cr_assert_eq(load(p, NULL), 0, "%s", err);
    cr_assert_str_eq((const char *)m->ram + get32(bi.mbi + 16), want);
}

Test(loader, overlong_cmdline_is_cut_to_767_bytes_and_terminated)
{
    build_valid();
    const char *p = write_file("kernel.elf", img.b, img.len);
    static char longline[3000];
    memset(longline, 'x', sizeof longline - 1);
    cr_assert_eq(load(p, longline), 0, "%s", err);
    const char *s = (const char *)m->ram + get32(bi.mbi + 16);
    cr_assert_eq(strnlen(s, 4096), 767);
    cr_assert_eq(strncmp(s, p, strlen(p)), 0);
}

Test(loader, memory_map_lists_low_memory_the_bios_holes_and_ram_above_1_mib)
{
    build_valid();
    cr_assert_eq(load(write_file("kernel.elf", img.b, img.len), ""), 0, "%s", err);
    uint32_t len = get32(bi.mbi + 44), at = get32(bi.mbi + 48);
    cr_assert_eq(len, 4 * 24);
    static const struct { uint64_t base, len; uint32_t type; } want[] = {
        {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2},
        {0x100000, (RAM_MIB - 1) << 20, 1},
    };
    uint64_t usable = 0;
    for (unsigned i = 0; i < 4; i++, at += 24) {
        cr_assert_eq(get32(at), 20, "entry %u size", i);
        cr_assert_eq(get64(at + 4), want[i].base, "entry %u base", i);
        cr_assert_eq(get64(at + 12), want[i].len, "entry %u length", i);
        cr_assert_eq(get32(at + 20), want[i].type, "entry %u type", i);
        if (get32(at + 20) == 1)
            usable += get64(at + 12);
    }
    /* Usable memory agrees with mem_lower and mem_upper. */
    cr_assert_eq(usable, ((uint64_t)get32(bi.mbi + 4) + get32(bi.mbi + 8)) * 1024);
}

Test(loader, boot_loader_name_is_vmlab)
{
    build_valid();
    cr_assert_eq(load(write_file("kernel.elf", img.b, img.len), ""), 0, "%s", err);
    const char *name = (const char *)m->ram + get32(bi.mbi + 64);
    cr_assert_eq(strncmp(name, "vmlab", 5), 0, "boot loader name '%s'", name);
}

Test(loader, virtual_entry_point_is_translated_through_its_segment)
{
    build_valid();
    img.ph->p_vaddr = 0xc0000000u + KBASE;
    img.eh->e_entry = 0xc0000000u + KBASE + 12;
    cr_assert_eq(load(write_file("higherhalf.elf", img.b, img.len), ""), 0, "%s", err);
    cr_assert_eq(bi.entry, KBASE + 12);
    cr_assert_eq(get32(KBASE), MB_MAGIC, "loaded by p_paddr");
}

Test(loader, info_moves_above_a_kernel_that_covers_the_low_page)
{
    build_valid();
    img.ph->p_vaddr = img.ph->p_paddr = 0x8000;
    img.ph->p_memsz = 0x3000;                  /* 0x8000-0xafff covers 0x9000 */
    img.eh->e_entry = 0x8000 + 12;
    cr_assert_eq(load(write_file("low.elf", img.b, img.len), ""), 0, "%s", err);
    cr_assert_geq(bi.mbi, bi.load_high);
    cr_assert_eq(get32(0x8000), MB_MAGIC, "kernel overwritten by the info");
    cr_assert_eq(get32(bi.mbi + 8), (RAM_MIB - 1) * 1024);
}

Test(loader, aout_kludge_image_loads_by_the_header_addresses)
{
    /* A flat binary: header at file offset 0 for 0x200000, whole file loaded, 0x1000 of bss. */
    uint8_t flat[64] = {0};
    uint32_t flags = 1u << 16;
    mb_header(flat, flags);
    put32(flat + 12, 0x200000);            /* header_addr */
    put32(flat + 16, 0x200000);            /* load_addr */
    put32(flat + 20, 0);                   /* load_end_addr: the whole file */
    put32(flat + 24, 0x201000);            /* bss_end_addr */
    put32(flat + 28, 0x200020);            /* entry_addr */
    memcpy(flat + 32, code, sizeof code);
    cr_assert_eq(load(write_file("flat.bin", flat, sizeof flat), ""), 0, "%s", err);
    cr_assert_eq(bi.entry, 0x200020);
    cr_assert_eq(bi.load_low, 0x200000);
    cr_assert_eq(bi.load_high, 0x201000);
    cr_assert_eq(memcmp(m->ram + 0x200000, flat, sizeof flat), 0);
}

/* ---- refused files ------------------------------------------------------------------------- */

Test(loader, missing_file_is_refused_with_the_system_error)
{
    char p[128];
    snprintf(p, sizeof p, "%s/no-such-kernel", dir);
    expect_refused(p, "cannot open");
    cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(loader, directory_is_refused)
{
    cr_assert_eq(load(dir, ""), -1);
    cr_assert(strstr(err, dir) == err, "%s", err);
}

Test(loader, empty_file_is_refused_as_not_elf_without_header)
{
    expect_refused(write_file("empty", "", 0), "not an ELF file and no Multiboot header found");
}

Test(loader, non_elf_without_multiboot_header_is_refused)
{
    static const char text[] = "#!/bin/sh\necho this is not a kernel\n";
    expect_refused(write_file("script.sh", text, sizeof text - 1),
                   "not an ELF file and no Multiboot header found");
}

Test(loader, non_elf_with_a_header_but_no_load_addresses_is_refused)
{
    uint8_t flat[64] = {0};
    mb_header(flat + 8, 0);
    expect_refused(write_file("flat.bin", flat, sizeof flat),
                   "not an ELF file (and its Multiboot header has no load addresses)");
}

Test(loader, elf_without_multiboot_header_is_refused)
{
    build_valid();
    memset(img.b + SEG_OFF, 0, 12);
    expect_refused(write_file("nomb.elf", img.b, img.len),
                   "ELF file has no Multiboot header in its first 8 KiB");
}

Test(loader, multiboot_header_after_the_first_8_kib_is_not_found)
{
    build_valid();
    uint32_t off = 9000 & ~3u;
    memmove(img.b + off, img.b + SEG_OFF, 12 + sizeof code);
    memset(img.b + SEG_OFF, 0, 12 + sizeof code);
    img.ph->p_offset = off;
    img.len = off + 12 + sizeof code;
    expect_refused(write_file("late.elf", img.b, img.len),
                   "no Multiboot header in its first 8 KiB");
}

Test(loader, bad_multiboot_checksum_is_no_header)
{
    build_valid();
    put32(img.b + SEG_OFF + 8, 0);
    expect_refused(write_file("badsum.elf", img.b, img.len), "no Multiboot header");
}

Test(loader, multiboot_header_asking_for_video_mode_features_is_refused)
{
    build_valid();
    mb_header(img.b + SEG_OFF, 1u << 3);
    expect_refused(write_file("video.elf", img.b, img.len), "unsupported features (flags 0x8)");
}

Test(loader, truncated_elf_with_program_headers_past_the_end_is_refused)
{
    build_valid();
    img.eh->e_phoff = 0x4000;              /* the file is ~117 bytes */
    expect_refused(write_file("trunc.elf", img.b, img.len),
                   "truncated ELF: program header table past end of file");
}

Test(loader, truncated_elf_with_a_segment_past_the_end_is_refused)
{
    build_valid();
    img.ph->p_filesz = 0x1000;
    img.ph->p_memsz = 0x1000;
    expect_refused(write_file("short.elf", img.b, img.len), "truncated ELF: segment 0");
    cr_assert(strstr(err, "past end of file"), "%s", err);
}

Test(loader, elf_segment_outside_ram_is_refused_with_the_ram_size)
{
    build_valid();
    img.ph->p_paddr = img.ph->p_vaddr = 0x02000000;   /* 32 MiB, RAM is 16 MiB */
    img.eh->e_entry = 0x02000000 + 12;
    expect_refused(write_file("high.elf", img.b, img.len), "segment 0 (physical 0x02000000-");
    cr_assert(strstr(err, "lies outside RAM (16 MiB)"), "%s", err);
}

Test(loader, elf_segment_wrapping_past_4_gib_is_refused)
{
    build_valid();
    img.ph->p_paddr = img.ph->p_vaddr = 0xfffff000u;
    img.ph->p_memsz = 0x2000;
    img.eh->e_entry = 0xfffff00cu;
    expect_refused(write_file("wrap.elf", img.b, img.len), "lies outside RAM");
}

Test(loader, elf_segment_ending_exactly_at_the_end_of_ram_loads)
{
    build_valid();
    uint32_t top = (RAM_MIB << 20) - (12 + sizeof code + BSS);
    img.ph->p_paddr = img.ph->p_vaddr = top;
    img.eh->e_entry = top + 12;
    cr_assert_eq(load(write_file("top.elf", img.b, img.len), ""), 0, "%s", err);
    cr_assert_eq(bi.load_high, RAM_MIB << 20);
}

Test(loader, sixty_four_bit_elf_is_refused)
{
    build_valid();
    img.eh->e_ident[EI_CLASS] = ELFCLASS64;
    img.eh->e_machine = EM_X86_64;
    expect_refused(write_file("kernel64.elf", img.b, img.len), "not a 32-bit little-endian ELF");
}

Test(loader, big_endian_elf_is_refused)
{
    build_valid();
    img.eh->e_ident[EI_DATA] = ELFDATA2MSB;
    expect_refused(write_file("be.elf", img.b, img.len), "not a 32-bit little-endian ELF");
}

Test(loader, elf_for_another_machine_is_refused)
{
    build_valid();
    img.eh->e_machine = EM_ARM;
    expect_refused(write_file("arm.elf", img.b, img.len), "not for i386");
}

Test(loader, shared_object_is_refused_as_not_an_executable)
{
    build_valid();
    img.eh->e_type = ET_DYN;
    expect_refused(write_file("lib.so", img.b, img.len), "not an executable");
}

Test(loader, elf_without_loadable_segments_is_refused)
{
    build_valid();
    img.ph->p_type = PT_NOTE;
    expect_refused(write_file("noload.elf", img.b, img.len), "no loadable segment");
}

Test(loader, entry_point_outside_every_segment_is_refused)
{
    build_valid();
    img.eh->e_entry = 0x00300000;
    expect_refused(write_file("entry.elf", img.b, img.len),
                   "entry point 0x00300000 is not inside any loaded segment");
}

Test(loader, segment_with_file_size_above_memory_size_is_refused)
{
    build_valid();
    img.ph->p_memsz = 4;
    expect_refused(write_file("sizes.elf", img.b, img.len),
                   "file size larger than its memory size");
}

Test(loader, kernel_filling_ram_up_from_the_low_page_leaves_no_room_and_is_refused)
{
    /* The image covers 0x8000 up to the end of RAM: the information structure fits nowhere. */
    build_valid();
    img.ph->p_vaddr = img.ph->p_paddr = 0x8000;
    img.ph->p_memsz = (RAM_MIB << 20) - 0x8000;
    img.eh->e_entry = 0x8000 + 12;
    int r = load(write_file("huge.elf", img.b, img.len), "");
    if (r == 0)
        cr_assert_leq(bi.mbi + 0x1000, m->ram_size, "info written at 0x%x, past RAM", bi.mbi);
    else
        cr_assert(strstr(err, path), "%s", err);
}
