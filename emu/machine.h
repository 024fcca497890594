/*
 * machine.h — the x86-32 PC that every mode runs on.
 *
 * One `struct machine` holds everything of one run: the Unicorn engine (the CPU), guest RAM (host
 * memory handed to Unicorn with uc_mem_map_ptr, so host code reads and writes it directly), the
 * port bus and the devices of the board, the deterministic clock, the block cache that counts
 * instructions, the event store (the funnel), and the mode (a `struct mode_ops` plus its private
 * state). Nothing is global: tests run several machines side by side.
 *
 * Life of a machine:
 *
 *   machine_create(cfg) -> loader_load_multiboot() -> mode->setup() -> machine_run() -> destroy
 *
 * machine_run() is the exit loop (emu/run.c): it runs the CPU until something needs the host —
 * an exception, a timer deadline, an interrupt window, a halt, a limit — handles it, and resumes.
 */
#ifndef VMLAB_MACHINE_H
#define VMLAB_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unicorn/unicorn.h>

#include "emu/addrset.h"
#include "emu/blocks.h"
#include "emu/bus.h"
#include "emu/cpu_model.h"
#include "emu/dev/cmos.h"
#include "emu/dev/misc_ports.h"
#include "emu/dev/pic8259.h"
#include "emu/dev/pit8254.h"
#include "emu/dev/uart16550.h"
#include "emu/events.h"
#include "emu/insn_class.h"
#include "emu/paging.h"
#include "emu/tlb.h"
#include "emu/uc_quirks.h"
#include "emu/vclock.h"

struct mode_ops;

#define L1_ENTRIES 1024
#define MACHINE_MCOUNTS 64       /* distinct events the mode's own code may count per block */
#define MACHINE_PHASES 16        /* phases the guest can mark (PHASE_PORT); the last takes more */
#define L1_INDEX(addr, size) ((((addr) >> 1) ^ (size)) & (L1_ENTRIES - 1))

/* How a run ended. The process exit status of `vmlab run` follows from it. */
enum run_end {
    END_NONE = 0,
    END_GUEST_EXIT,      /* isa-debug-exit: status (V << 1) | 1 */
    END_GUEST_FAILURE,   /* triple fault, halted forever, unhandled state: status 4 */
    END_LIMIT,           /* instruction or wall-clock limit: status 6 */
    END_INTERNAL,        /* host-side failure: status 8 */
};

#define EXIT_STATUS_USAGE 2
#define EXIT_STATUS_GUEST_FAILURE 4
#define EXIT_STATUS_LIMIT 6
#define EXIT_STATUS_INTERNAL 8

struct machine_config {
    uint64_t ram_bytes;          /* guest RAM, default 256 MiB */
    uint64_t ips;                /* instructions per simulated second, default 1e9 */
    uint64_t epoch;              /* Unix time the CMOS clock starts at */
    uint64_t max_insns;          /* stop after this much guest time (instructions), 0 = none */
    double wall_limit;           /* seconds of host time, 0 = none */
    uint64_t bucket_width;       /* time-series bucket (instructions), 0 = none */
    uint32_t monitor_window;     /* monitors: first linear address reserved for the monitor
                                  * (4 MiB aligned; the guest may not map from there up) */
    const char *cmdline;         /* guest command line (Multiboot) */
    uart_sink_fn console;        /* where COM1 output goes */
    void *console_opaque;
    FILE *diag;                  /* where the machine's own diagnostics go (stderr) */
};

/* Why the CPU stopped: set by a hook, consumed by the exit loop. */
enum stop_why {
    STOP_NONE = 0,
    STOP_EXCEPTION,      /* pending_exc holds a CPU exception to handle */
    STOP_DEADLINE,       /* a timer / limit deadline is due at the current block start */
    STOP_TAIL,           /* a deadline falls inside the block at EIP: run tail_insns exactly */
    STOP_IRQ,            /* interrupt window: an interrupt can be delivered at EIP */
    STOP_REDECODE,       /* a block's site hooks were installed: resume at EIP */
    STOP_END,            /* the run is over (m->end set) */
    STOP_ACTION,         /* an exception handled in the interrupt hook left `deferred` to do */
};

