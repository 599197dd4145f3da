/* log.c — the shim's only voice: one line on stderr, prefixed "poolprobe: "; and the number
 * parsing the shim does on /proc files (no locale, no errno).
 *
 * Runs inside the host process, possibly from a malloc hook or a signal handler, so it never
 * uses stdio or malloc: a tiny formatter into a stack buffer, then write(2) with EINTR retry.
 * errno is preserved.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

struct out {
    char *buf;
    size_t cap, len;
};

static void put_char(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put_char(o, *s++);
}

static void put_uint(struct out *o, unsigned long long v, unsigned base)
{
    char digits[32];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        put_char(o, digits[--n]);
}

static size_t format_va(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct out o = {buf, cap, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put_char(&o, *f);
            continue;
        }
        f++;
        int longs = 0, size_t_arg = 0;
        while (*f == 'l') {
            longs++;
            f++;
        }
        if (*f == 'z') {
            size_t_arg = 1;
            f++;
        }
        switch (*f) {
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'c':
            put_char(&o, (char)va_arg(ap, int));
            break;
        case 'd': {
            long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
            if (longs == 1)
                v = (long)v;
            if (v < 0) {
                put_char(&o, '-');
                v = -v;
            }
            put_uint(&o, (unsigned long long)v, 10);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v;
            if (size_t_arg)
                v = va_arg(ap, size_t);
            else if (longs)
                v = va_arg(ap, unsigned long long);
            else
                v = va_arg(ap, unsigned);
            put_uint(&o, v, *f == 'x' ? 16 : 10);
            break;
        }
        case '%':
            put_char(&o, '%');
            break;
        default:
            put_char(&o, '?');
            if (!*f)
                f--;
        }
    }
    if (cap)
        buf[o.len] = '\0';
    return o.len;
}

size_t pp_format(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_va(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static dev_t stderr_dev;
static ino_t stderr_ino;
static int stderr_known;

void pp_log_init(void)
{
    struct stat st;
    if (fstat(STDERR_FILENO, &st) == 0) {
        stderr_dev = st.st_dev;
        stderr_ino = st.st_ino;
        stderr_known = 1;
    }
}

static int stderr_unchanged(void)
{
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return 0;
    /* Before pp_log_init (very early messages) fd 2 is what we were started with. */
    return !stderr_known || (st.st_dev == stderr_dev && st.st_ino == stderr_ino);
}

void pp_log(const char *fmt, ...)
{
    int saved = errno;
    if (!stderr_unchanged()) {
        errno = saved;
        return;
    }
    char line[512];
    size_t n = pp_format(line, sizeof line, "%s", "poolprobe: ");
    va_list ap;
    va_start(ap, fmt);
    n += format_va(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    errno = saved;
}

uint64_t pp_parse_uint(const char **p, const char *end, unsigned base)
{
    uint64_t v = 0;
    for (; *p < end; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 99u;
        if (d >= base)
            break;
        v = v * base + d;
    }
    return v;
}
