/*
 * shadow.c — shadow page tables (see shadow.h for the model).
 *
 * Structures, all in monitor memory above guest RAM (4 KiB pages from one pool):
 *
 *   roots[]   shadow page directories, one per recently used guest CR3 (LRU, 8 entries); a root's
 *             PDEs point at shadow page tables, always present|writable|user: the effective
 *             permissions are in the shadow PTEs (the AND of the guest's PDE and PTE bits).
 *   l1s       shadow page tables keyed by what they shadow: a guest page-table frame plus the
 *             guest PDE's W/U bits, or a guest 4 MiB page (PSE) split into 4 KiB entries. Shared
 *             by every root whose guest directory points at the same guest table.
 *   ident     an identity map of guest RAM (4 MiB pages) for while guest paging is off.
 *   ptype[]   per guest frame: is it shadowed as an L1 (bit 0) / L2 (bit 1), translated code
 *             (bit 2), or a descriptor table the monitor mirrors (bit 3) — a traced frame.
 *
 * Reverse maps, so that what a frame's trace, unshadow or drop touches costs in proportion to the
 * mappings involved, not to the tables' sizes (issue 21):
 *
 *   pte_*     per guest frame, the list of shadow PTEs (slot = pool page * 1024 + index, in shadow
 *             page tables) that map it: a slot is listed exactly while its entry is present.
 *   rpde_*    per shadow page table (struct sl1), the list of root PDEs (slot = root * 1024 +
 *             index) that point at it.
 *   gd_*      per guest frame, the root slots whose guest PDE named it as a page table when last
 *             read (root built, or the directory written through a traced write). The guest's
 *             memory is the truth: a listed entry is checked against it before it counts, and
 *             with none that still names the frame, still_page_table scans as before (only the
 *             answer "no longer a page table", once per unshadow, pays for the scan).
 *
 * Every change that removes or narrows a shadow entry is followed by a flush of the CPU's TLB;
 * filling a not-present entry needs none.
 */
#include "emu/modes/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/deliver.h"
#include "emu/machine.h"
#include "emu/tlb.h"
#include "emu/funnel.h"
#include "emu/modes/emul_write.h"

#define NROOTS 8
#define KEY_PSE 0x80u
#define PTYPE_L1 1u
#define PTYPE_L2 2u
#define PTYPE_CODE 4u            /* guest code a translator has read (shadow_trace_code) */
#define PTYPE_DESC 8u            /* a frame of the guest's GDT the monitor mirrors (shadow_trace_desc) */
#define NO_FRAME 1u              /* no frame (frames are page-aligned) */

const char *const shadow_ev_name[] = {
#define SHADOW_EV(id, n, name) [n] = name,
#include "emu/modes/shadow_events.def"
#undef SHADOW_EV
};

const char *const refusal_name[] = {
#define REFUSAL(id, n, name) [n] = name,
#include "emu/modes/shadow_events.def"
#undef REFUSAL
};

struct sl1 {
    uint32_t key;            /* guest frame | (PDE & W|U), or 4 MiB base | KEY_PSE | (PDE & W|U) */
    uint32_t page;           /* pool page index */
    uint32_t pde_head;       /* root PDEs pointing at it: first root slot + 1, 0 none */
    struct sl1 *next;
};

struct root {
    uint32_t gl2;            /* guest page-directory frame */
    uint32_t page;           /* pool page index */
    uint64_t lru;
    int valid;
};

struct shadow {
    struct machine *m;
    uint32_t pool_phys;
    uint8_t *pool;
    uint32_t npages;
    uint32_t *free_pages;    /* stack of free page indices */
    uint32_t nfree;
    struct sl1 *l1_hash[1024];
    struct root roots[NROOTS];
    int cur;                 /* index of the active root, -1 while paging is off */
    uint32_t ident;          /* pool page of the identity map */
    uint64_t tick;
    uint8_t *ptype;          /* per guest frame */
    uint32_t nframes;
    uint32_t window_base;            /* where the monitor's window is now (moves: window_move) */
    void (*window_moved)(struct machine *m, uint32_t from, uint32_t to);
    uint32_t last_fault, last_eip;   /* to catch a fill that does not fix its fault */
    uint32_t window_l1;              /* pool page mapping the monitor's own window pages, or 0 */
    uint32_t cr0_extra;              /* monitor's own real CR0 bits */
    void (*code_written)(struct machine *m, uint32_t frame);   /* shadow_trace_code's callback */
    void (*desc_written)(struct machine *m);                   /* shadow_trace_desc's callback */
    bool desc_stale;         /* a descriptor-table frame was left writable for one write */
    unsigned repeats;
    /* Reverse maps (see the top). Links are slot + 1, 0 for none. */
    struct sl1 **l1_of;      /* per pool page: the shadow page table it holds, or NULL */
    uint32_t *pte_head;      /* per guest frame */
    uint32_t *pte_next, *pte_prev;                    /* per shadow page-table slot */
    uint32_t rpde_next[NROOTS * 1024], rpde_prev[NROOTS * 1024];   /* per root slot */
    uint32_t *gd_head;       /* per guest frame */
    uint32_t gd_frame[NROOTS * 1024];                 /* per root slot: guest frame + 1, 0 none */
    uint32_t gd_next[NROOTS * 1024], gd_prev[NROOTS * 1024];
};

static void count(struct shadow *s, enum shadow_ev e, uint32_t eip)
{
    funnel_work(s->m, WK_SHADOW, e, shadow_ev_name[e], 0, eip, 0, NULL);
}

static void refuse(struct shadow *s, enum refusal_kind k, uint32_t eip)
{
    funnel_work(s->m, WK_REFUSAL, k, refusal_name[k], 0, eip, 0, NULL);
}

static uint32_t *page_ptr(struct shadow *s, uint32_t page)
{
    return (uint32_t *)(s->pool + (size_t)page * 4096);
}

static uint32_t page_phys(struct shadow *s, uint32_t page) { return s->pool_phys + page * 4096; }

static uint32_t guest32(struct shadow *s, uint32_t pa)
{
    uint32_t v = 0;
    if ((uint64_t)pa + 4 <= s->m->ram_size)
        memcpy(&v, s->m->ram + pa, 4);
    return v;
}

/* The monitor changed or dropped present shadow entries: a real shadow MMU flushes the TLB
 * (a modeled flush, emu/tlb.h). */
static void flush_tlb(struct shadow *s) { tlb_flush(s->m, TLB_FLUSH_MONITOR, false); }

