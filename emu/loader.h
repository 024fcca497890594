/*
 * loader.h — load a guest kernel the way `qemu-system-i386 -kernel [-initrd]` does: a Multiboot
 * v1 kernel, a Linux bzImage (32-bit boot protocol) or an ELF kernel with a PVH entry note.
 *
 * loader_load() reads the file once and picks the format:
 *   1. a Multiboot header (magic 0x1BADB002, flags, checksum) in the first 8 KiB: Multiboot, as
 *      loader_load_multiboot() below, with the initrd as module 0. This comes first, so an ELF
 *      that carries both a Multiboot header and a PVH note loads as Multiboot (as before PVH
 *      support existed);
 *   2. "HdrS" at offset 0x202: a Linux bzImage, booted through the 32-bit boot protocol
 *      (Documentation/x86/boot.rst; emu/loader_linux.c);
 *   3. an ELF32 i386 executable with a Xen XEN_ELFNOTE_PHYS32_ENTRY note (in a PT_NOTE segment or
 *      an SHT_NOTE section): PVH (Xen's docs/misc/pvh.pandoc; emu/loader_pvh.c).
 * Anything else is refused with one line naming what was found.
 *
 * Multiboot: ELF32 i386 executables are loaded by their PT_LOAD program headers at the physical
 * addresses (p_paddr), with .bss zeroed; a header with flag 16 (the "a.out kludge") is loaded by
 * the addresses in the header instead. The entry point is translated from a virtual to a physical
 * address when it lies in a segment whose vaddr differs from its paddr, as QEMU does. The
 * Multiboot information structure (flags mem, cmdline, mmap, boot loader name, and mods when there
 * is an initrd) with the command line ("<kernel path> <command line>", as QEMU builds it) and a
 * BIOS-style memory map (0-639 KiB usable, 1 MiB-RAM end usable, the rest reserved) is written
 * below 1 MiB, and the CPU is put in QEMU's entry state: flat 32-bit protected mode, paging off,
 * CS=0x08, DS=ES=FS=GS=SS=0x10, EAX=0x2BADB002, EBX=info, IF=0.
 *
 * Linux and PVH get the command line exactly as given (no "<path> " prefix: that is a Multiboot
 * convention) and the same memory map (as e820 entries / hvm_memmap_table entries); their entry
 * state is flat 32-bit protected mode with the loader's GDT (__BOOT_CS 0x10, __BOOT_DS 0x18),
 * paging off, IF=0: ESI = boot_params for Linux, EBX = hvm_start_info and TR = a 32-bit TSS for
 * PVH. The initrd goes page-aligned as high as the kernel allows (below 896 MiB), as QEMU does.
 */
#ifndef VMLAB_LOADER_H
#define VMLAB_LOADER_H

#include <stdint.h>
#include <unicorn/unicorn.h>

struct machine;

enum boot_kind { BOOT_MULTIBOOT, BOOT_LINUX, BOOT_PVH };

struct boot_info {
    uint32_t entry;          /* physical entry point */
    uint32_t mbi;            /* physical address of the boot information the entry registers
                                point at: Multiboot info (EBX), Linux boot_params, the "zero
                                page" (ESI), PVH hvm_start_info (EBX) */
    uint32_t load_low, load_high;  /* physical range occupied by the kernel image */
    enum boot_kind kind;     /* which entry state loader_enter sets */
    uint32_t gdt;            /* physical address of the loader's GDT */
    uint32_t initrd, initrd_size;  /* where the initrd was put (both 0 without one) */
};

/* Load the kernel `path` (Multiboot, Linux bzImage or PVH ELF, see above) into m's RAM with
 * `cmdline` (NULL: empty) and, unless `initrd_path` is NULL, the initrd file as-is, and build the
 * format's boot information. Returns 0 with *bi filled, or -1 with a one-line message in errbuf
 * that starts with the file it is about (the kernel's or the initrd's path) and says what was
 * wrong or, for an unrecognised kernel, what was found. Never reads outside the file for any
 * content. Does not touch the CPU: loader_enter() does. */
int loader_load(struct machine *m, const char *path, const char *initrd_path, const char *cmdline,
                struct boot_info *bi, char *errbuf, unsigned errlen);

/* Load `path` as a Multiboot kernel only (no initrd) into m's RAM and build the Multiboot info with
 * `cmdline`. Returns 0, or -1 with a one-line message naming the file and the problem in errbuf.
 * Does not touch the CPU. */
int loader_load_multiboot(struct machine *m, const char *path, const char *cmdline,
                          struct boot_info *bi, char *errbuf, unsigned errlen);

/* Put the CPU in the entry state of bi->kind for `bi` (the loader's GDT in low memory, which the
 * load wrote): Multiboot's, Linux's 32-bit boot protocol's or PVH's. 0, or -1 with a message. */
int loader_enter(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen);

/* The same for a bare engine whose memory already holds the loaded image (benchmarks). */
int loader_enter_uc(uc_engine *uc, const struct boot_info *bi, char *errbuf, unsigned errlen);

#endif
