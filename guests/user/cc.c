/*
 * cc.c — the compiler-like program of the kerncomp workload (wl_kerncomp.c has the whole mix).
 * It does what a compiler and a linker do to the machine, not what they compute:
 *
 *   cc -c SRC -o OBJ   compile: grow the heap by CC_HEAP_PAGES pages and write each (a compiler's
 *                      working memory: one demand-zero fault a page), read SRC and the headers
 *                      its first line names (`#include h1 h5 ...`, from /src/include) in 4 KiB
 *                      reads, hash every byte, do CC_ROUNDS rounds of the compute workload's
 *                      integer work (compute.h) and write OBJ: SRC's size / 4 bytes made from
 *                      the hash
 *   cc -r DIR -o OUT   link: read every file of directory DIR (readdir) into a heap buffer and
 *                      write them, one after the other, to OUT (a `ld -r` of the directory's
 *                      objects)
 *
 * Exit status 0, or 1 when a file cannot be read or written (with a line saying which), 2 for a
 * bad command line.
 */
#include "ulib.h"
#include "compute.h"

#define CC_HEAP_PAGES 16
#define CC_ROUNDS 40
#define CC_MAX_INPUT (48 * 1024)
#define CC_MAX_HEADERS 8
#define PAGE 4096

/* Appends the whole file `path` to buf at *len (at most CC_MAX_INPUT in all); -1 on failure. */
static int slurp(const char *path, uint8_t *buf, uint32_t *len)
{
    int fd = open(path, O_RDONLY), r = 0;
    if (fd < 0) {
        printf("cc: %s: cannot open (%d)\n", path, fd);
        return -1;
    }
    while (*len < CC_MAX_INPUT && (r = read(fd, buf + *len, CC_MAX_INPUT - *len < PAGE
                                                         ? CC_MAX_INPUT - *len : PAGE)) > 0)
        *len += (uint32_t)r;
    close(fd);
    return r < 0 ? -1 : 0;
}

static int spill(const char *path, const uint8_t *buf, uint32_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC);
    int r = fd < 0 ? fd : write(fd, buf, len);
    if (fd >= 0)
        close(fd);
    if (r != (int)len) {
        printf("cc: %s: cannot write (%d)\n", path, r);
        return -1;
    }
    return 0;
}

static uint32_t hash(const uint8_t *p, uint32_t len, uint32_t x)
{
    for (uint32_t i = 0; i < len; i++)
        x = compute_mix(x ^ p[i]);
    return x;
}

static int compile(const char *src, const char *obj)
{
    uint8_t *mem = sbrk(CC_HEAP_PAGES * PAGE);
    if (!mem)
        return 1;
    for (int i = 0; i < CC_HEAP_PAGES; i++)
        mem[i * PAGE] = 0;
    uint32_t *table = (uint32_t *)mem;          /* 256 words, zero: compute_rounds' table */
    uint8_t *in = mem + 1024;
    uint32_t len = 0;
    if (slurp(src, in, &len) < 0)
        return 1;
    uint32_t src_len = len;
    char line[64], path[FS_PATH_MAX];
    uint32_t first = len < sizeof(line) - 1 ? len : (uint32_t)sizeof(line) - 1;
    for (uint32_t i = 0; i < first; i++)      /* the file's bytes are not a C string */
        line[i] = (char)in[i];
    line[first] = '\0';
    const char *words[CC_MAX_HEADERS + 2];
    int nwords = 0;
    for (char *p = line; *p && *p != '\n' && nwords < CC_MAX_HEADERS + 1;) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p && *p != '\n')
            words[nwords++] = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
        if (*p == '\n')
            *p = '\0';
    }
    for (int i = 1; i < nwords; i++) {        /* words[0] is "#include" */
        fmt(path, sizeof(path), "/src/include/%s.h", words[i]);
        if (slurp(path, in, &len) < 0)
            return 1;
    }
    uint32_t x = hash(in, len, COMPUTE_SEED) ^ compute_rounds(table, CC_ROUNDS);
    uint8_t *out = in + len;
    for (uint32_t i = 0; i < src_len / 4; i++) {
        x = compute_mix(x + i);
        out[i] = (uint8_t)x;
    }
    return spill(obj, out, src_len / 4) < 0;
}

static int link(const char *dir, const char *out)
{
    uint8_t *buf = sbrk(CC_MAX_INPUT);
    char path[FS_PATH_MAX];
    struct dirent d;
    uint32_t len = 0;
    int fd = buf ? open(dir, O_RDONLY) : -ENOMEM;
    if (fd < 0) {
        printf("cc: %s: cannot open (%d)\n", dir, fd);
        return 1;
    }
    while (readdir(fd, &d) > 0) {
        fmt(path, sizeof(path), "%s/%s", dir, d.d_name);
        if (slurp(path, buf, &len) < 0) {
            close(fd);
            return 1;
        }
    }
    close(fd);
    return spill(out, buf, len) < 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "-c") == 0 && strcmp(argv[3], "-o") == 0)
        return compile(argv[2], argv[4]);
    if (argc == 5 && strcmp(argv[1], "-r") == 0 && strcmp(argv[3], "-o") == 0)
        return link(argv[2], argv[4]);
    printf("usage: cc -c SRC -o OBJ | cc -r DIR -o OUT\n");
    return 2;
}
