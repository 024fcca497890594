/*
 * loader_linux.c — a Linux bzImage, booted through the 32-bit boot protocol (Linux's
 * Documentation/x86/boot.rst, "32-bit Boot Protocol"; the zero page is zero-page.rst).
 *
 * A bzImage is the real-mode setup (the boot sector and setup_sects more 512-byte sectors, 4 when
 * setup_sects is 0) followed by the protected-mode kernel (the decompressor with the compressed
 * kernel inside). The setup header sits at 0x1f1 in the boot sector; "HdrS" at 0x202 and the
 * protocol version at 0x206 tell what it holds. The real-mode setup is not run: like GRUB's and
 * QEMU's 32-bit paths, vmlab does what it would have done, and jumps to the protected-mode kernel:
 *
 *   - the protected-mode kernel goes to 0x100000 (a bzImage's load address, LOADED_HIGH);
 *   - the zero page (struct boot_params, 4 KiB) is zeroed and gets the setup header copied in at
 *     0x1f1 (up to its end, 0x202 + the byte at 0x201), then type_of_loader 0xff ("undefined"),
 *     loadflags with CAN_USE_HEAP set and KEEP_SEGMENTS cleared (the kernel reloads its segment
 *     registers), heap_end_ptr, cmd_line_ptr, ramdisk_image/ramdisk_size, the e820 table
 *     (e820_entries at 0x1e8, 20-byte entries from 0x2d0: loader_memory_map()'s map), alt_mem_k
 *     (0x1e0: KiB above 1 MiB) and screen_info.ext_mem_k (0x002, capped at 0xfc00 as the BIOS call
 *     reports it). screen_info is otherwise zero: no video, so the decompressor prints on the
 *     serial port only (earlyprintk=serial) and never into a VGA buffer;
 *   - the command line is the --cmdline text as it is (no "<path> " prefix), at most cmdline_size
 *     bytes;
 *   - the initrd goes as high as possible, page-aligned, below min(initrd_addr_max + 1, RAM end,
 *     896 MiB) and above everything the kernel needs (QEMU's placement);
 *   - loader_enter() then sets the protocol's entry state: __BOOT_CS 0x10 and __BOOT_DS 0x18 flat
 *     in the loader's GDT, ESI = the zero page, EBP = EDI = EBX = 0, IF = 0, EIP = code32_start.
 *
 * What the kernel needs: its decompressor runs where it was loaded, moves itself and decompresses
 * to the kernel's LOAD_PHYSICAL_ADDR (pref_address, protocol 2.10 and later; 16 MiB for Debian's
 * i386 kernels), needing init_size bytes from there. A kernel whose pref_address + init_size lies
 * past the end of RAM is refused up front: it would not get far. Also refused, with one line
 * naming what was found: protocols before 2.06 (no cmdline_size, the 32-bit entry not yet
 * documented), a zImage (not LOADED_HIGH), a missing 0xAA55 boot flag, a setup header or a
 * protected-mode kernel past the end of the file (setup_sects, syssize), a code32_start outside
 * the loaded kernel, a command line longer than the kernel takes, an initrd that does not fit.
 */
#include <stdio.h>
#include <string.h>

#include "emu/loader_priv.h"
#include "emu/machine.h"

#define KERNEL_BASE 0x100000u
#define LOADED_HIGH 0x01u
#define KEEP_SEGMENTS 0x40u
#define CAN_USE_HEAP 0x80u

/* Setup header fields, as offsets in the file and in the zero page. */
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21c
#define H_HEAP_END_PTR 0x224
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_ADDR_MAX 0x22c
#define H_CMDLINE_SIZE 0x238
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
/* Zero page fields outside the header. */
#define ZP_EXT_MEM_K 0x002
#define ZP_ALT_MEM_K 0x1e0
#define ZP_E820_ENTRIES 0x1e8
#define ZP_EDD_MBR_SIG 0x290
#define ZP_E820_TABLE 0x2d0

