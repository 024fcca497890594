/*
 * uc_hook_table.h — what the code-hook table (uc_hook_table.c) offers besides its wrappers.
 *
 * The table works by itself: linked into an executable with Unicorn's static archive and the
 * --wrap options of cmake/static_engine.cmake (vmlab_hook_table), it answers code-hook calls of
 * hooks on single addresses without Unicorn's walk. This header is for the tests that check it.
 */
#ifndef VMLAB_UC_HOOK_TABLE_H
#define VMLAB_UC_HOOK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

/* Whether the table answers (the default) or every call goes to Unicorn's walk, as without the
 * table: for benchmarks that compare the two in one process. */
void uc_hook_table_use(bool on);

struct uc_hook_table_stats {
    uint64_t answered;  /* code-hook calls (hooked instructions executed) the table answered */
    uint64_t walked;    /* code-hook calls left to Unicorn's walk */
    size_t exact;       /* live code hooks on single addresses */
    size_t ranges;      /* live code hooks on ranges */
};

/* The table's counts for engine `uc`: 0, or -1 (all zero) for an engine it does not know or a
 * Unicorn release it was not written for. */
int uc_hook_table_stats(const uc_engine *uc, struct uc_hook_table_stats *st);

/* Code-hook calls of engine `uc` that the table answered (0 for an engine it does not know, or
 * when this Unicorn release is not the one it was written for). */
uint64_t uc_hook_table_answered(const uc_engine *uc);

#endif
