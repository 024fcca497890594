/*
 * fmt.c — printf-style formatting into a caller's buffer, for the kernel and the user programs.
 *
 * Supported: %d %i %u %x %X %p %s %c %%, a field width, the '0' and '-' flags, and the 'l'
 * modifier (ignored: int and long are both 32 bits in the guest). No floating point: the guest
 * never touches the FPU. The output is always NUL-terminated when size > 0; the return value is the
 * length the whole output would have had, as with snprintf, so callers can detect truncation.
 */
#include "lib.h"

struct out {
    char *buf;
    size_t size;
    size_t len;         /* characters produced so far, including those that did not fit */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, char pad, int left)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left)
        while (fill-- > 0)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

/* Writes the digits of v in base 10 or 16 into tmp (backwards); returns the digit count. */
static size_t digits(char tmp[12], uint32_t v, unsigned base, int upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t n = 0;
    do {
        tmp[11 - n++] = set[v % base];
        v /= base;
    } while (v);
    return n;
}

static void put_number(struct out *o, uint32_t v, int negative, unsigned base, int upper,
                       int width, char pad, int left)
{
    char tmp[12];
    size_t n = digits(tmp, v, base, upper);
    if (negative) {
        if (pad == '0') {
            put(o, '-');
            width = width > 0 ? width - 1 : 0;
        } else {
            tmp[11 - n++] = '-';
        }
    }
    put_padded(o, tmp + 12 - n, n, width, pad, left);
}

int vfmt(char *buf, size_t size, const char *f, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        int left = 0;
        char pad = ' ';
        for (; *f == '-' || *f == '0'; f++) {
            if (*f == '-')
                left = 1;
            else
                pad = '0';
        }
        int width = 0;
        for (; *f >= '0' && *f <= '9'; f++)
            width = width * 10 + (*f - '0');
        while (*f == 'l')
            f++;
        if (left)
            pad = ' ';
        switch (*f) {
        case 'd':
        case 'i': {
            int32_t v = va_arg(ap, int32_t);
            uint32_t mag = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
            put_number(&o, mag, v < 0, 10, 0, width, pad, left);
            break;
        }
        case 'u':
            put_number(&o, va_arg(ap, uint32_t), 0, 10, 0, width, pad, left);
            break;
        case 'x':
        case 'X':
            put_number(&o, va_arg(ap, uint32_t), 0, 16, *f == 'X', width, pad, left);
            break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_number(&o, (uint32_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, 8, '0', 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = 0;
            while (s[n])
                n++;
            put_padded(&o, s, n, width, ' ', left);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, width, ' ', left);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            f--;
            break;
        default:
            put(&o, '%');
            put(&o, *f);
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vfmt(buf, size, f, ap);
    va_end(ap);
    return n;
}
