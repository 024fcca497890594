/*
 * scan_elf.h — the static half of `vmlab scan` (issue 19): the sites of a kernel image a
 * paravirtual port must deal with, found by decoding its code function by function.
 *
 * An ELF file with a symbol table is opened with elfutils' libelf; every function symbol in an
 * executable section (STT_FUNC with a size; an unsized label in an executable section reaches to
 * the next symbol or the section's end) is decoded with Capstone from its first byte to its last,
 * so data between functions never desynchronizes the decoder and bytes that do not decode inside a
 * function are reported as an undecodable span (struct scan_gap) before decoding resumes at the
 * next byte. Each decoded instruction is classified with the emulator's own classifier
 * (emu/insn_class.h, the vocabulary of insn_class.def); the classified ones are the sites. File
 * and line come from the DWARF line table (libdw) when the image has one, else are left empty.
 *
 * Contract: scan_elf() fills a struct scan_image that owns everything it points to (the libelf
 * and libdw handles stay open, file names point into libdw's tables) until scan_image_free().
 * Sites are in address order; function names are those of the symbol table (for aliases of one
 * address, the global one, else the first).
 *
 * Calls into the PV layer (struct scan_pvcall) are recorded per function too, for `--diff` to
 * name a site a port had routed through its layer and a new build executes raw: an indirect call
 * or jump through the table named pv_ops (`call *pv_ops+OFF`, `jmp *pv_ops`, or a register loaded
 * from pv_ops+OFF and not overwritten before the call), named by the struct member at OFF when
 * DWARF describes pv_ops's type (nested structs joined with dots: Linux's `mmu.flush_tlb_user`),
 * else by the offset; and hypercalls: `int 0x82` or a call into the symbol hypercall_page.
 *
 * Code patched in at boot (Linux): every .altinstructions entry (6.1's struct alt_instr: s32
 * instr_offset, s32 repl_offset, u16 cpuid, u8 instrlen, u8 replacementlen, packed) has its
 * replacement bytes in .altinstr_replacement decoded, and their sites are listed at the address
 * of the instruction they replace, in that function, at its file:line, section
 * ".altinstr_replacement". .parainstructions entries (struct paravirt_patch_site { u8 *instr;
 * u8 type; u8 len; }, 8 bytes on i386) mark the sites in [instr, instr + len) as hook 1; the
 * functions whose addresses pv_ops holds in the image (Linux's statically initialized table of
 * native_* functions) mark theirs as hook 2.
 */
#ifndef VMLAB_SCAN_ELF_H
#define VMLAB_SCAN_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "emu/insn_class.h"

struct scan_site {
    uint64_t addr;
    enum insn_class cls;
    int cr;                 /* control register of mov to/from CR, else -1 */
    char mnem[32];
    char ops[160];
    const char *func;       /* the function symbol that holds it */
    uint64_t func_off;      /* addr - the function's start */
    const char *file;       /* source file (prefix common to the image's files removed), or "" */
    int line;               /* 0 when unknown */
    const char *section;    /* the ELF section, e.g. ".text"; ".altinstr_replacement" for a
                               boot-time replacement, listed at the address it patches */
    const char *unit;       /* the compilation unit's source file (full path), or "" */
    int hook;               /* behind a paravirt hook: 1 at a .parainstructions patch site,
                               2 in a function pv_ops's initializer points to, else 0 */
};

/* Bytes inside a function that Capstone cannot decode. */
struct scan_gap {
    uint64_t addr;
    uint32_t len;
    const char *func;
};

struct scan_func {
    const char *name;
    uint64_t addr, size;
    size_t nsites;          /* classified sites in it */
    size_t ninsns;          /* instructions decoded */
    char *sig;              /* the class+mnemonic sequence of its sites, one "class mnem;" each */
};

/* A call through the PV layer (see above), in address order. */
struct scan_pvcall {
    uint64_t addr;
    const char *func;       /* the function that makes it */
    uint32_t off;           /* offset into pv_ops; UINT32_MAX for a hypercall */
    const char *member;     /* "flush_tlb", "mmu.flush_tlb_user", "+0x40", "hypercall (int 0x82)" */
};

struct scan_image {
    const char *path;
    int elfclass;           /* 32 or 64 */
    int has_lines;          /* the image has a DWARF line table */
    struct scan_site *sites;
    size_t nsites;
    struct scan_gap *gaps;
    size_t ngaps;
    struct scan_func *funcs;    /* in address order */
    size_t nfuncs;
    uint64_t insns;         /* instructions decoded */
    const char *prefix;     /* the directory prefix removed from file names ("" when none) */
    struct scan_pvcall *pvcalls;
    size_t npvcalls;
    uint64_t pvops_addr, pvops_size;    /* the pv_ops object (size 0: the image has none) */
    void *priv;             /* libelf/libdw handles and string storage */
};

/* Scans the ELF file at `path` into *img. Returns 0, or -1 with a one-line reason in err. */
int scan_elf(const char *path, struct scan_image *img, char *err, size_t errlen);

void scan_image_free(struct scan_image *img);

/* Function and line for an address of the image (the dynamic view, `vmlab scan --db`): the
 * function holding addr (NULL if none), *file and *line from the line table ("" and 0 when
 * unknown). */
const char *scan_lookup(const struct scan_image *img, uint64_t addr, const char **file, int *line);

#endif
