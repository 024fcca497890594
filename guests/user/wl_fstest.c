/*
 * wl_fstest.c — `fstest`: checks of the file system's semantics (guests/kernel/fs.c), each in a
 * child process (wl_run_checks); not a timing, not in the suite. n is ignored.
 *
 *   readwrite   a created file reads back what was written, across page boundaries; fstat and
 *               stat agree on inode, type, size and link count
 *   open-errors O_CREAT|O_EXCL on an existing name, a missing name without O_CREAT, a path
 *               through a regular file, a name longer than FS_NAME_MAX, a directory opened for
 *               writing: each its errno
 *   truncate    O_TRUNC empties a file
 *   holes       a write past the end leaves a hole that reads as zeros
 *   unlink-open an unlinked file keeps its data for the descriptor that is still open
 *   dirs        mkdir, readdir (exactly the names made), rmdir refused while not empty, unlink
 *               refused on a directory, rmdir once empty, and the name gone
 *   devices     /dev/null reads end of file and takes any write; /dev/zero reads zeros
 *   mmap-shared a read-write shared mapping and read()/write() see each other's stores
 *   mmap-fork   a shared mapping stays shared across fork (the child's store reaches the parent)
 *   offset-fork fork shares a descriptor's offset (the child's write moves the parent's)
 *   mmap-bus    a page of a mapping past the end of its file: the child dies with SIGBUS
 *   mmap-ro     a file opened read-only maps only read-only, a device not at all; a write to a
 *               read-only mapping without a handler: the child dies with SIGSEGV
 */
#include "workloads.h"

#define T "/tmp/fstest"
#define PAGE 4096

/* Two 3-page buffers on the heap of the check's own process (each check runs in a child). */
static uint8_t *buf, *back;

static bool buffers(void)
{
    if (!buf) {
        buf = sbrk(6 * PAGE);
        back = buf ? buf + 3 * PAGE : NULL;
    }
    for (int i = 0; buf && i < 3 * PAGE; i++)
        buf[i] = (uint8_t)(i * 7);
    return buf != NULL;
}

static int check_readwrite(void)
{
    struct stat a, b;
    int fd = buffers() ? open(T "-rw", O_RDWR | O_CREAT) : -ENOMEM;
    if (fd < 0 || write(fd, buf, 10000) != 10000 || lseek(fd, 0, SEEK_SET) != 0)
        return 1;
    if (read(fd, back, 3 * PAGE) != 10000 || memcmp(buf, back, 10000) != 0)
        return 2;
    if (fstat(fd, &a) < 0 || stat(T "-rw", &b) < 0 || a.st_ino != b.st_ino || a.st_ino == 0 ||
        a.st_type != S_IFREG || a.st_size != 10000 || b.st_nlink != 1)
        return 3;
    return close(fd) == 0 && unlink(T "-rw") == 0 ? 0 : 4;
}

static int check_open_errors(void)
{
    int fd = open(T "-e", O_RDWR | O_CREAT);
    if (fd < 0)
        return 1;
    close(fd);
    if (open(T "-e", O_RDWR | O_CREAT | O_EXCL) != -EEXIST || open(T "-none", O_RDONLY) != -ENOENT)
        return 2;
    if (open(T "-e/x", O_RDONLY) != -ENOTDIR)
        return 3;
    if (open("/tmp/a-name-of-more-than-27-bytes", O_RDONLY | O_CREAT) != -ENAMETOOLONG)
        return 4;
    if (open("/tmp", O_RDWR) != -EISDIR)
        return 5;
    return unlink(T "-e") == 0 ? 0 : 6;
}

static int check_truncate(void)
{
    struct stat st;
    int fd = buffers() ? open(T "-t", O_RDWR | O_CREAT) : -ENOMEM;
    if (fd < 0 || write(fd, buf, 100) != 100)
        return 1;
    close(fd);
    fd = open(T "-t", O_WRONLY | O_TRUNC);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size != 0)
        return 2;
    close(fd);
    return unlink(T "-t") == 0 ? 0 : 3;
}

static int check_holes(void)
{
    int fd = buffers() ? open(T "-h", O_RDWR | O_CREAT) : -ENOMEM;
    memset(back, 0xff, 3 * PAGE);
    if (fd < 0 || lseek(fd, 2 * PAGE + 10, SEEK_SET) != 2 * PAGE + 10 || write(fd, "x", 1) != 1)
        return 1;
    if (lseek(fd, 0, SEEK_SET) != 0 || read(fd, back, 3 * PAGE) != 2 * PAGE + 11)
        return 2;
    for (int i = 0; i < 2 * PAGE + 10; i++)
        if (back[i])
            return 3;
    return back[2 * PAGE + 10] == 'x' && close(fd) == 0 && unlink(T "-h") == 0 ? 0 : 4;
}

static int check_unlink_open(void)
{
    struct stat st;
    int fd = buffers() ? open(T "-u", O_RDWR | O_CREAT) : -ENOMEM;
    if (fd < 0 || write(fd, "kept", 4) != 4 || unlink(T "-u") != 0)
        return 1;
    if (stat(T "-u", &st) != -ENOENT || lseek(fd, 0, SEEK_SET) != 0)
        return 2;
    return read(fd, back, 8) == 4 && memcmp(back, "kept", 4) == 0 ? 0 : 3;
}

