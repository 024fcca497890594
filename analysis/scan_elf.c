/*
 * scan_elf.c — walk an ELF image's function symbols with libelf, decode each with Capstone,
 * classify with emu/insn_class.c, and attach file:line from libdw's line table (scan_elf.h).
 *
 * The steps, in scan_elf():
 *   1. the symbol table (SHT_SYMTAB, else SHT_DYNSYM) gives the functions: sized STT_FUNC symbols
 *      in allocated executable PROGBITS sections, aliases of one address folded into one (global
 *      names first); labels without a size (assembler entry points, STT_FUNC or STT_NOTYPE) that
 *      no sized function covers reach to the next symbol or the end of their section, except,
 *      when the image has a line table, local labels where no line row starts: those label data
 *      in a text section (boot.S's boot_gdt), which decoded would read as made-up sites;
 *   2. every function is decoded from its first byte with cs_disasm_iter; a byte that does not
 *      decode starts (or extends) an undecodable span and decoding resumes at the next byte, so a
 *      table inside a function costs a gap, never the functions after it;
 *   3. the DWARF line table of every compilation unit is read once into one array sorted by
 *      address, and each site's file:line is the row that covers its address; a site no row
 *      covers (top-level asm() in a C file) gets its compilation unit's file and line 0;
 *   4. file names lose the directory prefix all the sites' files share (one level less when they
 *      all sit in one directory, so `kernel/entry.S` rather than `entry.S`);
 *   5. alongside step 2, calls into the PV layer: the symbol pv_ops gives the table's range and
 *      DWARF its members (pv_members()); while a function is decoded, a register loaded from
 *      pv_ops+OFF is remembered until an instruction writes it, and an indirect call or jump
 *      through it (or through pv_ops+OFF directly) is a struct scan_pvcall; so is `int 0x82` and
 *      a call into hypercall_page.
 */
#define _GNU_SOURCE     /* asprintf */
#include "analysis/scan_elf.h"

#include <capstone/capstone.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct line_row {
    uint64_t addr;
    const char *file;
    int line;
    int end;                /* end of a sequence: no line from here */
};

struct priv {
    int fd;
    Elf *elf;
    Dwarf *dw;
    struct line_row *rows;
    size_t nrows;
    char *prefix;
    char **names;           /* file names made by cu_file() and pv_ops member names */
    size_t nnames;
    struct member { uint64_t off; const char *name; } *members;  /* pv_ops's, by offset */
    size_t nmembers;
    uint64_t hcall_addr, hcall_size;    /* hypercall_page, size 0: none */
    Dwarf_Off cu_off;       /* the unit cu_file() named last (sites come in address order) */
    const char *cu_name;    /* its name, NULL: none yet */
};

/* Keeps a malloc'ed string in p->names (freed with the image); returns it, or NULL. */
static const char *keep_name(struct priv *p, char *s)
{
    char **n = s ? realloc(p->names, (p->nnames + 1) * sizeof *n) : NULL;
    if (!n) {
        free(s);
        return NULL;
    }
    p->names = n;
    p->names[p->nnames++] = s;
    return s;
}

struct sym {
    const char *name;
    uint64_t addr, size;
    size_t shndx;
    int global, sized;
};

static int sym_cmp(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->sized != y->sized)
        return y->sized - x->sized;
    if (x->global != y->global)
        return y->global - x->global;
    return strcmp(x->name, y->name);
}

static int row_cmp(const void *a, const void *b)
{
    const struct line_row *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return y->end - x->end;     /* an end of sequence before a start at the same address */
}

/* Grows *arr (element size sz) so that it holds n + 1 elements. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static void read_lines(struct priv *p)
{
    size_t cap = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(p->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        Dwarf_Lines *lines;
        size_t n;
        if (dwarf_offdie(p->dw, off + hsize, &cu) && dwarf_getsrclines(&cu, &lines, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                Dwarf_Line *l = dwarf_onesrcline(lines, i);
                Dwarf_Addr a;
                int ln;
                bool end = false;
                if (!l || dwarf_lineaddr(l, &a) || dwarf_lineno(l, &ln))
                    continue;
                dwarf_lineendsequence(l, &end);
                const char *f = dwarf_linesrc(l, NULL, NULL);
                if (grow((void **)&p->rows, &cap, p->nrows, sizeof *p->rows))
                    return;
                p->rows[p->nrows++] = (struct line_row){ a, f ? f : "", ln, end };
            }
        }
        off = next;
    }
    qsort(p->rows, p->nrows, sizeof *p->rows, row_cmp);
}

static const struct line_row *find_row(const struct priv *p, uint64_t addr)
{
    size_t lo = 0, hi = p->nrows;   /* the last row with row.addr <= addr */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->rows[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || p->rows[lo - 1].end)
        return NULL;
    return &p->rows[lo - 1];
}

