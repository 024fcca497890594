#!/usr/bin/env bash
# mutate_guests.sh — a short, deterministic mutation run (issue 13): vmlab must answer malformed
# input with one of its documented endings, never an internal error or a signal. No clang needed:
# the mutants are made here (Python 3, fixed seed), the libFuzzer targets in fuzz/ are the long-run
# counterpart (README.md, "Fuzzing").
#
#   guests   GUEST_MUTANTS mutants (default 300) of the tiny test guests (build/tests/guests/*.elf):
#            1 to 8 bytes changed (random byte, bit flip, or an opcode that matters: int3, hlt,
#            iret, 0x0f, int, 0x00, 0xff) in the bytes the ELF loads after the Multiboot header
#            (code and data; the ELF and Multiboot headers stay valid). Mutant i of a ring-0 guest
#            runs under native, trap, trap-classic and bt in turn, pv_hello's under pv, each as
#              vmlab run --guest M --mode MODE --timeout 2 --max-instructions 5000000 --quiet
#            It must end within 20 s with status 2 (bad input), 4 (guest failure), 6 (limit) or a
#            guest exit (odd status, with vmlab's line saying "guest exit" or "guest exited"), and
#            every status but 33 must come with a "vmlab run: " error line. Never 8 (internal error),
#            never a signal, never a stray status.
#   models   MODEL_MUTANTS mutants (default 200) of models/*.yaml (a character replaced with one
#            YAML cares about, a line dropped, doubled or swapped, the file cut short), written
#            beside links to the shipped models and REFERENCES.md so carried_from and source keys
#            resolve, each through `vmlab stat --db DB --model FILE`.
#   suites   SUITE_MUTANTS mutants (default 200) of models/suites/*.yaml and
#            tests/fuzz/corpus/suite/*.yaml, each through `vmlab compare --suite FILE --check`.
#            Models and suites: status 0, or 2 with exactly one line on stderr that names the file.
#
# Failing mutants are kept in BUILD_DIR/tests/mutate_failures/ (with the command) to replay. The
# seed is MUTATE_SEED (default 13); the counts and the seed are printed. Takes the build directory.
. "$(dirname "$0")/lib.sh"
it_begin mutate_guests "${1:-}"
src=$(cd "$(dirname "$0")/../.." && pwd)
it_need "$vmlab" "$build/tests/guests/hello.elf" "$build/tests/guests/pv_hello.elf"
command -v python3 >/dev/null || fail "python3 is needed (scripts/install-deps.sh installs it)"

# A database with one run for `vmlab stat` to price.
status=$(it_vmlab "$tmp/base.db" "$tmp/base" native "$build/tests/guests/hello.elf" "")
expect "hello natively (the database stat reads)" "$status" 33

# Repeated keys in a suite are refused (a second `workloads:` list was filled past its end, a
# second name leaked the first): status 2, one line naming the file and the key given twice.
suite=$src/tests/fuzz/corpus/suite/repeated_keys.yaml
status=0
"$vmlab" compare --suite "$suite" --check >/dev/null 2>"$tmp/rep.err" || status=$?
expect "compare --check of $suite" "$status" 2
expect "its stderr" "$(cat "$tmp/rep.err")" "vmlab compare: $suite:2: name: given twice"
status=0
"$vmlab" compare --suite "$src/models/suites/default.yaml" --check >"$tmp/default.out" \
  2>"$tmp/default.err" || status=$?
expect "compare --check of the default suite" "$status" 0
expect "its workload lines" "$(grep -c '^workload=[a-z_0-9]* n=[0-9]*' "$tmp/default.out")" \
       "$(grep -c '^[[:space:]]*-[[:space:]]*workload:' "$src/models/suites/default.yaml")"

t0=$(date +%s)
python3 - "$vmlab" "$build" "$src" "$tmp" "${MUTATE_SEED:-13}" "${GUEST_MUTANTS:-300}" \
          "${MODEL_MUTANTS:-200}" "${SUITE_MUTANTS:-200}" <<'PY' || fail "see the lines above"
import collections, concurrent.futures, glob, os, random, shutil, struct, subprocess, sys, time

vmlab, build, src, tmp, seed, n_guest, n_model, n_suite = sys.argv[1:9]
seed, n_guest, n_model, n_suite = int(seed), int(n_guest), int(n_model), int(n_suite)
faildir = os.path.join(build, "tests", "mutate_failures")
shutil.rmtree(faildir, ignore_errors=True)
failures = []


