/* checklist.c — the thresholds, the checks, and the verdict for one site (see checklist.h).
 *
 * Order, as in the seeds: is the site in the top of the profile at all (frequency)? Then the
 * simpler fixes: a block grown by realloc wants its final size up front (presize); a small block
 * freed in the function that allocated it wants automatic storage or one buffer reused across
 * iterations (stack). Only then the pool checks: not retained and short-lived, sizes consistent
 * and not spread, big enough, and a simulated free list that actually gets reused. When the sizes
 * fail only because of rare outliers, a pool that drops them (pool-capped) is proposed; when they
 * fall into a few distinct classes, one pool per class (tiered).
 */
#include "checklist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "sites.h"

#define T(field) offsetof(struct pp_thresholds, field)

/* Each default, and why. The cost figures behind big_enough_bytes come from tests/bench/costmodel
 * (README, "The checklist"). */
const struct pp_threshold_info pp_threshold_table[] = {
    {"min_share", T(min_share), 0.02, "share",
     "seeds: the site must be in the top of the allocation profile, not in the long tail"},
    {"min_rate", T(min_rate), 1000, "/s",
     "seeds: allocated and discarded many times per second"},
    {"consistency_share", T(consistency_share), 0.95, "share",
     "seeds: pool when 95% of allocations are within 2x of each other (of the median here)"},
    {"max_spread", T(max_spread), 100, "x",
     "seeds: with a 100x spread, pool sizing becomes its own bug source"},
    {"big_enough_bytes", T(big_enough_bytes), 1025, "bytes",
     "below, glibc's per-thread cache is as fast as a locked free list (README: cost model)"},
    {"max_retained_share", T(max_retained_share), 0.01, "share",
     "seeds: not retained outside the get/put scope; blocks kept to the end are a cache"},
    {"max_lifetime_ns", T(max_lifetime_ns), 1e9, "ns",
     "seeds: a pool only buys reuse of short-lived objects (sync.Pool: between GC cycles)"},
    {"min_hit_rate", T(min_hit_rate), 0.90, "share",
     "seeds, exercise 12: a pool hit 10% of the time is dead weight"},
    {"max_outlier_share", T(max_outlier_share), 0.01, "share",
     "seeds, case 3 and exercise 2: rare oversized objects are dropped, not pooled"},
    {"min_tier_share", T(min_tier_share), 0.05, "share",
     "seeds, exercise 11: a size class worth its own pool holds a real share of the traffic"},
    {"presize_grows", T(presize_grows), 1.0, "per block",
     "seeds: pre-size (make([]T, 0, n)) when blocks grow step by step, at least once each"},
    {"same_fn_share", T(same_fn_share), 0.95, "share",
     "seeds: 'does not escape' - freed in the allocating function, it can live on the stack"},
    {"stack_max_bytes", T(stack_max_bytes), 16384, "bytes",
     "a local buffer up to 16 KiB is safe on default 8 MiB thread stacks, even nested"},
};
const size_t pp_threshold_count = sizeof pp_threshold_table / sizeof pp_threshold_table[0];

void pp_thresholds_default(struct pp_thresholds *t)
{
    pp_threshold_defaults(pp_threshold_table, pp_threshold_count, t);
}

int pp_thresholds_set(struct pp_thresholds *t, const char *assignment, char *err, size_t errlen)
{
    static const struct pp_threshold_rules rules = {"threshold", "a non-negative number",
                                                    HUGE_VAL, false};
    return pp_threshold_assign(pp_threshold_table, pp_threshold_count, t, &rules, assignment,
                               err, errlen);
}

const char *pp_verdict_name(enum pp_verdict_kind kind)
{
    switch (kind) {
    case PP_VERDICT_POOL: return "pool";
    case PP_VERDICT_POOL_CAPPED: return "pool-capped";
    case PP_VERDICT_TIERED: return "tiered";
    case PP_VERDICT_PRESIZE: return "presize";
    case PP_VERDICT_STACK: return "stack";
    case PP_VERDICT_NO_POOL: break;
    }
    return "no-pool";
}

/* ---- measurements ---- */

