/*
 * fs.c — the in-memory file system (fs.h has the model and the inode life cycle).
 *
 * Inodes live in one static table; inode number = index + 1, and the root is number 1. Paths
 * are walked one component at a time from the root: walk() finds the directory that holds the
 * last component and hands back that name, so that open, create, unlink, mkdir and rmdir all
 * start the same way. A directory lookup scans its entry slots in order (directories here hold a
 * handful of names; lmbench's own file-system test uses one directory of up to a thousand).
 *
 * Data pages: page_frame() maps a page index to its frame through the inode's direct slots and
 * its indirect frame, allocating on demand when asked; reads of a hole see zeros without
 * allocating. Writes and reads copy between the frames (reached through the kernel's direct map)
 * and the caller's user buffer.
 */
#include "kernel.h"
#include "chardev.h"
#include "fs.h"
#include "layout.h"
#include "mm.h"
#include "syscall_nr.h"

#define FS_NINODE   1024
#define FS_NDIRECT  8
#define FS_INDIRECT (PAGE_SIZE / sizeof(uint32_t))
#define FS_MAX_PAGES (FS_NDIRECT + FS_INDIRECT)
#define DIRENTS_PER_PAGE (PAGE_SIZE / sizeof(struct dirent))

struct inode {
    uint8_t type;                   /* 0: free; S_IFDIR, S_IFREG, S_IFCHR */
    uint8_t dev;                    /* S_IFCHR: enum chardev */
    uint16_t nlink;                 /* directory entries naming it (the root: 1, for ever) */
    uint32_t refs;                  /* open files and mmap regions */
    uint32_t size;                  /* bytes; a directory: slots * sizeof(struct dirent) */
    uint32_t direct[FS_NDIRECT];    /* frames of pages 0 .. FS_NDIRECT - 1, 0 = hole */
    uint32_t indirect;              /* frame of FS_INDIRECT more page frames, 0 = none */
};

static struct inode inodes[FS_NINODE];
static struct inode *const root = &inodes[0];

static uint32_t ino_of(const struct inode *ip) { return (uint32_t)(ip - inodes) + 1; }

/* ---- data pages ---------------------------------------------------------------------------- */

/* The slot holding page idx's frame; NULL past the largest file, or when the indirect frame is
 * missing and `alloc` is false or memory is exhausted. */
static uint32_t *page_slot(struct inode *ip, uint32_t idx, bool alloc)
{
    if (idx < FS_NDIRECT)
        return &ip->direct[idx];
    idx -= FS_NDIRECT;
    if (idx >= FS_INDIRECT)
        return NULL;
    if (!ip->indirect && (!alloc || !(ip->indirect = frame_alloc_zeroed())))
        return NULL;
    return (uint32_t *)P2V(ip->indirect) + idx;
}

/* The frame of page idx; with `alloc`, a hole gets a zeroed frame. 0: a hole, or no memory. */
static uint32_t page_frame(struct inode *ip, uint32_t idx, bool alloc)
{
    uint32_t *slot = page_slot(ip, idx, alloc);
    if (!slot)
        return 0;
    if (!*slot && alloc)
        *slot = frame_alloc_zeroed();
    return *slot;
}

/* Frees every data frame and the indirect frame; the file is empty afterwards. */
static void truncate(struct inode *ip)
{
    for (uint32_t i = 0; i < FS_NDIRECT; i++)
        if (ip->direct[i])
            frame_free(ip->direct[i]);
    if (ip->indirect) {
        uint32_t *more = P2V(ip->indirect);
        for (uint32_t i = 0; i < FS_INDIRECT; i++)
            if (more[i])
                frame_free(more[i]);
        frame_free(ip->indirect);
    }
    memset(ip->direct, 0, sizeof(ip->direct));
    ip->indirect = 0;
    ip->size = 0;
}

/* Frees ip once nothing names it and nothing holds it. */
static void release_if_unused(struct inode *ip)
{
    if (ip->nlink == 0 && ip->refs == 0) {
        truncate(ip);
        ip->type = 0;
    }
}

/* ---- directories --------------------------------------------------------------------------- */

/* Slot i of directory dir (i below its slot count: its page exists). */
static struct dirent *dir_slot(struct inode *dir, uint32_t i)
{
    return (struct dirent *)P2V(page_frame(dir, i / DIRENTS_PER_PAGE, false)) +
           i % DIRENTS_PER_PAGE;
}

static uint32_t dir_slots(const struct inode *dir) { return dir->size / sizeof(struct dirent); }

/* The entry named name[0..len) in dir, or NULL. */
static struct dirent *dir_find(struct inode *dir, const char *name, size_t len)
{
    for (uint32_t i = 0; i < dir_slots(dir); i++) {
        struct dirent *d = dir_slot(dir, i);
        if (d->d_ino && strncmp(d->d_name, name, len) == 0 && d->d_name[len] == '\0')
            return d;
    }
    return NULL;
}