/* ---- reverse maps ---------------------------------------------------------------------------- */

static void rl_link(uint32_t *head, uint32_t *next, uint32_t *prev, uint32_t slot)
{
    uint32_t h = *head;
    next[slot] = h;
    prev[slot] = 0;
    if (h)
        prev[h - 1] = slot + 1;
    *head = slot + 1;
}

static void rl_unlink(uint32_t *head, uint32_t *next, uint32_t *prev, uint32_t slot)
{
    uint32_t n = next[slot], p = prev[slot];
    if (p)
        next[p - 1] = n;
    else
        *head = n;
    if (n)
        prev[n - 1] = p;
}

/* Set entry `i` of shadow page table `page` (an sl1's page) to `val`, keeping pte_* exact. */
static void pte_set(struct shadow *s, uint32_t page, unsigned i, uint32_t val)
{
    uint32_t *t = page_ptr(s, page), slot = page * 1024 + i;
    if (t[i] & PTE_P)
        rl_unlink(&s->pte_head[t[i] >> 12], s->pte_next, s->pte_prev, slot);
    t[i] = val;
    if (val & PTE_P)    /* fill maps only frames inside guest RAM */
        rl_link(&s->pte_head[val >> 12], s->pte_next, s->pte_prev, slot);
}

/* The shadow page table a root PDE points at, or NULL (empty, the window's table). */
static struct sl1 *l1_at(const struct shadow *s, uint32_t pde)
{
    uint32_t a = pde & 0xfffff000u;
    if (!pde || a < s->pool_phys || (a - s->pool_phys) / 4096 >= s->npages)
        return NULL;
    return s->l1_of[(a - s->pool_phys) / 4096];
}

/* Set PDE `i` of valid root `r` to `val`, keeping rpde_* exact. */
static void rpde_set(struct shadow *s, int r, unsigned i, uint32_t val)
{
    uint32_t *d = page_ptr(s, s->roots[r].page), slot = (uint32_t)r * 1024 + i;
    struct sl1 *e = l1_at(s, d[i]);
    if (e)
        rl_unlink(&e->pde_head, s->rpde_next, s->rpde_prev, slot);
    d[i] = val;
    e = l1_at(s, val);
    if (e)
        rl_link(&e->pde_head, s->rpde_next, s->rpde_prev, slot);
}

/* Read guest PDE `i` of valid root `r` into gd_* (what guest page table it names now). */
static void gd_read(struct shadow *s, int r, unsigned i)
{
    uint32_t slot = (uint32_t)r * 1024 + i;
    uint32_t pde = guest32(s, s->roots[r].gl2 + i * 4);
    uint32_t f = ((pde & PTE_P) && !(pde & PTE_PS)) ? (pde >> 12) + 1 : 0;
    if (f > s->nframes)
        f = 0;          /* outside guest RAM: never a traced frame */
    uint32_t old = s->gd_frame[slot];
    if (f == old)
        return;
    if (old)
        rl_unlink(&s->gd_head[old - 1], s->gd_next, s->gd_prev, slot);
    s->gd_frame[slot] = f;
    if (f)
        rl_link(&s->gd_head[f - 1], s->gd_next, s->gd_prev, slot);
}

#define WINDOW_BYTES 0x400000u   /* the monitor's window: one page directory entry */

static bool in_window(const struct shadow *s, uint32_t lin)
{
    return s->window_base && lin - s->window_base < WINDOW_BYTES;
}

static bool traced(struct shadow *s, uint32_t frame)
{
    uint32_t f = frame >> 12;
    return f < s->nframes && s->ptype[f];
}

/* ---- pool ------------------------------------------------------------------------------- */

static void flush_all(struct shadow *s);

static int page_alloc(struct shadow *s, uint32_t *page)
{
    if (!s->nfree)
        return -1;
    *page = s->free_pages[--s->nfree];
    memset(page_ptr(s, *page), 0, 4096);
    return 0;
}

static void page_free(struct shadow *s, uint32_t page) { s->free_pages[s->nfree++] = page; }

/* ---- shadow page tables ---------------------------------------------------------------- */

static unsigned l1_hash(uint32_t key) { return ((key >> 12) ^ (key & 0xff)) & 1023; }

static struct sl1 *l1_find(struct shadow *s, uint32_t key)
{
    for (struct sl1 *e = s->l1_hash[l1_hash(key)]; e; e = e->next)
        if (e->key == key)
            return e;
    return NULL;
}

/* Make every shadow mapping of guest frame `frame` read-only. */
#ifdef SHADOW_RMAP_CHECK
/* Self-test of the reverse maps (build with -DSHADOW_RMAP_CHECK): the scans they replace. */
static void rmap_check_frame(struct shadow *s, uint32_t frame)
{
    unsigned scanned = 0, listed = 0;
    for (unsigned h = 0; h < 1024; h++)
        for (struct sl1 *e = s->l1_hash[h]; e; e = e->next) {
            uint32_t *t = page_ptr(s, e->page);
            for (int i = 0; i < 1024; i++)
                if ((t[i] & PTE_P) && (t[i] & 0xfffff000u) == frame)
                    scanned++;
        }
    if ((frame >> 12) < s->nframes)
        for (uint32_t x = s->pte_head[frame >> 12]; x; x = s->pte_next[x - 1]) {
            uint32_t *t = page_ptr(s, (x - 1) / 1024);
            if (!s->l1_of[(x - 1) / 1024] || !(t[(x - 1) % 1024] & PTE_P) ||
                (t[(x - 1) % 1024] & 0xfffff000u) != frame)
                abort();
            listed++;
        }
    if (scanned != listed) {
        fprintf(stderr, "shadow rmap: frame 0x%08x mapped %u times, listed %u\n", frame, scanned,
                listed);
        abort();
    }
}

/* The root PDEs listed for shadow page table e against a scan of the valid roots. */
static void rmap_check_l1(struct shadow *s, const struct sl1 *e)
{
    uint32_t phys = page_phys(s, e->page);
    unsigned scanned = 0, listed = 0;
    for (int r = 0; r < NROOTS; r++)
        if (s->roots[r].valid)
            for (int i = 0; i < 1024; i++)
                scanned += (page_ptr(s, s->roots[r].page)[i] & 0xfffff000u) == phys;
    for (uint32_t x = e->pde_head; x; x = s->rpde_next[x - 1])
        listed++;
    if (scanned != listed)
        abort();
}
#else
static void rmap_check_frame(struct shadow *s, uint32_t frame) { (void)s; (void)frame; }
static void rmap_check_l1(struct shadow *s, const struct sl1 *e) { (void)s; (void)e; }
#endif