static const char *why_of(const char *name)
{
    for (size_t i = 0; i < pp_threshold_count; i++)
        if (strcmp(pp_threshold_table[i].name, name) == 0)
            return pp_threshold_table[i].why;
    return "";
}

/* fails_as: the no-pool reason this row gives when it is the first to fail; NULL for the
 * simpler-fix rows, which never make a site no-pool. */
static struct pp_check *add_row(struct pp_verdict *v, const char *name, bool pass,
                                const char *fails_as, const char *threshold_name, double value,
                                double threshold)
{
    struct pp_check *c = &v->checks[v->nchecks];
    c->name = name;
    c->pass = pass;
    c->pooling = fails_as != NULL;
    c->fails_as = fails_as;
    c->why = why_of(threshold_name);
    c->value = value;
    c->threshold = threshold;
    if (c->pooling && !pass && v->failed_check < 0)
        v->failed_check = (int)v->nchecks;
    v->nchecks++;
    return c;
}

static char *pct(char *buf, size_t len, double share)
{
    if (share >= 0.9995 || share == 0 || share >= 0.1)
        snprintf(buf, len, "%.0f%%", share * 100);
    else
        snprintf(buf, len, "%.1f%%", share * 100);
    return buf;
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;
    while (p < v && p < (1ull << 62))
        p <<= 1;
    return p;
}

/* The median and the share within 2x of it, of the spans [0, n). */
struct size_shape {
    double count;
    uint64_t median, min, max;
    double consistent; /* share within [median/2, 2*median] */
};

static struct size_shape shape_of(const struct pp_hist_span *spans, size_t n)
{
    struct size_shape s = {0};
    for (size_t i = 0; i < n; i++)
        s.count += (double)spans[i].count;
    if (n == 0 || s.count == 0)
        return s;
    s.min = spans[0].lo;
    s.max = spans[n - 1].hi;
    double half = s.count / 2, seen = 0;
    for (size_t i = 0; i < n; i++) {
        seen += (double)spans[i].count;
        if (seen >= half) {
            s.median = spans[i].lo + (spans[i].hi - spans[i].lo) / 2;
            break;
        }
    }
    s.consistent = pp_span_count_between(spans, n, s.median / 2, s.median * 2) / s.count;
    return s;
}

/* Simulated free list hit rate at the smallest simulated capacity >= want. */
static double hit_rate_at(const struct pp_site *site, uint64_t want, uint32_t *capacity)
{
    *capacity = 0;
    if (site->npools == 0 || site->allocs == 0)
        return 0;
    const struct pp_site_pool *p = &site->pools[site->npools - 1];
    for (size_t i = 0; i < site->npools; i++)
        if (site->pools[i].capacity >= want) {
            p = &site->pools[i];
            break;
        }
    *capacity = p->capacity;
    return (double)p->hits / (double)site->allocs;
}

static double same_function_share(const struct pp_site *site)
{
    if (site->frees == 0 || site->nframes == 0 || !site->frames[0].function)
        return 0;
    uint64_t same = 0;
    for (size_t i = 0; i < site->nfree_callers; i++)
        if (site->free_callers[i].function &&
            strcmp(site->free_callers[i].function, site->frames[0].function) == 0)
            same += site->free_callers[i].count;
    return (double)same / (double)site->frees;
}

/* pool-capped: the smallest power-of-two cap below which the sizes pass the pool checks and
 * above which at most max_outlier_share of the allocations lie. */
static bool find_cap(const struct pp_hist_span *spans, size_t n, double total,
                     const struct pp_thresholds *t, uint64_t *cap, double *above)
{
    for (size_t k = 0; k < n; k++) {
        /* Candidate: everything up to span k is the bulk. */
        double bulk = 0;
        for (size_t i = 0; i <= k; i++)
            bulk += (double)spans[i].count;
        double out = (total - bulk) / total;
        if (out > t->max_outlier_share)
            continue;
        if (out == 0)
            return false; /* no outliers: not a capping question */
        struct size_shape s = shape_of(spans, k + 1);
        if (s.consistent >= t->consistency_share &&
            (double)s.max <= t->max_spread * (double)(s.min ? s.min : 1) &&
            (double)s.median >= t->big_enough_bytes) {
            *cap = pow2_at_least(s.max);
            *above = (total - pp_span_count_between(spans, n, 0, *cap)) / total;
            return true;
        }
        return false; /* a bigger bulk only adds more outliers' worth of spread */
    }
    return false;
}