static int check_dirs(void)
{
    struct dirent d;
    struct stat st;
    if (!buffers() || mkdir(T "-d") != 0 || mkdir(T "-d") != -EEXIST)
        return 1;
    for (const char *const *p = (const char *const[]){ T "-d/a", T "-d/b", NULL }; *p; p++) {
        int fd = open(*p, O_WRONLY | O_CREAT);
        if (fd < 0)
            return 2;
        close(fd);
    }
    int fd = open(T "-d", O_RDONLY), names = 0;
    if (fd < 0 || read(fd, back, 1) != -EISDIR)
        return 3;
    while (readdir(fd, &d) > 0)
        names += (strcmp(d.d_name, "a") == 0 ? 1 : strcmp(d.d_name, "b") == 0 ? 2 : 100);
    close(fd);
    if (names != 3 || rmdir(T "-d") != -ENOTEMPTY || unlink(T "-d") != -EISDIR)
        return 4;
    if (unlink(T "-d/a") != 0 || unlink(T "-d/b") != 0 || rmdir(T "-d") != 0)
        return 5;
    return stat(T "-d", &st) == -ENOENT && rmdir("/") == -EINVAL ? 0 : 6;
}

static int check_devices(void)
{
    if (!buffers())
        return 4;
    int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDWR);
    memset(back, 0xff, 64);
    if (null < 0 || zero < 0 || read(null, back, 64) != 0 || write(null, buf, 64) != 64)
        return 1;
    if (read(zero, back, 64) != 64 || write(zero, buf, 64) != 64)
        return 2;
    for (int i = 0; i < 64; i++)
        if (back[i])
            return 3;
    return 0;
}

/* A 2-page file T-m of the pattern in buf, opened read-write; the descriptor. */
static int mapped_file(void)
{
    int fd = buffers() ? open(T "-m", O_RDWR | O_CREAT | O_TRUNC) : -ENOMEM;
    return fd >= 0 && write(fd, buf, 2 * PAGE) == 2 * PAGE ? fd : -1;
}

static int check_mmap_shared(void)
{
    int fd = mapped_file();
    volatile uint8_t *p = fd < 0 ? NULL : mmap_file(2 * PAGE, PROT_READ | PROT_WRITE, fd, 0);
    if (!p || p[PAGE + 1] != buf[PAGE + 1])
        return 1;
    p[PAGE + 1] = 0xab;
    if (lseek(fd, PAGE + 1, SEEK_SET) != PAGE + 1 || read(fd, back, 1) != 1 || back[0] != 0xab)
        return 2;
    if (lseek(fd, 5, SEEK_SET) != 5 || write(fd, "z", 1) != 1 || p[5] != 'z')
        return 3;
    return munmap((void *)p, 2 * PAGE) == 0 && unlink(T "-m") == 0 ? 0 : 4;
}

static int check_mmap_fork(void)
{
    int fd = mapped_file();
    volatile uint8_t *p = fd < 0 ? NULL : mmap_file(2 * PAGE, PROT_READ | PROT_WRITE, fd, 0);
    if (!p)
        return 1;
    p[0] = 1;
    int pid = fork(), status = -1;
    if (pid == 0) {
        p[0] = 2;
        exit(0);
    }
    if (pid < 0 || waitpid(pid, &status) != pid || status != 0)
        return 2;
    return p[0] == 2 && unlink(T "-m") == 0 ? 0 : 3;
}

static int check_offset_fork(void)
{
    int fd = open(T "-o", O_RDWR | O_CREAT | O_TRUNC), status = -1;
    if (fd < 0)
        return 1;
    int pid = fork();
    if (pid == 0)
        exit(write(fd, "abc", 3) == 3 ? 0 : 1);
    if (pid < 0 || waitpid(pid, &status) != pid || status != 0)
        return 2;
    return lseek(fd, 0, SEEK_CUR) == 3 && unlink(T "-o") == 0 ? 0 : 3;
}

static int check_mmap_bus(void)
{
    int fd = open(T "-b", O_RDWR | O_CREAT | O_TRUNC);
    volatile uint8_t *p = fd < 0 ? NULL : mmap_file(2 * PAGE, PROT_READ, fd, 0);
    unlink(T "-b");
    return p ? p[PAGE] : 1;             /* the file is empty: the read is past its end */
}

static int check_mmap_ro(void)
{
    int ro = mapped_file() < 0 ? -1 : open(T "-m", O_RDONLY);
    volatile uint8_t *p = ro < 0 ? NULL : mmap_file(PAGE, PROT_READ, ro, 0);
    unlink(T "-m");
    if (!p || mmap_file(PAGE, PROT_READ | PROT_WRITE, ro, 0) ||
        mmap_file(PAGE, PROT_READ, open("/dev/zero", O_RDONLY), 0))
        return 1;
    p[0] = 1;
    return 2;
}

static const struct wl_check checks[] = {
    { "readwrite", check_readwrite, 0 },
    { "open-errors", check_open_errors, 0 },
    { "truncate", check_truncate, 0 },
    { "holes", check_holes, 0 },
    { "unlink-open", check_unlink_open, 0 },
    { "dirs", check_dirs, 0 },
    { "devices", check_devices, 0 },
    { "mmap-shared", check_mmap_shared, 0 },
    { "mmap-fork", check_mmap_fork, 0 },
    { "offset-fork", check_offset_fork, 0 },
    { "mmap-bus", check_mmap_bus, 128 + SIGBUS },
    { "mmap-ro", check_mmap_ro, 128 + SIGSEGV },
};

CHECK_WORKLOAD(fstest, checks, "the file system's semantics");