/* Make every shadow mapping of guest frame `frame` read-only. */
static void write_protect(struct shadow *s, uint32_t frame)
{
    bool changed = false;
    rmap_check_frame(s, frame);
    if ((frame >> 12) < s->nframes)
        for (uint32_t x = s->pte_head[frame >> 12]; x; x = s->pte_next[x - 1]) {
            uint32_t *t = &page_ptr(s, (x - 1) / 1024)[(x - 1) % 1024];
            if (*t & PTE_W) {
                *t &= ~PTE_W;
                changed = true;
            }
        }
    if (changed)
        flush_tlb(s);
}

/* Drop every shadow mapping of guest frame `frame` (they refill with the current rules). */
static void drop_mappings(struct shadow *s, uint32_t frame)
{
    rmap_check_frame(s, frame);
    if ((frame >> 12) >= s->nframes)
        return;
    for (uint32_t x = s->pte_head[frame >> 12]; x; x = s->pte_next[x - 1])
        page_ptr(s, (x - 1) / 1024)[(x - 1) % 1024] = 0;
    s->pte_head[frame >> 12] = 0;
}

static void trace(struct shadow *s, uint32_t frame, uint8_t type)
{
    uint32_t f = frame >> 12;
    if (f >= s->nframes)
        return;
    bool was = s->ptype[f] != 0;
    s->ptype[f] |= type;
    if (!was)
        write_protect(s, frame);
}

/* Stop tracing frame `frame` (in guest RAM) as `type`; a frame then traced as nothing else has
 * its mappings dropped (they refill writable). */
static void untrace(struct shadow *s, uint32_t frame, uint8_t type)
{
    s->ptype[frame >> 12] &= (uint8_t)~type;
    if (!s->ptype[frame >> 12]) {
        drop_mappings(s, frame);
        flush_tlb(s);
    }
}

static struct sl1 *l1_get(struct shadow *s, uint32_t key)
{
    struct sl1 *e = l1_find(s, key);
    if (e)
        return e;
    uint32_t page;
    if (page_alloc(s, &page) < 0)
        return NULL;
    e = calloc(1, sizeof *e);
    if (!e) {
        page_free(s, page);
        return NULL;
    }
    e->key = key;
    e->page = page;
    s->l1_of[page] = e;
    unsigned h = l1_hash(key);
    e->next = s->l1_hash[h];
    s->l1_hash[h] = e;
    if (!(key & KEY_PSE))
        trace(s, key & 0xfffff000u, PTYPE_L1);
    return e;
}

/* Remove the shadow page tables of guest L1 frame `frame` (all W/U variants) and every shadow
 * PDE pointing at them. */
static void l1_drop_frame(struct shadow *s, uint32_t frame)
{
    for (uint32_t bits = 0; bits <= 6; bits += 2) {
        uint32_t key = frame | bits;
        struct sl1 **pp = &s->l1_hash[l1_hash(key)];
        while (*pp && (*pp)->key != key)
            pp = &(*pp)->next;
        struct sl1 *e = *pp;
        if (!e)
            continue;
        *pp = e->next;
        rmap_check_l1(s, e);
        /* Every root PDE pointing at it (only valid roots' are listed). */
        for (uint32_t x = e->pde_head; x; x = s->rpde_next[x - 1])
            page_ptr(s, s->roots[(x - 1) / 1024].page)[(x - 1) % 1024] = 0;
        /* Its own entries leave the frames' lists. */
        uint32_t *t = page_ptr(s, e->page);
        for (unsigned i = 0; i < 1024; i++)
            if (t[i] & PTE_P)
                rl_unlink(&s->pte_head[t[i] >> 12], s->pte_next, s->pte_prev,
                          e->page * 1024 + i);
        s->l1_of[e->page] = NULL;
        page_free(s, e->page);
        free(e);
    }
}

/* ---- the monitor's window ------------------------------------------------------------------
 *
 * The pre-VT monitors keep their window (4 MiB, one page directory entry) in the guest's linear
 * address space, as VMware's monitor did. Where the guest maps that region itself (Linux keeps
 * its fixmap at the top), the window moves: the shadow MMU sees every guest PDE it shadows (a
 * directory is checked when its shadow root is built) and every write to a shadowed directory
 * (a traced write), so the guest's mapping is found before the guest can use it.
 *
 * A region is free for the window when
 *   - it lies wholly beyond guest RAM: while guest paging is off the identity map covers RAM
 *     (and a guest that maps RAM 1:1, as a Multiboot kernel does, finds it there), and
 *   - no shadowed guest directory (the 8 cached roots, the one being built included) has its
 *     PDE present.
 * Directories not shadowed now are checked when they are (a CR3 load builds their root), and
 * the window moves again then if it must. The search runs from the top down: the region just
 * below the guest's own use of the top (Linux: the end of its vmalloc space, below the fixmap)
 * is the least likely to be mapped next. What the window holds keeps its monitor memory (the
 * same pool pages, mapped at the new place); what refers to it by linear address (GDTR, TR,
 * bt's translation cache) is the mode's to relocate (shadow_on_window_move). Each move is counted
 * (shadow `window_move`). With no free region the run ends (refusal monitor_window). */

/* Is 4 MiB region `idx` free for the window (see above)? */
static bool region_free(struct shadow *s, unsigned idx)
{
    if (((uint64_t)idx << 22) < s->m->ram_size)
        return false;
    for (int r = 0; r < NROOTS; r++)
        if (s->roots[r].valid && (guest32(s, s->roots[r].gl2 + idx * 4) & PTE_P))
            return false;
    return true;
}

/* Move the window to the highest free region: every shadow root and the identity map point that
 * region's PDE at the window's page table, the old region's PDE is dropped (it refills from the
 * guest's tables), the mode relocates. 0, or -1 when no region is free (the run ended). */
