/* checklist.c — the thresholds, the checks, and the verdict for one site (see checklist.h).
 *
 * Order, as in the seeds: is the site in the top of the profile at all (frequency: its rate,
 * and its share of allocations or of the run time a fix saves)? Then the simpler fixes: a block
 * grown by realloc wants its final size up front (presize), and the presized block may still
 * deserve a pool (chained advice); a small block freed in the function that allocated it wants
 * automatic storage or one buffer reused across iterations (stack); many small blocks kept to the
 * end or freed together want an arena. Only then the pool checks: not retained and short-lived,
 * the sizes, big enough, and a simulated free list that actually gets reused.
 *
 * The sizes make the pool's shape (size_classes): a rare tail far above the bulk is dropped
 * (pool-capped); the bulk splits into classes at gaps in the sizes and on a grid max_tier_width
 * wide, never below min_tier_bytes; one class is a pool, two to four are tiered. "Big enough" is
 * the time that shape saves (the cost model at the site's sizes and blocks in flight, times the
 * simulated hits), as a share of the run. The pool is per-thread (sync.Pool's per-P list: no
 * lock, and it beats glibc at every size) unless a real share of the blocks are freed by another
 * thread, when it must be one shared list, whose lock the cost model charges.
 */
#include "checklist.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "sites.h"

#define T(field) offsetof(struct pp_thresholds, field)

/* Each default, and why. The costs behind the savings are the cost model's (costmodel.h). */
const struct pp_threshold_info pp_threshold_table[] = {
    {"min_share", T(min_share), 0.02, "share",
     "pool only what is at the top of the profile; a smaller site still counts when it saves min_saving_share"},
    {"min_rate", T(min_rate), 1000, "/s",
     "a pool pays for objects allocated and discarded many times per second"},
    {"consistency_share", T(consistency_share), 0.95, "share",
     "one block size serves the site when 95% of allocations are within 2x of the median"},
    {"max_spread", T(max_spread), 100, "x",
     "past a 100x spread, choosing the pooled block size becomes its own source of bugs"},
    {"min_saving_share", T(min_saving_share), 0.01, "share",
     "a fix worth its code saves 1% of the run; paired benchmark runs resolve about that much"},
    {"big_enough_bytes", T(big_enough_bytes), 0, "bytes",
     "optional floor on the median size; 0: the saving alone decides (a thread-local list wins at any size)"},
    {"shared_free_share", T(shared_free_share), 0.10, "share",
     "a thread-local list loses each block another thread frees: past 10% it misses > min_hit_rate allows"},
    {"max_pool_bytes", T(max_pool_bytes), 64.0 * 1024 * 1024, "bytes",
     "pooled memory is held, not freed: past ~64 MB in all (per-thread copies add up) it is a leak in disguise"},
    {"max_tier_width", T(max_tier_width), 16, "x",
     "classes 16x wide (<4K, 4K-64K, 64K-1M) keep each tier's waste bounded with a few pools"},
    {"min_tier_bytes", T(min_tier_bytes), 1024, "bytes",
     "under 1 KiB one pool of 1 KiB blocks serves every size; a smaller class saves no real memory"},
    {"max_retained_share", T(max_retained_share), 0.01, "share",
     "a pooled object must not be kept after it is put back; blocks kept to the end are a cache"},
    {"max_lifetime_ns", T(max_lifetime_ns), 1e9, "ns",
     "a pool only buys reuse of short-lived objects; long-lived ones are rarely returned"},
    {"min_hit_rate", T(min_hit_rate), 0.90, "share",
     "a pool that misses most of the time is dead weight: it costs a lookup and holds memory"},
    {"max_outlier_share", T(max_outlier_share), 0.01, "share",
     "rare oversized objects are dropped, not pooled, or one of them pins its size in the pool"},
    {"min_tier_share", T(min_tier_share), 0.05, "share",
     "a size class worth its own pool holds a real share of the traffic"},
    {"presize_grows", T(presize_grows), 1.0, "per block",
     "allocate the final size up front when blocks grow step by step, at least once each"},
    {"same_fn_share", T(same_fn_share), 0.95, "share",
     "freed in the allocating function, it does not escape: it can live on the stack"},
    {"stack_max_bytes", T(stack_max_bytes), 16384, "bytes",
     "a local buffer up to 16 KiB is safe on default 8 MiB thread stacks, even nested"},
    {"arena_min_blocks", T(arena_min_blocks), 64, "blocks",
     "an arena pays for itself over many blocks (one free of a chunk instead of one each)"},
    {"arena_max_bytes", T(arena_max_bytes), 4096, "bytes",
     "arena blocks are small: a page or less each, where malloc's per-block cost dominates"},
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
    case PP_VERDICT_ARENA: return "arena";
    case PP_VERDICT_NO_POOL: break;
    }
    return "no-pool";
}