int loader_load_linux(struct machine *m, const char *path, const uint8_t *img, size_t len,
                      const struct loader_blob *initrd, const char *cmdline,
                      struct boot_info *bi, char *errbuf, unsigned errlen)
{
    memset(bi, 0, sizeof *bi);
    bi->kind = BOOT_LINUX;
    if (len < H_VERSION + 2)
        return loader_fail(errbuf, errlen, path, "truncated Linux bzImage: %zu bytes end inside "
                           "the setup header", len);
    unsigned ver = loader_get16(img + H_VERSION);
    if (ver < 0x206)
        return loader_fail(errbuf, errlen, path, "Linux boot protocol %u.%02u is too old (vmlab "
                           "needs 2.06 or later)", ver >> 8, ver & 0xff);
    /* The header ends at 0x202 + the jump's displacement byte; 2.06 needs up to cmdline_size, 2.10
     * up to init_size. */
    size_t hdr_end = 0x202 + (size_t)img[H_JUMP + 1];
    size_t need = ver >= 0x20a ? H_INIT_SIZE + 4 : H_CMDLINE_SIZE + 4;
    if (hdr_end < need)
        return loader_fail(errbuf, errlen, path, "Linux setup header ends at 0x%zx, before the "
                           "fields of boot protocol %u.%02u (up to 0x%zx)", hdr_end, ver >> 8,
                           ver & 0xff, need);
    if (hdr_end > len)
        return loader_fail(errbuf, errlen, path, "truncated Linux bzImage: the setup header ends "
                           "at 0x%zx, the file is %zu bytes", hdr_end, len);
    if (loader_get16(img + H_BOOT_FLAG) != 0xaa55)
        return loader_fail(errbuf, errlen, path, "Linux setup header without the 0xAA55 boot flag "
                           "(found 0x%04x)", loader_get16(img + H_BOOT_FLAG));
    uint8_t loadflags = img[H_LOADFLAGS];
    if (!(loadflags & LOADED_HIGH))
        return loader_fail(errbuf, errlen, path, "Linux zImage (loadflags 0x%02x without "
                           "LOADED_HIGH: loaded at 0x10000); vmlab boots bzImages only", loadflags);
    unsigned sects = img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4;
    size_t setup = (size_t)(sects + 1) * 512;
    if (setup < hdr_end)
        return loader_fail(errbuf, errlen, path, "Linux setup of %zu bytes (setup_sects %u) ends "
                           "before its own header (0x%zx)", setup, sects, hdr_end);
    if (setup >= len)
        return loader_fail(errbuf, errlen, path, "truncated Linux bzImage: setup_sects %u says the "
                           "setup is %zu bytes, the file is %zu bytes", sects, setup, len);
    uint64_t pm = len - setup;
    uint64_t sys = (uint64_t)loader_get32(img + H_SYSSIZE) * 16;
    if (sys > pm)
        return loader_fail(errbuf, errlen, path, "truncated Linux bzImage: syssize says the "
                           "protected-mode kernel is %llu bytes, the file holds %llu after the "
                           "setup", (unsigned long long)sys, (unsigned long long)pm);
    if (!loader_in_ram(m, KERNEL_BASE, pm))
        return loader_fail(errbuf, errlen, path, "the protected-mode kernel (%llu bytes at 1 MiB) "
                           "does not fit in RAM (%llu MiB)", (unsigned long long)pm,
                           (unsigned long long)(m->ram_size >> 20));
    uint32_t code32 = loader_get32(img + H_CODE32_START);
    if (code32 < KERNEL_BASE || code32 - KERNEL_BASE >= pm)
        return loader_fail(errbuf, errlen, path, "code32_start 0x%08x is outside the protected-"
                           "mode kernel loaded at 0x%08x-0x%08llx", code32, KERNEL_BASE,
                           (unsigned long long)(KERNEL_BASE + pm - 1));
    /* Everything the kernel needs from 1 MiB up: the loaded image, and from 2.10 on the
     * decompression buffer (init_size bytes at pref_address). */
    uint64_t kernel_end = KERNEL_BASE + pm;
    if (ver >= 0x20a) {
        uint64_t pref = 0, init = loader_get32(img + H_INIT_SIZE);
        memcpy(&pref, img + H_PREF_ADDRESS, 8);
        if (pref < KERNEL_BASE)
            pref = KERNEL_BASE;
        if (pref + init > kernel_end)
            kernel_end = pref + init;
        if (kernel_end > m->ram_size)
            return loader_fail(errbuf, errlen, path, "the kernel needs RAM up to 0x%08llx "
                               "(pref_address 0x%llx + init_size 0x%llx): more than the %llu MiB "
                               "there is", (unsigned long long)kernel_end,
                               (unsigned long long)pref, (unsigned long long)init,
                               (unsigned long long)(m->ram_size >> 20));
    }
    size_t cl = strlen(cmdline);
    uint32_t cl_max = loader_get32(img + H_CMDLINE_SIZE);
    if (cl_max > LOADER_CMDLINE_MAX)
        cl_max = LOADER_CMDLINE_MAX;
    if (cl > cl_max)
        return loader_fail(errbuf, errlen, path, "the command line is %zu bytes, the kernel takes "
                           "at most %u (cmdline_size)", cl, cl_max);