static int window_move(struct shadow *s, uint32_t eip)
{
    struct machine *m = s->m;
    unsigned from = s->window_base >> 22;
    int to = -1;
    for (int i = 1023; i >= 0 && to < 0; i--)
        if ((unsigned)i != from && region_free(s, (unsigned)i))
            to = i;
    if (to < 0) {
        refuse(s, REFUSE_MONITOR_WINDOW, eip);
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "the guest maps the monitor's window at 0x%08x (EIP 0x%08x) and every other "
                    "4 MiB region beyond its RAM: the window has nowhere to go (refused)",
                    s->window_base, eip);
        return -1;
    }
    uint32_t pde = s->window_l1 ? page_phys(s, s->window_l1) | PTE_P | PTE_W : 0;
    for (int r = 0; r < NROOTS; r++)
        if (s->roots[r].valid) {
            rpde_set(s, r, from, 0);
            rpde_set(s, r, (unsigned)to, pde);
        }
    page_ptr(s, s->ident)[from] = 0;
    page_ptr(s, s->ident)[to] = pde;
    s->window_base = (uint32_t)to << 22;
    s->last_eip = s->last_fault = 0xffffffffu;
    flush_tlb(s);
    count(s, SHEV_WINDOW_MOVE, eip);
    if (s->window_moved)
        s->window_moved(m, from << 22, s->window_base);
    return 0;
}

/* Shadowed guest directory `gl2` was just shadowed or written: if it maps the window's region,
 * move the window. 0, or -1 when the run ended. */
static int window_check(struct shadow *s, uint32_t gl2, uint32_t eip)
{
    if (!s->window_base || !(guest32(s, gl2 + (s->window_base >> 22) * 4) & PTE_P))
        return 0;
    return window_move(s, eip);
}

/* ---- roots --------------------------------------------------------------------------------- */

static void root_drop(struct shadow *s, int r)
{
    if (!s->roots[r].valid)
        return;
    uint32_t f = s->roots[r].gl2 >> 12;
    if (f < s->nframes)
        s->ptype[f] &= (uint8_t)~PTYPE_L2;
    uint32_t *d = page_ptr(s, s->roots[r].page);
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t slot = (uint32_t)r * 1024 + i;
        struct sl1 *e = l1_at(s, d[i]);
        if (e)
            rl_unlink(&e->pde_head, s->rpde_next, s->rpde_prev, slot);
        if (s->gd_frame[slot]) {
            rl_unlink(&s->gd_head[s->gd_frame[slot] - 1], s->gd_next, s->gd_prev, slot);
            s->gd_frame[slot] = 0;
        }
    }
    page_free(s, s->roots[r].page);
    s->roots[r].valid = 0;
    if (s->cur == r)
        s->cur = -1;
}

static void flush_all(struct shadow *s)
{
    for (int r = 0; r < NROOTS; r++)
        root_drop(s, r);
    for (unsigned h = 0; h < 1024; h++) {
        struct sl1 *e = s->l1_hash[h];
        while (e) {
            struct sl1 *n = e->next;
            s->l1_of[e->page] = NULL;
            page_free(s, e->page);
            free(e);
            e = n;
        }
        s->l1_hash[h] = NULL;
    }
    memset(s->pte_head, 0, s->nframes * sizeof *s->pte_head);
    for (uint32_t f = 0; f < s->nframes; f++)
        s->ptype[f] &= PTYPE_CODE | PTYPE_DESC;
    count(s, SHEV_FLUSH, 0);
}

static int root_for(struct shadow *s, uint32_t gl2)
{
    int victim = 0;          /* the first free root, else the least recently used */
    for (int r = 0; r < NROOTS; r++) {
        if (s->roots[r].valid && s->roots[r].gl2 == gl2) {
            s->roots[r].lru = ++s->tick;
            count(s, SHEV_REUSE, 0);
            return r;
        }
        if (s->roots[victim].valid &&
            (!s->roots[r].valid || s->roots[r].lru < s->roots[victim].lru))
            victim = r;
    }
    root_drop(s, victim);
    uint32_t page;
    if (page_alloc(s, &page) < 0) {
        flush_all(s);
        if (page_alloc(s, &page) < 0)
            return -1;
        victim = 0;
    }
    s->roots[victim] = (struct root){.gl2 = gl2, .page = page, .lru = ++s->tick, .valid = 1};
    for (unsigned i = 0; i < 1024; i++)
        gd_read(s, victim, i);
    if (s->window_l1)
        page_ptr(s, page)[s->window_base >> 22] = page_phys(s, s->window_l1) | PTE_P | PTE_W;
    trace(s, gl2, PTYPE_L2);
    count(s, SHEV_BUILD, 0);
    if (window_check(s, gl2, 0) < 0)
        return -2;
    return victim;
}

#define CR0_GUEST_BITS ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 18)) /* MP EM TS NE AM */
#define CR4_GUEST_BITS ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 9) | (1u << 10))
                       /* TSD DE PCE OSFXSR OSXMMEXCPT */

int shadow_activate(struct shadow *s, const struct vcpu *v)
{
    struct machine *m = s->m;
    uint64_t cr3;
    if (!(v->cr0 & CR0_PG)) {
        s->cur = -1;
        cr3 = page_phys(s, s->ident);
    } else {
        uint32_t gl2 = v->cr3 & 0xfffff000u;
        if ((uint64_t)gl2 + 4096 > m->ram_size) {
            refuse(s, REFUSE_BAD_CR3, 0);
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "guest loaded CR3 with 0x%08x, outside its %llu MiB of memory (refused)",
                        v->cr3, (unsigned long long)(m->ram_size >> 20));
            return -1;
        }
        int r = root_for(s, gl2);
        if (r == -2)
            return -1;    /* the window had nowhere to go: the run ended */
        if (r < 0) {
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL, "shadow page-table pool exhausted");
            return -1;
        }
        s->cur = r;
        cr3 = page_phys(s, s->roots[r].page);
    }
    /* The real CR0 and CR4 are the monitor's where the shadow MMU needs them (PE, PG, WP; PSE for
     * its identity map; no PGE, no PAE) and the guest's elsewhere: FPU and alignment control
     * (MP, EM, TS, NE, AM) and the CR4 bits that change what instructions do (TSD, DE, PCE,
     * OSFXSR, OSXMMEXCPT), as a VT-x monitor with shadow paging lets them through (Intel SDM
     * vol. 3C, 25.3, CR0/CR4 guest/host masks). */
    uint64_t cr0 = CR0_PE | CR0_PG | CR0_WP | (1u << 4) | s->cr0_extra | (v->cr0 & CR0_GUEST_BITS);
    uint64_t cr4 = CR4_PSE | (v->cr4 & CR4_GUEST_BITS);
    tlb_set_cr(m, 4, cr4);
    tlb_set_cr(m, 0, cr0);
    tlb_set_cr(m, 3, cr3);
    return 0;
}