/* The source file of the compilation unit whose range holds addr, for code without line rows
 * (top-level asm() in a C file: pvops_native.c's native_iret), or "" when none. The name is
 * joined to the unit's compilation directory when relative; kept in p->names, once per run of
 * addresses in one unit (it was a new string per site). */
static const char *cu_file(struct priv *p, uint64_t addr)
{
    Dwarf_Die cu;
    if (!p->dw || !dwarf_addrdie(p->dw, addr, &cu))
        return "";
    if (p->cu_name && dwarf_dieoffset(&cu) == p->cu_off)
        return p->cu_name;
    const char *name = dwarf_diename(&cu);
    if (!name)
        return "";
    Dwarf_Attribute at;
    const char *dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at));
    char *full = NULL;
    if (name[0] != '/' && dir && asprintf(&full, "%s/%s", dir, name) < 0)
        full = NULL;
    if (name[0] == '/' || !full)
        full = strdup(name);
    const char *kept = keep_name(p, full);
    if (kept) {
        p->cu_off = dwarf_dieoffset(&cu);
        p->cu_name = kept;
    }
    return kept ? kept : "";
}

/* The leaf members of the struct type `type` (typedefs and qualifiers peeled), at base + their
 * offset, into p->members; nested structs recurse with their member name as a dotted prefix. */
static void add_members(struct priv *p, Dwarf_Die *type, uint64_t base, const char *prefix,
                        int depth)
{
    Dwarf_Die t, child;
    if (depth > 4 || dwarf_peel_type(type, &t) != 0 || dwarf_tag(&t) != DW_TAG_structure_type ||
        dwarf_child(&t, &child) != 0)
        return;
    do {
        if (dwarf_tag(&child) != DW_TAG_member)
            continue;
        Dwarf_Attribute at;
        Dwarf_Word loc = 0;
        if (dwarf_attr(&child, DW_AT_data_member_location, &at))
            dwarf_formudata(&at, &loc);
        const char *nm = dwarf_diename(&child);
        char *full = NULL;
        if (asprintf(&full, "%s%s%s", prefix, *prefix ? "." : "", nm ? nm : "?") < 0)
            return;
        Dwarf_Die mt, mp;
        if (dwarf_attr(&child, DW_AT_type, &at) && dwarf_formref_die(&at, &mt) &&
            dwarf_peel_type(&mt, &mp) == 0 && dwarf_tag(&mp) == DW_TAG_structure_type) {
            add_members(p, &mp, base + loc, full, depth + 1);
            free(full);
            continue;
        }
        struct member *m = realloc(p->members, (p->nmembers + 1) * sizeof *m);
        const char *kept = m ? keep_name(p, full) : (free(full), NULL);
        if (!m)
            return;
        p->members = m;
        if (kept)
            p->members[p->nmembers++] = (struct member){ base + loc, kept };
    } while (dwarf_siblingof(&child, &child) == 0);
}

/* pv_ops's members from the first compilation unit whose variable pv_ops has a complete struct
 * type (a declaration's type may be incomplete in units that only use it). */
