/*
 * test_blocks.c — block_index_of() on a hand-built block: how many of the block's instructions
 * start before an EIP, which is what the exit loop takes back when an exception stops a block
 * half-way (emu/blocks.h).
 *
 * The block at 0x1000 is 10 bytes of 4 instructions starting at offsets 0, 2, 5 and 7
 * (e.g. mov eax, ebx; add al, 1; mov ds, eax; mov ecx, 7 ... ending at 0x100a). Also the cache
 * itself: lookup by (address, size), and blocks_forget() when code at an address is replaced.
 */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "emu/blocks.h"
#include "emu/machine.h"

static uint16_t offs[] = {0, 2, 5, 7};
static const struct block b = {.addr = 0x1000, .size = 10, .n = 4, .offs = offs};

Test(blocks, eip_at_the_block_start_is_index_0)
{
    cr_assert_eq(block_index_of(&b, 0x1000), 0);
}

Test(blocks, eip_at_each_instruction_start_is_its_index)
{
    for (int i = 0; i < 4; i++)
        cr_assert_eq(block_index_of(&b, 0x1000 + offs[i]), i, "instruction %d", i);
}

Test(blocks, eip_inside_an_instruction_counts_it_as_started)
{
    /* 0x1003 is inside instruction 1 (0x1002-0x1004): instructions 0 and 1 start before it. */
    cr_assert_eq(block_index_of(&b, 0x1001), 1);
    cr_assert_eq(block_index_of(&b, 0x1003), 2);
    cr_assert_eq(block_index_of(&b, 0x1009), 4);
}

Test(blocks, eip_at_the_block_end_is_the_instruction_count)
{
    cr_assert_eq(block_index_of(&b, 0x100a), 4);
}

Test(blocks, eip_past_the_block_end_is_the_instruction_count)
{
    cr_assert_eq(block_index_of(&b, 0x2000), 4);
}

Test(blocks, single_instruction_block_is_0_at_its_start_and_1_at_its_end)
{
    static uint16_t one[] = {0};
    const struct block hlt = {.addr = 0xc0100000u, .size = 1, .n = 1, .offs = one};
    cr_assert_eq(block_index_of(&hlt, 0xc0100000u), 0);
    cr_assert_eq(block_index_of(&hlt, 0xc0100001u), 1);
}

Test(blocks, bc_lookup_finds_a_block_by_address_and_size)
{
    struct block_cache bc;
    cr_assert_eq(bc_init(&bc), 0);
    cr_assert_null(bc_lookup(&bc, 0x1000, 10));
    struct block x = {.addr = 0x1000, .size = 10, .n = 4, .offs = offs};
    struct block y = {.addr = 0x1000, .size = 5, .n = 2, .offs = offs};
    unsigned hx = bc_hash(x.addr, x.size, bc.nslots), hy = bc_hash(y.addr, y.size, bc.nslots);
    x.next = bc.slots[hx];
    bc.slots[hx] = &x;
    y.next = bc.slots[hy];
    bc.slots[hy] = &y;
    cr_assert_eq(bc_lookup(&bc, 0x1000, 10), &x);
    cr_assert_eq(bc_lookup(&bc, 0x1000, 5), &y);
    cr_assert_null(bc_lookup(&bc, 0x1000, 7));
    cr_assert_null(bc_lookup(&bc, 0x1002, 10));
    bc.slots[hx] = bc.slots[hy] = NULL;   /* stack blocks: not the cache's to free */
    bc_free(&bc);
}

Test(blocks, eip_before_the_block_start_is_index_0)
{
    /* No instruction of the block starts before 0x0fff. */
    cr_assert_eq(block_index_of(&b, 0x0fff), 0);
}

/* A block the cache owns, at (addr, size), inserted as blocks_decode would. */
static struct block *cached(struct block_cache *bc, uint32_t addr, uint16_t size)
{
    struct block *x = calloc(1, sizeof *x);
    x->addr = addr;
    x->size = size;
    unsigned h = bc_hash(addr, size, bc->nslots);
    x->next = bc->slots[h];
    bc->slots[h] = x;
    return x;
}

Test(blocks, forget_drops_blocks_and_l1_entries_in_the_range_only)
{
    struct machine *m = calloc(1, sizeof *m);
    cr_assert_eq(bc_init(&m->bc), 0);
    struct block *in = cached(&m->bc, 0xffc04000u, 12), *out = cached(&m->bc, 0xc0101004u, 12);
    struct block *top = cached(&m->bc, 0xfffff000u, 8);
    m->l1[L1_INDEX(0xffc04000u, 12)] = (struct l1_entry){.addr = 0xffc04000u, .size = 12, .b = in};
    m->l1[L1_INDEX(0xc0101004u, 12)] = (struct l1_entry){.addr = 0xc0101004u, .size = 12, .b = out};
    blocks_forget(m, 0xffc04000u, 0x100000000ull);
    cr_assert_null(bc_lookup(&m->bc, 0xffc04000u, 12));
    cr_assert_null(bc_lookup(&m->bc, 0xfffff000u, 8));
    cr_assert_eq(bc_lookup(&m->bc, 0xc0101004u, 12), out);
    cr_assert_eq(m->l1[L1_INDEX(0xffc04000u, 12)].addr, 0);
    cr_assert_eq(m->l1[L1_INDEX(0xc0101004u, 12)].b, out);
    cr_assert_eq(in->addr, 0xffc04000u, "a forgotten block stays readable (the machine may point at it)");
    cr_assert_eq(top->size, 8);
    bc_free(&m->bc);
    free(m);
}
