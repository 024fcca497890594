/*
 * main.c — kmain(), entered from boot.S on the boot stack with paging on (boot map) and
 * interrupts off. Order matters:
 *
 *   pv_ops chosen  -> console   (everything after this may print and panic)
 *   Multiboot info -> mm_init   (frame pool, kernel page tables, CR3 switched)
 *   desc_init                   (GDT, IDT, TSS)
 *   PIC, PIT at HZ, IRQ 0 unmasked (interrupts stay off until the first iret to user mode)
 *   fs_init                     (the root file system: /dev/null, /dev/zero, /tmp)
 *   pid 1 = program "init" with argv = "init" + every key=value word of the command line
 */
#include "kernel.h"
#include "desc.h"
#include "fs.h"
#include "layout.h"
#include "mm.h"
#include "multiboot.h"
#include "proc.h"
#include "pvops.h"

#define HZ 100
#define MAX_INIT_ARGS 8
#define CMDLINE_MAX 256

static char cmdline[CMDLINE_MAX];

static void copy_cmdline(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MBI_FLAG_CMDLINE) || mbi->cmdline >= KERNEL_PHYS_MAX)
        return;
    const char *s = P2V(mbi->cmdline);
    size_t i = 0;
    for (; s[i] && i < CMDLINE_MAX - 1; i++)
        cmdline[i] = s[i];
    cmdline[i] = '\0';
}

/* Splits cmdline in place; argv[0] = "init", then the words that contain '='. */
static void init_argv(const char *argv[MAX_INIT_ARGS + 1])
{
    int argc = 0;
    argv[argc++] = "init";
    for (char *p = cmdline; *p && argc < MAX_INIT_ARGS;) {
        while (*p == ' ')
            *p++ = '\0';
        char *word = p;
        bool has_eq = false;
        for (; *p && *p != ' '; p++)
            has_eq |= *p == '=';
        if (*p)
            *p++ = '\0';
        if (has_eq && *word)
            argv[argc++] = word;
    }
    argv[argc] = NULL;
}

void kmain(uint32_t magic, uint32_t mbi_pa)
{
    pvops_select();
    console_init();
    kprintf("vmlab guest kernel, pv-ops: %s\n", pv_ops.name);
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
        panic("not started by a Multiboot loader (eax=%x)", magic);
    if (mbi_pa >= KERNEL_PHYS_MAX)
        panic("Multiboot information above the managed memory (%x)", mbi_pa);
    const struct multiboot_info *mbi = P2V(mbi_pa);
    copy_cmdline(mbi);
    mm_init(mbi);
    desc_init();
    pv_ops.intr_init();
    pv_ops.timer_start(HZ);
    pv_ops.intr_unmask(0);
    proc_init();
    fs_init();

    const char *argv[MAX_INIT_ARGS + 1];
    init_argv(argv);
    kprintf("args:");
    for (int i = 1; argv[i]; i++)
        kprintf(" %s", argv[i]);
    kprintf("\n");
    proc_start_init("init", argv);
}
