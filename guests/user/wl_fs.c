/*
 * wl_fs.c — lmbench's file and VM system rows (the Xen paper's "0K/10K file create/delete",
 * "mmap lat" and "page fault"), on the kernel's in-memory file system (guests/kernel/fs.c):
 *
 *   filecreate size=S   one file of S bytes created (lat_fs create): open(O_CREAT) of a new
 *                       name in one directory, one write() of S bytes if S > 0, close(); the
 *                       files are removed after the measured phase. S: 0 (default) to 64K
 *   filedelete size=S   one such file removed (lat_fs delete): unlink() of a name; the n files
 *                       are created before the measured phase
 *   filecreate_10k, filedelete_10k   the same with S = 10K, the paper's second size
 *   pagefault           one page fault on a file-backed page (lat_pagefault): the first read of
 *                       a page of a read-only shared mapping of a 64-page file whose pages are
 *                       in memory: the handler maps the file's own frame (no zeroing, no copy)
 *   mmap                one map and unmap of a 16-page (64 KiB) region of a file, shared and
 *                       read-write (lat_mmap): mmap(), a write every 16 KiB (lat_mmap's PSIZE:
 *                       4 pages touched, 4 faults), munmap()
 *
 * filecreate, filedelete and mmap run the calibrated loop (wl_common.c); file names are made in
 * both phases, so the calibration takes their formatting off too. pagefault runs in blocks, as
 * the kernel's pgfault nanobenchmark (guests/kernel/bench.c): PHASE_BETWEEN maps the next
 * (at most) 64 pages, PHASE_MEASURE reads one word of each, PHASE_BETWEEN unmaps them; then the
 * same blocks with nothing done in PHASE_BETWEEN and k empty iterations in PHASE_CALIBRATE.
 *
 * The files of lat_fs all live in one directory, as lmbench's do: each create or delete scans
 * the directory's entries (an ext2 directory of the time was scanned the same way), so the cost
 * of an operation grows with n, up to FS_ROUND files: a larger n runs in rounds of FS_ROUND (the
 * guest's file system has 1024 inodes), the directory emptied between them outside the measured
 * phase.
 */
#include "workloads.h"

#define FS_DIR "/tmp/lat_fs"
#define FS_ROUND 1000               /* files in the directory at once (the suite's paper_n) */
#define FS_MAX_SIZE (64 * 1024)
#define PF_FILE "/tmp/pagefault"
#define PF_CHUNK_PAGES 64
#define MMAP_FILE "/tmp/mmap"
#define MMAP_PAGES 16
#define MMAP_STRIDE (16 * 1024)
#define PAGE 4096

struct lat_fs {
    int size;
    const uint8_t *data;            /* size bytes, on the heap */
    char name[FS_PATH_MAX];
};

static void fs_name(struct lat_fs *f, int i)
{
    fmt(f->name, sizeof(f->name), FS_DIR "/%05d", i);
}

static int name_only(int i, void *ctx)
{
    fs_name(ctx, i);
    return 0;
}

static int create_op(int i, void *ctx)
{
    struct lat_fs *f = ctx;
    fs_name(f, i);
    int fd = open(f->name, O_RDWR | O_CREAT | O_TRUNC);
    if (fd < 0)
        return -1;
    int bad = f->size && write(fd, f->data, (uint32_t)f->size) != f->size;
    return close(fd) == 0 && !bad ? 0 : -1;
}

static int delete_op(int i, void *ctx)
{
    struct lat_fs *f = ctx;
    fs_name(f, i);
    return unlink(f->name);
}

/* n files of f->size bytes made (before) or removed (after) outside the measured phase. */
static int make_or_remove_all(int n, struct lat_fs *f, bool make)
{
    int good = 0;
    for (int i = 0; i < n; i++)
        good += (make ? create_op(i, f) : delete_op(i, f)) == 0;
    return good == n ? 0 : -1;
}

static int lat_fs(int n, int size, bool create, struct wl_result *r)
{
    uint8_t *data = sbrk(size);
    struct lat_fs f = { .size = size, .data = data };
    if (!data)
        return fail(r, "memory");
    for (int i = 0; i < size; i++)
        data[i] = (uint8_t)i;
    int made = mkdir(FS_DIR);
    if (made < 0 && made != -EEXIST)
        return fail(r, "setup");
    /* Rounds of at most FS_ROUND files (the directory holds them all at once, and the kernel's
     * file system FS_NINODE inodes): a round's files are made before its measured phase
     * (filedelete) or removed after it (filecreate), outside the measured phase. n <= FS_ROUND
     * is one round. */
    int good = 0, bad = 0;
    for (int done = 0; done < n && !bad; done += FS_ROUND) {
        int k = n - done < FS_ROUND ? n - done : FS_ROUND;
        if (!create && make_or_remove_all(k, &f, true) < 0)
            return fail(r, "setup");
        good += wl_calibrated(k, create ? create_op : delete_op, name_only, &f);
        bad = create && make_or_remove_all(k, &f, false) < 0;
    }
    sbrk(-size);
    fmt(r->extra, sizeof(r->extra), "ops=%d size=%d", good, size);
    return good == n && !bad && rmdir(FS_DIR) == 0 ? 1 : fail(r, "op-failed");
}