/* An exception or interrupt event on its way to the guest. */
enum xkind {
    XK_FAULT,            /* fault: EIP points at the faulting instruction */
    XK_TRAP,             /* trap-class exception (#DB traps, #OF via into): EIP after */
    XK_SOFTINT,          /* int n, int3, into: EIP after, gate DPL checked against CPL */
    XK_EXTINT,           /* external interrupt from the PIC */
};

struct xevent {
    enum xkind kind;
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint32_t eip;        /* return address to push */
    uint32_t insn_eip;   /* address of the instruction that raised it (= eip for faults) */
    uint32_t cr2;        /* for #PF */
    int irq;             /* for XK_EXTINT */
    bool after_window;   /* XK_EXTINT: taken when the guest's interrupt window opened */
};

struct machine {
    struct machine_config cfg;
    uc_engine *uc;
    struct uc_quirks quirks;
    uint8_t *ram;
    uint64_t ram_size;
    struct phys_mem pm;          /* guest RAM as the machine's page walks see it */
    struct tlb_model tlb;        /* the TLB model and Unicorn's fill hook (emu/tlb.h) */
    unsigned tlb_rerun_blocks;   /* blocks the CPU entered since tlb_fault_rerun */
    uint8_t *mon_mem;            /* monitor memory above RAM (machine_map_monitor), or NULL */
    uint64_t mon_size;
    csh cs;                      /* Capstone handle (32-bit, detail on) */
    struct decode_cache *dcache; /* the monitors' decodings (emu/decode_cache.h; NULL: none) */

    /* The board */
    struct pio_bus bus;
    struct pic8259 pic;
    struct pit8254 pit;
    struct uart16550 uart;
    struct cmos cmos;
    struct debug_exit dbgexit;
    struct phase_port phase;
    struct cpu_msrs msr;         /* the MSRs the processor model keeps (emu/cpu_model.h) */
    struct vclock clock;

    /* Time: guest time in instructions = retired + idle (skipped while halted). */
    uint64_t time;
    uint64_t idle;
    uint64_t insn_cpl[4];        /* retired per CPL */
    uint64_t deadline;           /* the block hook leaves the fast path when time + n > this */
    uint64_t next_wall_check;    /* guest time of the next progress report */
    uint64_t slow_blocks;        /* blocks the block hook's fast path did not know */
    unsigned wall_passes;        /* exit-loop passes since the host's clock was last read, */
    uint64_t wall_read_at;       /* and the guest time it was read at (emu/run.c) */
    double wall_start;

    /* Translated-block bookkeeping (emu/blocks.c). l1 is a direct-mapped front cache holding the
     * hot fields of blocks inline, so the common block-hook call never chases a pointer (a block
     * with sites to count follows it to them: the kernel's entry and exit paths, whose segment
     * pushes and pops are counted, went through the block cache's hash chain at every run);
     * entries are (re)filled by the slow path and cleared when a block is replaced. */
    struct l1_entry {
        uint32_t addr;
        uint16_t size, n;
        uint32_t epoch;          /* valid only while equal to BLOCK_EPOCH_NOW (blocks.h) */
        uint8_t cpl;
        bool sites;              /* b->nsites != 0: machine_count_block counts them */
        const struct block *b;
    } l1[L1_ENTRIES];
    struct block_cache bc;
    /* Page walks kept from one event to the next (mode keep_walks: machine_kept_walks), valid
     * while the TLB model's flush count and the paging registers stay as they were. */
    struct paging_memo walks;
    struct paging_regs walks_regs;
    uint64_t walks_flushes;
    const struct block *cur;     /* block being executed */
    uint32_t epoch;              /* bumped when user address spaces may have changed */
    uint32_t kepoch;             /* bumped when kernel code may have been rewritten (blocks.h) */
    uint64_t priv[IC_COUNT];     /* privileged/sensitive instructions executed (hot counters) */
    uint64_t priv_folded[IC_COUNT];
    struct mcount {              /* events the mode's own code counts per block (mode counted()) */
        enum ev_class cls;
        int64_t reason;
        const char *qual;
        uint64_t n, folded;
    } mcounts[MACHINE_MCOUNTS];
    unsigned nmcounts;
    struct addrset sites;        /* instruction addresses carrying a site hook */
    int io_idx;                  /* index in `cur` of the I/O instruction being executed, -1 */
    uint32_t io_eip;             /* the guest EIP and CPL the access is recorded at */
    int io_cpl;

