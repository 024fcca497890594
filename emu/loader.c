/*
 * loader.c — Multiboot v1 loading, the format dispatcher loader_load(), the entry states, and the
 * helpers the Linux and PVH loaders share (see loader.h and loader_priv.h).
 *
 * Low memory layout written by the Multiboot loader (all of it in the first usable 640 KiB, where
 * GRUB and QEMU also put their structures; the kernel may reuse it once it has copied what it
 * needs):
 *
 *   0x9000  multiboot_info (88 bytes)       0x9400  memory map (4 entries of 24 bytes)
 *   0x9100  command line (up to 767 bytes)  0x9500  boot loader name
 *   0x9600  module list (the initrd)        0x9700  module string (the initrd's path)
 *   0x9f00  boot GDT: null, code 0x08, data 0x10 (flat 4 GiB)
 *
 * If the kernel image itself covers that page, the structures go to the first page after the
 * image instead. The initrd, as Multiboot module 0, goes to the first page after the image (and
 * after the information page when that follows the image), as QEMU puts modules.
 */
#include "emu/loader.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/loader_priv.h"
#include "emu/machine.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_CMDLINE_MAX 767
#define LOW_PAGE 0x9000u

struct mb_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

int loader_fail(char *errbuf, unsigned errlen, const char *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(errbuf, errlen, "%s: %s", path, msg);
    return -1;
}

void loader_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
void loader_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
void loader_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

uint8_t *loader_slurp(const char *path, const char *what, size_t *len, char *errbuf,
                      unsigned errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, errlen, "%s: cannot open%s%s: %s", path, what ? " " : "", what ? what : "",
                 strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        snprintf(errbuf, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    if (n < 0 || n > (512l << 20)) {
        snprintf(errbuf, errlen, "%s: not a regular file or larger than 512 MiB", path);
        fclose(f);
        return NULL;
    }
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(errbuf, errlen, "%s: cannot read the file", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const struct mb_header *find_header(const uint8_t *img, size_t len, size_t *off)
{
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t i = 0; i + 12 <= lim; i += 4) {
        const struct mb_header *h = (const struct mb_header *)(img + i);
        if (h->magic == MB_MAGIC && (uint32_t)(h->magic + h->flags + h->checksum) == 0) {
            *off = i;
            return h;
        }
    }
    return NULL;
}

bool loader_in_ram(const struct machine *m, uint64_t pa, uint64_t len)
{
    return pa + len <= m->ram_size && pa + len >= pa;
}

int loader_elf_segments(struct machine *m, const char *path, const uint8_t *img, size_t len,
                        struct boot_info *bi, char *errbuf, unsigned errlen)
{
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return loader_fail(errbuf, errlen, path, "not a 32-bit little-endian ELF file");
    if (eh->e_machine != EM_386)
        return loader_fail(errbuf, errlen, path,
                           "ELF file is not for i386 (e_machine is not EM_386)");
    if (eh->e_type != ET_EXEC)
        return loader_fail(errbuf, errlen, path, "ELF file is not an executable (ET_EXEC)");
    if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 ||
        (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len)
        return loader_fail(errbuf, errlen, path,
                           "truncated ELF: program header table past end of file");
    /* e_phoff need not be aligned (the file is bytes): each header is copied out, never read in
     * place (UBSan: misaligned member access, found by a crafted image with e_phoff = 53). */
    const uint8_t *ph = img + eh->e_phoff;
    bi->load_low = UINT32_MAX;
    bi->load_high = 0;
    int nload = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf32_Phdr phi;
        memcpy(&phi, ph + (size_t)i * sizeof phi, sizeof phi);
        const Elf32_Phdr *p = &phi;
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if ((uint64_t)p->p_offset + p->p_filesz > len) {
            snprintf(errbuf, errlen, "%s: truncated ELF: segment %d (offset 0x%x, %u bytes) past end "
                     "of file (%zu bytes)", path, i, p->p_offset, p->p_filesz, len);
            return -1;
        }
        if (p->p_filesz > p->p_memsz) {
            snprintf(errbuf, errlen, "%s: segment %d has a file size larger than its memory size",
                     path, i);
            return -1;
        }
        if (!loader_in_ram(m, p->p_paddr, p->p_memsz)) {
            snprintf(errbuf, errlen, "%s: segment %d (physical 0x%08x-0x%08llx) lies outside RAM "
                     "(%llu MiB)", path, i, p->p_paddr,
                     (unsigned long long)p->p_paddr + p->p_memsz - 1,
                     (unsigned long long)(m->ram_size >> 20));
            return -1;
        }
        memcpy(m->ram + p->p_paddr, img + p->p_offset, p->p_filesz);
        memset(m->ram + p->p_paddr + p->p_filesz, 0, p->p_memsz - p->p_filesz);
        if (p->p_paddr < bi->load_low)
            bi->load_low = p->p_paddr;
        if (p->p_paddr + p->p_memsz > bi->load_high)
            bi->load_high = p->p_paddr + p->p_memsz;
        nload++;
    }
    if (nload == 0)
        return loader_fail(errbuf, errlen, path, "ELF file has no loadable segment");
    return 0;
}

bool loader_elf_loads(const uint8_t *img, uint32_t pa)
{
    Elf32_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf32_Phdr p;
        memcpy(&p, img + eh.e_phoff + (size_t)i * sizeof p, sizeof p);
        if (p.p_type == PT_LOAD && p.p_memsz != 0 && pa >= p.p_paddr && pa - p.p_paddr < p.p_memsz)
            return true;
    }
    return false;
}

