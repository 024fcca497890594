/*
 * cmdline.c — key=value words, as in the Multiboot command line `workload=forkwait n=2000`.
 *
 * QEMU passes the kernel's own file name as the first word and vmlab may not; words without an
 * '=' are therefore simply skipped. Pure code, tested on the host (tests/kernel/test_cmdline.c).
 */
#include "lib.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_get(const char *line, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    int found = 0;
    if (size > 0)
        out[0] = '\0';
    while (line && *line) {
        while (is_space(*line))
            line++;
        const char *word = line;
        while (*line && !is_space(*line))
            line++;
        size_t wlen = (size_t)(line - word);
        if (wlen > klen && word[klen] == '=' && strncmp(word, key, klen) == 0) {
            size_t vlen = wlen - klen - 1;
            if (size > 0) {
                if (vlen > size - 1)
                    vlen = size - 1;
                memcpy(out, word + klen + 1, vlen);
                out[vlen] = '\0';
            }
            found = 1;
        }
    }
    return found;
}

int parse_uint(const char *s)
{
    int v = 0, n = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 9)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}