    memcpy(m->ram + KERNEL_BASE, img + setup, pm);
    bi->load_low = KERNEL_BASE;
    bi->load_high = (uint32_t)(KERNEL_BASE + pm);
    bi->entry = code32;
    uint32_t area = loader_area(m, bi);
    if (!area)
        return loader_fail(errbuf, errlen, path, "no room left in RAM for the boot parameters");
    if (initrd && initrd->path) {
        uint64_t ceiling = (uint64_t)loader_get32(img + H_INITRD_ADDR_MAX) + 1;
        if (ceiling > LOADER_INITRD_CEILING)
            ceiling = LOADER_INITRD_CEILING;
        if (loader_place_initrd(m, initrd, kernel_end, ceiling, bi, errbuf, errlen) < 0)
            return -1;
    }
    uint8_t *zp = loader_fill_area(m, area, cmdline, cl, bi);
    /* The header as far as it goes, but never into edd_mbr_sig_buffer (0x290) and the e820 table:
     * a header claiming to end later (the jump's displacement is a byte) is code, not fields. */
    memcpy(zp + H_SETUP_SECTS, img + H_SETUP_SECTS,
           (hdr_end < ZP_EDD_MBR_SIG ? hdr_end : ZP_EDD_MBR_SIG) - H_SETUP_SECTS);
    zp[H_TYPE_OF_LOADER] = 0xff;
    zp[H_LOADFLAGS] = (uint8_t)((loadflags | CAN_USE_HEAP) & ~KEEP_SEGMENTS);
    loader_put16(zp + H_HEAP_END_PTR, 0xfe00 - 0x200);   /* QEMU's; only real-mode setup uses it */
    loader_put32(zp + H_CMD_LINE_PTR, area + 0x1000);
    loader_put32(zp + H_RAMDISK_IMAGE, bi->initrd);
    loader_put32(zp + H_RAMDISK_SIZE, bi->initrd_size);
    uint64_t above_1m_k = (m->ram_size - 0x100000) >> 10;
    loader_put32(zp + ZP_ALT_MEM_K, (uint32_t)above_1m_k);
    loader_put16(zp + ZP_EXT_MEM_K, (uint16_t)(above_1m_k < 0xfc00 ? above_1m_k : 0xfc00));
    loader_put_map(m, zp + ZP_E820_TABLE, 20);
    zp[ZP_E820_ENTRIES] = LOADER_MAP_ENTRIES;
    return 0;
}