    /* Exit loop state */
    enum stop_why stop;
    struct xevent pending_exc;
    int deferred_kind;           /* STOP_ACTION: the action the exit loop carries out (mode.h) */
    uint8_t deferred_vector;
    uint32_t deferred_error;
    uint64_t tail_insns;
    uint64_t tail_done;          /* instructions of the tail started so far */
    uc_hook tail_hook;           /* a tail's code hook left until a walk fault's rerun (or 0) */
    uint32_t tail_hook_addr, tail_hook_size;
    struct block *tail_block;    /* the block a STOP_TAIL stopped in front of */
    struct block *stop_block;    /* block a hook asked to stop in front of (counted as run) */
    uint32_t redirect_eip;       /* where the mode sent the CPU instead of a block (0: nowhere) */
    int in_tail;                 /* running a tail: 1 = next block hook counts, 2 = stop at any */
    bool in_intr_hook;           /* handling an exception inside the interrupt hook (run.c) */
    bool irq_window;             /* an interrupt is pending but IF was 0: watch block boundaries */

    /* Counting */
    struct ev_store ev;
    uint64_t phase_start[MACHINE_PHASES]; /* guest time when each phase was entered */
    uint64_t phase_mark_cpl[4];  /* insn_cpl at the last phase change */
    uint32_t phase_seen;         /* bitmask of phases entered */

    /* Outcome */
    enum run_end end;
    int exit_status;
    int guest_exit;              /* value written to isa-debug-exit, -1 if none */
    char message[512];

    /* Progress report, called about every 20M instructions of guest time (may be NULL). */
    void (*progress)(void *opaque, const struct machine *m);
    void *progress_opaque;

    /* Mode */
    const struct mode_ops *mode;
    void *mode_state;
};

/* Create a machine with RAM, CPU, devices and counters, ready for a loader. Returns NULL with a
 * one-line reason in errbuf. */
struct machine *machine_create(const struct machine_config *cfg, char *errbuf, unsigned errlen);
void machine_destroy(struct machine *m);

/* Default configuration (256 MiB, 1e9 instructions/s, no limits, console to stdout). */
void machine_config_defaults(struct machine_config *cfg);

/* Run until the guest exits or fails or a limit is reached. Returns the process exit status and
 * leaves m->end / m->message set. */
int machine_run(struct machine *m);

