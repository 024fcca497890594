/*
 * loader_pvh.c — an ELF kernel with a PVH entry point (Xen's docs/misc/pvh.pandoc, and the
 * structures of xen/include/public/arch-x86/hvm/start_info.h), the way QEMU boots an uncompressed
 * Linux vmlinux with -kernel.
 *
 * The kernel says where its 32-bit PVH entry is with an ELF note: owner "Xen", type
 * XEN_ELFNOTE_PHYS32_ENTRY (18), a 4-byte (i386) or 8-byte (x86-64 builds) physical address. The
 * note is looked for in every PT_NOTE segment and, failing that, every SHT_NOTE section; each note
 * table is walked within its bounds in the file, and a note that does not fit ends the walk of that
 * table (a malformed table is no note, never a read past the file).
 *
 * Loading: the PT_LOAD segments go to their physical addresses (p_paddr), .bss zeroed, exactly as
 * for a Multiboot ELF (loader_elf_segments()); the note's entry must lie inside one of them (the
 * ELF's own e_entry is not used). Then, in the boot area (loader_priv.h):
 *
 *   area + 0x0000  the loader's GDT; the TSS of selector 0x20 is physical 0..0x67, zeroed
 *   area + 0x1000  the command line, exactly the --cmdline text
 *   area + 0x2000  struct hvm_start_info (56 bytes): magic 0x336ec578, version 1, flags 0,
 *                  nr_modules (1 with an initrd), modlist_paddr, cmdline_paddr, rsdp_paddr 0 (no
 *                  ACPI tables: the guest searches the BIOS area), memmap_paddr, memmap_entries
 *   area + 0x2040  hvm_modlist_entry[1] {paddr, size, cmdline_paddr 0, reserved}: the initrd
 *   area + 0x2080  hvm_memmap_table_entry[4] {addr, size, type, reserved}: loader_memory_map()
 *
 * The initrd goes page-aligned as high as possible below min(RAM end, 896 MiB), above the kernel
 * image and the boot area. loader_enter() then sets PVH's entry state: 32-bit protected mode,
 * paging off, CR0 = PE, CS 0x10 flat execute/read, DS = ES = SS (and FS, GS) 0x18 flat read/write,
 * TR 0x20 a busy 32-bit TSS with base 0 and limit 0x67 (what the spec asks), EBX = the
 * hvm_start_info, EFLAGS 0x2, EIP = the note's entry.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "emu/loader_priv.h"
#include "emu/machine.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u
#define SI_MODLIST 0x40u
#define SI_MEMMAP 0x80u

/* Walk the note table at [off, off+size) of img for the PHYS32 entry note. */
static bool scan_notes(const uint8_t *img, size_t len, uint64_t off, uint64_t size,
                       uint32_t *entry)
{
    if (off > len || size > len - off)
        return false;
    uint64_t p = off, end = off + size;
    while (end - p >= 12) {
        uint32_t namesz = loader_get32(img + p), descsz = loader_get32(img + p + 4);
        uint32_t type = loader_get32(img + p + 8);
        uint64_t name = p + 12, desc = name + (((uint64_t)namesz + 3) & ~3ull);
        uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);
        if (desc > end || descsz > end - desc)
            return false;
        if (namesz == 4 && memcmp(img + name, "Xen", 4) == 0 && type == XEN_ELFNOTE_PHYS32_ENTRY &&
            (descsz == 4 || (descsz == 8 && loader_get32(img + desc + 4) == 0))) {
            *entry = loader_get32(img + desc);
            return true;
        }
        if (next >= end)
            break;
        p = next;
    }
    return false;
}

bool loader_pvh_entry(const uint8_t *img, size_t len, uint32_t *entry)
{
    if (len < sizeof(Elf32_Ehdr))
        return false;
    Elf32_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    if (eh.e_phentsize == sizeof(Elf32_Phdr) &&
        (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) <= len) {
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf32_Phdr ph;
            memcpy(&ph, img + eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
            if (ph.p_type == PT_NOTE && scan_notes(img, len, ph.p_offset, ph.p_filesz, entry))
                return true;
        }
    }
    if (eh.e_shoff && eh.e_shentsize == sizeof(Elf32_Shdr) &&
        (uint64_t)eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf32_Shdr) <= len) {
        for (unsigned i = 0; i < eh.e_shnum; i++) {
            Elf32_Shdr sh;
            memcpy(&sh, img + eh.e_shoff + (size_t)i * sizeof sh, sizeof sh);
            if (sh.sh_type == SHT_NOTE && scan_notes(img, len, sh.sh_offset, sh.sh_size, entry))
                return true;
        }
    }
    return false;
}

int loader_load_pvh(struct machine *m, const char *path, const uint8_t *img, size_t len,
                    uint32_t entry, const struct loader_blob *initrd, const char *cmdline,
                    struct boot_info *bi, char *errbuf, unsigned errlen)
{
    memset(bi, 0, sizeof *bi);
    bi->kind = BOOT_PVH;
    size_t cl = strlen(cmdline);
    if (cl > LOADER_CMDLINE_MAX)
        return loader_fail(errbuf, errlen, path, "the command line is %zu bytes, vmlab passes at "
                           "most %u to a PVH kernel", cl, LOADER_CMDLINE_MAX);
    if (loader_elf_segments(m, path, img, len, bi, errbuf, errlen) < 0)
        return -1;
    /* loader_elf_segments checked the program header table lies inside the file. */
    if (!loader_elf_loads(img, entry))
        return loader_fail(errbuf, errlen, path, "XEN_ELFNOTE_PHYS32_ENTRY 0x%08x is not inside "
                           "any loaded segment", entry);
    bi->entry = entry;
    uint32_t area = loader_area(m, bi);
    if (!area)
        return loader_fail(errbuf, errlen, path, "no room left in RAM for the PVH start info");
    uint64_t floor = bi->load_high;
    if (area >= bi->load_high)
        floor = (uint64_t)area + LOADER_AREA_SIZE;
    if (loader_place_initrd(m, initrd, floor, LOADER_INITRD_CEILING, bi, errbuf, errlen) < 0)
        return -1;
    uint8_t *si = loader_fill_area(m, area, cmdline, cl, bi);
    uint32_t si_pa = bi->mbi;
    loader_put32(si + 0, HVM_START_MAGIC);
    loader_put32(si + 4, 1);                               /* version */
    loader_put32(si + 8, 0);                               /* flags */
    loader_put32(si + 12, initrd && initrd->path ? 1 : 0); /* nr_modules */
    loader_put64(si + 16, si_pa + SI_MODLIST);             /* modlist_paddr */
    loader_put64(si + 24, area + 0x1000);                  /* cmdline_paddr */
    loader_put64(si + 32, 0);                              /* rsdp_paddr */
    loader_put64(si + 40, si_pa + SI_MEMMAP);              /* memmap_paddr */
    loader_put32(si + 48, LOADER_MAP_ENTRIES);             /* memmap_entries */
    if (initrd && initrd->path) {
        loader_put64(si + SI_MODLIST, bi->initrd);
        loader_put64(si + SI_MODLIST + 8, bi->initrd_size);
    }
    loader_put_map(m, si + SI_MEMMAP, 24);
    return 0;
}
