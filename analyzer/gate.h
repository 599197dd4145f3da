/* gate.h — the regression gate: compare a run with a baseline and decide whether its
 * allocations regressed.
 *
 * What is gated (each a named, documented, overridable threshold in pp_gate_threshold_table):
 * total allocations, total bytes, peak live bytes, the allocation count of every site holding
 * at least site_min_share of all allocations, and new sites holding at least new_site_share.
 * Sites are matched by key (baseline.h); a site that is not in the baseline is new.
 *
 * The rules, exactly:
 *   - "+5%" means: current > baseline x 1.05 regresses; exactly +5% passes. Thresholds are taken
 *     to the millionth and compared in integer arithmetic, so the edge is exact.
 *   - When both runs declared operations (ops > 0), allocations and bytes are compared per
 *     operation (allocs/op, bytes/op, as `go test -benchmem`); peak live bytes never are (a
 *     peak does not grow with the number of operations of a program that frees as it goes).
 *   - A site is gated when it holds at least site_min_share of all allocations in either run.
 *     A new site is a regression when it holds at least new_site_share of the current run.
 *   - Improvements are the mirror image: baseline > current x (1 + threshold), and baseline
 *     sites holding site_min_share that are gone.
 *   - A site matching a suppression is never a regression: it is listed as suppressed, and its
 *     allocations and bytes are left out of both totals (so accepting a site's growth does not
 *     fail the totals instead). Peak live bytes cannot be split by site and stay whole.
 *
 * Pure computation on two summaries: no I/O. pp_gate_compare allocates the result's rows.
 */
#ifndef POOLPROBE_GATE_H
#define POOLPROBE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline.h"
#include "suppress.h"
#include "threshold.h"

struct pp_gate_thresholds {
    double total_allocs;    /* growth of all allocations (per op when both runs have ops) */
    double total_bytes;     /* growth of all bytes allocated */
    double peak_live_bytes; /* growth of the process-wide peak of live bytes */
    double site_allocs;     /* growth of one site's allocations */
    double site_min_share;  /* share of all allocations from which a site is gated */
    double new_site_share;  /* share of all allocations from which a new site fails */
};

/* The table (threshold.h); unit "growth" (0.05 = +5%) or "share" (0.01 = 1% of all
 * allocations). */
extern const struct pp_threshold_info pp_gate_threshold_table[];
extern const size_t pp_gate_threshold_count;

void pp_gate_thresholds_default(struct pp_gate_thresholds *t);
/* Apply "NAME=VALUE" (a non-negative number) or "NAME=off" (the check is disabled, stored as
 * INFINITY). Returns 0, or -1 with a message in err. */
int pp_gate_thresholds_set(struct pp_gate_thresholds *t, const char *assignment, char *err,
                           size_t errlen);

enum pp_gate_check {
    PP_GATE_TOTAL_ALLOCS,
    PP_GATE_TOTAL_BYTES,
    PP_GATE_PEAK_LIVE_BYTES,
    PP_GATE_SITE_ALLOCS, /* a site in both runs */
    PP_GATE_NEW_SITE,    /* only in the current run */
    PP_GATE_GONE_SITE,   /* only in the baseline */
};

enum pp_gate_outcome {
    PP_GATE_UNCHANGED,   /* within the threshold (or not gated) */
    PP_GATE_REGRESSION,  /* fails the gate */
    PP_GATE_SUPPRESSED,  /* would fail, but the site is suppressed */
    PP_GATE_IMPROVEMENT, /* better by more than the threshold, or gone */
};

struct pp_gate_row {
    enum pp_gate_check check;
    enum pp_gate_outcome outcome;
    const char *key; /* site key (points into a summary); NULL for totals */
    const struct pp_summary_site *baseline_site, *current_site; /* NULL on the missing side */
    uint64_t baseline, current;           /* as measured (totals without suppressed sites) */
    double baseline_value, current_value; /* as compared: per op when the result is per_op */
    double change;    /* current_value / baseline_value - 1; INFINITY when baseline_value is 0 */
    double share;     /* sites: share of all allocations (largest side; new: current) */
    double threshold; /* the threshold judged against (INFINITY: check disabled) */
};

#define PP_GATE_MAX_NOTES 8

struct pp_gate_result {
    bool per_op;               /* both runs declared operations */
    uint64_t baseline_ops, current_ops;
    size_t nrows;              /* the three totals (in enum order), then the listed sites:
                                  regressions, suppressed, improvements, each biggest change in
                                  allocations first */
    struct pp_gate_row *rows;
    size_t nregressions, nsuppressed, nimprovements; /* rows of each outcome, totals included */
    size_t matched_sites;      /* keys found in both runs */
    size_t suppressed_sites;   /* sites left out of the totals by suppressions */
    bool passed;               /* nregressions == 0 */
    size_t nnotes;             /* sentences a reader needs (sampling, snapshots, ops, ...) */
    char notes[PP_GATE_MAX_NOTES][256];
};

/* Compare current with baseline. suppressions may be NULL. Returns 0, or -1 on out of memory
 * (the result is left empty). */
int pp_gate_compare(const struct pp_summary *baseline, const struct pp_summary *current,
                    const struct pp_gate_thresholds *t, const struct pp_suppressions *suppressions,
                    struct pp_gate_result *out);
void pp_gate_result_free(struct pp_gate_result *result);

/* "total allocs" ("allocs/op" per op), "total bytes", "peak live bytes", "site", "new site",
 * "gone site": what a row measures, for output formats. */
const char *pp_gate_check_label(enum pp_gate_check check, bool per_op);
/* "total_allocs", ...: the threshold that judges a check. */
const char *pp_gate_check_threshold_name(enum pp_gate_check check);

#endif