/* tiered: sizes fall into 2..PP_MAX_TIERS classes, each within 2x of its smallest size, each
 * holding at least min_tier_share, the rest (outliers) at most max_outlier_share, and the
 * classes big enough to pool (middle size >= big_enough_bytes) holding at least half of the
 * allocations. */
static bool find_tiers(const struct pp_hist_span *spans, size_t n, double total,
                       const struct pp_thresholds *t, struct pp_verdict *v)
{
    struct {
        uint64_t lo, hi;
        double count;
    } groups[64];
    size_t ngroups = 0;
    for (size_t i = 0; i < n; i++) {
        if (ngroups && spans[i].hi <= 2 * groups[ngroups - 1].lo) {
            groups[ngroups - 1].hi = spans[i].hi;
            groups[ngroups - 1].count += (double)spans[i].count;
            continue;
        }
        if (ngroups == sizeof groups / sizeof groups[0])
            return false;
        groups[ngroups].lo = spans[i].lo ? spans[i].lo : 1;
        groups[ngroups].hi = spans[i].hi;
        groups[ngroups].count = (double)spans[i].count;
        ngroups++;
    }
    double outliers = 0, big = 0;
    size_t ntiers = 0;
    for (size_t g = 0; g < ngroups; g++) {
        double share = groups[g].count / total;
        if (share < t->min_tier_share) {
            outliers += share;
            continue;
        }
        if (ntiers == PP_MAX_TIERS)
            return false;
        v->tiers[ntiers++] = (struct pp_tier){pow2_at_least(groups[g].hi), share};
        /* The class's middle size stands for it, as the median does for a whole site. */
        if ((double)groups[g].lo / 2 + (double)groups[g].hi / 2 >= t->big_enough_bytes)
            big += share;
    }
    if (ntiers < 2 || outliers > t->max_outlier_share || big < 0.5)
        return false;
    v->ntiers = ntiers;
    return true;
}

