/*
 * uc_hook_table.c — code hooks on single addresses dispatched by a table, not by Unicorn's walk.
 *
 * vmlab intercepts an instruction with an address-ranged UC_HOOK_CODE on it (emu/run.c's sites,
 * bt's counted in-cache operations under --trace full). Unicorn 2.1.1 decides at translation time
 * which instructions call a code hook, and while an engine has exactly one code hook it calls
 * that callback directly; with two or more, every hooked instruction calls helper_uc_tracecode,
 * which walks the list of all the engine's code hooks and checks each one's range. So a hooked
 * instruction costs more the more sites there are: measured, 22 ns with 10 code hooks, 156 ns
 * with 100, 4 us with 1000 (bench/bench_site_dispatch.c), and trap-classic ctxsw runs 5.75x
 * slower with ten times today's sites (bench/bench_sites.c).
 *
 * This file is linked into the vmlab executable only, with Unicorn's static archive and
 *   -Wl,--wrap=helper_uc_tracecode,--wrap=uc_hook_add,--wrap=uc_hook_del,
 *   --wrap=uc_emu_start,--wrap=uc_emu_stop,--wrap=uc_close      (cmake/static_engine.cmake)
 * so that every call of those from vmlab's code and from Unicorn's translated code comes here
 * first. The wrappers of the API keep, per engine, an open-addressed table of the code hooks whose
 * range is a single address, the list of the other code hooks (ranges), and whether a stop was
 * requested since the CPU was started; the wrapper of the helper answers a code-hook call from
 * the table when that gives exactly what Unicorn's walk would:
 *
 *   - the call is for a code hook (index 2, no flags) on a real instruction (size > 0),
 *   - no stop was requested (the walk would return at once),
 *   - exactly one live code hook is on that address and no range hook covers it (the walk would
 *     call that one callback and nothing else),
 *   - uc_emu_start was not given an instruction count (its counting hook is Unicorn's own);
 *
 * and hands every other call to Unicorn's helper unchanged. A deleted hook leaves the table at
 * once (the walk skips hooks marked for deletion). vmlab's code does not change: it adds and
 * deletes hooks as before. The helper's signature, its hook index for code hooks and the flag
 * bits are Unicorn 2.1.1's (uc_priv.h); with any other release the wrappers only pass the calls
 * on. tests/unit/test_uc_hook_table.c, linked the same way, checks that the table answers and
 * that each case above falls back; the golden counts check vmlab end to end.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_hook_table.h"
#include "emu/link/uc_fast_ld.h"
#include "emu/link/uc_mem_cache.h"

#if UC_API_MAJOR == 2 && UC_API_MINOR == 1 && UC_API_PATCH == 1
#define TABLE_DISPATCH 1
#else
#define TABLE_DISPATCH 0
#endif

#define CODE_HOOK_INDEX 2        /* UC_HOOK_CODE_IDX in Unicorn 2.1.1's uc_priv.h */
#define MAX_RANGES 16            /* range code hooks kept; more turns the table off */

uc_err __real_uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data,
                          uint64_t begin, uint64_t end, ...);
uc_err __real_uc_hook_del(uc_engine *uc, uc_hook hh);
uc_err __real_uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout,
                           size_t count);
uc_err __real_uc_emu_stop(uc_engine *uc);
uc_err __real_uc_close(uc_engine *uc);
void __real_helper_uc_tracecode(int32_t size, int index, void *handle, int64_t address);

struct slot {
    uint64_t addr;
    uc_hook hook;                /* 0: empty or deleted (a tombstone when addr is set) */
    void (*cb)(uc_engine *, uint64_t, uint32_t, void *);
    void *opaque;
    unsigned same;               /* live hooks on this address (more than 1: the walk decides) */
};

struct range {
    uc_hook hook;
    uint64_t begin, end;         /* begin > end: every address */
};