static int size_arg(struct wl_result *r)
{
    return wl_arg_count("size", 0, 0, FS_MAX_SIZE, true, r);
}

static int wl_filecreate(int n, struct wl_result *r)
{
    int size = size_arg(r);
    return size < 0 ? 0 : lat_fs(n, size, true, r);
}

static int wl_filedelete(int n, struct wl_result *r)
{
    int size = size_arg(r);
    return size < 0 ? 0 : lat_fs(n, size, false, r);
}

static int wl_filecreate_10k(int n, struct wl_result *r) { return lat_fs(n, 10240, true, r); }
static int wl_filedelete_10k(int n, struct wl_result *r) { return lat_fs(n, 10240, false, r); }

static volatile uint32_t sink;

/* One block of pagefault: k pages of the file mapped, read (phase 1) or not (phase 3), unmapped;
 * the mapping and unmapping in phase 4, so both kinds of block carry the same phase marks. */
static int pf_block(int fd, int k, bool measure)
{
    phase(PHASE_BETWEEN);
    volatile const uint32_t *p = measure ? mmap_file((uint32_t)k * PAGE, PROT_READ, fd, 0) : NULL;
    if (measure && !p)
        return -1;
    phase(measure ? PHASE_MEASURE : PHASE_CALIBRATE);
    for (int i = 0; i < k; i++) {
        if (measure)
            sink += p[i * (PAGE / 4)];
        else
            EMPTY_BODY();
    }
    phase(PHASE_BETWEEN);
    return measure ? munmap((void *)p, (uint32_t)k * PAGE) : 0;
}

static int wl_pagefault(int n, struct wl_result *r)
{
    int fd, done = 0, bad = 0;
    if (wl_make_file(PF_FILE, PF_CHUNK_PAGES * PAGE) < 0 || (fd = open(PF_FILE, O_RDONLY)) < 0)
        return fail(r, "make-file");
    for (int pass = 0; pass < 2; pass++)
        for (done = 0; done < n && !bad; done += PF_CHUNK_PAGES)
            bad |= pf_block(fd, n - done < PF_CHUNK_PAGES ? n - done : PF_CHUNK_PAGES, pass == 0);
    phase(PHASE_TEARDOWN);
    close(fd);
    unlink(PF_FILE);
    fmt(r->extra, sizeof(r->extra), "ops=%d", bad ? 0 : n);
    return bad ? fail(r, "mmap-read") : 1;
}

static int mmap_op(int i, void *ctx)
{
    volatile uint8_t *p = mmap_file(MMAP_PAGES * PAGE, PROT_READ | PROT_WRITE, *(int *)ctx, 0);
    if (!p)
        return -1;
    for (uint32_t off = 0; off < MMAP_PAGES * PAGE; off += MMAP_STRIDE)
        p[off] = (uint8_t)off;
    return munmap((void *)p, MMAP_PAGES * PAGE);
}

static int wl_mmap(int n, struct wl_result *r)
{
    int fd;
    if (wl_make_file(MMAP_FILE, MMAP_PAGES * PAGE) < 0 || (fd = open(MMAP_FILE, O_RDWR)) < 0)
        return fail(r, "make-file");
    int good = wl_calibrated(n, mmap_op, NULL, &fd);
    close(fd);
    unlink(MMAP_FILE);
    fmt(r->extra, sizeof(r->extra), "ops=%d pages=%d touched=%d", good, MMAP_PAGES,
        MMAP_PAGES * PAGE / MMAP_STRIDE);
    return good == n ? 1 : fail(r, "mmap-touch");
}

const struct workload fs_workloads[] = {
    { "filecreate", wl_filecreate, 200,
      "one file of size=S bytes created: open(O_CREAT), write, close (lmbench 0K/10K create)" },
    { "filecreate_10k", wl_filecreate_10k, 200, "filecreate size=10K" },
    { "filedelete", wl_filedelete, 200,
      "one file of size=S bytes removed: unlink (lmbench 0K/10K delete)" },
    { "filedelete_10k", wl_filedelete_10k, 200, "filedelete size=10K" },
    { "pagefault", wl_pagefault, 1000,
      "one page fault on a file-backed page, mapped from the file's frame (lat_pagefault)" },
    { "mmap", wl_mmap, 100,
      "one map of a 64 KiB file region, a write every 16 KiB, unmap (lat_mmap)" },
    { NULL, NULL, 0, NULL },
};
