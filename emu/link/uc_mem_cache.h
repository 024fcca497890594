/*
 * uc_mem_cache.h — what the memory-region cache (uc_mem_cache.c) offers besides its wrappers.
 *
 * The cache works by itself: linked into an executable with Unicorn's static archive and the
 * --wrap options of cmake/static_engine.cmake (vmlab_hook_table), it answers Unicorn's
 * memory_mapping lookups of x86 engines from a page-indexed table. This header is for the code-hook
 * table's wrapper of uc_close (uc_hook_table.c), which tells it an engine is gone, and for the
 * test that checks it.
 */
#ifndef VMLAB_UC_MEM_CACHE_H
#define VMLAB_UC_MEM_CACHE_H

#include <stdint.h>
#include <unicorn/unicorn.h>

/* Engine uc is about to be closed: its entry is freed (declared weak: absent in builds without
 * the cache, where nothing is kept). */
__attribute__((weak)) void uc_mem_cache_forget(uc_engine *uc);

/* Lookups engine uc's cache answered (*hits) and passed on to Unicorn (*misses): 0 while the cache
 * is installed in the engine, else -1 (a Unicorn release it was not written for, an engine it
 * does not know, or no field found to replace). */
int uc_mem_cache_stats(const uc_engine *uc, uint64_t *hits, uint64_t *misses);

#endif
