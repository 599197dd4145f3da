/* threshold.c — named thresholds over a struct of doubles (see threshold.h). */
#include "threshold.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *slot(const struct pp_threshold_info *info, void *values)
{
    return (double *)((char *)values + info->offset);
}

void pp_threshold_defaults(const struct pp_threshold_info *table, size_t n, void *values)
{
    for (size_t i = 0; i < n; i++)
        *slot(&table[i], values) = table[i].default_value;
}

double pp_threshold_value(const struct pp_threshold_info *info, const void *values)
{
    return *(const double *)((const char *)values + info->offset);
}

/* A number, then optionally the unit the reports print for this kind of threshold, so that a
 * value can be copied from a report: bytes take K, M, G, T (powers of 1024, as printed) and an
 * optional B ("4K", "1.0K B", "64KiB"); nanoseconds take ns, us, ms, s, m, h ("1s", "1.0s");
 * shares take % ("2%" = 0.02). -1 when text is not such a value. */
static int parse_value(const char *text, const char *unit, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text)
        return -1;
    if (*end == 0) {
        *out = v;
        return 0;
    }
    while (*end == ' ')
        end++;
    if (*end == 0)
        return -1; /* trailing blanks: a value cut short */
    if (strcmp(unit, "bytes") == 0) {
        static const char prefixes[] = "KMGT";
        const char *p = strchr(prefixes, toupper((unsigned char)*end));
        if (p && *end) {
            v *= ldexp(1, 10 * (int)(p - prefixes + 1));
            end++;
            if (*end == 'i')
                end++;
            while (*end == ' ')
                end++;
        }
        if (*end == 'B' || *end == 'b')
            end++;
    } else if (strcmp(unit, "ns") == 0) {
        static const struct { const char *name; double ns; } units[] = {
            {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
        };
        size_t u = 0;
        while (u < sizeof units / sizeof units[0] && strcmp(end, units[u].name) != 0)
            u++;
        if (u == sizeof units / sizeof units[0])
            return -1;
        v *= units[u].ns;
        end += strlen(units[u].name);
    } else if (strcmp(unit, "share") == 0 && *end == '%') {
        v /= 100;
        end++;
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

int pp_threshold_assign(const struct pp_threshold_info *table, size_t n, void *values,
                        const struct pp_threshold_rules *rules, const char *assignment,
                        char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    size_t len = eq ? (size_t)(eq - assignment) : strlen(assignment);
    for (size_t i = 0; i < n; i++) {
        const char *name = table[i].name;
        if (strlen(name) != len || strncmp(name, assignment, len) != 0)
            continue;
        if (rules->off && eq && strcmp(eq + 1, "off") == 0) {
            *slot(&table[i], values) = INFINITY;
            return 0;
        }
        double v = 0;
        if (!eq || parse_value(eq + 1, table[i].unit, &v) || !isfinite(v) || v < 0 ||
            v > rules->max) {
            const char *example = strcmp(table[i].unit, "bytes") == 0 ? " (e.g. 4K or 4096)"
                                  : strcmp(table[i].unit, "ns") == 0  ? " (e.g. 1s, 250ms)"
                                  : strcmp(table[i].unit, "share") == 0 ? " (e.g. 0.02 or 2%)"
                                                                        : "";
            snprintf(err, errlen, "%s %s needs %s%s: %s=VALUE", rules->kind, name,
                     rules->expect, example, name);
            return -1;
        }
        *slot(&table[i], values) = v;
        return 0;
    }
    snprintf(err, errlen, "unknown %s '%.*s' (see --list-thresholds)", rules->kind, (int)len,
             assignment);
    return -1;
}