static struct inode *dir_lookup(struct inode *dir, const char *name, size_t len)
{
    struct dirent *d = dir_find(dir, name, len);
    return d ? &inodes[d->d_ino - 1] : NULL;
}

/* Adds name -> ip to dir: the first free slot, else a new one at the end. */
static int dir_add(struct inode *dir, const char *name, struct inode *ip)
{
    struct dirent *d = NULL;
    for (uint32_t i = 0; i < dir_slots(dir) && !d; i++)
        if (!dir_slot(dir, i)->d_ino)
            d = dir_slot(dir, i);
    if (!d) {
        uint32_t i = dir_slots(dir);
        if (i / DIRENTS_PER_PAGE >= FS_MAX_PAGES || !page_frame(dir, i / DIRENTS_PER_PAGE, true))
            return -ENOSPC;
        dir->size += sizeof(struct dirent);
        d = dir_slot(dir, i);
    }
    d->d_ino = ino_of(ip);
    fmt(d->d_name, sizeof(d->d_name), "%s", name);
    return 0;
}

static bool dir_empty(struct inode *dir)
{
    for (uint32_t i = 0; i < dir_slots(dir); i++)
        if (dir_slot(dir, i)->d_ino)
            return false;
    return true;
}

/* ---- paths --------------------------------------------------------------------------------- */

/* Walks path to the directory holding its last component: *dir gets that directory and `name`
 * the component ("" for the root itself). -ENOENT or -ENOTDIR for a missing or non-directory
 * component on the way, -ENAMETOOLONG for a component longer than FS_NAME_MAX. */
static int walk(const char *path, struct inode **dir, char name[FS_NAME_MAX + 1])
{
    struct inode *d = root;
    for (const char *p = path;;) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len > FS_NAME_MAX)
            return -ENAMETOOLONG;
        const char *rest = p;
        while (*rest == '/')
            rest++;
        if (!*rest) {
            memcpy(name, start, len);
            name[len] = '\0';
            *dir = d;
            return 0;
        }
        d = dir_lookup(d, start, len);
        if (!d)
            return -ENOENT;
        if (d->type != S_IFDIR)
            return -ENOTDIR;
    }
}

/* The inode path names, or a negative error. */
static int lookup(const char *path, struct inode **out)
{
    struct inode *dir;
    char name[FS_NAME_MAX + 1];
    int r = walk(path, &dir, name);
    if (r < 0)
        return r;
    *out = name[0] ? dir_lookup(dir, name, strlen(name)) : dir;
    return *out ? 0 : -ENOENT;
}

/* A new inode of `type` named `name` in dir (the name must be free). */
static int create(struct inode *dir, const char *name, uint8_t type, struct inode **out)
{
    struct inode *ip = NULL;
    for (int i = 1; i < FS_NINODE && !ip; i++)
        if (!inodes[i].type)
            ip = &inodes[i];
    if (!ip)
        return -ENFILE;
    memset(ip, 0, sizeof(*ip));
    ip->type = type;
    int r = dir_add(dir, name, ip);
    if (r < 0) {
        ip->type = 0;
        return r;
    }
    ip->nlink = 1;
    *out = ip;
    return 0;
}

/* Resolves path to (directory, existing inode named in it) for unlink and rmdir. */
static int named(const char *path, struct inode **dir, struct dirent **entry, struct inode **ip)
{
    char name[FS_NAME_MAX + 1];
    int r = walk(path, dir, name);
    if (r < 0)
        return r;
    if (!name[0])
        return -EINVAL;                 /* the root */
    *entry = dir_find(*dir, name, strlen(name));
    if (!*entry)
        return -ENOENT;
    *ip = &inodes[(*entry)->d_ino - 1];
    return 0;
}

/* ---- the interface ------------------------------------------------------------------------- */

void fs_init(void)
{
    struct inode *dev, *node;
    root->type = S_IFDIR;
    root->nlink = 1;
    if (fs_mkdir("/dev") < 0 || fs_mkdir("/tmp") < 0 || lookup("/dev", &dev) < 0)
        panic("cannot build the root file system");
    for (int d = 0; d < NCHARDEV; d++) {
        if (create(dev, chardev_name((enum chardev)d), S_IFCHR, &node) < 0)
            panic("cannot create /dev/%s", chardev_name((enum chardev)d));
        node->dev = (uint8_t)d;
    }
}