int shadow_load_cr(struct shadow *s, struct vcpu *v, int cr, uint32_t val)
{
    uint32_t old0 = v->cr0, old4 = v->cr4;
    switch (cr) {
    case 0: v->cr0 = val | CR0_PE; break;
    case 3: v->cr3 = val; break;
    case 4: v->cr4 = val; break;
    default: return 1;
    }
    if (((old0 ^ v->cr0) & CR0_WP) || ((old4 ^ v->cr4) & CR4_PSE))
        shadow_flush(s);
    return shadow_activate(s, v);
}

/* ---- faults --------------------------------------------------------------------------------- */

/* Fill the shadow entries for `va` from the guest's tables (which allow the access). */
static int fill(struct shadow *s, const struct vcpu *v, uint32_t va, bool write, bool user,
                uint32_t eip)
{
    uint32_t gl2 = v->cr3 & 0xfffff000u;
    uint32_t pde = guest32(s, gl2 + (va >> 22) * 4);
    uint32_t key, pte, frame;
    if ((pde & PTE_PS) && (v->cr4 & CR4_PSE)) {
        key = (pde & 0xffc00000u) | KEY_PSE | (pde & (PTE_W | PTE_U));
        frame = (pde & 0xffc00000u) + (va & 0x003ff000u);
        pte = pde & ~0xfffff000u;
    } else {
        /* shadow_page_fault has refused a directory naming a table outside guest RAM. */
        uint32_t gl1 = pde & 0xfffff000u;
        key = gl1 | (pde & (PTE_W | PTE_U));
        pte = guest32(s, gl1 + ((va >> 12) & 0x3ff) * 4);
        frame = pte & 0xfffff000u;
    }
    if ((uint64_t)frame + 4096 > s->m->ram_size) {
        refuse(s, REFUSE_FRAME_OUTSIDE_RAM, eip);
        return -1;
    }
    struct sl1 *l1 = l1_get(s, key);
    if (!l1) {
        flush_all(s);
        if (shadow_activate(s, v) < 0)
            return -2;
        return 0;   /* refault refills */
    }
    rpde_set(s, s->cur, va >> 22, page_phys(s, l1->page) | PTE_P | PTE_W | PTE_U);
    bool guest_w = (pde & PTE_W) && (pte & PTE_W), guest_u = (pde & PTE_U) && (pte & PTE_U);
    bool w = guest_w && (pte & PTE_D || write) && !traced(s, frame), u = guest_u;
    if (write && !user && !guest_w && !(v->cr0 & CR0_WP) && !traced(s, frame)) {
        /* Guest CR0.WP clear: ring 0 may write a read-only page, ring 3 may not. The real CR0.WP
         * stays set (traced page tables depend on it), so the entry becomes writable but
         * supervisor-only; a later user access refaults and gets the user view back. */
        w = true;
        u = false;
    }
    uint32_t bits = PTE_P | PTE_A | (w ? PTE_W | PTE_D : 0) | (u ? PTE_U : 0);
    pte_set(s, l1->page, (va >> 12) & 0x3ff, frame | bits);
    return 0;
}

/* Is guest frame `frame` still a page table of an address space the monitor shadows? */
static bool still_page_table(struct shadow *s, uint32_t frame, uint8_t type)
{
    if (type & PTYPE_L2)
        return s->cur >= 0 && s->roots[s->cur].gl2 == frame;
    /* The directory entries last seen naming it, checked against the guest's memory. */
    if ((frame >> 12) < s->nframes)
        for (uint32_t x = s->gd_head[frame >> 12]; x; x = s->gd_next[x - 1]) {
            uint32_t pde = guest32(s, s->roots[(x - 1) / 1024].gl2 + ((x - 1) % 1024) * 4);
            if ((pde & PTE_P) && !(pde & PTE_PS) && (pde & 0xfffff000u) == frame)
                return true;
        }
    /* None: the guest may have changed a directory where no trace saw it (paging off, the
     * monitor's own stores), so the answer "no" is the scan's. */
    for (int r = 0; r < NROOTS; r++) {
        if (!s->roots[r].valid)
            continue;
        for (int i = 0; i < 1024; i++) {
            uint32_t pde = guest32(s, s->roots[r].gl2 + i * 4);
            if ((pde & PTE_P) && !(pde & PTE_PS) && (pde & 0xfffff000u) == frame)
                return true;
        }
    }
    return false;
}

static void unshadow(struct shadow *s, uint32_t frame, uint32_t eip)
{
    uint32_t f = frame >> 12;
    uint8_t type = s->ptype[f];
    if (type & PTYPE_L2)
        for (int r = 0; r < NROOTS; r++)
            if (s->roots[r].valid && s->roots[r].gl2 == frame && r != s->cur)
                root_drop(s, r);
    if (type & PTYPE_L1)
        l1_drop_frame(s, frame);
    s->ptype[f] &= PTYPE_DESC;      /* a mirrored descriptor table stays traced (refills read-only) */
    drop_mappings(s, frame);
    flush_tlb(s);
    count(s, SHEV_UNSHADOW, eip);
}

/* Apply a guest write to a traced frame to the shadows: drop what it may have changed. */
static void propagate(struct shadow *s, uint32_t frame, uint32_t off, uint32_t len, uint32_t eip)
{
    uint8_t type = s->ptype[frame >> 12];
    uint32_t first = off / 4, last = (off + len - 1) / 4;
    if (last > 1023)
        last = 1023;
    /* The window's PDE is the monitor's: kept; if the guest now maps that region, it moves. */
    uint32_t win = s->window_base ? s->window_base >> 22 : 1024;
    if (type & PTYPE_L2)
        for (int r = 0; r < NROOTS; r++)
            if (s->roots[r].valid && s->roots[r].gl2 == frame)
                for (uint32_t i = first; i <= last; i++) {
                    if (i != win)
                        rpde_set(s, r, i, 0);
                    gd_read(s, r, i);
                }
    if ((type & PTYPE_L2) && win >= first && win <= last)
        window_check(s, frame, eip);     /* a failure ends the run: the callers look at m->end */
    bool present = false;
    if (type & PTYPE_L1)
        for (uint32_t bits = 0; bits <= 6; bits += 2) {
            struct sl1 *e = l1_find(s, frame | bits);
            if (e)
                for (uint32_t i = first; i <= last; i++) {
                    present |= (page_ptr(s, e->page)[i] & PTE_P) != 0;
                    pte_set(s, e->page, i, 0);
                }
        }
    /* A real shadow MMU flushes when a present entry went (KVM's pte-write path); a write over
     * not-present entries only makes Unicorn re-read. */
    if (present || (type & PTYPE_L2))
        flush_tlb(s);
    else
        tlb_sync(s->m);
}