static int load_elf(struct machine *m, const char *path, const uint8_t *img, size_t len,
                    struct boot_info *bi, char *errbuf, unsigned errlen)
{
    if (loader_elf_segments(m, path, img, len, bi, errbuf, errlen) < 0)
        return -1;
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    const uint8_t *ph = img + eh->e_phoff;
    uint32_t entry = eh->e_entry;
    bool entry_ok = loader_elf_loads(img, entry);
    if (!entry_ok) {
        /* A virtual entry point: translate through the segment that contains it. */
        for (int i = 0; i < eh->e_phnum && !entry_ok; i++) {
            Elf32_Phdr phi;
            memcpy(&phi, ph + (size_t)i * sizeof phi, sizeof phi);
            const Elf32_Phdr *p = &phi;
            if (p->p_type == PT_LOAD && entry >= p->p_vaddr && entry - p->p_vaddr < p->p_memsz) {
                entry = entry - p->p_vaddr + p->p_paddr;
                entry_ok = true;
            }
        }
    }
    if (!entry_ok) {
        snprintf(errbuf, errlen, "%s: entry point 0x%08x is not inside any loaded segment", path,
                 eh->e_entry);
        return -1;
    }
    bi->entry = entry;
    return 0;
}

static int load_aout(struct machine *m, const char *path, const uint8_t *img, size_t len,
                     const struct mb_header *h, size_t hoff, struct boot_info *bi,
                     char *errbuf, unsigned errlen)
{
    if (h->load_addr > h->header_addr || hoff < h->header_addr - h->load_addr)
        return loader_fail(errbuf, errlen, path,
                           "Multiboot header: load_addr inconsistent with header_addr");
    size_t file_start = hoff - (h->header_addr - h->load_addr);
    size_t n = h->load_end_addr ? h->load_end_addr - h->load_addr : len - file_start;
    if (file_start + n > len)
        return loader_fail(errbuf, errlen, path, "truncated: Multiboot load range past end of file");
    uint32_t end = h->bss_end_addr > h->load_addr + n ? h->bss_end_addr : h->load_addr + (uint32_t)n;
    if (!loader_in_ram(m, h->load_addr, end - h->load_addr))
        return loader_fail(errbuf, errlen, path, "Multiboot load range lies outside RAM");
    memcpy(m->ram + h->load_addr, img + file_start, n);
    memset(m->ram + h->load_addr + n, 0, end - h->load_addr - n);
    bi->load_low = h->load_addr;
    bi->load_high = end;
    bi->entry = h->entry_addr;
    return 0;
}

void loader_memory_map(const struct machine *m, struct loader_map_entry map[LOADER_MAP_ENTRIES])
{
    map[0] = (struct loader_map_entry){0, 0x9fc00, 1};
    map[1] = (struct loader_map_entry){0x9fc00, 0x400, 2};
    map[2] = (struct loader_map_entry){0xf0000, 0x10000, 2};
    map[3] = (struct loader_map_entry){0x100000, m->ram_size - 0x100000, 1};
}