int fs_open(const char *path, int flags, struct inode **out)
{
    struct inode *dir, *ip;
    char name[FS_NAME_MAX + 1];
    int r = walk(path, &dir, name);
    if (r < 0)
        return r;
    ip = name[0] ? dir_lookup(dir, name, strlen(name)) : dir;
    bool writing = (flags & O_ACCMODE) != O_RDONLY;
    if (ip && (flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    if (!ip && !(flags & O_CREAT))
        return -ENOENT;
    if (!ip && (r = create(dir, name, S_IFREG, &ip)) < 0)
        return r;
    if (ip->type == S_IFDIR && writing)
        return -EISDIR;
    if (ip->type == S_IFREG && writing && (flags & O_TRUNC))
        truncate(ip);
    *out = fs_get(ip);
    return 0;
}

struct inode *fs_get(struct inode *ip)
{
    ip->refs++;
    return ip;
}

void fs_put(struct inode *ip)
{
    KASSERT(ip->refs > 0);
    ip->refs--;
    release_if_unused(ip);
}

int fs_read(struct inode *ip, uint32_t off, uint8_t *buf, uint32_t n)
{
    if (ip->type == S_IFCHR)
        return chardev_read((enum chardev)ip->dev, buf, n);
    if (ip->type == S_IFDIR)
        return -EISDIR;
    if (off >= ip->size)
        return 0;
    if (n > ip->size - off)
        n = ip->size - off;
    for (uint32_t done = 0; done < n;) {
        uint32_t at = off + done, in = at % PAGE_SIZE, chunk = PAGE_SIZE - in;
        if (chunk > n - done)
            chunk = n - done;
        uint32_t frame = page_frame(ip, at / PAGE_SIZE, false);
        if (frame)
            memcpy(buf + done, (uint8_t *)P2V(frame) + in, chunk);
        else
            memset(buf + done, 0, chunk);
        done += chunk;
    }
    return (int)n;
}

int fs_write(struct inode *ip, uint32_t off, const uint8_t *buf, uint32_t n)
{
    if (ip->type == S_IFCHR)
        return chardev_write((enum chardev)ip->dev, buf, n);
    if (ip->type == S_IFDIR)
        return -EISDIR;
    if (off > FS_MAX_PAGES * PAGE_SIZE || n > FS_MAX_PAGES * PAGE_SIZE - off)
        return -EFBIG;
    uint32_t done = 0;
    while (done < n) {
        uint32_t at = off + done, in = at % PAGE_SIZE, chunk = PAGE_SIZE - in;
        if (chunk > n - done)
            chunk = n - done;
        uint32_t frame = page_frame(ip, at / PAGE_SIZE, true);
        if (!frame)
            break;
        memcpy((uint8_t *)P2V(frame) + in, buf + done, chunk);
        done += chunk;
        if (off + done > ip->size)
            ip->size = off + done;
    }
    return done || !n ? (int)done : -ENOSPC;
}

int fs_readdir(struct inode *dir, uint32_t *pos, struct dirent *out)
{
    if (dir->type != S_IFDIR)
        return -ENOTDIR;
    for (; *pos < dir_slots(dir); (*pos)++) {
        struct dirent *d = dir_slot(dir, *pos);
        if (d->d_ino) {
            *out = *d;
            (*pos)++;
            return 1;
        }
    }
    return 0;
}

void fs_stat(const struct inode *ip, struct stat *st)
{
    st->st_ino = ino_of(ip);
    st->st_type = ip->type;
    st->st_nlink = ip->nlink;
    st->st_size = ip->size;
}

int fs_stat_path(const char *path, struct stat *st)
{
    struct inode *ip;
    int r = lookup(path, &ip);
    if (r == 0)
        fs_stat(ip, st);
    return r;
}

int fs_unlink(const char *path)
{
    struct inode *dir, *ip;
    struct dirent *entry;
    int r = named(path, &dir, &entry, &ip);
    if (r < 0)
        return r == -EINVAL ? -EISDIR : r;
    if (ip->type == S_IFDIR)
        return -EISDIR;
    entry->d_ino = 0;
    ip->nlink--;
    release_if_unused(ip);
    return 0;
}

int fs_mkdir(const char *path)
{
    struct inode *dir, *ip;
    char name[FS_NAME_MAX + 1];
    int r = walk(path, &dir, name);
    if (r < 0)
        return r;
    if (!name[0] || dir_lookup(dir, name, strlen(name)))
        return -EEXIST;
    return create(dir, name, S_IFDIR, &ip);
}

int fs_rmdir(const char *path)
{
    struct inode *dir, *ip;
    struct dirent *entry;
    int r = named(path, &dir, &entry, &ip);
    if (r < 0)
        return r;
    if (ip->type != S_IFDIR)
        return -ENOTDIR;
    if (!dir_empty(ip))
        return -ENOTEMPTY;
    entry->d_ino = 0;
    ip->nlink--;
    release_if_unused(ip);
    return 0;
}

uint32_t fs_type(const struct inode *ip) { return ip->type; }
uint32_t fs_size(const struct inode *ip) { return ip->size; }

uint32_t fs_page(struct inode *ip, uint32_t index)
{
    if (ip->type != S_IFREG || index >= ALIGN_UP(ip->size, PAGE_SIZE) / PAGE_SIZE)
        return 0;
    return page_frame(ip, index, true);
}