struct engine {
    uc_engine *uc;
    struct slot *slots;          /* cap entries, a power of two; used counts tombstones too */
    size_t cap, used;
    struct range ranges[MAX_RANGES];
    unsigned nranges;
    bool too_many;               /* more range hooks than MAX_RANGES: always walk */
    bool stop;                   /* uc_emu_stop since the last uc_emu_start */
    bool counting;               /* uc_emu_start with a count: Unicorn's own hook is on */
    uint64_t answered;           /* code-hook calls the table answered */
    uint64_t walked;             /* code-hook calls it left to Unicorn's walk */
    struct engine *next;
};

/* The engines of this thread (an engine is used by one thread). */
static _Thread_local struct engine *engines;
static bool table_off; /* uc_hook_table_use(false): every call goes to Unicorn's walk */

static struct engine *engine_of(const void *uc)
{
    for (struct engine *e = engines; e; e = e->next)
        if (e->uc == uc)
            return e;
    return NULL;
}

static size_t home(const struct engine *e, uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 32) & (e->cap - 1);
}

/* The slot holding addr, or NULL. */
static struct slot *find(const struct engine *e, uint64_t addr)
{
    if (!e->cap)
        return NULL;
    for (size_t i = home(e, addr);; i = (i + 1) & (e->cap - 1)) {
        struct slot *s = &e->slots[i];
        if (s->addr == addr && (s->hook || s->same))
            return s;
        if (!s->addr && !s->hook)
            return NULL;
    }
}

static bool grow(struct engine *e)
{
    size_t cap = e->cap ? e->cap * 2 : 256;
    struct slot *old = e->slots, *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    size_t ocap = e->cap;
    e->slots = n;
    e->cap = cap;
    e->used = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].same) {
            size_t j = home(e, old[i].addr);
            while (e->slots[j].addr)
                j = (j + 1) & (cap - 1);
            e->slots[j] = old[i];
            e->used++;
        }
    free(old);
    return true;
}

/* Note a live code hook on the single address addr. False when out of memory. */
static bool add_exact(struct engine *e, uint64_t addr, uc_hook hook, void *cb, void *opaque)
{
    struct slot *s = find(e, addr);
    if (s) {
        s->same++;
        return true;
    }
    if ((e->used + 1) * 2 > e->cap && !grow(e))
        return false;
    size_t i = home(e, addr);
    while (e->slots[i].same)
        i = (i + 1) & (e->cap - 1);
    if (!e->slots[i].addr)
        e->used++;
    e->slots[i] = (struct slot){addr, hook, (void (*)(uc_engine *, uint64_t, uint32_t, void *))cb,
                                opaque, 1};
    return true;
}

static void forget(struct engine *e, uc_hook hook)
{
    for (unsigned i = 0; i < e->nranges; i++)
        if (e->ranges[i].hook == hook) {
            e->ranges[i] = e->ranges[--e->nranges];
            return;
        }
    for (size_t i = 0; i < e->cap; i++) {
        struct slot *s = &e->slots[i];
        if (s->same && s->hook == hook) {
            /* the address keeps its other hooks, if any, which the walk then serves */
            s->hook = 0;
            s->same--;
            return;
        }
    }
}

static struct engine *engine_new(uc_engine *uc)
{
    struct engine *e = calloc(1, sizeof *e);
    if (e) {
        e->uc = uc;
        e->next = engines;
        engines = e;
    }
    return e;
}

/* The engine's record, made if new (NULL when out of memory: the table then ignores the engine,
 * since engine_of does not find it). */
static struct engine *engine_get(uc_engine *uc)
{
    struct engine *e = engine_of(uc);
    return e ? e : engine_new(uc);
}

