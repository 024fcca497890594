/*
 * raw_phase.h — the guest kernel's measured phase on raw Unicorn, for bench_qemu's bound.
 *
 * "Raw Unicorn with no hooks on the same guest code" cannot mean the whole run: the kernel needs
 * its exceptions, interrupts and devices delivered, which a hookless engine does not do. What it
 * can mean is the code of a workload's measured phase (PHASE_MEASURE) when that code takes no
 * exception: the kernel is run natively by vmlab, in this process, up to the first instruction of
 * the phase; the CPU state (uc_context_save) and RAM are copied to a fresh engine with no block,
 * code or memory hook, which runs from there until the phase ends. Two hooks that Unicorn calls
 * only at the instructions they are for end the run: an interrupt hook (the first exception) and
 * an OUT hook (the next phase marker, port 0xe0, that is not MEASURE or BETWEEN: a blocked
 * workload's blocks, and the re-arming between them, all run; no measured loop does port output
 * otherwise); an IN hook gives up a phase that reads a device (a raw engine has none: a console
 * poll would spin for ever) other than the POST port the `in` workload reads. The timed run is
 * the second on its engine, its code translated already. The phase
 * counts as ended when the run stops at the marker, or at the guest's phase() system call (int
 * 0x80 with EAX = SYS_PHASE); a run that stops at any other exception means the phase takes
 * exceptions (system calls, page faults, ...) and has no raw bound. No timer interrupt reaches the
 * raw engine, so the raw run is the phase's own instructions only; an untimed second run with a
 * counting block hook gives their number.
 */
#ifndef VMLAB_BENCH_RAW_PHASE_H
#define VMLAB_BENCH_RAW_PHASE_H

#include <stdbool.h>
#include <stdint.h>

/* The guest's console window and phase start, from one native run in this process. */
struct native_window {
    uint64_t args_at, result_at; /* guest time (instructions) at the `args:` and `result` lines */
    uint64_t phase_start;        /* guest time the measured phase was first entered, 0 if never */
};

/* Run `kernel` with `cmdline` natively in this process; 0 with *w filled, -1 (message on stderr)
 * if the run failed or printed no `args:`/`result` line. */
int native_window(const char *kernel, const char *cmdline, struct native_window *w);

struct raw_result {
    bool phase_done;       /* ended at the phase marker or the phase() call: a bound */
    uint64_t insns;        /* instructions the raw engine ran */
    double secs;           /* wall time of the timed run (median of `runs`) */
};

/* The measured phase of `cmdline` (starting at guest time w->phase_start) on raw Unicorn, timed
 * `runs` times; 0 with *r filled, -1 (message on stderr) on failure. */
int raw_phase(const char *kernel, const char *cmdline, const struct native_window *w, int runs,
              struct raw_result *r);

#endif