const char *pp_pool_kind_name(enum pp_pool_kind kind)
{
    switch (kind) {
    case PP_POOL_PER_THREAD: return "per-thread";
    case PP_POOL_SHARED: return "shared";
    case PP_POOL_NONE: break;
    }
    return NULL;
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


/* ---- the pool's shape: a bulk, maybe a dropped tail, one to four classes ---- */

struct size_class {
    uint64_t upper;  /* sizes up to this go here (2^k) */
    uint64_t block;  /* the block its pool holds: upper, or the exact size of a consistent site */
    double count;
};

struct pool_shape {
    size_t nclasses;
    struct size_class classes[PP_MAX_TIERS];
    uint64_t cap;      /* 0: no tail; else blocks above it are dropped */
    double tail_share; /* allocations above cap */
};

/* Split the sizes into a bulk and a tail, and the bulk into classes (see the top of the file).
 * Returns false when the bulk needs more than PP_MAX_TIERS classes even after merging the small
 * ones, which cannot happen with four merges, or when there are no sizes. */
static bool size_classes(const struct pp_hist_span *spans, size_t n, double total,
                         const struct pp_thresholds *t, struct pool_shape *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || total <= 0)
        return false;
    /* The tail: what lies past the first gap in the sizes (a size more than twice the one
     * below it) above which at most max_outlier_share of the allocations lie. The top percent
     * of a smooth distribution is not a tail: without a gap there is nothing to drop. */
    size_t bulk_n = n;
    double above = total;
    for (size_t i = 0; i < n; i++) {
        above -= (double)spans[i].count;
        if (i + 1 < n && spans[i + 1].lo > 2 * spans[i].hi && above / total <= t->max_outlier_share) {
            out->cap = pow2_at_least(spans[i].hi);
            out->tail_share = above / total;
            bulk_n = i + 1;
            break;
        }
    }
    /* Natural groups: a new one where the next size is more than twice the last. */
    struct size_class found[64];
    size_t nfound = 0;
    size_t g0 = 0;
    for (size_t i = 1; i <= bulk_n; i++) {
        if (i < bulk_n && spans[i].lo <= 2 * spans[i - 1].hi)
            continue;
        /* Group spans [g0, i): split on the grid from its top down. */
        uint64_t gmin = spans[g0].lo ? spans[g0].lo : 1, gmax = spans[i - 1].hi;
        uint64_t upper = pow2_at_least(gmax);
        size_t first = nfound;
        while (nfound < sizeof found / sizeof *found) {
            uint64_t lower = (uint64_t)((double)upper / t->max_tier_width);
            bool last = t->max_tier_width <= 1 || (double)lower < t->min_tier_bytes ||
                        lower < gmin || lower == 0;
            uint64_t from = last ? 0 : lower + 1;
            found[nfound].upper = upper;
            found[nfound].block = upper;
            found[nfound].count = pp_span_count_between(&spans[g0], i - g0, from, upper);
            nfound++;
            if (last)
                break;
            upper = lower;
        }
        /* Built top-down: put this group's classes in ascending order. */
        for (size_t a = first, b = nfound - 1; a < b; a++, b--) {
            struct size_class tmp = found[a];
            found[a] = found[b];
            found[b] = tmp;
        }
        g0 = i;
    }
    /* Drop empty classes; classes under min_tier_bytes are one (a block of the largest serves
     * them all); a class too small for its own pool goes into the next one up (its sizes fit
     * that block). More than PP_MAX_TIERS classes left: the sizes are too spread to pool. */
    size_t m = 0;
    for (size_t i = 0; i < nfound; i++)
        if (found[i].count > 0)
            found[m++] = found[i];
    for (size_t i = 0; i + 1 < m;) {
        bool small = (double)found[i + 1].upper <= t->min_tier_bytes;
        bool rare = found[i].count / total < t->min_tier_share;
        if (!small && !rare) {
            i++;
            continue;
        }
        found[i + 1].count += found[i].count;
        memmove(&found[i], &found[i + 1], (m - i - 1) * sizeof *found);
        m--;
    }
    if (m == 0 || m > PP_MAX_TIERS)
        return false;
    out->nclasses = m;
    memcpy(out->classes, found, m * sizeof *found);
    return true;
}

