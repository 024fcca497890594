/*
 * file.c — console and pipe files (see file.h).
 */
#include "kernel.h"
#include "file.h"
#include "proc.h"
#include "syscall_nr.h"

#define NFILE     64
#define NPIPE     16
#define PIPE_SIZE 1024

enum file_type { F_NONE, F_CONSOLE, F_PIPE_READ, F_PIPE_WRITE };

struct pipe {
    uint8_t buf[PIPE_SIZE];
    uint32_t nread, nwrite;         /* bytes read / written so far; nwrite - nread are buffered */
    int readers, writers;           /* open ends */
};

struct file {
    enum file_type type;
    int refs;
    struct pipe *pipe;
};

struct file console_file = { F_CONSOLE, 1, NULL };
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
    if (f->type == F_PIPE_READ) {
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

int file_read(struct file *f, uint8_t *buf, uint32_t n)
{
    switch (f->type) {
    case F_CONSOLE:
        return 0;
    case F_PIPE_READ:
        return pipe_read(f->pipe, buf, n);
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
    default:
        return -EBADF;
    }
}

static struct file *file_new(enum file_type type, struct pipe *p)
{
    for (int i = 0; i < NFILE; i++) {
        if (files[i].type == F_NONE) {
            files[i].type = type;
            files[i].refs = 1;
            files[i].pipe = p;
            return &files[i];
        }
    }
    return NULL;
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