static void pv_members(struct priv *p)
{
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (p->dw && !p->nmembers &&
           dwarf_nextcu(p->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, d;
        if (dwarf_offdie(p->dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
            do {
                Dwarf_Attribute at;
                Dwarf_Die type;
                const char *nm;
                if (dwarf_tag(&d) == DW_TAG_variable && (nm = dwarf_diename(&d)) &&
                    !strcmp(nm, "pv_ops") && dwarf_attr(&d, DW_AT_type, &at) &&
                    dwarf_formref_die(&at, &type)) {
                    add_members(p, &type, 0, "", 0);
                    break;
                }
            } while (dwarf_siblingof(&d, &d) == 0);
        }
        off = next;
    }
}

/* The member of pv_ops at offset off: its DWARF name, else "+0xOFF" (kept in p->names). */
static const char *member_at(struct priv *p, uint64_t off)
{
    for (size_t i = 0; i < p->nmembers; i++)
        if (p->members[i].off == off)
            return p->members[i].name;
    char *s = NULL;
    if (asprintf(&s, "+0x%" PRIx64, off) < 0)
        return "?";
    const char *kept = keep_name(p, s);
    return kept ? kept : "?";
}

/* The data objects step 5 needs from the symbol table: pv_ops and hypercall_page. */
static void find_pv_objects(struct priv *p, struct scan_image *img)
{
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;
    while ((scn = elf_nextscn(p->elf, scn))) {
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Sym s;
            const char *name;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
                !(name = elf_strptr(p->elf, sh.sh_link, s.st_name)))
                continue;
            if (!strcmp(name, "pv_ops") && s.st_size) {
                img->pvops_addr = s.st_value;
                img->pvops_size = s.st_size;
            } else if (!strcmp(name, "hypercall_page")) {
                p->hcall_addr = s.st_value;
                p->hcall_size = s.st_size ? s.st_size : 4096;
            }
        }
    }
    if (img->pvops_size)
        pv_members(p);
}

/* A memory operand that is an absolute address (no base, no index): its address, else
 * UINT64_MAX. Capstone sign-extends a 32-bit displacement; the image's class masks it back. */
static uint64_t abs_addr(const cs_x86_op *op, int elfclass)
{
    if (op->type != X86_OP_MEM || op->mem.base != X86_REG_INVALID ||
        op->mem.index != X86_REG_INVALID)
        return UINT64_MAX;
    return elfclass == 32 ? (uint64_t)op->mem.disp & 0xffffffffu : (uint64_t)op->mem.disp;
}

/* Step 5 for one instruction: regs[r] is the pv_ops offset register r was loaded from, or -1. */
static void track_pv(struct priv *p, struct scan_image *img, csh cs, const cs_insn *insn,
                     const char *func, int64_t *regs, size_t *cap)
{
    const cs_x86 *x = &insn->detail->x86;
    uint64_t lo = img->pvops_addr, hi = img->pvops_addr + img->pvops_size;
    int64_t off = -1;
    const char *member = NULL;
    if ((insn->id == X86_INS_CALL || insn->id == X86_INS_JMP) && x->op_count == 1) {
        uint64_t a = abs_addr(&x->operands[0], img->elfclass);
        if (x->operands[0].type == X86_OP_MEM && a >= lo && a < hi)
            off = (int64_t)(a - lo);
        else if (x->operands[0].type == X86_OP_REG && x->operands[0].reg < X86_REG_ENDING)
            off = regs[x->operands[0].reg];
        else if (x->operands[0].type == X86_OP_IMM && p->hcall_size &&
                 (uint64_t)x->operands[0].imm >= p->hcall_addr &&
                 (uint64_t)x->operands[0].imm < p->hcall_addr + p->hcall_size)
            member = "hypercall (hypercall_page)";
    } else if (insn->id == X86_INS_INT && x->op_count == 1 &&
               x->operands[0].type == X86_OP_IMM && x->operands[0].imm == 0x82) {
        member = "hypercall (int 0x82)";
    }
    if (off >= 0 || member) {
        if (!grow((void **)&img->pvcalls, cap, img->npvcalls, sizeof *img->pvcalls))
            img->pvcalls[img->npvcalls++] = (struct scan_pvcall){
                insn->address, func, off >= 0 ? (uint32_t)off : UINT32_MAX,
                member ? member : member_at(p, (uint64_t)off) };
    }
    /* What this instruction writes is no longer a pv_ops pointer, unless it loads one. */
    cs_regs rr, ww;
    uint8_t nr = 0, nw = 0;
    if (cs_regs_access(cs, insn, rr, &nr, ww, &nw) == CS_ERR_OK)
        for (uint8_t i = 0; i < nw; i++)
            if (ww[i] < X86_REG_ENDING)
                regs[ww[i]] = -1;
    if (insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
        x->operands[0].reg < X86_REG_ENDING) {
        uint64_t a = abs_addr(&x->operands[1], img->elfclass);
        if (a >= lo && a < hi)
            regs[x->operands[0].reg] = (int64_t)(a - lo);
    }
}

