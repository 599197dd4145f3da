/* numfmt.c — human-readable bytes, counts and durations (see numfmt.h). */
#include "numfmt.h"

#include <inttypes.h>
#include <stdio.h>

static char *scaled(char *buf, size_t len, double v, double step, const char *const *units)
{
    size_t u = 0;
    while (v >= step && units[u + 1]) {
        v /= step;
        u++;
    }
    if (u == 0 && v == (double)(uint64_t)v)
        snprintf(buf, len, "%" PRIu64, (uint64_t)v);
    else if (v < 9.95)
        snprintf(buf, len, "%.1f%s", v, units[u]);
    else
        snprintf(buf, len, "%.0f%s", v, units[u]);
    return buf;
}

char *pp_human_bytes(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", NULL};
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64, bytes);
        return buf;
    }
    return scaled(buf, len, (double)bytes, 1024, units);
}

char *pp_human_count(char *buf, size_t len, double count)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", NULL};
    if (count < 1000 && count >= 10) {
        snprintf(buf, len, "%.0f", count);
        return buf;
    }
    return scaled(buf, len, count, 1000, units);
}

char *pp_human_ns(char *buf, size_t len, uint64_t ns)
{
    double v = (double)ns;
    const char *unit;
    if (ns < 1000) {
        snprintf(buf, len, "%" PRIu64 "ns", ns);
        return buf;
    } else if (v < 1e6) {
        v /= 1e3, unit = "us";
    } else if (v < 1e9) {
        v /= 1e6, unit = "ms";
    } else if (v < 60e9) {
        v /= 1e9, unit = "s";
    } else if (v < 3600e9) {
        v /= 60e9, unit = "m";
    } else {
        v /= 3600e9, unit = "h";
    }
    snprintf(buf, len, v < 9.95 ? "%.1f%s" : "%.0f%s", v, unit);
    return buf;
}
