#!/usr/bin/env python3
"""monitor_share.py — how much of a mode's run is the modeled monitor's own work (issue 21).

Issue 21 asks every mode to run within 2x of native "except where the mechanism being modeled is
itself the work: only the share that perf attributes to the monitor's own handlers qualifies".
This program measures that share and the ratio that remains once it is taken out.

For each workload it times native and each mode (whole `vmlab run` processes, interleaved,
medians of RUNS), then records one run of each mode under `perf record --call-graph dwarf` and
classifies every sample by the source files of the functions on its stack (from the executable's
own debug information, `nm -l`): the first of these categories that any frame belongs to wins.

  deliver   emu/deliver.c, emu/taskswitch.c: exception and interrupt delivery (the CPU's work,
            done by vmlab because Unicorn never vectors through the IDT; native pays it too, and a
            monitor's injection of a guest event is the same work)
  monitor   a function of emu/modes/ other than native.c and registry.c (VM-exit handlers, the
            shadow MMU, the binary translator, hypercalls and their validation, instruction
            emulation): the modeled monitor
  tlb       emu/tlb.c, emu/ept.c, emu/link/uc_tlb_page.c: the TLB model's refills and flushes
            (under trap, every VM exit empties the no-VPID TLB: its refills are the mechanism
            too, but vmlab's model, not the monitor's code, so they are reported apart)
  loop      emu/run.c, emu/funnel.c, emu/events*.c, emu/machine.c, emu/modes/native.c: the exit
            loop and recording
  cpu       everything else: Unicorn running the guest

and prints, per mode, the wall-time ratio to native and the ratio with the monitor's share taken
out: (mode time x (1 - monitor share)) / native time, the figure the issue's 2x applies to, and
the same without the TLB model's share as well.

Usage: bench/monitor_share.py [-r RUNS] [-b BUILD] [-m MODES] "workload=W n=N" ...
(BUILD defaults to ./build; perf and the executable's debug information are needed.)
"""
import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time

CATEGORIES = [
    ("deliver", ("/emu/deliver.c", "/emu/taskswitch.c")),
    ("loop", ("/emu/modes/native.c", "/emu/modes/registry.c")),
    ("monitor", ("/emu/modes/",)),
    ("tlb", ("/emu/tlb.c", "/emu/ept.c", "/emu/link/uc_tlb_page.c")),
    ("loop", ("/emu/run.c", "/emu/funnel.c", "/emu/events", "/emu/machine.c")),
]
ORDER = ["deliver", "monitor", "tlb", "loop"]


def symbol_categories(vmlab):
    """Map each function symbol of the executable to its category (nm -l: file of definition)."""
    out = subprocess.run(["nm", "-l", "--defined-only", vmlab], capture_output=True, text=True,
                         check=True).stdout
    cat = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        fields = parts[0].split()
        if len(fields) != 3 or fields[1] not in "tT":
            continue
        for name, marks in CATEGORIES:
            if any(m in parts[1] for m in marks):
                cat[fields[2]] = name
                break
    return cat


def run_once(vmlab, kernel, mode, cmdline):
    t = time.monotonic()
    p = subprocess.run([vmlab, "run", "--quiet", "--mode", mode, "--guest", kernel, "--cmdline",
                        cmdline], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode not in (0, 33):
        sys.exit(f"monitor_share: {mode} {cmdline}: vmlab exited {p.returncode}")
    return time.monotonic() - t


def shares(vmlab, kernel, mode, cmdline, cat):
    """Category -> share of samples, from one run under perf with DWARF call graphs."""
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "perf.data")
        subprocess.run(["perf", "record", "-q", "-F", "2000", "--call-graph", "dwarf,16384",
                        "-o", data, vmlab, "run", "--quiet", "--mode", mode, "--guest", kernel,
                        "--cmdline", cmdline], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"],
                                capture_output=True, text=True).stdout
    counts = collections.Counter()
    total = 0
    order = ORDER
    for sample in script.split("\n\n"):
        syms = [ln.split()[1] for ln in sample.strip().splitlines() if len(ln.split()) >= 2]
        if not syms:
            continue
        total += 1
        found = {cat.get(s) for s in syms} - {None}
        counts[next((c for c in order if c in found), "cpu")] += 1
    return {c: counts[c] / total for c in order + ["cpu"]} if total else {}, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--runs", type=int, default=3)
    ap.add_argument("-b", "--build", default="build")
    ap.add_argument("-m", "--modes", default="trap,trap-ept,trap-classic,bt,pv")
    ap.add_argument("cmdlines", nargs="+")
    a = ap.parse_args()
    vmlab = os.path.join(a.build, "vmlab")
    kernel = os.path.join(a.build, "guests", "kernel.elf")
    cat = symbol_categories(vmlab)
    modes = a.modes.split(",")
    print("monitor_share: wall seconds (median of %d interleaved runs), ratio to native, and the "
          "ratio without the monitor's share of perf samples" % a.runs)
    print("%-26s %-12s %8s %7s %8s %6s %6s %6s %6s %6s %8s %8s" %
          ("workload", "mode", "seconds", "ratio", "samples", "deliv", "monit", "tlb", "loop",
           "cpu", "w/o mon", "w/o +tlb"))
    for cmdline in a.cmdlines:
        times = collections.defaultdict(list)
        for _ in range(a.runs):
            for mode in ["native"] + modes:
                times[mode].append(run_once(vmlab, kernel, mode, cmdline))
        base = statistics.median(times["native"])
        for mode in ["native"] + modes:
            t = statistics.median(times[mode])
            sh, n = shares(vmlab, kernel, mode, cmdline, cat)
            mon, tlb = sh.get("monitor", 0), sh.get("tlb", 0)
            print("%-26s %-12s %8.3f %6.2fx %8d %5.1f%% %5.1f%% %5.1f%% %5.1f%% %5.1f%% %7.2fx "
                  "%7.2fx" %
                  (cmdline[:26], mode, t, t / base, n, 100 * sh.get("deliver", 0), 100 * mon,
                   100 * tlb, 100 * sh.get("loop", 0), 100 * sh.get("cpu", 0),
                   t * (1 - mon) / base, t * (1 - mon - tlb) / base))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
