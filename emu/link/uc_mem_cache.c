/*
 * uc_mem_cache.c — Unicorn's "which memory region holds this address", answered from a cache.
 *
 * Unicorn 2.1.1 asks, on every load a helper makes (the guest's iret, segment loads, interrupt
 * gates: cpu_ld*_mmuidx_ra -> load_helper) and on every uc_mem_read, which memory region holds the
 * address: uc->memory_mapping, which is find_memory_mapping, a full address_space_translate
 * through QEMU's flat view (a radix walk). Measured on native syscall: address_space_translate_
 * internal, flatview_translate and find_memory_mapping together 11% of the run, more than QEMU
 * spends on the whole iret. The answer only changes when the memory map does, and regions are
 * whole pages, so a page-indexed cache of it is exact while the map stays as it was.
 *
 * Linked into the vmlab executable with Unicorn's static archive and
 *   -Wl,--wrap=uc_open,--wrap=uc_mem_map,--wrap=uc_mem_map_ptr,--wrap=uc_mem_unmap,
 *   --wrap=uc_mem_protect,--wrap=uc_mmio_map,--wrap=uc_context_save,--wrap=uc_context_restore
 * (cmake/static_engine.cmake, vmlab_hook_table). After an engine's first mapping call (Unicorn
 * initialises the engine lazily, at its first use), the wrapper finds the engine's memory_mapping
 * field — the one pointer-aligned word of the engine's first 4 KiB whose value is
 * find_memory_mapping's address, read with process_vm_readv so that a short struct cannot fault
 * the search — and puts cached_mapping in its place. cached_mapping answers from a direct-mapped
 * table of 256 pages (page number -> region, or NULL for unmapped) and asks find_memory_mapping
 * on a miss. Every call that can change the map (the wrapped calls above: a context save or
 * restore may copy memory on write) empties the engine's table first; uc_close (wrapped by
 * uc_hook_table.c, which calls uc_mem_cache_forget) frees the engine's entry, and an engine that
 * finds all ENGINES entries taken is left to Unicorn. No field found exactly once,
 * or a Unicorn release other than 2.1.1: nothing is replaced. tests/unit/test_uc_mem_cache.c
 * checks the answers against find_memory_mapping's through maps, unmaps and protections.
 */
#define _GNU_SOURCE              /* process_vm_readv */
#include "emu/link/uc_mem_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_fast_ld.h"

#if UC_API_MAJOR == 2 && UC_API_MINOR == 1 && UC_API_PATCH == 1
#define MEM_CACHE 1
#else
#define MEM_CACHE 0
#endif

#define PAGES 256u
#define ENGINES 16u
#define SEARCH_BYTES 4096u

typedef void *(*mapping_fn)(void *uc, uint64_t addr);

void *find_memory_mapping_x86_64(void *uc, uint64_t addr);
uc_err __real_uc_open(uc_arch arch, uc_mode mode, uc_engine **uc);
uc_err __real_uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms);
uc_err __real_uc_mem_map_ptr(uc_engine *uc, uint64_t address, size_t size, uint32_t perms,
                             void *ptr);
uc_err __real_uc_mem_unmap(uc_engine *uc, uint64_t address, size_t size);
uc_err __real_uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms);
uc_err __real_uc_mmio_map(uc_engine *uc, uint64_t address, size_t size,
                          uc_cb_mmio_read_t read_cb, void *user_data_read,
                          uc_cb_mmio_write_t write_cb, void *user_data_write);
uc_err __real_uc_context_save(uc_engine *uc, uc_context *context);
uc_err __real_uc_context_restore(uc_engine *uc, uc_context *context);

struct engine {
    void *uc;                    /* NULL: free */
    bool searched;               /* the field was looked for (found or not) */
    bool installed;              /* cached_mapping is in the engine's memory_mapping field */
    uint64_t tag[PAGES];         /* page number + 1, 0: empty */
    void *region[PAGES];
    uint64_t hits, misses;
};

static struct engine engines[ENGINES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local struct engine *last;

static struct engine *engine_of(const void *uc)
{
    if (last && last->uc == uc)
        return last;
    for (unsigned i = 0; i < ENGINES; i++)
        if (engines[i].uc == uc)
            return last = &engines[i];
    return NULL;
}

static void empty(struct engine *e)
{
    memset(e->tag, 0, sizeof e->tag);
}

static void *cached_mapping(void *uc, uint64_t addr)
{
    struct engine *e = engine_of(uc);
    if (!e)
        return find_memory_mapping_x86_64(uc, addr);
    uint64_t page = addr >> 12;
    unsigned i = (unsigned)page & (PAGES - 1);
    if (e->tag[i] == page + 1) {
        e->hits++;
        return e->region[i];
    }
    void *r = find_memory_mapping_x86_64(uc, addr);
    e->tag[i] = page + 1;
    e->region[i] = r;
    e->misses++;
    return r;
}

/* Find the engine's memory_mapping field (see the header comment) and replace it. */
static void install(struct engine *e)
{
    e->searched = true;
    uint8_t buf[SEARCH_BYTES];
    struct iovec local = {buf, sizeof buf}, remote = {e->uc, sizeof buf};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got <= 0)
        return;
    mapping_fn real = find_memory_mapping_x86_64;
    size_t at = 0;
    unsigned found = 0;
    for (size_t off = 0; off + sizeof real <= (size_t)got; off += sizeof real)
        if (memcmp(buf + off, &real, sizeof real) == 0) {
            at = off;
            found++;
        }
    if (found != 1)
        return;
    empty(e);
    mapping_fn mine = cached_mapping;
    memcpy((uint8_t *)e->uc + at, &mine, sizeof mine);
    e->installed = true;
}