def failed(what, path, cmd, why):
    os.makedirs(faildir, exist_ok=True)
    keep = os.path.join(faildir, os.path.basename(path))
    shutil.copy(path, keep)
    with open(keep + ".cmd", "w") as f:
        f.write(" ".join(cmd).replace(path, keep) + "\n")
    failures.append(f"{what} {os.path.basename(path)}: {why} (kept as {keep})")


def run(cmd, limit):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=limit)
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, ""


# ---- guests ------------------------------------------------------------------------------------
def mutable_ranges(img):
    """File ranges of PT_LOAD segments past the ELF headers and the Multiboot header."""
    mb = None
    for off in range(0, min(len(img), 8192) - 12, 4):
        m, fl, ck = struct.unpack_from("<3I", img, off)
        if m == 0x1BADB002 and (m + fl + ck) & 0xFFFFFFFF == 0:
            mb = off
            break
    phoff, = struct.unpack_from("<I", img, 28)
    phnum, = struct.unpack_from("<H", img, 44)
    floor = max(phoff + 32 * phnum, mb + 48)     # Multiboot header (+ pv_hello's PV words)
    out = []
    for i in range(phnum):
        typ, off, va, pa, filesz, memsz, fl, al = struct.unpack_from("<8I", img, phoff + 32 * i)
        if typ == 1 and filesz:
            lo, hi = max(off, floor), off + filesz
            if lo < hi:
                out.append((lo, hi))
    return out