/* ---- what a fix saves ---- */

/* The cost-model way of a pool kind on this many threads. */
static enum pp_cost_way pool_way(enum pp_pool_kind kind, uint32_t threads)
{
    if (kind == PP_POOL_SHARED)
        return threads > 1 ? PP_COST_SHARED2 : PP_COST_SHARED1;
    return PP_COST_TLS;
}

/* ns saved per block served by a pool instead of malloc+free. */
static double saved_per_block(const struct pp_cost_model *m, enum pp_cost_way way, uint64_t size,
                              double in_flight)
{
    return pp_cost_ns(m, PP_COST_MALLOC, size, in_flight) - pp_cost_ns(m, way, size, in_flight);
}

static double shape_saving(const struct pp_cost_model *m, const struct pool_shape *shape,
                           double total, double hits, enum pp_cost_way way, double in_flight)
{
    double saved = 0;
    for (size_t i = 0; i < shape->nclasses; i++)
        saved += hits * (shape->classes[i].count / total) *
                 saved_per_block(m, way, shape->classes[i].block, in_flight);
    return saved;
}

/* The presize fix: each growing realloc goes away. A realloc that grows costs a malloc and a
 * free of its new size (the copy is not counted: the estimate is a floor); a doubling chain's
 * steps average half the final size. */
static double presize_saving(const struct pp_cost_model *m, uint64_t reallocs, uint64_t final)
{
    return (double)reallocs * pp_cost_ns(m, PP_COST_MALLOC, final / 2 ? final / 2 : 1, 1);
}

/* ---- the verdict ---- */

/* "saves 12ms, 3.4% of run", or "costs 2.0ms more" when the pool loses to malloc. */
static void set_shares(char *buf, size_t len, double saving_ns, double share)
{
    char a[32], b[32];
    if (saving_ns < 0)
        snprintf(buf, len, "costs %s more", pp_human_ns(a, sizeof a, (uint64_t)-saving_ns));
    else
        snprintf(buf, len, "saves %s, %s of run", pp_human_ns(a, sizeof a, (uint64_t)saving_ns),
                 pct(b, sizeof b, share));
}

/* What each row was compared with depends on the thresholds alone (but for "big enough" with
 * a big_enough_bytes, which names the site's median): worked out once per set of thresholds,
 * not once per site. Formatting them for every site was half of pp_judge's time, and pp_judge
 * a third of `--group-by stack` on 131k stacks (callgrind). */
enum { T_FREQUENCY, T_PRESIZE, T_STACK, T_ARENA, T_RETAINED, T_LIFETIME, T_CONSISTENCY,
       T_SPREAD, T_BIG, T_REUSE, T_ROWS };
typedef char threshold_text[sizeof ((struct pp_check *)0)->threshold_text];
static const threshold_text *threshold_texts(const struct pp_thresholds *t)
{
    static struct pp_thresholds key;
    static bool made;
    static threshold_text text[T_ROWS];
    if (made && !memcmp(&key, t, sizeof key))
        return text;
    char a[32], b[32], c[32];
    snprintf(text[T_FREQUENCY], sizeof text[0], ">= %s, >= %s/s",
             pct(c, sizeof c, t->min_share), pp_human_count(a, sizeof a, t->min_rate));
    snprintf(text[T_PRESIZE], sizeof text[0], ">= %.2f", t->presize_grows);
    snprintf(text[T_STACK], sizeof text[0], ">= %s, <= %s B",
             pct(c, sizeof c, t->same_fn_share),
             pp_human_bytes(a, sizeof a, (uint64_t)t->stack_max_bytes));
    snprintf(text[T_ARENA], sizeof text[0], ">= %.0f x <= %s B", t->arena_min_blocks,
             pp_human_bytes(b, sizeof b, (uint64_t)t->arena_max_bytes));
    snprintf(text[T_RETAINED], sizeof text[0], "<= %s",
             pct(b, sizeof b, t->max_retained_share));
    snprintf(text[T_LIFETIME], sizeof text[0], "<= %s",
             pp_human_ns(b, sizeof b, (uint64_t)t->max_lifetime_ns));
    snprintf(text[T_CONSISTENCY], sizeof text[0], ">= %s", pct(c, sizeof c, t->consistency_share));
    snprintf(text[T_SPREAD], sizeof text[0], "<= %.0fx", t->max_spread);
    snprintf(text[T_BIG], sizeof text[0], ">= %s of run", pct(a, sizeof a, t->min_saving_share));
    snprintf(text[T_REUSE], sizeof text[0], ">= %s", pct(a, sizeof a, t->min_hit_rate));
    key = *t;
    made = true;
    return text;
}

