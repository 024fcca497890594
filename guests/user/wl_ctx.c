/*
 * wl_ctx.c — lmbench's lat_ctx (the Xen paper's "ctx sw" rows, 2p/0K to 16p/64K): P processes
 * in a ring of pipes pass a token; each, on receiving it, touches (reads every word of) its own
 * K KiB of data and passes it on.
 *
 *   ctxsw procs=P kb=K   ONE operation is one context switch: the token moves from one process
 *                        to the next (the sender writes it into the pipe and blocks reading its
 *                        own; the receiver, the only runnable process, runs), and the receiver
 *                        touches its K KiB. A round of the ring is P operations. Defaults: P = 2,
 *                        K = 0; 2 <= P <= 16, 0 <= K <= 256.
 *   ctxsw_2p_16k ... ctxsw_16p_64k   the same with P and K fixed, the suite's lat_ctx points
 *
 * The calibration phase is lat_ctx's overhead: the same pipe write, pipe read and touch of K
 * KiB, n times, by one process on a pipe to itself, so nothing switches. The views take it off
 * per operation, as lat_ctx reports a switch net of that overhead.
 *
 * Building the ring (the kernel gives a process 16 descriptors, so no process holds more than
 * the pipes it needs): the parent, member 0, makes the pipe to member 1 and the pipe from member
 * P-1, then forks members 1 .. P-1 in turn, each with the read end of the pipe from its
 * predecessor and the write end of a new pipe to its successor (the last: the pipe to the
 * parent); each child closes every other descriptor, allocates and writes its data, and loops.
 * A warm-up token goes round once before the measured phase, each member touching its data as
 * for a real token, so that every member has its data, has made its first store to the shared
 * sum (a copy-on-write fault after fork, not measured) and waits in read() when the parent marks
 * PHASE_MEASURE and sends hop 0. The process that
 * receives hop n marks PHASE_BETWEEN and sends the STOP token on to the parent, which then closes
 * its write end: each member in turn reads end of file and exits.
 */
#include "workloads.h"

#define CTX_MAX_PROCS 16
#define CTX_MAX_KB 256
#define USER_NFD 16             /* guests/kernel/proc.h NFD */
#define TOKEN_WARMUP (-2)
#define TOKEN_STOP (-1)

struct member {
    int in, out;                /* descriptors: the pipe from the predecessor, to the successor */
    const volatile uint32_t *data;
    uint32_t words;
};

static volatile uint32_t sink;

/* K KiB of the process's own (written, so not shared copy-on-write) memory. */
static int member_data(struct member *m, int kb)
{
    m->words = (uint32_t)kb * 256;
    uint32_t *d = m->words ? sbrk((int)(m->words * 4)) : NULL;
    if (m->words && !d)
        return -1;
    for (uint32_t i = 0; i < m->words; i++)
        d[i] = i;
    m->data = d;
    return 0;
}

static void touch(const struct member *m)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < m->words; i++)
        sum += m->data[i];
    sink += sum;
}

/* Member 1 .. P-1: pass the token on until the ring closes. */
static void __attribute__((noreturn)) child(struct member *m, int kb, int n)
{
    for (int fd = 3; fd < USER_NFD; fd++)
        if (fd != m->in && fd != m->out)
            close(fd);
    if (member_data(m, kb) < 0)
        exit(2);
    int hop;
    while (read(m->in, &hop, 4) == 4) {
        if (hop != TOKEN_STOP)
            touch(m);
        if (hop >= 0 && ++hop == n) {
            phase(PHASE_BETWEEN);
            hop = TOKEN_STOP;
        }
        if (write(m->out, &hop, 4) != 4)
            exit(3);
    }
    exit(0);
}

/* Forks members 1 .. procs-1; the parent's own ends in *me, the children's pids in pids[]. */
static int ring_build(int procs, int kb, int n, struct member *me, int *pids)
{
    int first[2], last[2], next[2];
    if (pipe(first) < 0 || pipe(last) < 0)
        return -1;
    int prev_read = first[0];
    for (int k = 1; k < procs; k++) {
        int out = last[1];
        if (k < procs - 1) {
            if (pipe(next) < 0)
                return -1;
            out = next[1];
        }
        pids[k] = fork();
        if (pids[k] < 0)
            return -1;
        if (pids[k] == 0) {
            struct member m = { .in = prev_read, .out = out };
            child(&m, kb, n);
        }
        close(prev_read);
        if (k < procs - 1) {
            close(next[1]);
            prev_read = next[0];
        }
    }
    close(last[1]);
    me->in = last[0];
    me->out = first[1];
    return member_data(me, kb);
}