/* Guest-physical address of guest linear `lin` through the guest's own tables, as a walk that
 * sets no accessed/dirty bits. 0, or -1 if unmapped. */
static int guest_pa(const struct shadow *s, const struct vcpu *v, uint32_t lin, uint32_t *pa)
{
    struct paging_regs pr = {v->cr0, v->cr3, v->cr4};
    struct paging_access acc = {.write = false, .user = false, .set_ad = false};
    uint32_t pferr;
    return paging_translate(&pr, &s->m->pm, lin, &acc, pa, &pferr);
}

/* A frame of translated code (type, with PTYPE_CODE) has been written: its translator is told,
 * the code trace dropped, and a frame that was nothing else made writable again. Returns the
 * frame's remaining type (0: nothing traced any more). */
static uint8_t code_frame_written(struct shadow *s, uint32_t frame, uint8_t type, uint32_t eip)
{
    count(s, SHEV_CODE_WRITE, eip);
    if (s->code_written)
        s->code_written(s->m, frame);
    untrace(s, frame, PTYPE_CODE);
    return type & (uint8_t)~PTYPE_CODE;
}

/* A guest write of [lin, lin + len), done, applied to the shadows frame by frame: a frame of
 * translated code reported to its translator, a frame that is no longer a page table unshadowed,
 * a page table's written entries dropped. `known` is a frame the caller has already found to be a
 * page table still in use (only its entries are dropped), or NO_FRAME. Returns the page-table
 * frames written. */
static unsigned apply_write(struct shadow *s, const struct vcpu *v, uint32_t lin, uint32_t len,
                            uint32_t eip, uint32_t known)
{
    unsigned tables = 0;
    bool desc = false;
    uint64_t end = (uint64_t)lin + len;
    for (uint64_t a = lin & ~0xfffu; a < end; a += 4096) {
        uint64_t lo = a < lin ? lin : a, hi = a + 4096 < end ? a + 4096 : end;
        uint32_t pa;
        if (guest_pa(s, v, (uint32_t)lo, &pa) < 0)
            continue;
        uint32_t frame = pa & ~0xfffu;
        if (!traced(s, frame))
            continue;
        if (s->ptype[frame >> 12] & PTYPE_DESC)
            desc = true;
        if (frame != known) {
            uint8_t type = s->ptype[frame >> 12];
            if (type & PTYPE_CODE)
                type = code_frame_written(s, frame, type, eip);
            type &= (uint8_t)~PTYPE_DESC;
            if (!type)
                continue;
            if (!still_page_table(s, frame, type)) {
                unshadow(s, frame, eip);
                continue;
            }
        }
        propagate(s, frame, pa & 0xfffu, (uint32_t)(hi - lo), eip);
        tables++;
    }
    if (desc && s->desc_written)
        s->desc_written(s->m);
    return tables;
}

static enum shadow_result traced_write(struct shadow *s, const struct vcpu *v, uint32_t cr2,
                                       uint32_t frame, uint32_t eip)
{
    struct machine *m = s->m;
    uint8_t type = s->ptype[frame >> 12];
    if (type & PTYPE_DESC) {
        /* The guest wrote its GDT (Linux: TLS entries at each context switch, the per-CPU
         * segment): emulated, then applied to everything traced in the range (the mirror
         * refreshed by desc_written through apply_write). */
        struct emul_write w;
        if (emul_write(m, eip, &w) < 0) {
            /* An instruction emul_write does not know (a segment override, a string store):
             * the frame stops being traced as a descriptor table and the write re-executes;
             * the mirror is refreshed, and the frame traced again, at the monitor's next
             * entry (shadow_desc_sync). */
            untrace(s, frame, PTYPE_DESC);
            s->desc_stale = true;
            s->last_eip = s->last_fault = 0xffffffffu;
            return SHADOW_FIXED;
        }
        machine_retire_emulated(m, -1);
        count(s, SHEV_DESC_WRITE, eip);
        apply_write(s, v, w.lin, w.len, eip, NO_FRAME);
        return m->end ? SHADOW_FAILED : SHADOW_FIXED;
    }
    if (type & PTYPE_CODE) {
        /* Translated code written. A store that leaves the frame as it was (code only) changes
         * nothing the translator made: emulated, counted code_same, the frame stays traced.
         * Otherwise the translator drops what it made of it, and the write is done here
         * (re-executed from a new translation it would trace the frame and fault again when the
         * writer shares the page). If it cannot be, it re-executes. */
        uint8_t before[4096];
        struct emul_write w;
        bool emulated = false;
        if (type == PTYPE_CODE && (uint64_t)frame + sizeof before <= m->ram_size) {
            memcpy(before, m->ram + frame, sizeof before);
            emulated = emul_write(m, eip, &w) == 0;
            if (emulated) {
                machine_retire_emulated(m, -1);
                /* Only a store within this page can be judged by it: one that spilled into the
                 * next page may have changed code there. */
                if ((w.lin & 0xfffu) + w.len <= 4096 &&
                    memcmp(before, m->ram + frame, sizeof before) == 0) {
                    count(s, SHEV_CODE_SAME, eip);
                    return SHADOW_FIXED;
                }
            }
        }
        type = code_frame_written(s, frame, type, eip);
        if (!type) {
            if (!emulated && emul_write(m, eip, &w) == 0)
                machine_retire_emulated(m, -1);
            return SHADOW_FIXED;
        }
    }
    if (!still_page_table(s, frame, type)) {
        unshadow(s, frame, eip);
        return SHADOW_FIXED;    /* the write re-executes and refills writable */
    }
    struct emul_write w;
    if (emul_write(m, eip, &w) < 0) {
        refuse(s, REFUSE_UNEMULATED_WRITE, eip);
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "guest wrote its page table at 0x%08x with an instruction the monitor does "
                    "not emulate (EIP 0x%08x)", cr2, eip);
        return SHADOW_FAILED;
    }
    count(s, SHEV_TRACED_WRITE, eip);
    /* The written range may cover other traced frames too (a REP STOS over a table). */
    apply_write(s, v, w.lin, w.len, eip, frame);
    /* The instruction retired (the fault had taken it back). */
    machine_retire_emulated(m, -1);
    return m->end ? SHADOW_FAILED : SHADOW_FIXED;
}

