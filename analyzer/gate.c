/* gate.c — the gate's thresholds, the comparison rules and the notes that go with a result
 * (see gate.h for the rules).
 *
 * Every comparison is made in integer arithmetic on the counts, the thresholds taken to the
 * millionth: "current/current_ops > baseline/baseline_ops x (1 + t)" becomes
 * "current x baseline_ops x 10^6 > baseline x current_ops x (10^6 + T)" in 128 bits. Floating
 * point would put the edge of "exactly +5% passes" on either side depending on the numbers, and
 * counts are exact, so the gate should be too. Only products beyond 128 bits (not reachable with
 * real counts) fall back to long double.
 */
#include "gate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G(field) offsetof(struct pp_gate_thresholds, field)

/* Each default, and why. README "Use it in CI" has the same table. */
const struct pp_threshold_info pp_gate_threshold_table[] = {
    {"total_allocs", G(total_allocs), 0.05, "growth",
     "counts are exact when the program is deterministic: +5% is a real change"},
    {"total_bytes", G(total_bytes), 0.10, "growth",
     "bytes follow input sizes and growth policies too: room for a resize"},
    {"peak_live_bytes", G(peak_live_bytes), 0.10, "growth",
     "the memory the machine must hold; with threads it depends on timing"},
    {"site_allocs", G(site_allocs), 0.10, "growth",
     "a refactor may move work between sites; +10% at one site is deliberate"},
    {"site_min_share", G(site_min_share), 0.005, "share",
     "below 0.5% a site cannot move the totals (start-up, error paths)"},
    {"new_site_share", G(new_site_share), 0.01, "share",
     "a new site with 1% of allocations is a new hot path; smaller is routine"},
};
const size_t pp_gate_threshold_count =
    sizeof pp_gate_threshold_table / sizeof pp_gate_threshold_table[0];

void pp_gate_thresholds_default(struct pp_gate_thresholds *t)
{
    pp_threshold_defaults(pp_gate_threshold_table, pp_gate_threshold_count, t);
}

int pp_gate_thresholds_set(struct pp_gate_thresholds *t, const char *assignment, char *err,
                           size_t errlen)
{
    static const struct pp_threshold_rules rules = {
        "gate threshold", "a number from 0 to 1000000, or off", 1e6, true};
    return pp_threshold_assign(pp_gate_threshold_table, pp_gate_threshold_count, t, &rules,
                               assignment, err, errlen);
}

const char *pp_gate_check_label(enum pp_gate_check check, bool per_op)
{
    switch (check) {
    case PP_GATE_TOTAL_ALLOCS: return per_op ? "allocs/op" : "total allocs";
    case PP_GATE_TOTAL_BYTES: return per_op ? "bytes/op" : "total bytes";
    case PP_GATE_PEAK_LIVE_BYTES: return "peak live bytes";
    case PP_GATE_SITE_ALLOCS: return "site";
    case PP_GATE_NEW_SITE: return "new site";
    case PP_GATE_GONE_SITE: break;
    }
    return "gone site";
}

const char *pp_gate_check_threshold_name(enum pp_gate_check check)
{
    switch (check) {
    case PP_GATE_TOTAL_ALLOCS: return "total_allocs";
    case PP_GATE_TOTAL_BYTES: return "total_bytes";
    case PP_GATE_PEAK_LIVE_BYTES: return "peak_live_bytes";
    case PP_GATE_SITE_ALLOCS: return "site_allocs";
    case PP_GATE_NEW_SITE: return "new_site_share";
    case PP_GATE_GONE_SITE: break;
    }
    return "site_min_share";
}

/* ---- exact comparisons ---- */

typedef unsigned __int128 u128;

/* A threshold in millionths; UINT64_MAX for a disabled (infinite) one. */
static uint64_t millionths(double t)
{
    if (!isfinite(t))
        return UINT64_MAX;
    return (uint64_t)llround(t * 1e6);
}

/* Is a x b x c > d x e x f? Exact unless a product overflows 128 bits. */
static bool product_greater(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                            uint64_t f)
{
    u128 left, right;
    if (!__builtin_mul_overflow((u128)a * b, (u128)c, &left) &&
        !__builtin_mul_overflow((u128)d * e, (u128)f, &right))
        return left > right;
    return (long double)a * b * c > (long double)d * e * f;
}

/* Did `grown` (over grown_ops operations) exceed `ref` (over ref_ops) by more than t? */
static bool beyond(uint64_t grown, uint64_t grown_ops, uint64_t ref, uint64_t ref_ops, double t)
{
    uint64_t tm = millionths(t);
    if (tm == UINT64_MAX)
        return false;
    return product_greater(grown, ref_ops, 1000000, ref, grown_ops, 1000000 + tm);
}

/* Does n hold at least share t of total? */
static bool holds_share(uint64_t n, uint64_t total, double t)
{
    uint64_t tm = millionths(t);
    if (tm == UINT64_MAX)
        return false;
    return !product_greater(tm, total, 1, n, 1000000, 1);
}

