/*
 * wl_kerncomp.c — `kerncomp`, a macro benchmark shaped like the Xen paper's Linux build (its
 * "Linux build time" bar, SOSP 2003 figure 3): many short processes that fork, exec, compute,
 * read and write files and exit, driven by a make-like parent. ONE operation is one
 * compilation unit; the mix, per operation:
 *
 *   the parent (this process, a make)   1 fork, 1 waitpid
 *   the child                           1 exec of cc (cc.c), 16 heap pages touched (16
 *                                       demand-zero faults), 5 files opened, read (8 KiB of
 *                                       source and 4 headers of 6 KiB, in 4 KiB reads) and
 *                                       closed, ~40 rounds of the compute workload's integer
 *                                       work plus a hash of every byte read (most of the
 *                                       unit's instructions, in user mode, as in a real
 *                                       build), 1 object of 2 KiB created and written, 1 exit
 *
 * and every KC_BATCH units (and after the last) one link, which a real build also runs per
 * directory (`ld -r` into built-in.o): 1 fork, 1 exec of `cc -r`, the batch's objects read
 * through readdir, one 16 KiB file written, 1 exit. So n units carry ceil(n / KC_BATCH) links.
 *
 * Before the measured phase the parent writes the source tree: /src/include/h0.h .. h7.h and
 * one /src/uNNNN.c per unit, whose first line names the four headers it includes (a fixed
 * choice per unit). After it, it reads every linked file back and prints their checksum: the
 * same in every mode and under QEMU, or some mode computed differently.
 */
#include "workloads.h"

#define KC_HEADERS 8
#define KC_HEADER_SIZE (6 * 1024)
#define KC_SOURCE_SIZE (8 * 1024)
#define KC_BATCH 8
#define KC_MAX_UNITS 9999

/* The source of unit u, made in text (KC_SOURCE_SIZE bytes): its #include line, then bytes of a
 * fixed pattern. */
static int write_source(int u, uint8_t *text)
{
    char path[FS_PATH_MAX];
    int len = fmt((char *)text, KC_SOURCE_SIZE, "#include h%d h%d h%d h%d\n", u % KC_HEADERS,
                  (u / 2 + 3) % KC_HEADERS, (u * 5 + 1) % KC_HEADERS, (u * 3 + 6) % KC_HEADERS);
    for (int i = len; i < KC_SOURCE_SIZE; i++)
        text[i] = (uint8_t)(' ' + (i * 7 + u) % 90);
    fmt(path, sizeof(path), "/src/u%04d.c", u);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC);
    int r = fd < 0 ? fd : write(fd, text, KC_SOURCE_SIZE);
    close(fd);
    return r == KC_SOURCE_SIZE ? 0 : -1;
}

/* mkdir that is content with a directory already there (a run with repeat=R makes it again). */
static int have_dir(const char *path)
{
    int r = mkdir(path);
    return r == -EEXIST ? 0 : r;
}

static int make_tree(int n, uint8_t *text)
{
    char path[FS_PATH_MAX];
    for (int h = 0; h < KC_HEADERS; h++) {
        fmt(path, sizeof(path), "/src/include/h%d.h", h);
        if (wl_make_file(path, KC_HEADER_SIZE) < 0)
            return -1;
    }
    for (int u = 0; u < n; u++)
        if (write_source(u, text) < 0)
            return -1;
    if (have_dir("/obj") < 0)
        return -1;
    for (int b = 0; b * KC_BATCH < n; b++) {
        fmt(path, sizeof(path), "/obj/b%d", b);
        if (have_dir(path) < 0)
            return -1;
    }
    return 0;
}

/* Forks and waits for `cc A1 A2 -o A3`; 0 if it exited 0. */
static int run_cc(const char *a1, const char *a2, const char *a3)
{
    const char *argv[] = { "cc", a1, a2, "-o", a3, NULL };
    int pid = fork();
    if (pid == 0) {
        exec("cc", argv);
        exit(127);
    }
    int status = -1;
    return pid > 0 && waitpid(pid, &status) == pid && status == 0 ? 0 : -1;
}

/* The sum of every byte of every linked file, read through buf (KC_SOURCE_SIZE bytes). */
static uint32_t checksum(int batches, uint8_t *buf)
{
    char path[FS_PATH_MAX];
    uint32_t sum = 0;
    for (int b = 0; b < batches; b++) {
        fmt(path, sizeof(path), "/obj/b%d.o", b);
        int fd = open(path, O_RDONLY), got;
        while (fd >= 0 && (got = read(fd, buf, KC_SOURCE_SIZE)) > 0)
            for (int i = 0; i < got; i++)
                sum = sum * 31 + buf[i];
        close(fd);
    }
    return sum;
}

static int wl_kerncomp(int n, struct wl_result *r)
{
    char src[FS_PATH_MAX], obj[FS_PATH_MAX], dir[FS_PATH_MAX], out[FS_PATH_MAX];
    uint8_t *text = sbrk(KC_SOURCE_SIZE);
    if (n > KC_MAX_UNITS)
        return fail(r, "too-many-units");
    if (!text || make_tree(n, text) < 0)
        return fail(r, "source-tree");
    int units = 0, links = 0, bad = 0;
    phase(PHASE_MEASURE);
    for (int u = 0; u < n && !bad; u++) {
        int b = u / KC_BATCH;
        fmt(src, sizeof(src), "/src/u%04d.c", u);
        fmt(obj, sizeof(obj), "/obj/b%d/u%04d.o", b, u);
        bad |= run_cc("-c", src, obj);
        units += !bad;
        if (!bad && (u % KC_BATCH == KC_BATCH - 1 || u == n - 1)) {
            fmt(dir, sizeof(dir), "/obj/b%d", b);
            fmt(out, sizeof(out), "/obj/b%d.o", b);
            bad |= run_cc("-r", dir, out);
            links += !bad;
        }
    }
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d links=%d checksum=%08x", units, links,
        checksum(links, text));
    sbrk(-KC_SOURCE_SIZE);
    return bad ? fail(r, "cc-failed") : 1;
}

const struct workload kerncomp_workloads[] = {
    { "kerncomp", wl_kerncomp, 16,
      "one compilation unit: fork, exec cc, read 5 files, compute, write 1, exit (+ a link per 8)" },
    { NULL, NULL, 0, NULL },
};
