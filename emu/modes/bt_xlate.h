/*
 * bt_xlate.h — the binary translator of the `bt` mode: one guest kernel basic block in, x86-32
 * code for the translation cache (TC) out, as VMware's BT did ([AA06], models/REFERENCES.md;
 * issue 7).
 *
 * bt_translate() is a pure function: guest code bytes at guest address G and the TC address T where
 * the result will sit go in; out come the TC bytes, a map from every TC offset to the guest
 * instruction it stands for, and the unit's exits. It never touches a machine. Run at ring 1, the
 * translation has exactly the guest-visible effect of the guest block at ring 0:
 *
 *   - Ordinary instructions are copied unchanged (IDENT). In 32-bit mode nothing but a relative
 *     branch depends on where an instruction sits, so memory and stack operations need no change.
 *   - Direct branches (jcc, jmp, call, loop/jecxz) are re-emitted with rel32 fields aimed at exit
 *     stubs at the end of the unit. A stub is `int $callout_vector` (a chain miss: the monitor
 *     translates the target); the caller may later aim the branch's rel32 at the target's
 *     translation instead (bt_chain: chaining). A call pushes the *guest* return address.
 *   - Simple privileged and sensitive instructions run in the TC on the virtual CPU state block
 *     (struct bt_vcpu): cli/sti/pushf/popf on its virtual EFLAGS, sgdt/sidt/sldt/str/smsw, mov
 *     from CRn, push/mov from a segment register on its copies of the guest's registers; pop/mov
 *     to DS, ES, FS and GS through the monitor's selector map (env->selmap: guest selector ->
 *     the real one it runs on), with a callout for a selector the map does not know. That closes
 *     the Popek-Goldberg holes without a trap.
 *   - IN/OUT (byte, word or dword; port in DX or an immediate) look their port up in the
 *     monitor's port map (env->portmap) without leaving the TC: a port whose emulation is a
 *     register (0x80, the phase marker, isa-debug-exit: misc_port_register) runs the guest's own
 *     instruction in the cache, which the monitor lets through although the TC runs with IOPL 0
 *     (see the host below); any other port (the UART, the PIC, the PIT, the CMOS: devices with
 *     state machines) is a callout of the instruction, and the unit goes on after it. As for
 *     `in` in Adams & Agesen's nanobenchmark ([AA06]), reading the POST port never leaves the
 *     cache. ECX is borrowed through vcpu.scratch and no step touches the flags or can fault:
 *
 *         movl %ecx, V.scratch
 *         movzwl %dx, %ecx; movzbl map(%ecx), %ecx      imm8 form: movzbl map+port, %ecx
 *         jecxz miss
 *         movl V.scratch, %ecx                           counted (struct bt_count): done in cache
 *         <the guest's in/out>; jmp done
 *     miss: movl V.scratch, %ecx; int $callout_vector   (kind CALLOUT, at the guest state before)
 *     done:
 *
 *     The port access itself is the machine's, as in every mode: its port hook performs it and
 *     records it (ioemul) through the funnel.
 *   - Indirect transfers (ret [imm16], jmp/call through a register or memory) look their guest
 *     target up in the monitor's table (env->ibtc, guest EIP -> TC address) without leaving the
 *     TC, VMware's in-cache lookup, touching no flags (the table holds -guest_eip, so that
 *     lea and jecxz compare):
 *
 *         [pushl $guest_return]              call only
 *         pushl %eax; pushl %ecx; pushl %edx room to work
 *         movl <target>, %eax                ret: the return address; jmp/call: the operand
 *         movzwl %ax, %edx                   bt_ibtc_slot
 *         movl tbl(,%edx,8), %ecx; leal (%eax,%ecx), %ecx; jecxz hit
 *         popl %edx; popl %ecx; popl %eax; [leal 4(%esp), %esp]; int $callout_vector   (miss)
 *     hit (lookup_hit):
 *         movl tbl+4(,%edx,8), %eax; xchgl %eax, 8(%esp); popl %edx; popl %ecx
 *         ret $(4 + imm) / ret               pops the TC address: in the translation, the guest's
 *                                            stack as after its instruction
 *
 *     The miss callout (kind INDIRECT) is at the guest state before the instruction; the monitor
 *     emulates it, translates the target if new and fills the table. Scratch stays below ESP,
 *     as for the in-cache sequences.
 *   - Everything else privileged or sensitive, and indirect transfers of other forms, becomes a
 *     callout: `int $callout_vector`, ending the unit. The monitor finds what to do from the map
 *     entry of that TC offset, emulates the guest instruction and resumes at the next guest
 *     instruction.
 *
 * A unit stops after a control transfer, a callout, BT_UNIT_INSNS instructions, the end of the
 * supplied bytes, or before an instruction it cannot translate (which the next unit, starting
 * there, reports as -EINVAL so the caller makes it a callout).
 *
 * The map. Entries are in TC order; entry i covers [map[i].tc_off, map[i+1].tc_off) and the last
 * one runs to tc_len, so every TC byte stands for exactly one guest instruction. An in-cache
 * sequence has one entry per step that differs in what a fault there means:
 *
 *   before_effect = 1   After the rewind — ESP += sp_undo (bytes the sequence itself has pushed),
 *                       and if saved_reg, GPR saved_reg-1 (0 EAX .. 3 EBX) = vcpu.scratch — the
 *                       guest state is as before the guest instruction: registers and flags as
 *                       they were, nothing stored but what the instruction stores anyway, scratch
 *                       writes only below ESP (dead, as for any exception the guest takes at
 *                       ring 0) or in the vcpu block. A fault here is taken at the guest
 *                       instruction's start. Every step that can fault (touches guest memory or
 *                       stack) is such a step.
 *   before_effect = 0   Part of the instruction has run (a register, the flags or the virtual
 *                       EFLAGS changed). Nothing in such a step can fault; the monitor must not
 *                       inject an interrupt here but let the sequence run to its end.
 *
 * A fault at a before_effect step of a non-IDENT entry may be one the guest instruction would not
 * raise (cli's sequence writes below ESP), so the monitor rewinds and emulates
 * the instruction as a callout, which raises the guest's own fault if it has one. A fault in an
 * IDENT entry is the guest's own, at guest_eip. Exit stubs and the fall-through jmp map to the
 * guest instruction they lead to (kind EXIT, guest_len 0): the previous one is complete.
 *
 * What the TC code assumes of its host: it runs at CPL 1 with the real IOPL 0 (so popfl keeps the
 * real IF and IOPL); the vcpu block is mapped read-write at vcpu_state, and the tables (lookup
 * table, selector map, port map) readable, in every address space, and none of them faults; an
 * IN/OUT the port map lets through is performed without the #GP the CPU's I/O permission would
 * raise at IOPL 0 (the machine asks the mode: op io_allowed). Capacity: BT_TC_MAX bytes always
 * suffice for one unit.
 */