static double ratio(uint64_t n, uint64_t d)
{
    return d ? (double)n / (double)d : 0;
}

/* ---- building the result ---- */

struct row_list {
    struct pp_gate_row *rows;
    size_t n, cap;
};

static struct pp_gate_row *push(struct row_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct pp_gate_row *rows = realloc(l->rows, cap * sizeof *rows);
        if (!rows)
            return NULL;
        l->rows = rows;
        l->cap = cap;
    }
    struct pp_gate_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Fill the values of a row comparing counts b (baseline) and c (current). */
static void compare(struct pp_gate_row *row, uint64_t b, uint64_t b_ops, uint64_t c,
                    uint64_t c_ops, double t)
{
    row->baseline = b;
    row->current = c;
    row->baseline_value = (double)b / (double)b_ops;
    row->current_value = (double)c / (double)c_ops;
    row->change = row->baseline_value > 0 ? row->current_value / row->baseline_value - 1
                  : row->current_value > 0 ? INFINITY
                                            : 0;
    row->threshold = t;
    if (beyond(c, c_ops, b, b_ops, t))
        row->outcome = PP_GATE_REGRESSION;
    else if (beyond(b, b_ops, c, c_ops, t))
        row->outcome = PP_GATE_IMPROVEMENT;
    else
        row->outcome = PP_GATE_UNCHANGED;
}

static int outcome_rank(enum pp_gate_outcome o)
{
    switch (o) {
    case PP_GATE_REGRESSION: return 0;
    case PP_GATE_SUPPRESSED: return 1;
    case PP_GATE_IMPROVEMENT: return 2;
    case PP_GATE_UNCHANGED: break;
    }
    return 3;
}

static int cmp_site_rows(const void *a, const void *b)
{
    const struct pp_gate_row *x = a, *y = b;
    int rx = outcome_rank(x->outcome), ry = outcome_rank(y->outcome);
    if (rx != ry)
        return rx - ry;
    uint64_t dx = x->current > x->baseline ? x->current - x->baseline : x->baseline - x->current;
    uint64_t dy = y->current > y->baseline ? y->current - y->baseline : y->baseline - y->current;
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->key, y->key);
}

__attribute__((format(printf, 2, 3))) static void note(struct pp_gate_result *r,
                                                       const char *fmt, ...)
{
    if (r->nnotes == PP_GATE_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->nnotes++], sizeof r->notes[0], fmt, ap);
    va_end(ap);
}

static void add_notes(struct pp_gate_result *r, const struct pp_summary *b,
                      const struct pp_summary *c)
{
    if (r->per_op)
        note(r, "Compared per operation: allocs/op and bytes/op (baseline %llu ops, current "
                "%llu ops); peak live bytes and site shares as measured.",
             (unsigned long long)b->ops, (unsigned long long)c->ops);
    else if (b->ops || c->ops)
        note(r, "Only the %s declares operations (%llu); whole-run counts are compared. "
                "Declare them on both sides (POOLPROBE_OPS(n), --ops) to compare per op.",
             b->ops ? "baseline" : "current run", (unsigned long long)(b->ops ? b->ops : c->ops));
    if (b->sample_every > 1 || c->sample_every > 1)
        note(r, "Sampled trace (1 in %u): counts are estimates; gate it with larger "
                "tolerances.",
             b->sample_every > c->sample_every ? b->sample_every : c->sample_every);
    if (b->stacks_estimated || c->stacks_estimated)
        note(r, "Full stacks were sampled in the %s: its figures per stack are estimates; "
                "gate by site, or record with POOLPROBE_STACKS=full.",
             b->stacks_estimated && c->stacks_estimated ? "baseline and the current run"
             : b->stacks_estimated                      ? "baseline"
                                                        : "current run");
    if (b->snapshot || c->snapshot)
        note(r, "The %s comes from a snapshot taken while a process still ran; its counts "
                "stop there.",
             b->snapshot ? "baseline" : "current run");
    if (!b->has_peak)
        note(r, "The baseline has no peak_live_bytes: peak live bytes are not gated.");
    if (r->suppressed_sites)
        note(r, "%zu suppressed site%s left out of the allocation and byte totals.",
             r->suppressed_sites, r->suppressed_sites == 1 ? " is" : "s are");
    if (r->matched_sites == 0 && b->nsites > 0 && c->nsites > 0)
        note(r, "No site of the current run matches a baseline site: was the baseline written "
                "with another --group-by, or from a binary without symbols?");
}

int pp_gate_compare(const struct pp_summary *b, const struct pp_summary *c,
                    const struct pp_gate_thresholds *t, const struct pp_suppressions *sup,
                    struct pp_gate_result *out)
{
    memset(out, 0, sizeof *out);
    struct row_list list = {0};
    out->baseline_ops = b->ops;
    out->current_ops = c->ops;
    out->per_op = b->ops > 0 && c->ops > 0;
    uint64_t b_ops = out->per_op ? b->ops : 1, c_ops = out->per_op ? c->ops : 1;