static int build_info(struct machine *m, const char *cmdline, struct boot_info *bi)
{
    uint32_t base = LOW_PAGE;
    if (bi->load_low < LOW_PAGE + 0x1000 && bi->load_high > LOW_PAGE)
        base = (bi->load_high + 0xfffu) & ~0xfffu;
    if ((uint64_t)base + 0x1000 > m->ram_size)
        return -1;
    uint8_t *p = m->ram + base;
    memset(p, 0, 0x1000);
    uint32_t mem_upper = (uint32_t)((m->ram_size - 0x100000) >> 10);
    loader_put32(p + 0, (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
    loader_put32(p + 4, 639);
    loader_put32(p + 8, mem_upper);
    size_t cl = strlen(cmdline);
    if (cl > MB_CMDLINE_MAX)
        cl = MB_CMDLINE_MAX;
    memcpy(p + 0x100, cmdline, cl);
    loader_put32(p + 16, base + 0x100);
    /* Each entry is {u32 size 20, then base, length, type}. */
    for (int i = 0; i < LOADER_MAP_ENTRIES; i++)
        loader_put32(p + 0x400 + 24 * i, 20);
    loader_put_map(m, p + 0x404, 24);
    loader_put32(p + 44, LOADER_MAP_ENTRIES * 24);
    loader_put32(p + 48, base + 0x400);
    static const char name[] = "vmlab " VMLAB_VERSION;
    memcpy(p + 0x500, name, sizeof name < 256 ? sizeof name : 255);
    loader_put32(p + 64, base + 0x500);
    /* Boot GDT: flat code (0x08) and data (0x10). */
    uint8_t *g = p + 0xf00;
    loader_put64(g + 0, 0);
    loader_put64(g + 8, 0x00cf9a000000ffffull);
    loader_put64(g + 16, 0x00cf92000000ffffull);
    bi->mbi = base;
    bi->gdt = base + 0xf00;
    return 0;
}

/* Module 0 = the initrd, in the first page after the kernel image and the information page (QEMU's
 * placement), with its path as the module string: flag 3, mods_count, mods_addr. */
static int add_module(struct machine *m, const char *path, const struct loader_blob *initrd,
                      struct boot_info *bi, char *errbuf, unsigned errlen)
{
    uint64_t floor = bi->load_high;
    if (bi->mbi >= bi->load_high)
        floor = (uint64_t)bi->mbi + 0x1000;
    floor = (floor + 0xfff) & ~0xfffull;
    if (floor + initrd->len > m->ram_size)
        return loader_fail(errbuf, errlen, initrd->path, "initrd of %zu bytes does not fit in RAM "
                           "after the kernel %s (0x%08llx-0x%08llx free, %llu MiB of RAM)",
                           initrd->len, path, (unsigned long long)floor,
                           (unsigned long long)m->ram_size, (unsigned long long)(m->ram_size >> 20));
    memcpy(m->ram + floor, initrd->data, initrd->len);
    bi->initrd = (uint32_t)floor;
    bi->initrd_size = (uint32_t)initrd->len;
    uint8_t *p = m->ram + bi->mbi;
    loader_put32(p + 0, loader_get32(p) | (1u << 3));
    loader_put32(p + 20, 1);
    loader_put32(p + 24, bi->mbi + 0x600);
    loader_put32(p + 0x600, bi->initrd);
    loader_put32(p + 0x604, bi->initrd + bi->initrd_size);
    loader_put32(p + 0x608, bi->mbi + 0x700);
    size_t n = strlen(initrd->path);
    memcpy(p + 0x700, initrd->path, n < 0x7ff ? n : 0x7ff);
    return 0;
}

/* A Multiboot kernel in img (the header h at hoff), with the initrd as module 0 when given. */
static int multiboot_image(struct machine *m, const char *path, const uint8_t *img, size_t len,
                           const struct mb_header *h, size_t hoff, const char *cmdline,
                           const struct loader_blob *initrd, struct boot_info *bi, char *errbuf,
                           unsigned errlen)
{
    memset(bi, 0, sizeof *bi);
    bi->kind = BOOT_MULTIBOOT;
    bool is_elf = len >= sizeof(Elf32_Ehdr) && memcmp(img, ELFMAG, SELFMAG) == 0;
    int r = -1;
    if (h->flags & 0xfff8u) {
        snprintf(errbuf, errlen, "%s: Multiboot header requests unsupported features (flags 0x%x)",
                 path, h->flags);
        return -1;
    }
    if (h->flags & (1u << 16)) {
        if (hoff + sizeof *h > len)
            return loader_fail(errbuf, errlen, path, "truncated Multiboot header");
        r = load_aout(m, path, img, len, h, hoff, bi, errbuf, errlen);
    } else if (!is_elf) {
        return loader_fail(errbuf, errlen, path,
                           "not an ELF file (and its Multiboot header has no load addresses)");
    } else {
        r = load_elf(m, path, img, len, bi, errbuf, errlen);
    }
    if (r < 0)
        return -1;
    /* QEMU passes "<kernel path> <-append text>" (with the space even when there is no text);
     * guests see the same string here. */
    size_t n = strlen(path) + 2 + (cmdline ? strlen(cmdline) : 0);
    char *full = malloc(n);
    if (!full)
        return loader_fail(errbuf, errlen, path, "out of memory");
    snprintf(full, n, "%s %s", path, cmdline ? cmdline : "");
    r = build_info(m, full, bi);
    free(full);
    if (r < 0)
        return loader_fail(errbuf, errlen, path,
                           "no room left in RAM for the Multiboot information");
    if (initrd && initrd->path)
        return add_module(m, path, initrd, bi, errbuf, errlen);
    return 0;
}

int loader_load_multiboot(struct machine *m, const char *path, const char *cmdline,
                          struct boot_info *bi, char *errbuf, unsigned errlen)
{
    size_t len;
    uint8_t *img = loader_slurp(path, NULL, &len, errbuf, errlen);
    if (!img)
        return -1;
    int r = -1;
    size_t hoff;
    const struct mb_header *h = find_header(img, len, &hoff);
    bool is_elf = len >= sizeof(Elf32_Ehdr) && memcmp(img, ELFMAG, SELFMAG) == 0;
    if (!h)
        loader_fail(errbuf, errlen, path, "%s",
                    is_elf ? "ELF file has no Multiboot header in its first 8 KiB"
                           : "not an ELF file and no Multiboot header found");
    else
        r = multiboot_image(m, path, img, len, h, hoff, cmdline, NULL, bi, errbuf, errlen);
    free(img);
    return r;
}

/* ---- the helpers the Linux and PVH loaders share ------------------------------------------- */

uint32_t loader_area(const struct machine *m, const struct boot_info *bi)
{
    uint64_t base = LOADER_AREA;
    if (bi->load_low < LOADER_AREA + LOADER_AREA_SIZE && bi->load_high > LOADER_AREA)
        base = ((uint64_t)bi->load_high + 0xfff) & ~0xfffull;
    return base + LOADER_AREA_SIZE <= m->ram_size ? (uint32_t)base : 0;
}

void loader_write_gdt(struct machine *m, uint32_t pa, const struct boot_info *bi)
{
    uint8_t *g = m->ram + pa;
    memset(g, 0, 0x1000);
    loader_put64(g + LOADER_SEL_CS, 0x00cf9a000000ffffull);  /* code, exec/read, 4 GiB, 32-bit */
    loader_put64(g + LOADER_SEL_DS, 0x00cf92000000ffffull);  /* data, read/write, 4 GiB, 32-bit */
    loader_put64(g + LOADER_SEL_TSS, 0x00008b0000000067ull); /* busy 32-bit TSS, base 0, 0x67 */
    if (bi->load_low >= 0x68)
        memset(m->ram, 0, 0x68);
}

uint8_t *loader_fill_area(struct machine *m, uint32_t area, const char *cmdline, size_t cl,
                          struct boot_info *bi)
{
    loader_write_gdt(m, area, bi);
    uint8_t *c = m->ram + area + 0x1000;
    memset(c, 0, 0x1000);
    memcpy(c, cmdline, cl);
    uint8_t *info = m->ram + area + 0x2000;
    memset(info, 0, 0x1000);
    bi->mbi = area + 0x2000;
    bi->gdt = area;
    return info;
}

void loader_put_map(const struct machine *m, uint8_t *at, size_t stride)
{
    struct loader_map_entry map[LOADER_MAP_ENTRIES];
    loader_memory_map(m, map);
    for (int i = 0; i < LOADER_MAP_ENTRIES; i++, at += stride) {
        loader_put64(at, map[i].base);
        loader_put64(at + 8, map[i].len);
        loader_put32(at + 16, map[i].type);
    }
}

int loader_place_initrd(struct machine *m, const struct loader_blob *initrd, uint64_t floor,
                        uint64_t ceiling, struct boot_info *bi, char *errbuf, unsigned errlen)
{
    bi->initrd = bi->initrd_size = 0;
    if (!initrd || !initrd->path)
        return 0;
    if (ceiling > m->ram_size)
        ceiling = m->ram_size;
    floor = (floor + 0xfff) & ~0xfffull;
    uint64_t at = ceiling >= initrd->len ? (ceiling - initrd->len) & ~0xfffull : 0;
    if (ceiling < initrd->len || at < floor)
        return loader_fail(errbuf, errlen, initrd->path, "initrd of %zu bytes (%.1f MiB) is too "
                           "large for RAM: the kernel leaves 0x%08llx-0x%08llx for it (%llu MiB of "
                           "RAM)", initrd->len, initrd->len / 1048576.0, (unsigned long long)floor,
                           (unsigned long long)(ceiling > floor ? ceiling : floor),
                           (unsigned long long)(m->ram_size >> 20));
    memcpy(m->ram + at, initrd->data, initrd->len);
    bi->initrd = (uint32_t)at;
    bi->initrd_size = (uint32_t)initrd->len;
    return 0;
}

/* ---- the dispatcher ------------------------------------------------------------------------- */

static const char *elf_machine(unsigned mach)
{
    switch (mach) {
    case EM_386: return "i386";
    case EM_X86_64: return "x86-64";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_RISCV: return "RISC-V";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_MIPS: return "MIPS";
    default: return NULL;
    }
}

/* What an unrecognised file is, for the "found: ..." part of the message. */
static void describe(const uint8_t *img, size_t len, char *out, size_t outlen)
{
    if (len == 0) {
        snprintf(out, outlen, "an empty file");
        return;
    }
    if (len >= EI_NIDENT + 4 && memcmp(img, ELFMAG, SELFMAG) == 0) {
        unsigned cls = img[EI_CLASS], data = img[EI_DATA];
        bool be = data == ELFDATA2MSB;
        unsigned type = be ? (unsigned)(img[16] << 8 | img[17]) : loader_get16(img + 16);
        unsigned mach = be ? (unsigned)(img[18] << 8 | img[19]) : loader_get16(img + 18);
        const char *mn = elf_machine(mach);
        char mbuf[32];
        if (!mn) {
            snprintf(mbuf, sizeof mbuf, "machine %u", mach);
            mn = mbuf;
        }
        const char *tn = type == ET_EXEC ? "executable" : type == ET_DYN ? "shared object"
                       : type == ET_REL ? "relocatable object" : type == ET_CORE ? "core file"
                       : "file of unknown type";
        if (cls == ELFCLASS32 && data == ELFDATA2LSB && mach == EM_386 && type == ET_EXEC)
            snprintf(out, outlen, "ELF i386 executable with neither a Multiboot header in its "
                     "first 8 KiB nor a XEN_ELFNOTE_PHYS32_ENTRY note");
        else
            snprintf(out, outlen, "ELF %s%s %s %s", cls == ELFCLASS64 ? "64-bit" : cls == ELFCLASS32
                     ? "32-bit" : "bad-class", data == ELFDATA2MSB ? " big-endian" : "", mn, tn);
        return;
    }
    if (len >= 2 && img[0] == 'M' && img[1] == 'Z') {
        snprintf(out, outlen, "a %zu-byte DOS/PE executable (\"MZ\") without a Linux setup header",
                 len);
        return;
    }
    if (len >= 0x200 && img[0x1fe] == 0x55 && img[0x1ff] == 0xaa) {
        snprintf(out, outlen, "a %zu-byte file with a boot sector signature but no \"HdrS\" "
                 "Linux setup header (a zImage before boot protocol 2.00, or a disk image)", len);
        return;
    }
    char hex[8 * 3 + 1] = "";
    size_t n = len < 8 ? len : 8, at = 0;
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(hex + at, sizeof hex - at, "%s%02x", i ? " " : "", img[i]);
    snprintf(out, outlen, "a %zu-byte file starting with bytes %s", len, hex);
}

int loader_load(struct machine *m, const char *path, const char *initrd_path, const char *cmdline,
                struct boot_info *bi, char *errbuf, unsigned errlen)
{
    if (!cmdline)
        cmdline = "";
    size_t len, ilen = 0;
    uint8_t *img = loader_slurp(path, NULL, &len, errbuf, errlen), *idata = NULL;
    if (!img)
        return -1;
    if (initrd_path && !(idata = loader_slurp(initrd_path, "the initrd", &ilen, errbuf, errlen))) {
        free(img);
        return -1;
    }
    struct loader_blob initrd = {initrd_path, idata, ilen};
    int r = -1;
    size_t hoff;
    uint32_t pvh_entry;
    const struct mb_header *h = find_header(img, len, &hoff);
    if (h) {
        r = multiboot_image(m, path, img, len, h, hoff, cmdline, &initrd, bi, errbuf, errlen);
    } else if (len >= 0x206 && memcmp(img + 0x202, "HdrS", 4) == 0) {
        r = loader_load_linux(m, path, img, len, &initrd, cmdline, bi, errbuf, errlen);
    } else if (len >= sizeof(Elf32_Ehdr) && memcmp(img, ELFMAG, SELFMAG) == 0 &&
               img[EI_CLASS] == ELFCLASS32 && img[EI_DATA] == ELFDATA2LSB &&
               loader_pvh_entry(img, len, &pvh_entry)) {
        r = loader_load_pvh(m, path, img, len, pvh_entry, &initrd, cmdline, bi, errbuf, errlen);
    } else {
        char what[200];
        describe(img, len, what, sizeof what);
        loader_fail(errbuf, errlen, path, "not a Multiboot kernel, Linux bzImage or PVH ELF "
                    "(found: %s)", what);
    }
    free(idata);
    free(img);
    return r;
}

/* ---- entry states ---------------------------------------------------------------------------- */

int loader_enter(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    return loader_enter_uc(m->uc, bi, errbuf, errlen);
}

int loader_enter_uc(uc_engine *uc, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    /* Multiboot: GDT null, 0x08 code, 0x10 data; EAX magic, EBX info. Linux (boot.rst, "32-bit
     * boot protocol"): __BOOT_CS 0x10, __BOOT_DS 0x18, ESI boot_params, EBP = EDI = EBX = 0. PVH
     * (pvh.pandoc): flat CS/DS/ES/SS (the same GDT), EBX hvm_start_info, TR a 32-bit TSS with base
     * 0 and limit 0x67, CR0 PE and nothing else writable. */
    bool mb = bi->kind == BOOT_MULTIBOOT;
    uc_x86_mmr gdtr = {.base = bi->gdt, .limit = mb ? 23 : LOADER_GDT_LIMIT};
    uint32_t cs = mb ? 0x08 : LOADER_SEL_CS, ds = mb ? 0x10 : LOADER_SEL_DS;
    uint32_t eax = mb ? MB_BOOT_MAGIC : 0, eflags = 0x2;
    uint32_t ebx = bi->kind == BOOT_LINUX ? 0 : bi->mbi;
    uint32_t esi = bi->kind == BOOT_LINUX ? bi->mbi : 0;
    uint32_t eip = bi->entry, zero = 0;
    uint64_t cr0 = mb ? CR0_PE | (1u << 4) : CR0_PE;
    /* CR4 as after reset: 0. Unicorn's engine starts with CR4.OSFXSR set (so that SSE works out
     * of the box), which would let SSE run before the guest enabled it (emu/UNICORN.md 22). */
    uint64_t cr4 = 0;
    uc_err e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_CS, &cs);
    int segs[] = {UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS};
    for (int i = 0; i < 5 && !e; i++)
        e = uc_reg_write(uc, segs[i], &ds);
    int zregs[] = {UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EDI, UC_X86_REG_EBP, UC_X86_REG_ESP};
    for (int i = 0; i < 5 && !e; i++)
        e = uc_reg_write(uc, zregs[i], &zero);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EAX, &eax);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EBX, &ebx);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_ESI, &esi);
    if (!e && bi->kind == BOOT_PVH) {
        uc_x86_mmr tr = {.selector = LOADER_SEL_TSS, .base = 0, .limit = 0x67, .flags = 0x8b00};
        e = uc_reg_write(uc, UC_X86_REG_TR, &tr);
    }
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EFLAGS, &eflags);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EIP, &eip);
    if (e) {
        snprintf(errbuf, errlen, "unicorn refused the %s entry state: %s",
                 mb ? "Multiboot" : bi->kind == BOOT_LINUX ? "Linux" : "PVH", uc_strerror(e));
        return -1;
    }
    return 0;
}
