/* threshold.c — named thresholds over a struct of doubles (see threshold.h). */
#include "threshold.h"

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
        char *end;
        double v = eq ? strtod(eq + 1, &end) : 0;
        if (!eq || end == eq + 1 || *end || !isfinite(v) || v < 0 || v > rules->max) {
            snprintf(err, errlen, "%s %s needs %s: %s=VALUE", rules->kind, name, rules->expect,
                     name);
            return -1;
        }
        *slot(&table[i], values) = v;
        return 0;
    }
    snprintf(err, errlen, "unknown %s '%.*s' (see --list-thresholds)", rules->kind, (int)len,
             assignment);
    return -1;
}

void pp_threshold_print(FILE *out, const struct pp_threshold_info *table, size_t n,
                        const void *values)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-20s %-12g %s (default %g)\n      %s\n", table[i].name,
                pp_threshold_value(&table[i], values), table[i].unit, table[i].default_value,
                table[i].why);
}