void pp_judge(const struct pp_site *site, uint64_t total_allocs, uint64_t duration_ns,
              const struct pp_thresholds *t, struct pp_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->failed_check = -1;
    char a[32], b[32], c[32];
    struct pp_check *row;
    double allocs = (double)site->allocs;

    /* Frequency. */
    double share = total_allocs ? allocs / (double)total_allocs : 0;
    double rate = duration_ns ? allocs / ((double)duration_ns / 1e9) : 0;
    bool frequent = share >= t->min_share && rate >= t->min_rate;
    row = add_row(v, "frequency", frequent, "too rare", "min_share", share, t->min_share);
    snprintf(row->value_text, sizeof row->value_text, "%s of allocs, %s/s", pct(a, sizeof a, share),
             pp_human_count(b, sizeof b, rate));
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s, >= %s/s",
             pct(c, sizeof c, t->min_share), pp_human_count(a, sizeof a, t->min_rate));

    /* Simpler fix 1: pre-size what grows by realloc. */
    double grows = allocs ? (double)site->realloc_grows / allocs : 0;
    bool presize = grows >= t->presize_grows;
    row = add_row(v, "grows by realloc", presize, NULL, "presize_grows", grows,
                  t->presize_grows);
    snprintf(row->value_text, sizeof row->value_text, "%.2f per block", grows);
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %.2f", t->presize_grows);

    /* Simpler fix 2: freed where allocated, and small enough for the stack. */
    double same = same_function_share(site);
    uint64_t stack_bytes = site->peak_live_bytes;
    bool stack = same >= t->same_fn_share && (double)stack_bytes <= t->stack_max_bytes &&
                 pp_site_live_at_exit(site) == 0;
    row = add_row(v, "freed in same fn", stack, NULL, "same_fn_share", same,
                  t->same_fn_share);
    snprintf(row->value_text, sizeof row->value_text, "%s, peak %s B live",
             pct(a, sizeof a, same), pp_human_bytes(b, sizeof b, stack_bytes));
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s, <= %s B",
             pct(c, sizeof c, t->same_fn_share),
             pp_human_bytes(a, sizeof a, (uint64_t)t->stack_max_bytes));

    /* Not retained, short-lived. */
    double retained = allocs ? (double)pp_site_live_at_exit(site) / allocs : 0;
    bool kept = retained > t->max_retained_share;
    row = add_row(v, "not retained", !kept, "retained", "max_retained_share", retained,
                  t->max_retained_share);
    snprintf(row->value_text, sizeof row->value_text, "%s live at exit", pct(a, sizeof a, retained));
    snprintf(row->threshold_text, sizeof row->threshold_text, "<= %s",
             pct(b, sizeof b, t->max_retained_share));

    uint64_t life95 = pp_site_lifetime_percentile(site, 95);
    bool short_lived = site->frees > 0 && (double)life95 <= t->max_lifetime_ns;
    row = add_row(v, "short-lived", short_lived, "long-lived", "max_lifetime_ns", (double)life95,
                  t->max_lifetime_ns);
    if (site->frees)
        snprintf(row->value_text, sizeof row->value_text, "p95 %s",
                 pp_human_ns(a, sizeof a, life95));
    else
        snprintf(row->value_text, sizeof row->value_text, "never freed");
    snprintf(row->threshold_text, sizeof row->threshold_text, "<= %s",
             pp_human_ns(b, sizeof b, (uint64_t)t->max_lifetime_ns));

    /* Sizes. */
    struct pp_hist_span *spans = NULL;
    size_t n = pp_hist_spans(&site->hists[PP_STATS_HIST_SIZE], site->min_size, site->max_size,
                             &spans);
    if (n == (size_t)-1)
        n = 0;
    struct size_shape s = shape_of(spans, n);
    bool consistent = s.count > 0 && s.consistent >= t->consistency_share;
    row = add_row(v, "size consistency", consistent, "sizes too spread", "consistency_share", s.consistent,
                  t->consistency_share);
    snprintf(row->value_text, sizeof row->value_text, "%s within 2x of %s B",
             pct(a, sizeof a, s.consistent), pp_human_bytes(b, sizeof b, s.median));
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s",
             pct(c, sizeof c, t->consistency_share));

    double spread = (double)site->max_size / (double)(site->min_size ? site->min_size : 1);
    bool narrow = s.count > 0 && spread <= t->max_spread;
    row = add_row(v, "size spread", narrow, "sizes too spread", "max_spread", spread, t->max_spread);
    snprintf(row->value_text, sizeof row->value_text, "%.0fx (%s..%s B)", spread,
             pp_human_bytes(a, sizeof a, site->min_size),
             pp_human_bytes(b, sizeof b, site->max_size));
    snprintf(row->threshold_text, sizeof row->threshold_text, "<= %.0fx", t->max_spread);

    bool big = (double)s.median >= t->big_enough_bytes;
    row = add_row(v, "big enough", big, "too small", "big_enough_bytes", (double)s.median,
                  t->big_enough_bytes);
    snprintf(row->value_text, sizeof row->value_text, "p50 %s B", pp_human_bytes(a, sizeof a, s.median));
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s B",
             pp_human_bytes(b, sizeof b, (uint64_t)t->big_enough_bytes));

    /* Reuse: a free list holding the peak number live, replayed on this run. */
    uint32_t sim_cap;
    double hits = hit_rate_at(site, site->peak_live, &sim_cap);
    bool reused = hits >= t->min_hit_rate;
    row = add_row(v, "reuse", reused, "low reuse", "min_hit_rate", hits, t->min_hit_rate);
    snprintf(row->value_text, sizeof row->value_text, "%.2f%% hits at capacity %u",
             hits * 100, sim_cap);
    snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s",
             pct(a, sizeof a, t->min_hit_rate));

    /* The verdict, simpler fixes first. */
    v->capacity = site->peak_live;
    v->hit_rate = hits;
    v->sim_capacity = sim_cap;
    v->object_bytes = site->max_size;
    if (!frequent) {
        v->kind = PP_VERDICT_NO_POOL;
    } else if (presize) {
        v->kind = PP_VERDICT_PRESIZE;
        const struct pp_hist *finals = &site->hists[PP_STATS_HIST_CHAIN_FINAL_SIZE];
        v->presize_bytes = finals->total ? pp_hist_percentile(finals, 95, 0, UINT64_MAX)
                                         : site->max_size;
        if (!finals->exact && finals->total) {
            /* Inside a bucket, round up to the bucket's top: presize must cover. */
            struct pp_hist_span *fs = NULL;
            size_t fn = pp_hist_spans(finals, 0, UINT64_MAX, &fs);
            for (size_t i = 0; fn != (size_t)-1 && i < fn; i++)
                if (fs[i].lo <= v->presize_bytes && v->presize_bytes <= fs[i].hi)
                    v->presize_bytes = fs[i].hi;
            free(fs);
        }
        v->reallocs_saved = site->realloc_grows;
        v->allocs_saved = site->realloc_grows;
    } else if (stack) {
        v->kind = PP_VERDICT_STACK;
        v->allocs_saved = site->allocs;
    } else if (kept || !short_lived) {
        v->kind = PP_VERDICT_NO_POOL;
    } else if (consistent && narrow) {
        v->kind = big && reused ? PP_VERDICT_POOL : PP_VERDICT_NO_POOL;
    } else if (reused && find_cap(spans, n, s.count, t, &v->cap_bytes, &v->above_cap_share)) {
        v->kind = PP_VERDICT_POOL_CAPPED;
        v->object_bytes = v->cap_bytes;
        /* Oversized blocks are allocated fresh and dropped: they never hit. */
        v->hit_rate = hits * (1 - v->above_cap_share);
    } else if (reused && find_tiers(spans, n, s.count, t, v)) {
        v->kind = PP_VERDICT_TIERED;
    } else {
        v->kind = PP_VERDICT_NO_POOL;
    }
    free(spans);

    if (v->kind == PP_VERDICT_POOL || v->kind == PP_VERDICT_POOL_CAPPED ||
        v->kind == PP_VERDICT_TIERED)
        v->allocs_saved = (uint64_t)llround(v->hit_rate * allocs);
    if (v->kind == PP_VERDICT_POOL || v->kind == PP_VERDICT_POOL_CAPPED)
        v->retained_bytes = v->capacity * v->object_bytes;
    if (v->kind == PP_VERDICT_NO_POOL)
        /* All rows can pass and still fit neither a cap nor tiers: the sizes are the problem. */
        v->reason = v->failed_check >= 0 ? v->checks[v->failed_check].fails_as
                                         : "sizes too spread";
}

