/*
 * file.c — open files: the console, pipes and file-system files, and the descriptor table that
 * names them per process (see file.h).
 */
#include "kernel.h"
#include "file.h"
#include "fs.h"
#include "proc.h"
#include "signal.h"
#include "syscall_nr.h"

#define NFILE     64
#define NPIPE     16
#define PIPE_SIZE 1024

enum file_type { F_NONE, F_CONSOLE, F_PIPE_READ, F_PIPE_WRITE, F_INODE };

struct pipe {
    uint8_t buf[PIPE_SIZE];
    uint32_t nread, nwrite;         /* bytes read / written so far; nwrite - nread are buffered */
    int readers, writers;           /* open ends */
};

struct file {
    enum file_type type;
    int refs;
    struct pipe *pipe;              /* F_PIPE_* */
    struct inode *ip;               /* F_INODE: holds one reference */
    uint32_t off;                   /* F_INODE: the offset reads and writes start at */
    int mode;                       /* F_INODE: O_RDONLY, O_WRONLY or O_RDWR */
};

struct file console_file = { .type = F_CONSOLE, .refs = 1 };
static struct file files[NFILE];
static struct pipe pipes[NPIPE];

struct file *file_dup(struct file *f)
{
    if (f && f->type != F_CONSOLE)
        f->refs++;
    return f;
}

void file_close(struct file *f)
{
    if (f->type == F_CONSOLE || --f->refs > 0)
        return;
    struct pipe *p = f->pipe;
    if (f->type == F_INODE) {
        fs_put(f->ip);
        f->ip = NULL;
    } else if (f->type == F_PIPE_READ) {
        p->readers--;
        wakeup(&p->nwrite);
    } else {
        p->writers--;
        wakeup(&p->nread);
    }
    f->type = F_NONE;
    f->pipe = NULL;
}

static int pipe_read(struct pipe *p, uint8_t *buf, uint32_t n)
{
    while (p->nread == p->nwrite) {
        if (p->writers == 0)
            return 0;
        if (signal_pending(current))
            return -EINTR;
        sleep_on(&p->nread);
    }
    uint32_t i = 0;
    for (; i < n && p->nread != p->nwrite; i++)
        buf[i] = p->buf[p->nread++ % PIPE_SIZE];
    wakeup(&p->nwrite);
    return (int)i;
}

static int pipe_write(struct pipe *p, const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        if (p->readers == 0)
            return -EPIPE;
        if (p->nwrite - p->nread == PIPE_SIZE) {
            if (signal_pending(current))
                return i ? (int)i : -EINTR;
            wakeup(&p->nread);
            sleep_on(&p->nwrite);
            continue;
        }
        while (i < n && p->nwrite - p->nread < PIPE_SIZE)
            p->buf[p->nwrite++ % PIPE_SIZE] = buf[i++];
        wakeup(&p->nread);
    }
    return (int)n;
}

/* A read or write of an F_INODE file at its offset, which moves by what was done. */
static int inode_io(struct file *f, uint8_t *buf, uint32_t n, bool write)
{
    int acc = f->mode & O_ACCMODE;
    if (write ? acc == O_RDONLY : acc == O_WRONLY)
        return -EBADF;
    int r = write ? fs_write(f->ip, f->off, buf, n) : fs_read(f->ip, f->off, buf, n);
    if (r > 0 && fs_type(f->ip) == S_IFREG)
        f->off += (uint32_t)r;
    return r;
}

int file_read(struct file *f, uint8_t *buf, uint32_t n)
{
    switch (f->type) {
    case F_CONSOLE:
        return 0;
    case F_PIPE_READ:
        return pipe_read(f->pipe, buf, n);
    case F_INODE:
        return inode_io(f, buf, n, false);
    default:
        return -EBADF;
    }
}

int file_write(struct file *f, const uint8_t *buf, uint32_t n)
{
    switch (f->type) {
    case F_CONSOLE:
        console_write((const char *)buf, n);
        return (int)n;
    case F_PIPE_WRITE:
        return pipe_write(f->pipe, buf, n);
    case F_INODE:
        return inode_io(f, (uint8_t *)buf, n, true);
    default:
        return -EBADF;
    }
}

static struct file *file_new(enum file_type type, struct pipe *p)
{
    for (int i = 0; i < NFILE; i++) {
        if (files[i].type == F_NONE) {
            files[i] = (struct file){ .type = type, .refs = 1, .pipe = p };
            return &files[i];
        }
    }
    return NULL;
}

struct file *file_open_inode(struct inode *ip, int flags)
{
    struct file *f = file_new(F_INODE, NULL);
    if (f) {
        f->ip = ip;
        f->mode = flags & O_ACCMODE;
    }
    return f;
}

struct inode *file_inode(const struct file *f)
{
    return f->type == F_INODE ? f->ip : NULL;
}

bool file_writable(const struct file *f)
{
    return f->type == F_PIPE_WRITE || f->type == F_CONSOLE ||
           (f->type == F_INODE && (f->mode & O_ACCMODE) != O_RDONLY);
}

int file_seek(struct file *f, int32_t off, int whence)
{
    if (f->type != F_INODE || fs_type(f->ip) != S_IFREG)
        return -ESPIPE;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->off
                 : whence == SEEK_END ? (int64_t)fs_size(f->ip) : -1;
    int64_t at = base + off;
    if (base < 0 || at < 0 || at > 0x7fffffff)
        return -EINVAL;
    f->off = (uint32_t)at;
    return (int)at;
}

int file_readdir(struct file *f, struct dirent *out)
{
    if (f->type != F_INODE)
        return -ENOTDIR;
    return fs_readdir(f->ip, &f->off, out);
}

void file_stat(const struct file *f, struct stat *st)
{
    if (f->type == F_INODE) {
        fs_stat(f->ip, st);
        return;
    }
    *st = (struct stat){ .st_type = f->type == F_CONSOLE ? S_IFCHR : S_IFIFO, .st_nlink = 1 };
}

struct file *fd_get(uint32_t fd)
{
    return fd < NFD ? current->fd[fd] : NULL;
}

int fd_install(struct file *f)
{
    for (int fd = 0; fd < NFD; fd++) {
        if (!current->fd[fd]) {
            current->fd[fd] = f;
            return fd;
        }
    }
    return -EMFILE;
}

int pipe_create(struct file **read_end, struct file **write_end)
{
    struct pipe *p = NULL;
    for (int i = 0; i < NPIPE && !p; i++)
        if (pipes[i].readers == 0 && pipes[i].writers == 0)
            p = &pipes[i];
    if (!p)
        return -EMFILE;
    struct file *r = file_new(F_PIPE_READ, p);
    if (!r)
        return -EMFILE;
    struct file *w = file_new(F_PIPE_WRITE, p);
    if (!w) {
        r->type = F_NONE;
        return -EMFILE;
    }
    p->nread = p->nwrite = 0;
    p->readers = p->writers = 1;
    *read_end = r;
    *write_end = w;
    return 0;
}
