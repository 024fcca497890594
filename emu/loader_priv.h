/*
 * loader_priv.h — what the three kernel loaders share (emu/loader.c, loader_linux.c,
 * loader_pvh.c); not for use outside them. The public interface is emu/loader.h.
 *
 * The Linux and PVH loaders write their boot structures into the "boot area", three pages below
 * 1 MiB (where GRUB and QEMU also put theirs; the kernel may reuse them once it has copied what it
 * needs):
 *
 *   area + 0x0000  the loader's GDT: null, null, __BOOT_CS 0x10 (flat code), __BOOT_DS 0x18 (flat
 *                  data), 0x20 a busy 32-bit TSS (base 0, limit 0x67: what PVH's TR holds)
 *   area + 0x1000  the command line (at most LOADER_CMDLINE_MAX bytes and its NUL)
 *   area + 0x2000  Linux boot_params (the 4 KiB "zero page") or PVH hvm_start_info, its module
 *                  list and memory map
 *
 * The area is at LOADER_AREA (0x7000-0x9fff) unless the kernel image covers part of it; then it
 * is the three pages after the image.
 */
#ifndef VMLAB_LOADER_PRIV_H
#define VMLAB_LOADER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/loader.h"

struct machine;

#define LOADER_AREA 0x7000u
#define LOADER_AREA_SIZE 0x3000u
#define LOADER_CMDLINE_MAX 4095u
#define LOADER_SEL_CS 0x10u
#define LOADER_SEL_DS 0x18u
#define LOADER_SEL_TSS 0x20u
#define LOADER_GDT_LIMIT 39u
/* The initrd stays below this (Linux i386's default lowmem limit, and QEMU's default
 * initrd_addr_max for old boot protocols, plus one). */
#define LOADER_INITRD_CEILING 0x38000000u

/* A file read into memory: the initrd as loader_load() passes it on (path NULL: no initrd). */
struct loader_blob {
    const char *path;
    const uint8_t *data;
    size_t len;
};

/* One memory map entry, and the map every format describes (the Multiboot map, the e820 table,
 * the PVH memory map): 0-0x9fc00 usable, 0x9fc00-0xa0000 and 0xf0000-0x100000 reserved, 1 MiB to
 * the end of RAM usable. Fills map[LOADER_MAP_ENTRIES]. */
#define LOADER_MAP_ENTRIES 4
struct loader_map_entry {
    uint64_t base, len;
    uint32_t type;           /* 1 usable, 2 reserved (the e820 / Multiboot / Xen numbering) */
};
void loader_memory_map(const struct machine *m, struct loader_map_entry map[LOADER_MAP_ENTRIES]);

/* Read `path` whole (at most 512 MiB) into a malloc'ed buffer with one spare byte. `what` names
 * the file in the message when it cannot be opened ("cannot open the initrd"; NULL: "cannot
 * open"). Returns the buffer and *len, or NULL with "PATH: ..." in errbuf. */
uint8_t *loader_slurp(const char *path, const char *what, size_t *len, char *errbuf,
                      unsigned errlen);

/* errbuf = "PATH: " followed by the printf-formatted message. Returns -1. */
int loader_fail(char *errbuf, unsigned errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* [pa, pa+len) lies inside RAM (and does not wrap). */
bool loader_in_ram(const struct machine *m, uint64_t pa, uint64_t len);

/* Little-endian field access in a byte buffer the caller has bounds-checked. */
static inline uint16_t loader_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t loader_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
void loader_put16(uint8_t *p, uint16_t v);
void loader_put32(uint8_t *p, uint32_t v);
void loader_put64(uint8_t *p, uint64_t v);

/* Check the ELF header of img (32-bit little-endian, EM_386, ET_EXEC, program headers inside the
 * file) and copy every PT_LOAD segment to its p_paddr with its .bss zeroed, setting bi->load_low
 * and bi->load_high. 0, or -1 with a message naming `path` and the problem. The caller has checked
 * that img holds at least an Elf32_Ehdr. */
int loader_elf_segments(struct machine *m, const char *path, const uint8_t *img, size_t len,
                        struct boot_info *bi, char *errbuf, unsigned errlen);

/* Physical address `pa` lies in a non-empty PT_LOAD segment of img (by p_paddr). Only after
 * loader_elf_segments() accepted img (the program header table is inside the file). */
bool loader_elf_loads(const uint8_t *img, uint32_t pa);

/* Where the boot area goes for a kernel occupying bi->load_low..load_high: LOADER_AREA, or the
 * page after the image when the image overlaps it. 0 when it does not fit in RAM. */
uint32_t loader_area(const struct machine *m, const struct boot_info *bi);

/* Write the loader's GDT (see above) at physical `pa` and zero the TSS its selector 0x20 points
 * at (physical 0..0x67) unless the kernel image lies there. */
void loader_write_gdt(struct machine *m, uint32_t pa, const struct boot_info *bi);

/* Fill the boot area at `area` for a Linux or PVH kernel: the loader's GDT (loader_write_gdt),
 * the command line (cl bytes, NUL-padded page) at area + 0x1000, and a zeroed page at
 * area + 0x2000 for the boot information, which becomes bi->mbi (bi->gdt = area). Returns that
 * page. */
uint8_t *loader_fill_area(struct machine *m, uint32_t area, const char *cmdline, size_t cl,
                          struct boot_info *bi);

/* loader_memory_map()'s entries at `at`, `stride` bytes apart, each as {u64 base, u64 length,
 * u32 type} (the e820 entry, 20 bytes; the hvm_memmap_table_entry, 24 with a zero pad). */
void loader_put_map(const struct machine *m, uint8_t *at, size_t stride);

/* Copy the initrd to the highest page-aligned address where it ends at or below `ceiling`
 * (exclusive; capped at the end of RAM) and starts at or above `floor`, and record it in
 * bi->initrd/initrd_size. 0, or -1 with "INITRD: ..." saying how large it is and the room there
 * was. An initrd with path NULL is none: bi's fields are set to 0. */
int loader_place_initrd(struct machine *m, const struct loader_blob *initrd, uint64_t floor,
                        uint64_t ceiling, struct boot_info *bi, char *errbuf, unsigned errlen);

/* Linux bzImage (emu/loader_linux.c): img holds at least 0x206 bytes with "HdrS" at 0x202. */
int loader_load_linux(struct machine *m, const char *path, const uint8_t *img, size_t len,
                      const struct loader_blob *initrd, const char *cmdline,
                      struct boot_info *bi, char *errbuf, unsigned errlen);

/* The XEN_ELFNOTE_PHYS32_ENTRY address of an ELF32 image (emu/loader_pvh.c): true with *entry when
 * a PT_NOTE segment or SHT_NOTE section inside the file holds one ("Xen" owner, type 18, 4 or 8
 * bytes of descriptor below 4 GiB). Reads nothing outside img; a malformed note table is no
 * note. */
bool loader_pvh_entry(const uint8_t *img, size_t len, uint32_t *entry);

/* PVH ELF kernel (emu/loader_pvh.c) whose note gave `entry`. */
int loader_load_pvh(struct machine *m, const char *path, const uint8_t *img, size_t len,
                    uint32_t entry, const struct loader_blob *initrd, const char *cmdline,
                    struct boot_info *bi, char *errbuf, unsigned errlen);

#endif
