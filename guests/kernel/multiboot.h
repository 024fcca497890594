/*
 * multiboot.h — the parts of the Multiboot v1 information structure this kernel reads.
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include "types.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MBI_FLAG_MEM     (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP    (1u << 6)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;      /* KiB below 1 MiB / above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;                   /* physical address of a NUL-terminated string */
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;    /* memory map: physical address, length in bytes */
} __attribute__((packed));

struct multiboot_mmap_entry {
    uint32_t size;                      /* of the rest of the entry (not counting this field) */
    uint64_t addr, len;
    uint32_t type;                      /* 1 = usable RAM */
} __attribute__((packed));

#endif