void pp_judge(const struct pp_site *site, const struct pp_judge_context *ctx,
              const struct pp_thresholds *t, struct pp_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->failed_check = -1;
    char a[32], b[32], c[32];
    struct pp_check *row;
    const threshold_text *thresholds = threshold_texts(t);
    const struct pp_cost_model *cm = ctx->cost;
    double allocs = (double)site->allocs;
    double run_ns = (double)ctx->duration_ns;
    /* The threads that allocate here (v1.1 traces), else every thread of the process. */
    uint32_t threads = site->threads ? site->threads : ctx->threads ? ctx->threads : 1;
    /* Savings are shares of the threads' time: several threads allocating at once can save
     * more than the wall time between them. */
    double share_ns = run_ns * threads;

    /* What the trace says per thread. Without per-thread figures (v1.0) the site's peak is the
     * capacity of each thread's pool: an upper bound. */
    v->threads = threads;
    v->capacity_per_thread = site->peak_live_per_thread ? site->peak_live_per_thread
                             : site->peak_live           ? site->peak_live
                                                         : 1;
    double in_flight = (double)v->capacity_per_thread;
    double cross = site->frees ? (double)site->cross_thread_frees / (double)site->frees : 0;
    enum pp_pool_kind kind = cross >= t->shared_free_share ? PP_POOL_SHARED : PP_POOL_PER_THREAD;
    /* A shared list is used by the threads that free into it as well: at least two. */
    enum pp_cost_way way = pool_way(kind, kind == PP_POOL_SHARED && threads < 2 ? 2 : threads);

    /* The sizes and the pool's shape. */
    struct pp_hist_span *spans = NULL;
    size_t n = pp_hist_spans(&site->hists[PP_STATS_HIST_SIZE], site->min_size, site->max_size,
                             &spans);
    if (n == (size_t)-1)
        n = 0;
    struct size_shape s = shape_of(spans, n);
    bool consistent = s.count > 0 && s.consistent >= t->consistency_share;
    double spread = (double)site->max_size / (double)(site->min_size ? site->min_size : 1);
    bool narrow = s.count > 0 && spread <= t->max_spread;
    struct pool_shape shape = {0};
    bool shaped;
    if (consistent && narrow) {
        /* The seeds' pool: one block of the largest size serves every allocation. */
        shape.nclasses = 1;
        shape.classes[0] = (struct size_class){pow2_at_least(site->max_size), site->max_size,
                                               s.count};
        shaped = true;
    } else {
        shaped = size_classes(spans, n, s.count, t, &shape);
    }

    /* Reuse: a free list holding the peak number live, replayed on this run. */
    uint32_t sim_cap;
    double hits = hit_rate_at(site, site->peak_live, &sim_cap);
    double pool_saving = shaped ? shape_saving(cm, &shape, s.count, hits * allocs, way, in_flight)
                                : 0;
    double pool_share = share_ns > 0 ? pool_saving / share_ns : 0;

    /* Frequency. */
    double share = ctx->total_allocs ? allocs / (double)ctx->total_allocs : 0;
    double rate = run_ns > 0 ? allocs / (run_ns / 1e9) : 0;
    bool frequent = rate >= t->min_rate && (share >= t->min_share || pool_share >= t->min_saving_share);
    row = add_row(v, "frequency", frequent, "too rare", "min_share", share, t->min_share);
    /* Under min_share, the saving carries the row: then the value says so. */
    if (share < t->min_share && pool_share >= t->min_saving_share)
        snprintf(row->value_text, sizeof row->value_text, "%.8s of allocs, saves %.8s, %.8s/s",
                 pct(a, sizeof a, share), pct(c, sizeof c, pool_share),
                 pp_human_count(b, sizeof b, rate));
    else
        snprintf(row->value_text, sizeof row->value_text, "%s of allocs, %s/s",
                 pct(a, sizeof a, share), pp_human_count(b, sizeof b, rate));
    memcpy(row->threshold_text, thresholds[T_FREQUENCY], sizeof row->threshold_text);

    /* Simpler fix 1: pre-size what grows by realloc. */
    double grows = allocs ? (double)site->realloc_grows / allocs : 0;
    bool presize = grows >= t->presize_grows;
    row = add_row(v, "grows by realloc", presize, NULL, "presize_grows", grows,
                  t->presize_grows);
    snprintf(row->value_text, sizeof row->value_text, "%.2f per block", grows);
    memcpy(row->threshold_text, thresholds[T_PRESIZE], sizeof row->threshold_text);

    /* Simpler fix 2: freed where allocated, and small enough for the stack. */
    double same = same_function_share(site);
    uint64_t stack_bytes = site->peak_live_bytes;
    bool stack = same >= t->same_fn_share && (double)stack_bytes <= t->stack_max_bytes &&
                 pp_site_live_at_exit(site) == 0;
    row = add_row(v, "freed in same fn", stack, NULL, "same_fn_share", same,
                  t->same_fn_share);
    snprintf(row->value_text, sizeof row->value_text, "%s, peak %s B live",
             pct(a, sizeof a, same), pp_human_bytes(b, sizeof b, stack_bytes));
    memcpy(row->threshold_text, thresholds[T_STACK], sizeof row->threshold_text);

    /* Simpler fix 3: many small blocks kept to the end, or freed together (the lifetimes, in
     * the allocating thread's allocations, spread from 0 to the batch: the last block of a batch
     * dies at once, the first after the whole batch). */
    double retained = allocs ? (double)pp_site_live_at_exit(site) / allocs : 0;
    const struct pp_hist *lives = &site->hists[PP_STATS_HIST_LIFETIME_ALLOCS];
    uint64_t l5 = lives->total ? pp_hist_percentile(lives, 5, 0, UINT64_MAX) : 0;
    uint64_t l95 = lives->total ? pp_hist_percentile(lives, 95, 0, UINT64_MAX) : 0;
    bool kept_to_end = retained >= 1 - t->max_retained_share;
    bool batch_freed = site->frees > 0 && retained <= t->max_retained_share &&
                       cross < t->shared_free_share && /* an arena belongs to one thread */
                       (double)l95 >= (double)site->peak_live / 2 && l5 * 8 <= l95;
    bool arena = (kept_to_end || batch_freed) && (double)site->peak_live >= t->arena_min_blocks &&
                 (double)s.median <= t->arena_max_bytes;
    row = add_row(v, "die together", arena, NULL, "arena_min_blocks", (double)site->peak_live,
                  t->arena_min_blocks);
    snprintf(row->value_text, sizeof row->value_text, "%s, peak %" PRIu64 " x %s B",
             kept_to_end ? "kept to end" : batch_freed ? "batch freed" : "apart", site->peak_live,
             pp_human_bytes(a, sizeof a, s.median));
    memcpy(row->threshold_text, thresholds[T_ARENA], sizeof row->threshold_text);

    /* Not retained, short-lived. */
    bool kept = retained > t->max_retained_share;
    row = add_row(v, "not retained", !kept, "retained", "max_retained_share", retained,
                  t->max_retained_share);
    snprintf(row->value_text, sizeof row->value_text, "%s live at exit", pct(a, sizeof a, retained));
    memcpy(row->threshold_text, thresholds[T_RETAINED], sizeof row->threshold_text);

    uint64_t life95 = pp_site_lifetime_percentile(site, 95);
    bool short_lived = site->frees > 0 && (double)life95 <= t->max_lifetime_ns;
    row = add_row(v, "short-lived", short_lived, "long-lived", "max_lifetime_ns", (double)life95,
                  t->max_lifetime_ns);
    if (site->frees)
        snprintf(row->value_text, sizeof row->value_text, "p95 %s",
                 pp_human_ns(a, sizeof a, life95));
    else
        snprintf(row->value_text, sizeof row->value_text, "never freed");
    memcpy(row->threshold_text, thresholds[T_LIFETIME], sizeof row->threshold_text);

    /* Sizes: the seeds' two rows (the shape they leave was found above). */
    row = add_row(v, "size consistency", consistent, "sizes too spread", "consistency_share", s.consistent,
                  t->consistency_share);
    snprintf(row->value_text, sizeof row->value_text, "%s within 2x of %s B",
             pct(a, sizeof a, s.consistent), pp_human_bytes(b, sizeof b, s.median));
    memcpy(row->threshold_text, thresholds[T_CONSISTENCY], sizeof row->threshold_text);

    row = add_row(v, "size spread", narrow, "sizes too spread", "max_spread", spread, t->max_spread);
    snprintf(row->value_text, sizeof row->value_text, "%.0fx (%s..%s B)", spread,
             pp_human_bytes(a, sizeof a, site->min_size),
             pp_human_bytes(b, sizeof b, site->max_size));
    memcpy(row->threshold_text, thresholds[T_SPREAD], sizeof row->threshold_text);

    /* Big enough: the time the pool of that shape saves (and, when the user sets one, a
     * median size at least big_enough_bytes). */
    bool big = shaped && pool_share >= t->min_saving_share &&
               (double)s.median >= t->big_enough_bytes;
    row = add_row(v, "big enough", big, pool_saving < 0 ? "slower than malloc" : "too small",
                  "min_saving_share", pool_share, t->min_saving_share);
    set_shares(row->value_text, sizeof row->value_text, pool_saving, pool_share);
    if (t->big_enough_bytes > 0)
        snprintf(row->threshold_text, sizeof row->threshold_text, ">= %s, p50 %s >= %s B",
                 pct(a, sizeof a, t->min_saving_share), pp_human_bytes(c, sizeof c, s.median),
                 pp_human_bytes(b, sizeof b, (uint64_t)t->big_enough_bytes));
    else
        memcpy(row->threshold_text, thresholds[T_BIG], sizeof row->threshold_text);

    bool reused = hits >= t->min_hit_rate;
    row = add_row(v, "reuse", reused, "low reuse", "min_hit_rate", hits, t->min_hit_rate);
    snprintf(row->value_text, sizeof row->value_text, "%.2f%% hits at capacity %u",
             hits * 100, sim_cap);
    memcpy(row->threshold_text, thresholds[T_REUSE], sizeof row->threshold_text);

    /* The verdict, simpler fixes first. */
    v->capacity = site->peak_live;
    v->hit_rate = hits;
    v->sim_capacity = sim_cap;
    v->object_bytes = site->max_size;
    double stack_saving = allocs * saved_per_block(cm, PP_COST_TLS, s.median, in_flight);
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
        v->saving_ns = presize_saving(cm, site->realloc_grows, v->presize_bytes);
        /* Then: the presized block is allocated once per block instead, and may still be worth
         * a pool of its own. */
        double then_saving = hits * allocs *
                             saved_per_block(cm, way, v->presize_bytes, in_flight);
        if (!kept && short_lived && reused && share_ns > 0 &&
            then_saving / share_ns >= t->min_saving_share) {
            v->then = (struct pp_verdict_then){PP_VERDICT_POOL, kind, v->capacity_per_thread,
                                               v->presize_bytes, threads, then_saving,
                                               then_saving / share_ns};
        }
    } else if (stack) {
        v->kind = PP_VERDICT_STACK;
        v->allocs_saved = site->allocs;
        v->saving_ns = stack_saving;
    } else if (arena) {
        v->kind = PP_VERDICT_ARENA;
        v->allocs_saved = site->allocs;
        v->arena_bytes = site->peak_live_bytes;
        v->saving_ns = stack_saving;
    } else if (kept) {
        v->kind = PP_VERDICT_NO_POOL;
        v->reason = "retained";
    } else if (!short_lived) {
        v->kind = PP_VERDICT_NO_POOL;
        v->reason = "long-lived";
    } else if (!shaped) {
        v->kind = PP_VERDICT_NO_POOL;
        v->reason = "sizes too spread";
    } else if (!reused) {
        v->kind = PP_VERDICT_NO_POOL;
        v->reason = "low reuse";
    } else if (!big) {
        v->kind = PP_VERDICT_NO_POOL;
        v->reason = pool_saving < 0 ? "slower than malloc" : "too small";
    } else {
        v->kind = shape.nclasses > 1 ? PP_VERDICT_TIERED
                  : shape.cap        ? PP_VERDICT_POOL_CAPPED
                                     : PP_VERDICT_POOL;
        v->pool_kind = kind;
        v->saving_ns = pool_saving;
        v->object_bytes = shape.classes[shape.nclasses - 1].block;
        v->drop_above_bytes = shape.cap;
        if (shape.cap) {
            v->cap_bytes = shape.cap;
            v->above_cap_share = shape.tail_share;
            /* Oversized blocks are allocated fresh and dropped: they never hit. */
            v->hit_rate = hits * (1 - shape.tail_share);
        }
        uint64_t per_thread_bytes = 0;
        for (size_t i = 0; i < shape.nclasses; i++)
            per_thread_bytes += v->capacity_per_thread * shape.classes[i].block;
        if (v->kind == PP_VERDICT_TIERED) {
            v->ntiers = shape.nclasses;
            for (size_t i = 0; i < shape.nclasses; i++)
                v->tiers[i] = (struct pp_tier){shape.classes[i].upper, shape.classes[i].block,
                                               shape.classes[i].count / s.count};
            if (!shape.cap)
                v->drop_above_bytes = shape.classes[shape.nclasses - 1].upper;
        }
        v->pool_bytes = per_thread_bytes * (kind == PP_POOL_PER_THREAD ? threads : 1);
        v->pool_bytes_large = (double)v->pool_bytes > t->max_pool_bytes;
        v->allocs_saved = (uint64_t)llround(v->hit_rate * allocs);
        v->retained_bytes = v->pool_bytes;
    }
    free(spans);
    if (v->kind == PP_VERDICT_NO_POOL && !v->reason)
        v->reason = v->failed_check >= 0 ? v->checks[v->failed_check].fails_as : "too rare";
    /* The row shown with a no-pool reason is the failed row that gives it (the sizes rows can
     * fail and still leave a pool of classes, which then fails on its saving). */
    for (size_t i = 0; v->kind == PP_VERDICT_NO_POOL && i < v->nchecks; i++)
        if (v->checks[i].pooling && !v->checks[i].pass && strcmp(v->checks[i].fails_as, v->reason) == 0) {
            v->failed_check = (int)i;
            break;
        }
    v->saving_share = share_ns > 0 ? v->saving_ns / share_ns : 0;
}