/* The measured phase: n switches round the ring, from the parent's hop 0. */
static int ring_run(const struct member *me, int n)
{
    int hop = TOKEN_WARMUP;
    if (write(me->out, &hop, 4) != 4 || read(me->in, &hop, 4) != 4 || hop != TOKEN_WARMUP)
        return -1;
    touch(me);
    phase(PHASE_MEASURE);
    hop = 0;
    if (write(me->out, &hop, 4) != 4)
        return -1;
    while (read(me->in, &hop, 4) == 4 && hop != TOKEN_STOP) {
        touch(me);
        if (++hop == n) {
            phase(PHASE_BETWEEN);
            break;
        }
        if (write(me->out, &hop, 4) != 4)
            return -1;
    }
    return hop == n || hop == TOKEN_STOP ? 0 : -1;
}

/* The calibration phase: n x (pipe write, pipe read, touch) by the parent alone. */
static int overhead(const struct member *me, int n)
{
    int self[2], hop = 0, good = 0;
    if (pipe(self) < 0)
        return -1;
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++) {
        write(self[1], &hop, 4);
        good += read(self[0], &hop, 4) == 4;
        touch(me);
        hop++;
    }
    phase(PHASE_TEARDOWN);
    close(self[0]);
    close(self[1]);
    return good == n ? 0 : -1;
}

static int ring(int n, int procs, int kb, struct wl_result *r)
{
    struct member me;
    int pids[CTX_MAX_PROCS], bad = 0;
    if (ring_build(procs, kb, n, &me, pids) < 0)
        return fail(r, "ring");
    bad |= ring_run(&me, n);
    close(me.out);
    for (int k = 1; k < procs; k++) {
        int status = -1;
        bad |= waitpid(pids[k], &status) != pids[k] || status != 0;
    }
    close(me.in);
    bad |= overhead(&me, n);
    fmt(r->extra, sizeof(r->extra), "ops=%d procs=%d kb=%d", bad ? 0 : n, procs, kb);
    return bad ? fail(r, "ring") : 1;
}

static int wl_ctxsw(int n, struct wl_result *r)
{
    int procs = wl_arg_count("procs", 2, 2, CTX_MAX_PROCS, false, r);
    int kb = procs < 0 ? -1 : wl_arg_count("kb", 0, 0, CTX_MAX_KB, false, r);
    return kb < 0 ? 0 : ring(n, procs, kb, r);
}

#define CTX_POINT(P, K)                                                                        \
    static int wl_ctxsw_##P##p_##K##k(int n, struct wl_result *r) { return ring(n, P, K, r); }
CTX_POINT(2, 16)
CTX_POINT(2, 64)
CTX_POINT(8, 16)
CTX_POINT(8, 64)
CTX_POINT(16, 16)
CTX_POINT(16, 64)

const struct workload ctx_workloads[] = {
    { "ctxsw", wl_ctxsw, 1000,
      "one context switch in a ring of procs=P processes, each touching kb=K KiB (lat_ctx)" },
    { "ctxsw_2p_16k", wl_ctxsw_2p_16k, 500, "ctxsw procs=2 kb=16" },
    { "ctxsw_2p_64k", wl_ctxsw_2p_64k, 200, "ctxsw procs=2 kb=64" },
    { "ctxsw_8p_16k", wl_ctxsw_8p_16k, 400, "ctxsw procs=8 kb=16" },
    { "ctxsw_8p_64k", wl_ctxsw_8p_64k, 160, "ctxsw procs=8 kb=64" },
    { "ctxsw_16p_16k", wl_ctxsw_16p_16k, 400, "ctxsw procs=16 kb=16" },
    { "ctxsw_16p_64k", wl_ctxsw_16p_64k, 160, "ctxsw procs=16 kb=64" },
    { NULL, NULL, 0, NULL },
};