static void set_err(char *err, size_t len, const char *path, const char *what)
{
    snprintf(err, len, "%s: %s", path, what);
}

/* Whether a line-table row starts exactly at addr (an instruction the assembler gave a line). */
static int has_row_at(const struct priv *p, uint64_t addr)
{
    const struct line_row *r = find_row(p, addr);
    return r && r->addr == addr;
}

/* The functions of step 1, into img->funcs (names point into the ELF string table). */
static int collect_funcs(struct priv *p, struct scan_image *img, char *err, size_t errlen)
{
    Elf_Scn *scn = NULL, *symscn = NULL;
    GElf_Shdr sh;
    while ((scn = elf_nextscn(p->elf, scn))) {
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            symscn = scn;
        else if (sh.sh_type == SHT_DYNSYM && !symscn)
            symscn = scn;
    }
    if (!symscn) {
        set_err(err, errlen, img->path, "no symbol table (a stripped image cannot be scanned)");
        return -1;
    }
    gelf_getshdr(symscn, &sh);
    Elf_Data *d = elf_getdata(symscn, NULL);
    size_t nsym = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0, nsy = 0;
    struct sym *syms = calloc(nsym ? nsym : 1, sizeof *syms);
    if (!syms)
        return -1;
    for (size_t i = 0; d && i < nsym; i++) {
        GElf_Sym s;
        if (!gelf_getsym(d, (int)i, &s))
            continue;
        int type = GELF_ST_TYPE(s.st_info);
        if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
            s.st_shndx >= SHN_LORESERVE)
            continue;
        GElf_Shdr ssh;
        Elf_Scn *sscn = elf_getscn(p->elf, s.st_shndx);
        if (!sscn || !gelf_getshdr(sscn, &ssh) || ssh.sh_type != SHT_PROGBITS ||
            !(ssh.sh_flags & SHF_EXECINSTR) || !(ssh.sh_flags & SHF_ALLOC))
            continue;
        const char *name = elf_strptr(p->elf, sh.sh_link, s.st_name);
        if (!name || !*name || name[0] == '$' || !strncmp(name, ".L", 2))
            continue;
        syms[nsy++] = (struct sym){ name, s.st_value, s.st_size, s.st_shndx,
                                    GELF_ST_BIND(s.st_info) != STB_LOCAL,
                                    type == STT_FUNC && s.st_size > 0 };
    }
    qsort(syms, nsy, sizeof *syms, sym_cmp);
    img->funcs = calloc(nsy ? nsy : 1, sizeof *img->funcs);
    if (!img->funcs) {
        free(syms);
        return -1;
    }
    /* Sized functions first: they own their ranges. */
    uint64_t covered_end = 0;
    size_t nf = 0;
    for (size_t i = 0; i < nsy; i++) {
        if (!syms[i].sized || (nf && syms[i].addr < covered_end))
            continue;
        img->funcs[nf++] = (struct scan_func){ .name = syms[i].name, .addr = syms[i].addr,
                                               .size = syms[i].size };
        covered_end = syms[i].addr + syms[i].size;
    }
    /* Labels without a size, where no sized function is: up to the next symbol or section end. */
    size_t nsized = nf, k = 0;
    for (size_t i = 0; i < nsy; i++) {
        if (syms[i].sized || (i && syms[i - 1].addr == syms[i].addr))
            continue;
        while (k < nsized && img->funcs[k].addr + img->funcs[k].size <= syms[i].addr)
            k++;
        if (k < nsized && img->funcs[k].addr <= syms[i].addr)
            continue;   /* inside a sized function */
        if (p->nrows && !syms[i].global && !has_row_at(p, syms[i].addr))
            continue;   /* a local label on data (a GDT inside .text): no instruction starts there */
        GElf_Shdr ssh;
        gelf_getshdr(elf_getscn(p->elf, syms[i].shndx), &ssh);
        uint64_t end = ssh.sh_addr + ssh.sh_size;
        for (size_t j = i + 1; j < nsy; j++)
            if (syms[j].addr > syms[i].addr) {
                if (syms[j].addr < end)
                    end = syms[j].addr;
                break;
            }
        if (k < nsized && img->funcs[k].addr < end)
            end = img->funcs[k].addr;
        img->funcs[nf++] = (struct scan_func){ .name = syms[i].name, .addr = syms[i].addr,
                                               .size = end - syms[i].addr };
    }
    img->nfuncs = nf;
    free(syms);
    /* Address order again, now with the unsized ones among them. */
    for (size_t i = 1; i < nf; i++) {
        struct scan_func f = img->funcs[i];
        size_t j = i;
        for (; j > 0 && img->funcs[j - 1].addr > f.addr; j--)
            img->funcs[j] = img->funcs[j - 1];
        img->funcs[j] = f;
    }
    return 0;
}