/* ---- the report ---- */

static struct pp_cost_model judged_with; /* one report is judged per run of the analyzer */
static struct pp_thresholds judged_by;
static bool judged;

const struct pp_thresholds *pp_report_thresholds(void)
{
    return judged ? &judged_by : NULL;
}

const struct pp_cost_model *pp_report_cost_model(void)
{
    return judged ? &judged_with : NULL;
}

int pp_report_judge(struct pp_report *r, const struct pp_thresholds *t)
{
    free(r->verdicts);
    r->verdicts = r->nsites ? calloc(r->nsites, sizeof *r->verdicts) : NULL;
    if (r->nsites && !r->verdicts)
        return -1;
    /* The allocator: the first trace's (merged traces come from one program). */
    const char *allocator = pp_cost_allocator_of(r->ntraces ? r->traces[0] : NULL);
    char err[512];
    if (pp_cost_model_find(&judged_with, allocator, err, sizeof err) != 0) {
        fprintf(stderr, "poolprobe-report: warning: %s; the built-in table is used\n", err);
        pp_cost_model_builtin(&judged_with, allocator);
    }
    judged = true;
    judged_by = *t;
    struct pp_judge_context ctx = {r->allocs, r->duration_ns, 1, &judged_with};
    for (size_t i = 0; i < r->ntraces; i++)
        if (r->traces[i]->process.threads_seen > ctx.threads)
            ctx.threads = r->traces[i]->process.threads_seen;
    for (size_t i = 0; i < r->nsites; i++)
        pp_judge(&r->sites[i], &ctx, t, &r->verdicts[i]);
    return 0;
}

static const struct pp_report *sort_report; /* qsort has no context argument */

static int by_saving(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    double sx = sort_report->verdicts[x].saving_ns, sy = sort_report->verdicts[y].saving_ns;
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