/* End the run (from a hook, device or mode): record why and stop the CPU. The first call wins. */
void machine_end(struct machine *m, enum run_end end, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Guest time now, exact even while an I/O instruction is executing in the middle of a block. */
uint64_t machine_now(const struct machine *m);

/* Instructions retired so far (exact at the same points as machine_now). */
uint64_t machine_retired(const struct machine *m);

/* Paging registers as the guest sees them (the mode's view when it virtualizes them) and as the
 * CPU really has them. */
void machine_paging_regs(struct machine *m, struct paging_regs *r);
void machine_cpu_paging_regs(struct machine *m, struct paging_regs *r);

/* Map `bytes` of monitor memory into the CPU's physical address space right above guest RAM (for
 * shadow page tables and other monitor structures the guest must not reach: guest walks stop at
 * the end of RAM, and monitors refuse guest mappings of frames beyond it). Once per machine.
 * 0, or negative errno. */
int machine_map_monitor(struct machine *m, uint64_t bytes, uint32_t *phys, uint8_t **host);
/* Current privilege level, read from the CPU. */
int machine_cpl(struct machine *m);

/* The CPU's interrupt flag (EFLAGS.IF): what native mode and VT-x guests decide interrupts by. */
bool machine_if_set(struct machine *m);

/* Read/write guest linear memory as the CPU would at privilege `user` (no fault delivery: returns
 * 0, -1 with *fault_lin and *pf_err for a page fault, -2 outside RAM). */
int machine_read_lin(struct machine *m, uint32_t lin, void *buf, uint32_t len, bool user,
                     uint32_t *fault_lin, uint32_t *pf_err);
int machine_write_lin(struct machine *m, uint32_t lin, const void *buf, uint32_t len, bool user,
                      uint32_t *fault_lin, uint32_t *pf_err);

/* The same through paging registers `r` the caller read once with machine_paging_regs, for a
 * series of accesses that nothing between them changes the registers of (a delivery attempt);
 * `memo` (or NULL) keeps the series' translations (struct paging_memo, emu/paging.h). */
int machine_read_lin_with(struct machine *m, const struct paging_regs *r,
                          struct paging_memo *memo, uint32_t lin, void *buf, uint32_t len,
                          bool user, uint32_t *fault_lin, uint32_t *pf_err);
int machine_write_lin_with(struct machine *m, const struct paging_regs *r,
                           struct paging_memo *memo, uint32_t lin, const void *buf, uint32_t len,
                           bool user, uint32_t *fault_lin, uint32_t *pf_err);

/* The page walks kept from one event to the next where the mode says so (mode op keep_walks:
 * all modes but pv), for the machine's own reads of guest memory (deliveries, the site
 * hooks' check of their bytes): emptied first if the TLB model flushed anything or the paging
 * registers are no longer `pr` (machine_paging_regs) since they were made. NULL where the mode
 * keeps no walks. */
struct paging_memo *machine_kept_walks(struct machine *m, const struct paging_regs *pr);

/* Read `len` code bytes at linear `lin` as the CPU fetches them: through the walks kept between
 * events where the mode keeps them (machine_kept_walks), else by a walk of its own. Returns as
 * machine_read_lin. */
int machine_read_code(struct machine *m, uint32_t lin, void *buf, uint32_t len, bool user);

/* Set the guest's EIP, where it goes on: inside the interrupt hook (in_intr_hook) written into
 * the live CPU state, read by the CPU when the hook returns, without leaving its loop
 * (uq_hook_set_eip; an API write there makes it leave and enter again); anywhere else, or
 * without a direct view, through the API, which also moves execution from a code hook
 * (emu/UNICORN.md 11). */
void machine_set_eip(struct machine *m, uint32_t eip);

/* A monitor emulated one faulting guest instruction of class `cls` (enum insn_class, or -1):
 * count it as retired (the fault had taken it back). */
void machine_retire_emulated(struct machine *m, int cls);

/* Whether a supervisor access of len (<= 16) bytes at linear `lin` would succeed, reading or
 * writing, without touching memory or accessed/dirty bits. */
bool machine_probe_lin(struct machine *m, uint32_t lin, uint32_t len, bool write);

/* Fold the hot-path counters (instructions per CPL, privileged instructions) into the event store
 * for the current phase; called at phase changes and at the end of the run. */
void machine_fold_counters(struct machine *m);

/* The index in m->mcounts of the counter for (cls, reason, qual), made if new; -1 if all
 * MACHINE_MCOUNTS are taken. */
int machine_mcount(struct machine *m, enum ev_class cls, int64_t reason, const char *qual);

/* Count the instructions of block b from index `from` on, with the counters of its sites there:
 * dir 1 when they run, (uint64_t)-1 to take them back (an exception or a stop cut the block
 * short, or a fold must leave them out). The one place the hot counters move by blocks. */
static inline void machine_count_block(struct machine *m, const struct block *b, unsigned from,
                                       uint64_t dir)
{
    if (from >= b->n)
        return;
    m->time += dir * (b->n - from);
    m->insn_cpl[b->cpl] += dir * (b->n - from);
    for (unsigned i = 0; i < b->nsites; i++) {
        const struct site *s = &b->sites[i];
        if (s->idx < from)
            continue;
        if (s->mc)
            m->mcounts[s->mc - 1].n += dir;
        else
            m->priv[s->cls] += dir;
    }
}

#endif
