/*
 * loader.h — load a Multiboot v1 kernel the way `qemu-system-i386 -kernel` does.
 *
 * The file must carry a Multiboot header (magic 0x1BADB002, flags, checksum) in its first 8 KiB.
 * ELF32 i386 executables are loaded by their PT_LOAD program headers at the physical addresses
 * (p_paddr), with .bss zeroed; a header with flag 16 (the "a.out kludge") is loaded by the
 * addresses in the header instead. The entry point is translated from a virtual to a physical
 * address when it lies in a segment whose vaddr differs from its paddr, as QEMU does.
 *
 * The Multiboot information structure (flags mem, cmdline, mmap, boot loader name) with the
 * command line ("<kernel path> <command line>", as QEMU builds it) and a BIOS-style memory map (0-639 KiB usable, 1 MiB-RAM end usable, the rest
 * reserved) is written below 1 MiB, and the CPU is put in QEMU's entry state: flat 32-bit
 * protected mode, paging off, CS=0x08, DS=ES=FS=GS=SS=0x10, EAX=0x2BADB002, EBX=info, IF=0.
 */
#ifndef VMLAB_LOADER_H
#define VMLAB_LOADER_H

#include <stdint.h>
#include <unicorn/unicorn.h>

struct machine;

struct boot_info {
    uint32_t entry;          /* physical entry point */
    uint32_t mbi;            /* physical address of the Multiboot info */
    uint32_t load_low, load_high;  /* physical range occupied by the kernel image */
};

/* Load `path` into m's RAM and build the Multiboot info with `cmdline`. Returns 0, or -1 with a
 * one-line message naming the file and the problem in errbuf. Does not touch the CPU. */
int loader_load_multiboot(struct machine *m, const char *path, const char *cmdline,
                          struct boot_info *bi, char *errbuf, unsigned errlen);

/* Put the CPU in the Multiboot entry state for `bi` (boot GDT in low memory). 0 or -1. */
int loader_enter(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen);

/* The same for a bare engine whose memory already holds the loaded image (benchmarks). */
int loader_enter_uc(uc_engine *uc, const struct boot_info *bi, char *errbuf, unsigned errlen);

#endif