/* The section named `name`: its header in *sh and its bytes, or NULL. */
static const uint8_t *section_named(struct priv *p, const char *name, GElf_Shdr *sh)
{
    Elf_Scn *scn = NULL;
    size_t shstrndx;
    elf_getshdrstrndx(p->elf, &shstrndx);
    while ((scn = elf_nextscn(p->elf, scn))) {
        const char *n;
        if (!gelf_getshdr(scn, sh) || sh->sh_type != SHT_PROGBITS ||
            !(n = elf_strptr(p->elf, shstrndx, sh->sh_name)) || strcmp(n, name))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        return d && d->d_buf && d->d_size >= sh->sh_size ? d->d_buf : NULL;
    }
    return NULL;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The section bytes at [addr, addr + size), or NULL. */
static const uint8_t *bytes_at(struct priv *p, uint64_t addr, uint64_t size, const char **secname)
{
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;
    size_t shstrndx;
    elf_getshdrstrndx(p->elf, &shstrndx);
    while ((scn = elf_nextscn(p->elf, scn))) {
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
            continue;
        if (addr < sh.sh_addr || addr + size > sh.sh_addr + sh.sh_size)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d || !d->d_buf || d->d_off != 0 || d->d_size < sh.sh_size)
            return NULL;
        *secname = elf_strptr(p->elf, shstrndx, sh.sh_name);
        return (const uint8_t *)d->d_buf + (addr - sh.sh_addr);
    }
    return NULL;
}

static void strip_prefix(struct scan_image *img, struct priv *p)
{
    const char *first = NULL;
    size_t plen = 0;
    int one_dir = 1;
    for (size_t i = 0; i < img->nsites; i++) {
        const char *f = img->sites[i].file;
        if (!*f)
            continue;
        if (!first) {
            first = f;
            const char *slash = strrchr(f, '/');
            plen = slash ? (size_t)(slash - f + 1) : 0;
            continue;
        }
        size_t n = 0;
        while (n < plen && f[n] == first[n])
            n++;
        if (n < plen) {
            one_dir = 0;
            while (n > 0 && first[n - 1] != '/')
                n--;
            plen = n;
        }
    }
    if (first && one_dir && plen > 1) {     /* one directory: keep its name */
        size_t n = plen - 1;
        while (n > 0 && first[n - 1] != '/')
            n--;
        plen = n;
    }
    p->prefix = strndup(first ? first : "", plen);
    img->prefix = p->prefix;
    for (size_t i = 0; i < img->nsites; i++)
        if (*img->sites[i].file)
            img->sites[i].file += plen;
}