SPECIAL = [0xCC, 0xF4, 0xCF, 0x0F, 0xCD, 0x00, 0xFF, 0xFA, 0xFB, 0x9D, 0xEE, 0xE4]
rng = random.Random(seed)
guests = sorted(g for g in glob.glob(os.path.join(build, "tests", "guests", "*.elf")))
ring0 = ["native", "trap", "trap-classic", "bt"]
jobs = []
took = []
counts = collections.Counter()
gdir = os.path.join(tmp, "guests")
os.makedirs(gdir)
for i in range(n_guest):
    g = guests[i % len(guests)]
    name = os.path.basename(g)[:-4]
    img = bytearray(open(g, "rb").read())
    ranges = mutable_ranges(img)
    for _ in range(rng.randint(1, 8)):
        lo, hi = rng.choice(ranges)
        at = rng.randrange(lo, hi)
        kind = rng.randrange(3)
        if kind == 0:
            img[at] = rng.randrange(256)
        elif kind == 1:
            img[at] ^= 1 << rng.randrange(8)
        else:
            img[at] = rng.choice(SPECIAL)
    mode = "pv" if name.startswith("pv_") else ring0[(i // len(guests)) % len(ring0)]
    path = os.path.join(gdir, f"{i:04d}_{name}_{mode}.elf")
    open(path, "wb").write(img)
    jobs.append((path, mode))


def guest_job(job):
    path, mode = job
    cmd = [vmlab, "run", "--guest", path, "--mode", mode, "--timeout", "2",
           "--max-instructions", "5000000", "--quiet"]
    t = time.monotonic()
    rc, err = run(cmd, 20)
    took.append((time.monotonic() - t, os.path.basename(path)))
    return path, mode, cmd, rc, err


with concurrent.futures.ThreadPoolExecutor(2) as ex:
    for path, mode, cmd, rc, err in ex.map(guest_job, jobs):
        lines = err.strip().splitlines()
        last = lines[-1] if lines else ""
        counts[(mode, rc)] += 1
        if rc is None:
            failed("guest", path, cmd, "still running after 20 s (--timeout 2)")
        elif rc < 0:
            failed("guest", path, cmd, f"killed by signal {-rc}: {last}")
        elif rc == 8:
            failed("guest", path, cmd, f"internal error (status 8): {last}")
        elif rc != 33 and not any(l.startswith("vmlab run: ") for l in lines):
            failed("guest", path, cmd, f"status {rc} without a 'vmlab run:' error line: {last}")
        elif rc % 2 == 1 and "guest exit" not in last:
            failed("guest", path, cmd, f"odd status {rc} but not a guest exit: {last}")
        elif rc % 2 == 0 and rc not in (2, 4, 6):
            failed("guest", path, cmd, f"undocumented status {rc}: {last}")
print("mutate_guests: guests (seed %d): %s" % (seed, ", ".join(
    f"{m} status {r}: {n}" for (m, r), n in sorted(counts.items(), key=str))))
print("mutate_guests: guest runs took %.1f s in all; the slowest: %s" % (
    sum(t for t, _ in took), ", ".join(f"{n} {t:.1f} s" for t, n in sorted(took)[-3:])))


# ---- YAML --------------------------------------------------------------------------------------
YAML_CHARS = list(":-{}[],&*!|>'\"#? \n\t") + list("0123456789abcxyz") + ["\x00", "\xff"]


def mutate_text(text):
    for _ in range(rng.randint(1, 4)):
        lines = text.split("\n")
        k = rng.randrange(6)
        if k <= 1 and text:
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(YAML_CHARS) + text[at + 1:]
            continue
        if k == 2 and len(lines) > 1:
            del lines[rng.randrange(len(lines))]
        elif k == 3:
            at = rng.randrange(len(lines))
            lines.insert(at, lines[rng.randrange(len(lines))])
        elif k == 4 and len(lines) > 1:
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
        else:
            cut = rng.randrange(len(lines))
            lines = lines[:cut]
        text = "\n".join(lines)
    return text


def yaml_pass(what, bases, n, outdir, command):
    os.makedirs(outdir, exist_ok=True)
    c = collections.Counter()
    made = []
    for i in range(n):
        base = bases[i % len(bases)]
        text = mutate_text(open(base, encoding="utf-8", errors="surrogateescape").read())
        path = os.path.join(outdir, f"{what}_{i:04d}.yaml")
        open(path, "w", encoding="utf-8", errors="surrogateescape").write(text)
        made.append(path)

    def one(path):
        cmd = command(path)
        rc, err = run(cmd, 30)
        return path, cmd, rc, err

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        for path, cmd, rc, err in ex.map(one, made):
            lines = err.strip("\n").splitlines()
            c[rc] += 1
            if rc is None:
                failed(what, path, cmd, "still running after 30 s")
            elif rc < 0:
                failed(what, path, cmd, f"killed by signal {-rc}")
            elif rc == 2:
                if len(lines) != 1 or path not in lines[0]:
                    failed(what, path, cmd, f"status 2 but stderr is not one line naming the "
                                            f"file: {lines[:3]}")
            elif rc != 0:
                failed(what, path, cmd, f"status {rc}: {lines[-1:] }")
    print(f"mutate_guests: {what} mutants: " +
          ", ".join(f"status {r}: {k}" for r, k in sorted(c.items(), key=str)))
    return c


mdir = os.path.join(tmp, "models")
os.makedirs(mdir)
for f in glob.glob(os.path.join(src, "models", "*.yaml")) + [os.path.join(src, "models",
                                                                          "REFERENCES.md")]:
    os.symlink(f, os.path.join(mdir, os.path.basename(f)))
db = [os.path.join(tmp, f"stat{i}.db") for i in range(2)]
for d in db:
    shutil.copy(os.path.join(tmp, "base.db"), d)
dbs = collections.deque(db)


def stat_cmd(path):
    # Two databases, one per worker thread would be tidier; runs alternate between them and
    # SQLite's busy timeout (traces/tdb.c) covers the rare overlap.
    d = dbs[0]
    dbs.rotate()
    return [vmlab, "stat", "--db", d, "--model", path]


mc = yaml_pass("model", sorted(glob.glob(os.path.join(src, "models", "*.yaml"))), n_model, mdir,
               stat_cmd)
sc = yaml_pass("suite", sorted(glob.glob(os.path.join(src, "models", "suites", "*.yaml")) +
                               glob.glob(os.path.join(src, "tests", "fuzz", "corpus", "suite",
                                                      "*.yaml"))),
               n_suite, os.path.join(tmp, "suites"),
               lambda p: [vmlab, "compare", "--suite", p, "--check"])
# The mutants must reach past the parser: some are accepted, some refused.
for what, c in (("model", mc), ("suite", sc)):
    if c[0] == 0 or c[2] == 0:
        failures.append(f"{what} mutants: {c[0]} accepted, {c[2]} refused; want some of each")
if counts and sum(n for (m, r), n in counts.items() if r == 33) == 0:
    failures.append("no guest mutant still passed: the mutations hit only what breaks a guest?")
for f in failures[:20]:
    print("mutate_guests: FAIL: " + f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "mutate_guests: ok in $(( $(date +%s) - t0 )) s"