enum shadow_result shadow_page_fault(struct shadow *s, const struct vcpu *v, uint32_t cr2,
                                     uint32_t err, uint32_t eip, uint32_t *gerr)
{
    struct machine *m = s->m;
    bool write = (err & PFE_W) != 0, user = (err & PFE_U) != 0;
    if (s->cur < 0) {
        /* Guest paging off: only RAM is mapped; anything else is outside guest memory. */
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "guest accessed 0x%08x outside its memory with paging off (EIP 0x%08x)", cr2,
                    eip);
        return SHADOW_FAILED;
    }
    struct paging_regs pr = {v->cr0, v->cr3, v->cr4};
    struct paging_access acc = {.write = write, .user = user, .set_ad = true};
    uint32_t pa, pferr;
    uint32_t pde = guest32(s, (v->cr3 & 0xfffff000u) + (cr2 >> 22) * 4);
    /* In the window: if the guest maps the region (a directory written in a way no traced write
     * saw), the window moves and the access refaults and fills from the guest's tables; if it
     * does not, its own walk below faults at the directory, as natively. */
    if (in_window(s, cr2) && (pde & PTE_P))
        return window_move(s, eip) < 0 ? SHADOW_FAILED : SHADOW_FIXED;
    if ((pde & PTE_P) && !((pde & PTE_PS) && (v->cr4 & CR4_PSE)) &&
        (uint64_t)(pde & 0xfffff000u) + 4096 > m->ram_size) {
        /* The guest's directory names a page table outside its memory: never walked. */
        refuse(s, REFUSE_FRAME_OUTSIDE_RAM, eip);
        count(s, SHEV_TRUE_FAULT, eip);
        *gerr = err & (PFE_W | PFE_U);
        return SHADOW_REFLECT;
    }
    if (paging_translate(&pr, &m->pm, cr2, &acc, &pa, &pferr) < 0) {
        s->last_eip = s->last_fault = 0xffffffffu;
        count(s, SHEV_TRUE_FAULT, eip);
        *gerr = pferr;
        return SHADOW_REFLECT;
    }
    uint32_t frame = pa & 0xfffff000u;
    if (write && traced(s, frame) && (err & PFE_P)) {
        s->last_eip = s->last_fault = 0xffffffffu;
        return traced_write(s, v, cr2, frame, eip);
    }
    /* Consecutive fills of the same fault mean the fill does not fix it: stop, do not spin. */
    if (cr2 == s->last_fault && eip == s->last_eip) {
        if (++s->repeats > 16) {
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "shadow MMU: the fault at 0x%08x (EIP 0x%08x, error 0x%x) keeps recurring "
                        "after being filled", cr2, eip, err);
            return SHADOW_FAILED;
        }
    } else {
        s->repeats = 0;
    }
    s->last_fault = cr2;
    s->last_eip = eip;
    int r = fill(s, v, cr2, write, user, eip);
    if (r == -2)
        return SHADOW_FAILED;
    if (r < 0) {
        /* Refused, not filled: the guest gets its fault, and a guest that retries it forever is
         * the guest's loop (held by the run's limits), not a fill that does not work. */
        s->last_eip = s->last_fault = 0xffffffffu;
        count(s, SHEV_TRUE_FAULT, eip);
        *gerr = PFE_P | (err & (PFE_W | PFE_U));
        return SHADOW_REFLECT;
    }
    if (write && traced(s, frame))
        return traced_write(s, v, cr2, frame, eip);
    count(s, SHEV_HIDDEN_FAULT, eip);
    return SHADOW_FIXED;
}

uint8_t *shadow_window_page(struct shadow *s, unsigned index)
{
    return shadow_window_page_rw(s, index, false);
}

uint8_t *shadow_window_page_rw(struct shadow *s, unsigned index, bool writable)
{
    if (!s->window_base || index >= 1024 || (s->window_base & 0x3fffffu) ||
        index * 4096ull >= 0x100000000ull - s->window_base)
        return NULL;
    if (!s->window_l1) {
        if (page_alloc(s, &s->window_l1) < 0)
            return NULL;
        uint32_t pde = page_phys(s, s->window_l1) | PTE_P | PTE_W;
        page_ptr(s, s->ident)[s->window_base >> 22] = pde;
        for (int r = 0; r < NROOTS; r++)
            if (s->roots[r].valid)
                rpde_set(s, r, s->window_base >> 22, pde);
    }
    uint32_t page;
    if (page_alloc(s, &page) < 0)
        return NULL;
    page_ptr(s, s->window_l1)[index] = page_phys(s, page) | PTE_P | PTE_A |
                                       (writable ? PTE_W | PTE_D : 0);
    tlb_sync(s->m);     /* a mapping added: Unicorn re-reads, no real TLB needs a flush */
    return (uint8_t *)page_ptr(s, page);
}

void shadow_set_cr0_extra(struct shadow *s, uint32_t bits) { s->cr0_extra = bits; }

uint32_t shadow_window_base(const struct shadow *s) { return s->window_base; }

bool shadow_in_window(const struct shadow *s, uint32_t lin) { return in_window(s, lin); }

void shadow_on_window_move(struct shadow *s,
                           void (*moved)(struct machine *m, uint32_t from, uint32_t to))
{
    s->window_moved = moved;
}

void shadow_trace_code(struct shadow *s, uint32_t frame,
                       void (*written)(struct machine *m, uint32_t frame))
{
    s->code_written = written;
    trace(s, frame & 0xfffff000u, PTYPE_CODE);
}

void shadow_trace_desc(struct shadow *s, uint32_t frame, bool on, void (*written)(struct machine *m))
{
    uint32_t f = frame >> 12;
    if (f >= s->nframes)
        return;
    s->desc_written = written;
    if (on) {
        trace(s, frame & 0xfffff000u, PTYPE_DESC);
        return;
    }
    if (s->ptype[f] & PTYPE_DESC)
        untrace(s, frame & 0xfffff000u, PTYPE_DESC);
}

void shadow_desc_sync(struct shadow *s)
{
    if (!s->desc_stale)
        return;
    s->desc_stale = false;
    if (s->desc_written)
        s->desc_written(s->m);
}