static int site_cmp(const void *a, const void *b)
{
    const struct scan_site *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The function of img holding addr, or NULL. */
static const struct scan_func *func_at(const struct scan_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->nfuncs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (img->funcs[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && addr < img->funcs[lo - 1].addr + img->funcs[lo - 1].size ? &img->funcs[lo - 1]
                                                                           : NULL;
}

/* The index of the first site at or after addr (img->sites sorted by address). */
static size_t first_site(const struct scan_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->nsites;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (img->sites[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Appends the site of instruction `insn` (class c) listed at addr in function func, with the
 * file:line of addr (its compilation unit's file and line 0 when no row covers it); NULL when
 * out of memory. */
static struct scan_site *add_site(struct priv *p, struct scan_image *img, size_t *cap,
                                  uint64_t addr, const cs_insn *insn, enum insn_class c, int cr,
                                  const char *func, uint64_t func_off, const char *section)
{
    if (grow((void **)&img->sites, cap, img->nsites, sizeof *img->sites))
        return NULL;
    struct scan_site *s = &img->sites[img->nsites++];
    *s = (struct scan_site){ .addr = addr, .cls = c, .cr = cr, .func = func,
                             .func_off = func_off, .section = section };
    snprintf(s->mnem, sizeof s->mnem, "%s", insn->mnemonic);
    snprintf(s->ops, sizeof s->ops, "%s", insn->op_str);
    const struct line_row *r = find_row(p, addr);
    s->file = r ? r->file : cu_file(p, addr);
    s->line = r ? r->line : 0;
    return s;
}

/* Step 6 (header comment): the boot-time patch sections and the paravirt hooks. */
static void patched_code(struct priv *p, struct scan_image *img, csh cs, cs_insn *insn,
                         size_t *scap)
{
    GElf_Shdr ai, ar, pi;
    const uint8_t *alt = section_named(p, ".altinstructions", &ai);
    const uint8_t *repl = section_named(p, ".altinstr_replacement", &ar);
    for (uint64_t o = 0; alt && repl && o + 12 <= ai.sh_size; o += 12) {
        const uint8_t *e = alt + o;
        uint64_t instr = ai.sh_addr + o + (int32_t)le32(e);
        uint64_t r = ai.sh_addr + o + 4 + (int32_t)le32(e + 4);
        size_t left = e[11];
        if (r < ar.sh_addr || r + left > ar.sh_addr + ar.sh_size)
            continue;
        const uint8_t *code = repl + (r - ar.sh_addr);
        const struct scan_func *fn = func_at(img, instr);
        uint64_t a = r;
        while (left > 0 && cs_disasm_iter(cs, &code, &left, &a, insn)) {
            int cr;
            enum insn_class c = insn_classify(insn, &cr);
            if (c != IC_NONE)
                add_site(p, img, scap, instr, insn, c, cr, fn ? fn->name : "(no function)",
                         fn ? instr - fn->addr : 0, ".altinstr_replacement");
        }
    }
    qsort(img->sites, img->nsites, sizeof *img->sites, site_cmp);
    const uint8_t *para = section_named(p, ".parainstructions", &pi);
    size_t esz = img->elfclass == 32 ? 8 : 16;
    for (uint64_t o = 0; para && img->elfclass == 32 && o + esz <= pi.sh_size; o += esz) {
        uint64_t instr = le32(para + o);
        unsigned len = para[o + 5];
        for (size_t i = first_site(img, instr); i < img->nsites && img->sites[i].addr < instr + len;
             i++)
            img->sites[i].hook = 1;
    }
    /* pv_ops's initializer: the functions it points to (an image whose pv_ops is in .bss, as
     * vmlab's own kernel, has none). */
    const char *secname = NULL;
    const uint8_t *tab = img->pvops_size ? bytes_at(p, img->pvops_addr, img->pvops_size, &secname)
                                         : NULL;
    for (uint64_t o = 0; tab && img->elfclass == 32 && o + 4 <= img->pvops_size; o += 4) {
        const struct scan_func *fn = func_at(img, le32(tab + o));
        if (!fn || fn->addr != le32(tab + o))
            continue;
        /* fn's sites are the ones in its range (the functions do not overlap) */
        for (size_t i = first_site(img, fn->addr);
             i < img->nsites && img->sites[i].addr < fn->addr + fn->size; i++)
            if (!img->sites[i].hook)
                img->sites[i].hook = 2;
    }
}

int scan_elf(const char *path, struct scan_image *img, char *err, size_t errlen)
{
    *img = (struct scan_image){ .path = path };
    struct priv *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    img->priv = p;
    elf_version(EV_CURRENT);
    if ((p->fd = open(path, O_RDONLY)) < 0) {
        set_err(err, errlen, path, "cannot open");
        return -1;
    }
    p->elf = elf_begin(p->fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (!p->elf || elf_kind(p->elf) != ELF_K_ELF || !gelf_getehdr(p->elf, &eh)) {
        set_err(err, errlen, path, "not an ELF file");
        return -1;
    }
    if (eh.e_machine != EM_386 && eh.e_machine != EM_X86_64) {
        set_err(err, errlen, path, "not an x86 ELF file (EM_386 or EM_X86_64)");
        return -1;
    }
    img->elfclass = gelf_getclass(p->elf) == ELFCLASS64 ? 64 : 32;
    p->dw = dwarf_begin_elf(p->elf, DWARF_C_READ, NULL);
    if (p->dw)
        read_lines(p);
    img->has_lines = p->nrows > 0;
    if (collect_funcs(p, img, err, errlen))
        return -1;
    find_pv_objects(p, img);
    int64_t regs[X86_REG_ENDING];
    size_t pcap = 0;

    csh cs;
    if (cs_open(CS_ARCH_X86, eh.e_machine == EM_X86_64 ? CS_MODE_64 : CS_MODE_32, &cs) != CS_ERR_OK) {
        set_err(err, errlen, path, "Capstone cannot open an x86 decoder");
        return -1;
    }
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *insn = cs_malloc(cs);
    size_t scap = 0, gcap = 0;
    for (size_t fi = 0; fi < img->nfuncs; fi++) {
        struct scan_func *fn = &img->funcs[fi];
        const char *sec = "";
        const uint8_t *code = bytes_at(p, fn->addr, fn->size, &sec);
        if (!code)
            continue;
        size_t left = fn->size;
        uint64_t a = fn->addr;
        char *sig = NULL;
        size_t siglen = 0;
        FILE *sf = open_memstream(&sig, &siglen);
        for (int r = 0; r < X86_REG_ENDING; r++)
            regs[r] = -1;
        while (left > 0) {
            if (!cs_disasm_iter(cs, &code, &left, &a, insn)) {
                if (img->ngaps && img->gaps[img->ngaps - 1].addr +
                                      img->gaps[img->ngaps - 1].len == a)
                    img->gaps[img->ngaps - 1].len++;
                else if (!grow((void **)&img->gaps, &gcap, img->ngaps, sizeof *img->gaps))
                    img->gaps[img->ngaps++] = (struct scan_gap){ a, 1, fn->name };
                code++, left--, a++;
                continue;
            }
            fn->ninsns++;
            img->insns++;
            track_pv(p, img, cs, insn, fn->name, regs, &pcap);
            int cr;
            enum insn_class c = insn_classify(insn, &cr);
            if (c == IC_NONE)
                continue;
            if (!add_site(p, img, &scap, insn->address, insn, c, cr, fn->name,
                          insn->address - fn->addr, sec))
                break;
            fn->nsites++;
            if (sf)
                fprintf(sf, "%s %s;", insn_class_name[c], insn->mnemonic);
        }
        if (sf) {
            fclose(sf);
            fn->sig = sig;
        }
    }
    patched_code(p, img, cs, insn, &scap);
    cs_free(insn, 1);
    cs_close(&cs);
    for (size_t i = 0; i < img->nsites; i++) {
        struct scan_site *st = &img->sites[i];
        const char *u = cu_file(p, st->addr);
        st->unit = u;
    }
    strip_prefix(img, p);
    return 0;
}

const char *scan_lookup(const struct scan_image *img, uint64_t addr, const char **file, int *line)
{
    const struct priv *p = img->priv;
    const struct line_row *r = find_row(p, addr);
    *file = r ? r->file : "";
    *line = r ? r->line : 0;
    if (r && p->prefix && !strncmp(*file, p->prefix, strlen(p->prefix)))
        *file += strlen(p->prefix);
    const struct scan_func *fn = func_at(img, addr);
    return fn ? fn->name : NULL;
}

void scan_image_free(struct scan_image *img)
{
    struct priv *p = img->priv;
    for (size_t i = 0; i < img->nfuncs; i++)
        free(img->funcs[i].sig);
    free(img->funcs);
    free(img->sites);
    free(img->gaps);
    free(img->pvcalls);
    if (p) {
        free(p->members);
        if (p->dw)
            dwarf_end(p->dw);
        if (p->elf)
            elf_end(p->elf);
        if (p->fd > 0)
            close(p->fd);
        free(p->rows);
        free(p->prefix);
        for (size_t i = 0; i < p->nnames; i++)
            free(p->names[i]);
        free(p->names);
        free(p);
    }
    *img = (struct scan_image){ 0 };
}