    /* Totals without the suppressed sites, on each side. */
    uint64_t b_allocs = b->allocs, b_bytes = b->bytes, c_allocs = c->allocs, c_bytes = c->bytes;
    for (size_t i = 0; i < b->nsites; i++) {
        const struct pp_summary_site *s = &b->sites[i];
        if (pp_suppressions_match(sup, s->key, s->function)) {
            b_allocs -= s->allocs < b_allocs ? s->allocs : b_allocs;
            b_bytes -= s->bytes < b_bytes ? s->bytes : b_bytes;
            if (!pp_summary_find(c, s->key))
                out->suppressed_sites++;
        }
    }
    for (size_t i = 0; i < c->nsites; i++) {
        const struct pp_summary_site *s = &c->sites[i];
        if (pp_suppressions_match(sup, s->key, s->function)) {
            c_allocs -= s->allocs < c_allocs ? s->allocs : c_allocs;
            c_bytes -= s->bytes < c_bytes ? s->bytes : c_bytes;
            out->suppressed_sites++;
        }
    }

    struct pp_gate_row *row;
    if (!(row = push(&list)))
        goto oom;
    row->check = PP_GATE_TOTAL_ALLOCS;
    compare(row, b_allocs, b_ops, c_allocs, c_ops, t->total_allocs);
    if (!(row = push(&list)))
        goto oom;
    row->check = PP_GATE_TOTAL_BYTES;
    compare(row, b_bytes, b_ops, c_bytes, c_ops, t->total_bytes);
    if (!(row = push(&list)))
        goto oom;
    row->check = PP_GATE_PEAK_LIVE_BYTES;
    compare(row, b->peak_live_bytes, 1, c->peak_live_bytes, 1,
            b->has_peak ? t->peak_live_bytes : INFINITY);

    /* Sites of the current run: matched or new. */
    for (size_t i = 0; i < c->nsites; i++) {
        const struct pp_summary_site *cs = &c->sites[i];
        const struct pp_summary_site *bs = pp_summary_find(b, cs->key);
        struct pp_gate_row probe = {.key = cs->key, .baseline_site = bs, .current_site = cs};
        if (bs) {
            out->matched_sites++;
            probe.check = PP_GATE_SITE_ALLOCS;
            probe.share = fmax(ratio(bs->allocs, b->allocs), ratio(cs->allocs, c->allocs));
            if (!holds_share(bs->allocs, b->allocs, t->site_min_share) &&
                !holds_share(cs->allocs, c->allocs, t->site_min_share))
                continue;
            compare(&probe, bs->allocs, b_ops, cs->allocs, c_ops, t->site_allocs);
        } else {
            probe.check = PP_GATE_NEW_SITE;
            probe.share = ratio(cs->allocs, c->allocs);
            compare(&probe, 0, b_ops, cs->allocs, c_ops, t->new_site_share);
            probe.outcome = holds_share(cs->allocs, c->allocs, t->new_site_share)
                                ? PP_GATE_REGRESSION
                                : PP_GATE_UNCHANGED;
        }
        if (probe.outcome == PP_GATE_UNCHANGED)
            continue;
        if (probe.outcome == PP_GATE_REGRESSION &&
            pp_suppressions_match(sup, cs->key, cs->function))
            probe.outcome = PP_GATE_SUPPRESSED;
        if (!(row = push(&list)))
            goto oom;
        *row = probe;
    }
    /* Sites of the baseline that are gone. */
    for (size_t i = 0; i < b->nsites; i++) {
        const struct pp_summary_site *bs = &b->sites[i];
        if (pp_summary_find(c, bs->key) || !holds_share(bs->allocs, b->allocs, t->site_min_share))
            continue;
        if (!(row = push(&list)))
            goto oom;
        row->check = PP_GATE_GONE_SITE;
        row->key = bs->key;
        row->baseline_site = bs;
        row->share = ratio(bs->allocs, b->allocs);
        compare(row, bs->allocs, b_ops, 0, c_ops, t->site_min_share);
        row->outcome = PP_GATE_IMPROVEMENT;
    }
    if (list.n > 3)
        qsort(list.rows + 3, list.n - 3, sizeof *list.rows, cmp_site_rows);

    out->rows = list.rows;
    out->nrows = list.n;
    for (size_t i = 0; i < list.n; i++) {
        out->nregressions += list.rows[i].outcome == PP_GATE_REGRESSION;
        out->nsuppressed += list.rows[i].outcome == PP_GATE_SUPPRESSED;
        out->nimprovements += list.rows[i].outcome == PP_GATE_IMPROVEMENT;
    }
    out->passed = out->nregressions == 0;
    add_notes(out, b, c);
    return 0;
oom:
    free(list.rows);
    memset(out, 0, sizeof *out);
    return -1;
}

void pp_gate_result_free(struct pp_gate_result *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}
