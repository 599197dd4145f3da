/* threshold.h — named thresholds: a table of defaults with their reasons over a struct of
 * doubles, set from "NAME=VALUE" on the command line.
 *
 * The checklist (checklist.c) and the regression gate (gate.c) each have one table; this is
 * the mechanism they share. No allocation, no I/O.
 */
#ifndef POOLPROBE_THRESHOLD_H
#define POOLPROBE_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pp_threshold_info {
    const char *name;    /* as given to NAME=VALUE */
    size_t offset;       /* of its double in the table's struct */
    double default_value;
    const char *unit;    /* "share", "bytes", "ns", "/s", "x", "growth", ... */
    const char *why;     /* one line: the reason for the default */
};

/* What a table accepts, for its messages and checks. */
struct pp_threshold_rules {
    const char *kind;    /* "threshold", "gate threshold": names it in messages */
    const char *expect;  /* "a non-negative number": what VALUE must be */
    double max;          /* largest VALUE accepted */
    bool off;            /* "NAME=off" disables the check (stored as INFINITY) */
};

/* Every value of values (the table's struct) to its default. */
void pp_threshold_defaults(const struct pp_threshold_info *table, size_t n, void *values);

/* The value of one entry in values. */
double pp_threshold_value(const struct pp_threshold_info *info, const void *values);

/* Apply "NAME=VALUE"; returns 0, or -1 with a message in err (values unchanged). */
int pp_threshold_assign(const struct pp_threshold_info *table, size_t n, void *values,
                        const struct pp_threshold_rules *rules, const char *assignment,
                        char *err, size_t errlen);

#endif
