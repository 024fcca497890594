/*
 * exec.c — loading the programs linked into the kernel image (programs.S) into a new address
 * space, and the exec system call.
 *
 * The programs are ordinary static i386 ELF executables (guests/user/user.ld) embedded as bytes.
 * exec_load() builds a complete new address space before touching the caller's: each PT_LOAD
 * segment is copied eagerly into fresh frames (read-only unless the segment is writable), the heap
 * starts at the next page boundary, the top stack page holds argc, argv[] and the strings; the
 * rest of the stack area is demand-zero. Only when everything succeeded does proc_exec() switch
 * to the new space and free the old one, so a failed exec returns an error to an intact caller.
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "mmap.h"
#include "proc.h"
#include "pvops.h"
#include "syscall_nr.h"

#define MAX_ARGS    8
#define MAX_ARG_LEN 64

extern const uint8_t prog_init_start[], prog_init_end[];
extern const uint8_t prog_true_start[], prog_true_end[];
extern const uint8_t prog_sh_start[], prog_sh_end[];
extern const uint8_t prog_cc_start[], prog_cc_end[];

static const struct program {
    const char *name;
    const uint8_t *start, *end;
} programs[] = {
    { "init", prog_init_start, prog_init_end },
    { "true", prog_true_start, prog_true_end },
    { "sh", prog_sh_start, prog_sh_end },
    { "cc", prog_cc_start, prog_cc_end },
};

struct elf_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

#define PT_LOAD 1
#define PF_WRITE 2

static int load_segment(uint32_t pgdir, const uint8_t *image, const struct elf_phdr *ph)
{
    uint32_t end = ph->vaddr + ph->memsz;
    for (uint32_t va = ALIGN_DOWN(ph->vaddr, PAGE_SIZE); va < end; va += PAGE_SIZE) {
        pte_t *pte = vm_pte(pgdir, va, true);
        if (!pte)
            return -ENOMEM;
        uint32_t pa = pte_frame(*pte);
        if (!pte_present(*pte)) {
            pa = frame_alloc_zeroed();
            if (!pa)
                return -ENOMEM;
            pv_ops.set_pte(pte, pte_make(pa, PTE_P | PTE_U | ((ph->flags & PF_WRITE) ? PTE_W : 0)));
        }
        uint32_t lo = va > ph->vaddr ? va : ph->vaddr;
        uint32_t hi = va + PAGE_SIZE < ph->vaddr + ph->filesz ? va + PAGE_SIZE
                                                               : ph->vaddr + ph->filesz;
        if (lo < hi)
            memcpy((uint8_t *)P2V(pa) + (lo - va), image + ph->offset + (lo - ph->vaddr), hi - lo);
    }
    return 0;
}

static int load_elf(uint32_t pgdir, const struct program *prog, uint32_t *entry, uint32_t *end)
{
    const struct elf_header *eh = (const void *)prog->start;
    uint32_t size = (uint32_t)(prog->end - prog->start);
    if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) != 0 || eh->machine != 3 ||
        eh->phentsize != sizeof(struct elf_phdr) || eh->phoff + eh->phnum * sizeof(struct elf_phdr) > size)
        return -ENOEXEC;
    *end = 0;
    for (int i = 0; i < eh->phnum; i++) {
        const struct elf_phdr *ph = (const void *)(prog->start + eh->phoff + i * sizeof(*ph));
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        if (ph->vaddr < USER_TEXT || ph->memsz > USER_MMAP_BASE - ph->vaddr ||
            ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset)
            return -ENOEXEC;
        int r = load_segment(pgdir, prog->start, ph);
        if (r < 0)
            return r;
        if (ph->vaddr + ph->memsz > *end)
            *end = ph->vaddr + ph->memsz;
    }
    *entry = eh->entry;
    return 0;
}

/* The top stack page: argc, argv[0..argc-1], NULL, then the strings. */
static int build_stack(uint32_t pgdir, const char *const *argv, int argc, uint32_t *sp)
{
    uint32_t pa = frame_alloc_zeroed();
    if (!pa)
        return -ENOMEM;
    uint32_t base = USER_STACK_TOP - PAGE_SIZE;
    if (vm_map(pgdir, base, pa, PTE_W | PTE_U) < 0) {
        frame_free(pa);
        return -ENOMEM;
    }
    uint8_t *page = P2V(pa);
    uint32_t off = PAGE_SIZE, uargv[MAX_ARGS + 1];
    for (int i = argc - 1; i >= 0; i--) {
        uint32_t len = strlen(argv[i]) + 1;
        off -= len;
        memcpy(page + off, argv[i], len);
        uargv[i] = base + off;
    }
    uargv[argc] = 0;
    off = ALIGN_DOWN(off, 4) - 4 * (argc + 1);
    memcpy(page + off, uargv, 4 * (argc + 1));
    off -= 4;
    *(uint32_t *)(page + off) = (uint32_t)argc;
    *sp = base + off;
    return 0;
}

int exec_load(const char *name, const char *const *argv, int argc, uint32_t *pgdir_out,
              struct vm_layout *vm_out, uint32_t *entry_out, uint32_t *sp_out)
{
    const struct program *prog = NULL;
    for (uint32_t i = 0; i < ARRAY_SIZE(programs); i++)
        if (strcmp(programs[i].name, name) == 0)
            prog = &programs[i];
    if (!prog)
        return -ENOENT;
    if (argc > MAX_ARGS)
        return -EINVAL;
    uint32_t pgdir = vm_create(), end;
    if (!pgdir)
        return -ENOMEM;
    int r = load_elf(pgdir, prog, entry_out, &end);
    if (r == 0)
        r = build_stack(pgdir, argv, argc, sp_out);
    if (r < 0) {
        vm_destroy(pgdir);
        return r;
    }
    memset(vm_out, 0, sizeof(*vm_out));
    vm_out->heap_start = vm_out->brk = ALIGN_UP(end, PAGE_SIZE);
    *pgdir_out = pgdir;
    return 0;
}

int proc_exec(struct trapframe *tf, const char *name, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    uint32_t pgdir, entry, sp, old = current->pgdir;
    struct vm_layout vm;
    int r = exec_load(name, argv, argc, &pgdir, &vm, &entry, &sp);
    if (r < 0)
        return r;
    mmap_release(&current->vm);
    current->pgdir = pgdir;
    current->vm = vm;
    signal_exec(&current->sig);
    proc_set_name(current, name);
    pv_ops.load_cr3(pgdir);
    vm_destroy(old);
    tf->edi = tf->esi = tf->ebp = tf->ebx = tf->edx = tf->ecx = tf->eax = 0;
    tf->eip = entry;
    tf->esp = sp;
    tf->eflags = EFLAGS_IF | 0x2;
    return 0;
}