/* A call that may change engine uc's memory map is about to run (or has run): forget answers,
 * and install on the engine's first such call after which it is initialised. */
static void map_changed(uc_engine *uc, bool after)
{
    if (!MEM_CACHE)
        return;
    pthread_mutex_lock(&lock);
    struct engine *e = engine_of(uc);
    if (e) {
        empty(e);
        if (after && !e->searched)
            install(e);
    }
    pthread_mutex_unlock(&lock);
}

uc_err __wrap_uc_open(uc_arch arch, uc_mode mode, uc_engine **uc)
{
    uc_err rc = __real_uc_open(arch, mode, uc);
    if (!MEM_CACHE || rc != UC_ERR_OK || arch != UC_ARCH_X86)
        return rc;
    pthread_mutex_lock(&lock);
    struct engine *e = engine_of(*uc);        /* an engine at a closed one's address */
    for (unsigned i = 0; !e && i < ENGINES; i++)
        if (!engines[i].uc)
            e = &engines[i];
    if (e) {
        memset(e, 0, sizeof *e);
        e->uc = *uc;
    }
    last = NULL;
    pthread_mutex_unlock(&lock);
    return rc;
}

/* What a wrapper returns after the real call: rc, the engine's answers forgotten (again) and the
 * cache installed if this was the engine's first mapping call (`map` false: a context save or
 * restore, which may copy memory on write but initialises nothing worth a search). */
static uc_err changed(uc_engine *uc, bool map, uc_err rc)
{
    map_changed(uc, map);
    return rc;
}

/* A region Unicorn's load_helper would refuse to read ends the helper-load fast path, which does
 * not look at regions (uc_fast_ld.c). */
static void check_readable(uint32_t perms)
{
    if (!(perms & UC_PROT_READ) && uc_fast_ld_refuse)
        uc_fast_ld_refuse();
}

uc_err __wrap_uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)
{
    check_readable(perms);
    map_changed(uc, false);
    return changed(uc, true, __real_uc_mem_map(uc, address, size, perms));
}

uc_err __wrap_uc_mem_map_ptr(uc_engine *uc, uint64_t address, size_t size, uint32_t perms,
                             void *ptr)
{
    check_readable(perms);
    map_changed(uc, false);
    return changed(uc, true, __real_uc_mem_map_ptr(uc, address, size, perms, ptr));
}

uc_err __wrap_uc_mem_unmap(uc_engine *uc, uint64_t address, size_t size)
{
    map_changed(uc, false);
    return changed(uc, true, __real_uc_mem_unmap(uc, address, size));
}

uc_err __wrap_uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)
{
    check_readable(perms);
    map_changed(uc, false);
    return changed(uc, true, __real_uc_mem_protect(uc, address, size, perms));
}

uc_err __wrap_uc_mmio_map(uc_engine *uc, uint64_t address, size_t size,
                          uc_cb_mmio_read_t read_cb, void *user_data_read,
                          uc_cb_mmio_write_t write_cb, void *user_data_write)
{
    map_changed(uc, false);
    return changed(uc, true, __real_uc_mmio_map(uc, address, size, read_cb, user_data_read,
                                                write_cb, user_data_write));
}

uc_err __wrap_uc_context_save(uc_engine *uc, uc_context *context)
{
    map_changed(uc, false);
    return changed(uc, false, __real_uc_context_save(uc, context));
}

uc_err __wrap_uc_context_restore(uc_engine *uc, uc_context *context)
{
    map_changed(uc, false);
    return changed(uc, false, __real_uc_context_restore(uc, context));
}

void uc_mem_cache_forget(uc_engine *uc)
{
    pthread_mutex_lock(&lock);
    struct engine *e = engine_of(uc);
    if (e)
        memset(e, 0, sizeof *e);
    last = NULL;
    pthread_mutex_unlock(&lock);
}

int uc_mem_cache_stats(const uc_engine *uc, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    pthread_mutex_lock(&lock);
    struct engine *e = MEM_CACHE ? engine_of(uc) : NULL;
    int rc = e && e->installed ? 0 : -1;
    if (e) {
        *hits = e->hits;
        *misses = e->misses;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