uc_err __wrap_uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data,
                          uint64_t begin, uint64_t end, ...)
{
    va_list ap;
    va_start(ap, end);
    int a = type == UC_HOOK_INSN || type == UC_HOOK_TCG_OPCODE ? va_arg(ap, int) : 0;
    int b = type == UC_HOOK_TCG_OPCODE ? va_arg(ap, int) : 0;
    va_end(ap);
    uc_err rc = __real_uc_hook_add(uc, hh, type, callback, user_data, begin, end, a, b);
    if ((type & (UC_HOOK_MEM_READ | UC_HOOK_MEM_READ_AFTER)) && uc_fast_ld_refuse)
        uc_fast_ld_refuse();    /* helper loads must reach Unicorn's hook walk (uc_fast_ld.c) */
    if (!TABLE_DISPATCH || rc != UC_ERR_OK || !(type & UC_HOOK_CODE))
        return rc;
    struct engine *e = engine_get(uc);
    if (!e)
        return rc;
    if (type == UC_HOOK_CODE && begin == end) {
        if (!add_exact(e, begin, *hh, callback, user_data))
            e->too_many = true;
    } else if (e->nranges < MAX_RANGES) {
        e->ranges[e->nranges++] = (struct range){*hh, begin, end};
    } else {
        e->too_many = true;
    }
    return rc;
}

uc_err __wrap_uc_hook_del(uc_engine *uc, uc_hook hh)
{
    struct engine *e = engine_of(uc);
    if (e)
        forget(e, hh);
    return __real_uc_hook_del(uc, hh);
}

uc_err __wrap_uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout,
                           size_t count)
{
    struct engine *e = TABLE_DISPATCH ? engine_get(uc) : NULL;
    if (e) {
        e->stop = false;
        e->counting = count != 0;
    }
    return __real_uc_emu_start(uc, begin, until, timeout, count);
}

uc_err __wrap_uc_emu_stop(uc_engine *uc)
{
    struct engine *e = TABLE_DISPATCH ? engine_get(uc) : NULL;
    if (e)
        e->stop = true;
    return __real_uc_emu_stop(uc);
}

uc_err __wrap_uc_close(uc_engine *uc)
{
    if (uc_mem_cache_forget)         /* the memory-region cache's entry too (uc_mem_cache.h) */
        uc_mem_cache_forget(uc);
    for (struct engine **p = &engines; *p; p = &(*p)->next)
        if ((*p)->uc == uc) {
            struct engine *e = *p;
            *p = e->next;
            free(e->slots);
            free(e);
            break;
        }
    return __real_uc_close(uc);
}

static bool range_covers(const struct engine *e, uint64_t addr)
{
    for (unsigned i = 0; i < e->nranges; i++)
        if (e->ranges[i].begin > e->ranges[i].end ||
            (addr >= e->ranges[i].begin && addr <= e->ranges[i].end))
            return true;
    return false;
}

void __wrap_helper_uc_tracecode(int32_t size, int index, void *handle, int64_t address)
{
    struct engine *e;
    if (index == CODE_HOOK_INDEX && size > 0 && (e = engine_of(handle))) {
        if (!e->too_many && !e->counting && !table_off) {
            if (e->stop)
                return;
            struct slot *s = find(e, (uint64_t)address);
            if (s && s->same == 1 && s->hook && !range_covers(e, (uint64_t)address)) {
                e->answered++;
                s->cb(handle, (uint64_t)address, (uint32_t)size, s->opaque);
                return;
            }
        }
        e->walked++;
    }
    __real_helper_uc_tracecode(size, index, handle, address);
}

void uc_hook_table_use(bool on)
{
    table_off = !on;
}

int uc_hook_table_stats(const uc_engine *uc, struct uc_hook_table_stats *st)
{
    const struct engine *e = TABLE_DISPATCH ? engine_of(uc) : NULL;
    memset(st, 0, sizeof *st);
    if (!e)
        return -1;
    st->answered = e->answered;
    st->walked = e->walked;
    st->ranges = e->nranges;
    for (size_t i = 0; i < e->cap; i++)
        st->exact += e->slots[i].same;
    return 0;
}

uint64_t uc_hook_table_answered(const uc_engine *uc)
{
    struct uc_hook_table_stats st;
    return uc_hook_table_stats(uc, &st) == 0 ? st.answered : 0;
}