#ifndef VMLAB_BT_XLATE_H
#define VMLAB_BT_XLATE_H

#include <stddef.h>
#include <stdint.h>

#define BT_UNIT_INSNS 12          /* guest instructions per unit at most */
#define BT_TC_MAX 640             /* TC bytes one unit may need */
#define BT_MAP_MAX 128            /* map entries one unit may need */
#define BT_EXITS_MAX 2            /* a conditional branch: taken and fall-through */

#define BT_EFLAGS_IF 0x0200u
#define BT_EFLAGS_IOPL 0x3000u
#define BT_EFLAGS_VIRT (BT_EFLAGS_IF | BT_EFLAGS_IOPL)   /* the bits the vcpu block owns */

/* The virtual CPU state block the TC code reads and writes, at env->vcpu_state. The monitor keeps
 * every field current with the guest's view (what the guest would read at ring 0). Selectors and
 * the table limits are zero-extended to 32 bits: the TC pushes and loads whole slots. */
struct bt_vcpu {
    uint32_t eflags;              /* +0   virtual EFLAGS: IF and IOPL are the guest's; the TC
                                     reads and writes only those bits (BT_EFLAGS_VIRT) */
    uint32_t scratch;             /* +4   the TC's save slot for a borrowed register */
    uint32_t cr[5];               /* +8   guest CR0, (CR1 unused), CR2, CR3, CR4 */
    uint32_t gdt_base, gdt_limit; /* +28  guest GDTR */
    uint32_t idt_base, idt_limit; /* +36  guest IDTR */
    uint32_t ldtr, tr;            /* +44  guest LDTR and TR selectors */
    uint32_t sel[6];              /* +52  guest ES, CS, SS, DS, FS, GS selectors (hardware order),
                                     as the guest loaded them (RPL 0 for its kernel ones) */
};