bool shadow_desc_pending(const struct shadow *s)
{
    return s->desc_stale && s->desc_written;
}

bool shadow_traces_table(struct shadow *s, const struct vcpu *v, uint32_t lin)
{
    uint32_t pa;
    if (s->cur < 0 || guest_pa(s, v, lin, &pa) < 0)
        return false;
    uint32_t f = pa >> 12;
    return f < s->nframes && (s->ptype[f] & (PTYPE_L1 | PTYPE_L2));
}

unsigned shadow_wrote(struct shadow *s, const struct vcpu *v, uint32_t lin, uint32_t len,
                      uint32_t eip)
{
    if (s->cur < 0)
        return 0;
    s->last_eip = s->last_fault = 0xffffffffu;     /* a refill of what it drops is no repeat */
    return apply_write(s, v, lin, len, eip, NO_FRAME);
}

void shadow_flush(struct shadow *s)
{
    flush_all(s);
    flush_tlb(s);
}

void shadow_invlpg(struct shadow *s, uint32_t va)
{
    count(s, SHEV_INVLPG, 0);
    s->last_eip = s->last_fault = 0xffffffffu;     /* a refill of what it drops is no repeat */
    if (s->cur < 0)
        return;
    uint32_t sde = page_ptr(s, s->roots[s->cur].page)[va >> 22];
    if (!(sde & PTE_P))
        return;
    uint32_t page = ((sde & 0xfffff000u) - s->pool_phys) / 4096;
    if (l1_at(s, sde))
        pte_set(s, page, (va >> 12) & 0x3ff, 0);
    else
        page_ptr(s, page)[(va >> 12) & 0x3ff] = 0;     /* the window's table */
}

struct shadow *shadow_create(struct machine *m, uint32_t pool_bytes, uint32_t window_base,
                             char *errbuf, unsigned errlen)
{
    struct shadow *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    s->m = m;
    s->window_base = window_base;
    s->cur = -1;
    if (machine_map_monitor(m, pool_bytes, &s->pool_phys, &s->pool) < 0) {
        snprintf(errbuf, errlen, "cannot map %u MiB of monitor memory above guest RAM",
                 pool_bytes >> 20);
        free(s);
        return NULL;
    }
    s->npages = pool_bytes / 4096;
    s->free_pages = malloc(s->npages * sizeof *s->free_pages);
    s->nframes = (uint32_t)(m->ram_size >> 12);
    s->ptype = calloc(s->nframes, 1);
    s->l1_of = calloc(s->npages, sizeof *s->l1_of);
    s->pte_head = calloc(s->nframes ? s->nframes : 1, sizeof *s->pte_head);
    s->gd_head = calloc(s->nframes ? s->nframes : 1, sizeof *s->gd_head);
    /* Touched only where shadow page tables are (the pool's other pages leave them zero). */
    s->pte_next = calloc((size_t)s->npages * 1024, sizeof *s->pte_next);
    s->pte_prev = calloc((size_t)s->npages * 1024, sizeof *s->pte_prev);
    if (!s->free_pages || !s->ptype || !s->l1_of || !s->pte_head || !s->gd_head ||
        !s->pte_next || !s->pte_prev) {
        snprintf(errbuf, errlen, "out of memory");
        shadow_destroy(s);
        return NULL;
    }
    for (uint32_t i = 0; i < s->npages; i++)
        s->free_pages[s->nfree++] = s->npages - 1 - i;
    page_alloc(s, &s->ident);
    uint32_t *id = page_ptr(s, s->ident);
    uint64_t ident_end = window_base ? window_base : 0x100000000ull;
    for (uint64_t a = 0; a < m->ram_size && a < ident_end; a += 4u << 20) {
        /* 4 MiB pages; the last one may extend past RAM, which the CPU then reports unmapped. */
        id[a >> 22] = (uint32_t)a | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_A | PTE_D;
    }
    return s;
}

void shadow_destroy(struct shadow *s)
{
    if (!s)
        return;
    for (unsigned h = 0; h < 1024; h++) {
        struct sl1 *e = s->l1_hash[h];
        while (e) {
            struct sl1 *n = e->next;
            free(e);
            e = n;
        }
    }
    free(s->free_pages);
    free(s->ptype);
    free(s->l1_of);
    free(s->pte_head);
    free(s->gd_head);
    free(s->pte_next);
    free(s->pte_prev);
    free(s);
}

int shadow_exception(struct shadow *s, struct vcpu *v, const struct xevent *ev)
{
    struct machine *m = s->m;
    uint32_t eip = ev->eip, gerr = 0;
    machine_set_eip(m, eip);
    switch (shadow_page_fault(s, v, ev->cr2, ev->error, ev->eip, &gerr)) {
    case SHADOW_FIXED:
        /* The guest must not see the hidden fault's address in CR2. */
        return uq_exception_done(&m->quirks, m->uc, &v->cr2);
    case SHADOW_REFLECT: {
        struct xevent pf = *ev;
        pf.error = gerr;
        v->cr2 = ev->cr2;
        return funnel_deliver(m, &pf, DLV_MODE);
    }
    case SHADOW_FAILED:
    default:
        return -1;
    }
}

void shadow_monitor_paging_regs(struct machine *m, struct paging_regs *r)
{
    const struct shadow_monitor *sm = m->mode_state;
    r->cr0 = sm->v.cr0;
    r->cr3 = sm->v.cr3;
    r->cr4 = sm->v.cr4;
}

int shadow_monitor_task_cr(struct machine *m, const struct task_sys *ts)
{
    struct shadow_monitor *sm = m->mode_state;
    sm->v.cr0 |= 1u << 3;    /* CR0.TS: the guest's view; the real CR0 is the monitor's */
    if (ts->load_cr3 && shadow_load_cr(sm->sh, &sm->v, 3, ts->cr3) < 0)
        return -1;
    return 0;
}

void shadow_monitor_enter(struct machine *m)
{
    struct shadow_monitor *sm = m->mode_state;
    struct paging_regs r;
    machine_cpu_paging_regs(m, &r);
    sm->v.cr0 = r.cr0;
    sm->v.cr3 = r.cr3;
    sm->v.cr4 = r.cr4;
}

void shadow_monitor_teardown(struct machine *m)
{
    struct shadow_monitor *sm = m->mode_state;
    if (!sm)
        return;
    shadow_destroy(sm->sh);
    free(sm);
    m->mode_state = NULL;
}