int pp_report_judge(struct pp_report *r, const struct pp_thresholds *t)
{
    free(r->verdicts);
    r->verdicts = r->nsites ? calloc(r->nsites, sizeof *r->verdicts) : NULL;
    if (r->nsites && !r->verdicts)
        return -1;
    for (size_t i = 0; i < r->nsites; i++)
        pp_judge(&r->sites[i], r->allocs, r->duration_ns, t, &r->verdicts[i]);
    return 0;
}

static const struct pp_report *sort_report; /* qsort has no context argument */

static int by_saving(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint64_t sx = sort_report->verdicts[x].allocs_saved, sy = sort_report->verdicts[y].allocs_saved;
    if (sx != sy)
        return sx < sy ? 1 : -1;
    return (x > y) - (x < y);
}

size_t pp_report_recommendations(const struct pp_report *r, size_t **order)
{
    *order = NULL;
    if (!r->verdicts)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < r->nsites; i++)
        n += r->verdicts[i].kind != PP_VERDICT_NO_POOL;
    if (n == 0)
        return 0;
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx)
        return (size_t)-1;
    n = 0;
    for (size_t i = 0; i < r->nsites; i++)
        if (r->verdicts[i].kind != PP_VERDICT_NO_POOL)
            idx[n++] = i;
    sort_report = r;
    qsort(idx, n, sizeof *idx, by_saving);
    *order = idx;
    return n;
}