/* Where the translation may reach outside itself. */
struct bt_env {
    uint32_t vcpu_state;          /* linear address of the struct bt_vcpu */
    uint8_t callout_vector;       /* `int n` vector the monitor owns for callouts (e.g. 0x81) */
    uint32_t ibtc;                /* linear address of the indirect-branch lookup table (struct
                                     bt_ibtc_entry[BT_IBTC_ENTRIES]); 0: no in-cache lookup,
                                     every indirect transfer is a callout */
    uint32_t selmap;              /* linear address of the selector map (uint16_t[65536]); 0: no
                                     in-cache segment loads */
    uint32_t portmap;             /* linear address of the port map (uint8_t[65536]); 0: every
                                     IN/OUT a callout that ends the unit */
};

/* The selector map the TC reads and the monitor fills: for each guest selector, 1 + the real
 * selector a load of it into DS/ES/FS/GS by the guest kernel runs on, or 0 where the load would
 * fault or the monitor must look at it (a callout then). */
#define BT_SELMAP_ENTRIES 65536u

/* The port map the TC reads and the monitor fills: for each port, nonzero where an IN/OUT whose
 * access starts there runs in the cache, 0 where it calls out. */
#define BT_PORTMAP_ENTRIES 65536u

/* The indirect-branch lookup table the TC reads and the monitor fills: guest EIP -> TC address
 * of code running it, direct-mapped by the low 16 bits of the guest EIP (bt_ibtc_slot: what a
 * movzwl computes without touching the flags). A slot holds the negated guest EIP; an empty
 * slot i holds -(i + 1), which no EIP of slot i matches. */
#define BT_IBTC_ENTRIES 65536u
struct bt_ibtc_entry {
    uint32_t neg_guest_eip, tc_addr;
};

static inline uint32_t bt_ibtc_slot(uint32_t eip) { return eip & (BT_IBTC_ENTRIES - 1); }

/* The indirect transfers the in-cache lookup handles, and their mnemonics. */
enum bt_ib { BT_IB_NONE, BT_IB_RET, BT_IB_JMP, BT_IB_CALL, BT_IB_COUNT };
extern const char *const bt_ib_name[BT_IB_COUNT];

/* The translation kinds: the one list. K(ID, "name", what the TC holds for the instruction) */
#define BT_KIND_LIST(K)                                                                         \
    K(IDENT, "ident", "the guest bytes, unchanged")                                             \
    K(JCC, "jcc", "jcc/loop/jecxz re-emitted to a taken exit, then a jmp to the fall-through") \
    K(JMP, "jmp", "jmp rel32 to an exit")                                                       \
    K(CALL, "call", "push $guest_return; jmp rel32 to an exit")                                 \
    K(INDIRECT, "indirect", "ret, jmp/call through register or memory: in-cache lookup, a "   \
                            "callout on a miss")                                                \
    K(INCACHE, "incache", "a short sequence on the vcpu block or a map (cli, sti, pushf, "    \
                          "sgdt, segment loads, in/out...)")                                    \
    K(CALLOUT, "callout", "int $callout_vector: the monitor emulates it; the unit ends")      \
    K(EXIT, "exit", "fall-through jmp or exit stub; stands for the guest instruction it reaches") \
    K(ADAPTED, "adapted", "int $callout_vector written by the monitor over an IDENT copy that " \
                          "kept faulting (adaptive BT; the translator never makes it)")

enum bt_kind {
#define BT_KIND_ENUM(id, name, what) BT_##id,
    BT_KIND_LIST(BT_KIND_ENUM)
#undef BT_KIND_ENUM
    BT_KIND_COUNT
};

extern const char *const bt_kind_name[BT_KIND_COUNT];

