/*
 * loader.c — Multiboot v1 loading (see loader.h).
 *
 * Low memory layout written by the loader (all of it in the first usable 640 KiB, where GRUB and
 * QEMU also put their structures; the kernel may reuse it once it has copied what it needs):
 *
 *   0x9000  multiboot_info (88 bytes)       0x9400  memory map (4 entries of 24 bytes)
 *   0x9100  command line (up to 767 bytes)  0x9500  boot loader name
 *   0x9f00  boot GDT: null, code 0x08, data 0x10 (flat 4 GiB)
 *
 * If the kernel image itself covers that page, the structures go to the first page after the
 * image instead.
 */
#include "emu/loader.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int fail(char *errbuf, unsigned errlen, const char *path, const char *what)
{
    snprintf(errbuf, errlen, "%s: %s", path, what);
    return -1;
}

static uint8_t *slurp(const char *path, size_t *len, char *errbuf, unsigned errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
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

static bool in_ram(const struct machine *m, uint64_t pa, uint64_t len)
{
    return pa + len <= m->ram_size && pa + len >= pa;
}

static int load_elf(struct machine *m, const char *path, const uint8_t *img, size_t len,
                    struct boot_info *bi, char *errbuf, unsigned errlen)
{
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(errbuf, errlen, path, "not a 32-bit little-endian ELF file");
    if (eh->e_machine != EM_386)
        return fail(errbuf, errlen, path, "ELF file is not for i386 (e_machine is not EM_386)");
    if (eh->e_type != ET_EXEC)
        return fail(errbuf, errlen, path, "ELF file is not an executable (ET_EXEC)");
    if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 ||
        (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len)
        return fail(errbuf, errlen, path, "truncated ELF: program header table past end of file");
    /* e_phoff need not be aligned (the file is bytes): each header is copied out, never read in
     * place (UBSan: misaligned member access, found by a crafted image with e_phoff = 53). */
    const uint8_t *ph = img + eh->e_phoff;
    uint32_t entry = eh->e_entry;
    bool entry_ok = false;
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
        if (!in_ram(m, p->p_paddr, p->p_memsz)) {
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
        if (entry >= p->p_paddr && entry - p->p_paddr < p->p_memsz)
            entry_ok = true;
        nload++;
    }
    if (nload == 0)
        return fail(errbuf, errlen, path, "ELF file has no loadable segment");
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
        return fail(errbuf, errlen, path, "Multiboot header: load_addr inconsistent with header_addr");
    size_t file_start = hoff - (h->header_addr - h->load_addr);
    size_t n = h->load_end_addr ? h->load_end_addr - h->load_addr : len - file_start;
    if (file_start + n > len)
        return fail(errbuf, errlen, path, "truncated: Multiboot load range past end of file");
    uint32_t end = h->bss_end_addr > h->load_addr + n ? h->bss_end_addr : h->load_addr + (uint32_t)n;
    if (!in_ram(m, h->load_addr, end - h->load_addr))
        return fail(errbuf, errlen, path, "Multiboot load range lies outside RAM");
    memcpy(m->ram + h->load_addr, img + file_start, n);
    memset(m->ram + h->load_addr + n, 0, end - h->load_addr - n);
    bi->load_low = h->load_addr;
    bi->load_high = end;
    bi->entry = h->entry_addr;
    return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

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
    put32(p + 0, (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
    put32(p + 4, 639);
    put32(p + 8, mem_upper);
    size_t cl = strlen(cmdline);
    if (cl > MB_CMDLINE_MAX)
        cl = MB_CMDLINE_MAX;
    memcpy(p + 0x100, cmdline, cl);
    put32(p + 16, base + 0x100);
    struct { uint64_t base, len; uint32_t type; } map[4] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x400, 2},
        {0xf0000, 0x10000, 2},
        {0x100000, m->ram_size - 0x100000, 1},
    };
    uint8_t *e = p + 0x400;
    for (int i = 0; i < 4; i++, e += 24) {
        put32(e, 20);
        put64(e + 4, map[i].base);
        put64(e + 12, map[i].len);
        put32(e + 20, map[i].type);
    }
    put32(p + 44, 4 * 24);
    put32(p + 48, base + 0x400);
    static const char name[] = "vmlab " VMLAB_VERSION;
    memcpy(p + 0x500, name, sizeof name < 256 ? sizeof name : 255);
    put32(p + 64, base + 0x500);
    /* Boot GDT: flat code (0x08) and data (0x10). */
    uint8_t *g = p + 0xf00;
    put64(g + 0, 0);
    put64(g + 8, 0x00cf9a000000ffffull);
    put64(g + 16, 0x00cf92000000ffffull);
    bi->mbi = base;
    return 0;
}

int loader_load_multiboot(struct machine *m, const char *path, const char *cmdline,
                          struct boot_info *bi, char *errbuf, unsigned errlen)
{
    size_t len;
    uint8_t *img = slurp(path, &len, errbuf, errlen);
    if (!img)
        return -1;
    int r = -1;
    size_t hoff;
    const struct mb_header *h = find_header(img, len, &hoff);
    bool is_elf = len >= sizeof(Elf32_Ehdr) && memcmp(img, ELFMAG, SELFMAG) == 0;
    if (!h) {
        fail(errbuf, errlen, path, is_elf ? "ELF file has no Multiboot header in its first 8 KiB"
                                          : "not an ELF file and no Multiboot header found");
        goto out;
    }
    if (h->flags & 0xfff8u) {
        snprintf(errbuf, errlen, "%s: Multiboot header requests unsupported features (flags 0x%x)",
                 path, h->flags);
        goto out;
    }
    if (h->flags & (1u << 16)) {
        if (hoff + sizeof *h > len) {
            fail(errbuf, errlen, path, "truncated Multiboot header");
            goto out;
        }
        r = load_aout(m, path, img, len, h, hoff, bi, errbuf, errlen);
    } else if (!is_elf) {
        fail(errbuf, errlen, path, "not an ELF file (and its Multiboot header has no load addresses)");
    } else {
        r = load_elf(m, path, img, len, bi, errbuf, errlen);
    }
    if (r == 0) {
        /* QEMU passes "<kernel path> <-append text>" (with the space even when there is no text);
         * guests see the same string here. */
        size_t n = strlen(path) + 2 + (cmdline ? strlen(cmdline) : 0);
        char *full = malloc(n);
        if (!full) {
            fail(errbuf, errlen, path, "out of memory");
            r = -1;
            goto out;
        }
        snprintf(full, n, "%s %s", path, cmdline ? cmdline : "");
        if (build_info(m, full, bi) < 0) {
            fail(errbuf, errlen, path, "no room left in RAM for the Multiboot information");
            r = -1;
        }
        free(full);
    }
out:
    free(img);
    return r;
}

int loader_enter(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    return loader_enter_uc(m->uc, bi, errbuf, errlen);
}

int loader_enter_uc(uc_engine *uc, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    uc_x86_mmr gdtr = {.base = bi->mbi + 0xf00, .limit = 23};
    uint32_t cs = 0x08, ds = 0x10, eax = MB_BOOT_MAGIC, ebx = bi->mbi, eflags = 0x2;
    uint32_t eip = bi->entry, zero = 0;
    uint64_t cr0 = CR0_PE | (1u << 4);
    uc_err e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_CS, &cs);
    int segs[] = {UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS};
    for (int i = 0; i < 5 && !e; i++)
        e = uc_reg_write(uc, segs[i], &ds);
    int zregs[] = {UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI, UC_X86_REG_EDI,
                   UC_X86_REG_EBP, UC_X86_REG_ESP};
    for (int i = 0; i < 6 && !e; i++)
        e = uc_reg_write(uc, zregs[i], &zero);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EAX, &eax);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EBX, &ebx);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EFLAGS, &eflags);
    if (!e) e = uc_reg_write(uc, UC_X86_REG_EIP, &eip);
    if (e) {
        snprintf(errbuf, errlen, "unicorn refused the Multiboot entry state: %s", uc_strerror(e));
        return -1;
    }
    return 0;
}