/* Why a unit ended. */
enum bt_end {
    BT_END_TRANSFER,              /* a control transfer (direct or indirect) */
    BT_END_CALLOUT,               /* a callout */
    BT_END_LIMIT,                 /* BT_UNIT_INSNS instructions */
    BT_END_BYTES,                 /* the supplied bytes ran out */
    BT_END_UNTRANSLATABLE,        /* the next instruction cannot be translated (next_eip) */
};

struct bt_map {
    uint16_t tc_off;              /* first TC byte this entry covers */
    uint8_t kind;                 /* enum bt_kind */
    uint8_t cls;                  /* enum insn_class, IC_NONE for an ordinary instruction */
    uint32_t guest_eip;           /* the guest instruction this TC range stands for */
    uint8_t guest_len;            /* its length in bytes (0 for EXIT entries) */
    uint8_t before_effect;        /* 1: nothing of it has run (after ESP += sp_undo) */
    uint8_t sp_undo;              /* bytes the sequence has pushed at this point */
    uint8_t saved_reg;            /* 1 + GPR number the sequence holds in vcpu.scratch, or 0 */
};

/* A place in the unit whose executions the monitor counts (with its block): where an in-cache
 * emulation of instruction class `cls` has succeeded, or the hit path of an in-cache lookup
 * (`cls` the enum bt_ib). */
struct bt_count {
    uint16_t tc_off;
    uint8_t lookup;               /* 1: a lookup hit; 0: an in-cache emulation */
    uint8_t cls;
};

struct bt_exit {
    uint32_t target;              /* guest EIP the exit leads to */
    uint16_t rel32_off;           /* TC offset of the rel32 field to patch when chaining */
    uint16_t stub_off;            /* TC offset of the exit stub (`int $callout_vector`) */
};

struct bt_unit {
    uint8_t *tc;                  /* in: caller's buffer for the TC bytes */
    size_t tc_cap;                /* in: its capacity (BT_TC_MAX always suffices) */
    size_t tc_len;                /* TC bytes produced */
    uint32_t guest_eip;           /* G */
    uint32_t tc_addr;             /* T */
    uint32_t guest_len;           /* guest bytes consumed */
    uint32_t next_eip;            /* G + guest_len: where the guest continues after a callout or
                                     an untranslatable instruction */
    unsigned ninsns;              /* guest instructions translated (<= BT_UNIT_INSNS) */
    enum bt_end end;
    unsigned nmap;
    struct bt_map map[BT_MAP_MAX];
    unsigned nexits;
    struct bt_exit exits[BT_EXITS_MAX]; /* in the order their branches appear in the TC */
    unsigned ncounts;
    struct bt_count counts[BT_UNIT_INSNS]; /* in TC order */
};

/* Translate the basic block at `code` (len bytes of guest code at guest address guest_eip) for
 * TC address tc_addr into out->tc (capacity out->tc_cap, set by the caller like out->tc); fill
 * every other field of *out. Returns 0, or:
 *   -EINVAL  the first instruction is undecodable or has an encoding the translator does not
 *            handle (the caller makes it a callout), or an argument is NULL;
 *   -ENODATA the first instruction runs past the supplied bytes (supply more);
 *   -ENOSPC  out->tc_cap is too small;
 *   -ENOMEM  Capstone could not be opened.
 * On error *out holds no unit. */
int bt_translate(const struct bt_env *env, const uint8_t *code, size_t len, uint32_t guest_eip,
                 uint32_t tc_addr, struct bt_unit *out);

/* The map entry covering TC offset tc_off of unit u, NULL if tc_off >= u->tc_len. For a callout
 * the CPU reports the EIP after `int n`: look up (eip - tc_addr - 2). */
const struct bt_map *bt_map_find(const struct bt_unit *u, uint32_t tc_off);

/* Aim exit x's branch of the unit whose bytes are at tc (TC address tc_addr) at dest: the target's
 * translation to chain, or tc_addr + x->stub_off to unchain. The caller removes the patched bytes
 * from any decoded-code cache (uc_ctl_remove_cache) itself. */
void bt_chain(uint8_t *tc, uint32_t tc_addr, const struct bt_exit *x, uint32_t dest);

#endif
