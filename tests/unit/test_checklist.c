/* test_checklist.c — "should you pool this?" (analyzer/checklist.c): every rule at and just
 * beyond its threshold, every verdict, the verdict order, and the thresholds table.
 *
 * Each test starts from good_site(): a site that passes every pooling check with margin (100000
 * allocations of exactly 4096 B, all freed ~1 us later in another function, 2 live at peak, a
 * free list of 2 hit 99998 times, the only site of a 1 s run) and perturbs one property. Numbers
 * are chosen so that shares at a threshold are exactly representable as the same double as the
 * threshold's default (e.g. 2000/100000 == 0.02), so "at the threshold" really is at it.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "checklist.h"
#include "site.h"
#include "trace_format.h"

#define N 100000ull            /* allocations of the good site */
#define SECOND 1000000000ull   /* ns */
#define MIB (1024ull * 1024)

/* ---- building sites ---- */

struct fc {
    const char *function;
    uint64_t count;
};

struct vc {
    uint64_t value;
    uint64_t count;
};

static void set_frames(struct pp_site *s, const char *const *functions, size_t n)
{
    free(s->frames);
    s->frames = calloc(n, sizeof *s->frames);
    for (size_t i = 0; i < n; i++)
        s->frames[i].function = functions[i];
    s->nframes = n;
}

static void set_free_callers(struct pp_site *s, const struct fc *fc, size_t n)
{
    free(s->free_callers);
    s->free_callers = n ? calloc(n, sizeof *s->free_callers) : NULL;
    for (size_t i = 0; i < n; i++)
        s->free_callers[i] = (struct pp_site_free_caller){fc[i].function, fc[i].count};
    s->nfree_callers = n;
}

static void set_pools(struct pp_site *s, const struct pp_site_pool *p, size_t n)
{
    free(s->pools);
    s->pools = n ? calloc(n, sizeof *s->pools) : NULL;
    if (n)
        memcpy(s->pools, p, n * sizeof *p);
    s->npools = n;
}

/* Replace histogram `which` by exact values. */
static void set_values(struct pp_site *s, int which, const struct vc *v, size_t n)
{
    struct pp_hist *h = &s->hists[which];
    pp_hist_free(h);
    struct pp_hist_value hv[16];
    for (size_t i = 0; i < n; i++)
        hv[i] = (struct pp_hist_value){v[i].value, v[i].count};
    if (pp_hist_add_values(h, hv, n))
        abort();
}

/* Replace histogram `which` by log-linear buckets: each value counted in its bucket of the
 * histogram's own layout (what the shim writes once a site has many distinct values). */
static void set_buckets(struct pp_site *s, int which, const struct vc *v, size_t n)
{
    struct pp_hist *h = &s->hists[which];
    pp_hist_free(h);
    struct pp_hist_bin b[16];
    for (size_t i = 0; i < n; i++)
        b[i] = (struct pp_hist_bin){pp_hist_index(v[i].value, h->sub_bits), v[i].count};
    if (pp_hist_add_buckets(h, b, n, h->sub_bits))
        abort();
}

#define LIST(type, ...) (const type[]){__VA_ARGS__}, sizeof((const type[]){__VA_ARGS__}) / sizeof(type)
#define FREE_CALLERS(s, ...) set_free_callers(s, LIST(struct fc, __VA_ARGS__))
#define POOLS(s, ...) set_pools(s, LIST(struct pp_site_pool, __VA_ARGS__))
#define VALUES(s, which, ...) set_values(s, which, LIST(struct vc, __VA_ARGS__))
#define BUCKETS(s, which, ...) set_buckets(s, which, LIST(struct vc, __VA_ARGS__))

/* Sizes as exact values; sets min_size and max_size from them (values ascending). */
#define SIZES(s, ...)                                                                          \
    do {                                                                                       \
        const struct vc sizes_[] = {__VA_ARGS__};                                              \
        size_t nsizes_ = sizeof sizes_ / sizeof sizes_[0];                                     \
        set_values(s, PP_STATS_HIST_SIZE, sizes_, nsizes_);                                    \
        (s)->min_size = sizes_[0].value;                                                       \
        (s)->max_size = sizes_[nsizes_ - 1].value;                                             \
    } while (0)

static void good_site(struct pp_site *s)
{
    pp_site_init(s);
    set_frames(s, (const char *const[]){"make_buffer", "handle_request", "main"}, 3);
    s->nstacks = 1;
    s->best_stack_allocs = N;
    s->allocs = N;
    s->frees = N;
    s->bytes = N * 4096;
    s->min_size = s->max_size = 4096;
    s->peak_live = 2;
    s->peak_live_bytes = 2 * 4096;
    s->lifetime_ns_sum = N * 1000;
    FREE_CALLERS(s, {"consume_buffer", N});
    POOLS(s, {1, 50000}, {2, 99998}, {4, 99998}, {8, 99998});
    VALUES(s, PP_STATS_HIST_SIZE, {4096, N});
    VALUES(s, PP_STATS_HIST_LIFETIME_NS, {1000, N});
}

/* ---- judging ---- */

static struct pp_thresholds defaults;

/* A fixed cost table, so the rules are tested independently of the machine's: malloc+free
 * 60 ns at 16 B and 510 ns at 4 KiB (so a pool of the good site's 4 KiB blocks saves 500 ns x
 * 99998 hits = 5.0% of its 1 s run); a thread-local list 10 ns; a locked list 40 ns alone and
 * 400 ns under two threads; the trim cliff at 4 x 64 KiB in flight. */
static const char test_costs_tsv[] =
    "# allocator\ttest\n"
    "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n"
    "16\t1\t60\t10\t40\t400\n"
    "16\t4\t60\t10\t40\t400\n"
    "4096\t1\t510\t10\t40\t400\n"
    "4096\t4\t510\t10\t40\t400\n"
    "65536\t1\t600\t100\t130\t1000\n"
    "65536\t4\t20000\t100\t130\t1000\n";
static struct pp_cost_model test_costs;

static void judge_in(const struct pp_site *s, uint64_t total_allocs, uint64_t duration_ns,
                     const struct pp_thresholds *t, struct pp_verdict *v)
{
    struct pp_judge_context ctx = {total_allocs, duration_ns, 1, &test_costs};
    pp_judge(s, &ctx, t, v);
}

/* The site as the only one of a 1 s run: share 100%, 100000/s. */
static void judge(const struct pp_site *s, struct pp_verdict *v)
{
    judge_in(s, N, SECOND, &defaults, v);
}

static const struct pp_check *row(const struct pp_verdict *v, const char *name)
{
    for (size_t i = 0; i < v->nchecks; i++)
        if (strcmp(v->checks[i].name, name) == 0)
            return &v->checks[i];
    return NULL;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void expect_verdict(const char *label, const struct pp_verdict *v,
                           enum pp_verdict_kind kind, const char *reason)
{
    bool ok = v->kind == kind && same_str(v->reason, reason);
    CHECK(ok, "%s: %s%s%s%s", label, pp_verdict_name(kind), reason ? " (" : "",
          reason ? reason : "", reason ? ")" : "");
    if (!ok)
        printf("    got %s (%s)\n", pp_verdict_name(v->kind), v->reason ? v->reason : "NULL");
}

static void expect_row(const char *label, const struct pp_verdict *v, const char *name, bool pass)
{
    const struct pp_check *c = row(v, name);
    CHECK(c && c->pass == pass, "%s: row '%s' %s", label, name, pass ? "passes" : "fails");
    if (c && c->pass != pass)
        printf("    value %.17g, threshold %.17g (%s vs %s)\n", c->value, c->threshold,
               c->value_text, c->threshold_text);
}

/* A row's value and threshold, compared exactly. */
static void expect_row_value(const char *label, const struct pp_verdict *v, const char *name,
                             double value, double threshold)
{
    const struct pp_check *c = row(v, name);
    bool ok = c && c->value == value && c->threshold == threshold;
    CHECK(ok, "%s: row '%s' value %.10g vs %.10g", label, name, value, threshold);
    if (c && !ok)
        printf("    got value %.17g, threshold %.17g\n", c->value, c->threshold);
}

#define CHECK_DBL(actual, expected, ...)                                                       \
    do {                                                                                       \
        double check_da_ = (actual), check_de_ = (expected);                                   \
        CHECK(check_da_ == check_de_, __VA_ARGS__);                                            \
        if (check_da_ != check_de_)                                                            \
            printf("    got %.17g, expected %.17g\n", check_da_, check_de_);                   \
    } while (0)

/* ---- the good site, and the rows ---- */

static void test_good_pool(void)
{
    struct pp_site s;
    struct pp_verdict v;
    good_site(&s);
    judge(&s, &v);
    expect_verdict("good site", &v, PP_VERDICT_POOL, NULL);

    static const struct {
        const char *name;
        bool pooling, pass;
    } rows[] = {
        {"frequency", true, true},         {"grows by realloc", false, false},
        {"freed in same fn", false, false}, {"die together", false, false},
        {"not retained", true, true},
        {"short-lived", true, true},       {"size consistency", true, true},
        {"size spread", true, true},       {"big enough", true, true},
        {"reuse", true, true},
    };
    size_t nrows = sizeof rows / sizeof rows[0];
    bool order = v.nchecks == nrows;
    for (size_t i = 0; order && i < nrows; i++)
        order = strcmp(v.checks[i].name, rows[i].name) == 0 &&
                v.checks[i].pooling == rows[i].pooling && v.checks[i].pass == rows[i].pass;
    CHECK(order, "good site: %zu rows in checklist order, pooling flags and pass flags as "
                 "expected (got %zu rows)", nrows, v.nchecks);
    bool texts = true;
    for (size_t i = 0; i < v.nchecks; i++)
        texts = texts && v.checks[i].value_text[0] && v.checks[i].threshold_text[0] &&
                v.checks[i].why && v.checks[i].why[0];
    CHECK(texts, "good site: every row has a value text, a threshold text and a reason");

    expect_row_value("good site", &v, "frequency", 1.0, 0.02);
    expect_row_value("good site", &v, "grows by realloc", 0.0, 1.0);
    expect_row_value("good site", &v, "freed in same fn", 0.0, 0.95);
    expect_row_value("good site", &v, "not retained", 0.0, 0.01);
    expect_row_value("good site", &v, "short-lived", 1000, 1e9);
    expect_row_value("good site", &v, "size consistency", 1.0, 0.95);
    expect_row_value("good site", &v, "size spread", 1.0, 100);
    CHECK_DBL(row(&v, "big enough")->value, 0.049999, "good site: big enough = 4.9999%% saved");
    CHECK_DBL(row(&v, "big enough")->threshold, 0.01, "good site: against 1%% of the run");
    expect_row_value("good site", &v, "reuse", 0.99998, 0.90);
    CHECK(v.pool_kind == PP_POOL_PER_THREAD, "good site: a per-thread pool");
    CHECK_U64(v.capacity_per_thread, 2, "good site: capacity per thread = peak live");
    CHECK_U64(v.threads, 1, "good site: one thread");
    CHECK_U64(v.pool_bytes, 8192, "good site: the pools hold 2 x 4096");
    CHECK(!v.pool_bytes_large, "good site: 8 KiB of pools is not large");
    CHECK_DBL(v.saving_ns, 99998 * 500.0, "good site: saves 500 ns per hit");
    CHECK_DBL(v.saving_share, 0.049999, "good site: 4.9999%% of the run");
    CHECK_U64(v.drop_above_bytes, 0, "good site: nothing dropped");

    CHECK_U64(v.capacity, 2, "good site: capacity = peak live");
    CHECK_U64(v.sim_capacity, 2, "good site: simulated at capacity 2");
    CHECK_U64(v.object_bytes, 4096, "good site: object_bytes");
    CHECK_DBL(v.hit_rate, 0.99998, "good site: hit rate 99998/100000");
    CHECK_U64(v.retained_bytes, 8192, "good site: retained_bytes = 2 x 4096");
    CHECK_U64(v.allocs_saved, 99998, "good site: allocs_saved = the hits");
    CHECK(v.cap_bytes == 0 && v.above_cap_share == 0 && v.ntiers == 0 && v.presize_bytes == 0 &&
              v.reallocs_saved == 0,
          "good site: no cap, no tiers, no presize figures");
    pp_site_free(&s);
}

/* ---- frequency ---- */

static void test_frequency(void)
{
    struct pp_site s;
    struct pp_verdict v;
    good_site(&s);

    /* Share: 100000 of 5000000 is exactly 2%. */
    judge_in(&s, 5000000, SECOND, &defaults, &v);
    expect_verdict("share exactly 2%", &v, PP_VERDICT_POOL, NULL);
    expect_row("share exactly 2%", &v, "frequency", true);
    expect_row_value("share exactly 2%", &v, "frequency", 0.02, 0.02);

    /* Under 2% of the allocations, a site still counts when its pool saves 5% of the run (the
     * issue's PYTHONMALLOC=malloc site: 200k allocations, 0.6% of all). */
    judge_in(&s, 5000001, SECOND, &defaults, &v);
    expect_verdict("share just under 2%, saves 5%", &v, PP_VERDICT_POOL, NULL);
    expect_row("share just under 2%, saves 5%", &v, "frequency", true);
    struct pp_thresholds t = defaults;
    t.min_saving_share = 0.05; /* just above the 4.9999% it saves */
    judge_in(&s, 5000001, SECOND, &t, &v);
    expect_verdict("share just under 2%, saves under min_saving_share", &v, PP_VERDICT_NO_POOL,
                   "too rare");
    expect_row("share just under 2%, saves under min_saving_share", &v, "frequency", false);
    expect_row("share just under 2%, saves under min_saving_share", &v, "reuse", true);

    /* Rate: 100000 in 100 s is exactly 1000/s (then the pool saves 0.05% of the run: the
     * saving is judged apart, so it is switched off here). */
    t = defaults;
    t.min_saving_share = 0;
    judge_in(&s, N, 100 * SECOND, &t, &v);
    expect_verdict("rate exactly 1000/s", &v, PP_VERDICT_POOL, NULL);
    expect_row("rate exactly 1000/s", &v, "frequency", true);
    judge_in(&s, N, 100 * SECOND, &defaults, &v);
    expect_verdict("rate exactly 1000/s, saves 0.05%", &v, PP_VERDICT_NO_POOL, "too small");

    judge_in(&s, N, 100 * SECOND + 1, &t, &v);
    expect_verdict("rate just under 1000/s", &v, PP_VERDICT_NO_POOL, "too rare");
    expect_row("rate just under 1000/s", &v, "frequency", false);

    /* Both at once at their thresholds. */
    judge_in(&s, 5000000, 100 * SECOND, &t, &v);
    expect_verdict("share 2% and 1000/s", &v, PP_VERDICT_POOL, NULL);

    /* No duration, no total: not frequent (and no division by zero). */
    judge_in(&s, N, 0, &defaults, &v);
    expect_verdict("zero duration", &v, PP_VERDICT_NO_POOL, "too rare");
    t.min_saving_share = 1; /* the saving cannot carry it */
    judge_in(&s, 0, SECOND, &t, &v);
    expect_verdict("zero total allocations", &v, PP_VERDICT_NO_POOL, "too rare");
    pp_site_free(&s);
}

/* ---- presize ---- */

static void test_presize(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    s.realloc_calls = s.realloc_grows = N; /* exactly one grow per block */
    s.chains_freed = 10000;
    VALUES(&s, PP_STATS_HIST_CHAIN_FINAL_SIZE, {4096, 9499}, {8192, 501});
    judge(&s, &v);
    expect_verdict("1.00 grows per block", &v, PP_VERDICT_PRESIZE, NULL);
    expect_row("1.00 grows per block", &v, "grows by realloc", true);
    expect_row_value("1.00 grows per block", &v, "grows by realloc", 1.0, 1.0);
    CHECK(strcmp(row(&v, "grows by realloc")->value_text, "1.00 per block") == 0 &&
              strcmp(row(&v, "grows by realloc")->threshold_text, ">= 1.00") == 0,
          "presize row texts: '1.00 per block' vs '>= 1.00'");
    CHECK_U64(v.presize_bytes, 8192, "exact finals, 94.99%% at 4096: p95 is 8192");
    CHECK_U64(v.reallocs_saved, N, "presize: reallocs_saved = realloc_grows");
    CHECK_U64(v.allocs_saved, N, "presize: allocs_saved = realloc_grows");
    CHECK(v.ntiers == 0 && v.cap_bytes == 0 && v.retained_bytes == 0,
          "presize: no pool figures");

    VALUES(&s, PP_STATS_HIST_CHAIN_FINAL_SIZE, {4096, 9500}, {8192, 500});
    judge(&s, &v);
    CHECK_U64(v.presize_bytes, 4096, "exact finals, 95.00%% at 4096: p95 is 4096");

    /* Log-linear finals: p95 lands in bucket 4096..5119 (its middle is 4607): round up. */
    BUCKETS(&s, PP_STATS_HIST_CHAIN_FINAL_SIZE, {3000, 9000}, {5000, 1000});
    judge(&s, &v);
    expect_verdict("log-linear finals", &v, PP_VERDICT_PRESIZE, NULL);
    CHECK_U64(v.presize_bytes, 5119, "log-linear finals: p95 rounded up to its bucket's top");
    BUCKETS(&s, PP_STATS_HIST_CHAIN_FINAL_SIZE, {3000, 9500}, {5000, 500});
    judge(&s, &v);
    CHECK_U64(v.presize_bytes, 3071, "log-linear finals: p95 in 2560..3071 -> 3071");

    /* No chain finished: the largest size seen. */
    pp_hist_free(&s.hists[PP_STATS_HIST_CHAIN_FINAL_SIZE]);
    s.max_size = 6000;
    judge(&s, &v);
    expect_verdict("no finals", &v, PP_VERDICT_PRESIZE, NULL);
    CHECK_U64(v.presize_bytes, 6000, "no finals: presize_bytes = max_size");

    /* One grow fewer than blocks: the pool checks decide. */
    s.max_size = 4096;
    s.realloc_calls = s.realloc_grows = N - 1;
    judge(&s, &v);
    expect_verdict("0.99999 grows per block", &v, PP_VERDICT_POOL, NULL);
    expect_row("0.99999 grows per block", &v, "grows by realloc", false);
    expect_row_value("0.99999 grows per block", &v, "grows by realloc", 0.99999, 1.0);
    CHECK(v.presize_bytes == 0 && v.reallocs_saved == 0, "not presize: no presize figures");

    /* With presize_grows=2: two per block is presize, one fewer is not. */
    struct pp_thresholds t = defaults;
    char err[200];
    CHECK(pp_thresholds_set(&t, "presize_grows=2", err, sizeof err) == 0, "presize_grows=2 set");
    s.realloc_calls = s.realloc_grows = 2 * N;
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("presize_grows=2, 2 per block", &v, PP_VERDICT_PRESIZE, NULL);
    s.realloc_calls = s.realloc_grows = 2 * N - 1;
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("presize_grows=2, just under 2 per block", &v, PP_VERDICT_POOL, NULL);
    pp_site_free(&s);
}

/* ---- stack ---- */

static void test_stack(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    s.peak_live_bytes = 16384;
    FREE_CALLERS(&s, {"make_buffer", 95000}, {"consume_buffer", 5000});
    judge(&s, &v);
    expect_verdict("95% freed in same fn, peak 16 KiB", &v, PP_VERDICT_STACK, NULL);
    expect_row("95% freed in same fn, peak 16 KiB", &v, "freed in same fn", true);
    expect_row_value("95% freed in same fn, peak 16 KiB", &v, "freed in same fn", 0.95, 0.95);
    CHECK_U64(v.allocs_saved, N, "stack: allocs_saved = every allocation");
    CHECK(v.retained_bytes == 0 && v.presize_bytes == 0, "stack: no pool or presize figures");

    FREE_CALLERS(&s, {"make_buffer", 94000}, {"consume_buffer", 6000});
    judge(&s, &v);
    expect_verdict("94% freed in same fn", &v, PP_VERDICT_POOL, NULL);
    expect_row("94% freed in same fn", &v, "freed in same fn", false);
    expect_row_value("94% freed in same fn", &v, "freed in same fn", 0.94, 0.95);

    FREE_CALLERS(&s, {"make_buffer", 95000}, {"consume_buffer", 5000});
    s.peak_live_bytes = 16385;
    judge(&s, &v);
    expect_verdict("peak 16385 B live", &v, PP_VERDICT_POOL, NULL);
    expect_row("peak 16385 B live", &v, "freed in same fn", false);

    /* One block live at exit: never stack, though every free is in the allocating function. */
    s.peak_live_bytes = 8192;
    s.frees = N - 1;
    FREE_CALLERS(&s, {"make_buffer", N - 1});
    judge(&s, &v);
    expect_row_value("1 block live at exit", &v, "freed in same fn", 1.0, 0.95);
    expect_row("1 block live at exit", &v, "freed in same fn", false);
    CHECK(v.kind != PP_VERDICT_STACK, "1 block live at exit: not stack (got %s)",
          pp_verdict_name(v.kind));

    /* The function is compared by name, not by pointer. */
    char copy[] = "make_buffer";
    s.frees = N;
    FREE_CALLERS(&s, {copy, N});
    judge(&s, &v);
    expect_verdict("same name, other string", &v, PP_VERDICT_STACK, NULL);

    /* Only the allocating frame counts: freed in its caller is not "same function". */
    FREE_CALLERS(&s, {"handle_request", N});
    judge(&s, &v);
    expect_verdict("freed in the caller", &v, PP_VERDICT_POOL, NULL);
    expect_row_value("freed in the caller", &v, "freed in same fn", 0.0, 0.95);

    /* An unknown allocating function matches nothing, not even an unknown free caller. */
    s.frames[0].function = NULL;
    FREE_CALLERS(&s, {NULL, N});
    judge(&s, &v);
    expect_verdict("unknown function", &v, PP_VERDICT_POOL, NULL);
    pp_site_free(&s);
}

/* ---- not retained, short-lived ---- */

static void test_retained(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    s.frees = 99000; /* 1000 of 100000 live at exit: exactly 1% */
    FREE_CALLERS(&s, {"consume_buffer", 99000});
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 99000});
    judge(&s, &v);
    expect_verdict("1% live at exit", &v, PP_VERDICT_POOL, NULL);
    expect_row("1% live at exit", &v, "not retained", true);
    expect_row_value("1% live at exit", &v, "not retained", 0.01, 0.01);

    s.frees = 98999;
    FREE_CALLERS(&s, {"consume_buffer", 98999});
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 98999});
    judge(&s, &v);
    expect_verdict("1.001% live at exit", &v, PP_VERDICT_NO_POOL, "retained");
    expect_row("1.001% live at exit", &v, "not retained", false);
    expect_row("1.001% live at exit", &v, "reuse", true);
    pp_site_free(&s);
}

static void test_lifetime(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 94000}, {1000000000, 6000});
    judge(&s, &v);
    expect_verdict("p95 lifetime exactly 1 s", &v, PP_VERDICT_POOL, NULL);
    expect_row_value("p95 lifetime exactly 1 s", &v, "short-lived", 1e9, 1e9);

    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 94000}, {1000000001, 6000});
    judge(&s, &v);
    expect_verdict("p95 lifetime 1 s + 1 ns", &v, PP_VERDICT_NO_POOL, "long-lived");
    expect_row("p95 lifetime 1 s + 1 ns", &v, "short-lived", false);
    expect_row_value("p95 lifetime 1 s + 1 ns", &v, "short-lived", 1000000001, 1e9);

    /* p95 by nearest rank: a 5% tail of long lifetimes does not count. */
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 95000}, {5000000000ull, 5000});
    judge(&s, &v);
    expect_verdict("5% live 5 s, p95 1 us", &v, PP_VERDICT_POOL, NULL);
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 94999}, {5000000000ull, 5001});
    judge(&s, &v);
    expect_verdict("5.001% live 5 s", &v, PP_VERDICT_NO_POOL, "long-lived");

    /* Never freed: not short-lived. By default "retained" comes first... */
    s.frees = 0;
    s.lifetime_ns_sum = 0;
    set_free_callers(&s, NULL, 0);
    pp_hist_free(&s.hists[PP_STATS_HIST_LIFETIME_NS]);
    judge(&s, &v);
    expect_verdict("never freed", &v, PP_VERDICT_NO_POOL, "retained");
    expect_row("never freed", &v, "not retained", false);
    expect_row("never freed", &v, "short-lived", false);
    CHECK(strcmp(row(&v, "short-lived")->value_text, "never freed") == 0,
          "never freed: short-lived row says 'never freed' (got '%s')",
          row(&v, "short-lived")->value_text);
    /* ...and with retention allowed, never freed is "long-lived". */
    struct pp_thresholds t = defaults;
    char err[200];
    CHECK(pp_thresholds_set(&t, "max_retained_share=1", err, sizeof err) == 0,
          "max_retained_share=1 set");
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("never freed, retention allowed", &v, PP_VERDICT_NO_POOL, "long-lived");
    expect_row("never freed, retention allowed", &v, "not retained", true);
    expect_row("never freed, retention allowed", &v, "short-lived", false);
    pp_site_free(&s);
}

/* ---- sizes ---- */

static void expect_tiers(const char *label, const struct pp_verdict *v, size_t n,
                         const uint64_t *upper, const double *share);

static void test_consistency(void)
{
    struct pp_site s;
    struct pp_verdict v;

    /* 95% within 2x of the median (4096); the rest spread too thin to make tiers or a cap. */
    good_site(&s);
    SIZES(&s, {4096, 95000}, {16384, 2000}, {65536, 3000});
    judge(&s, &v);
    expect_verdict("95% within 2x", &v, PP_VERDICT_POOL, NULL);
    expect_row_value("95% within 2x", &v, "size consistency", 0.95, 0.95);
    expect_row_value("95% within 2x", &v, "size spread", 16, 100);
    CHECK_U64(v.object_bytes, 65536, "95%% within 2x: object_bytes = the largest size");
    CHECK_U64(v.retained_bytes, 2 * 65536, "95%% within 2x: retained_bytes = 2 x 64 KiB");

    SIZES(&s, {4096, 94999}, {16384, 2001}, {65536, 3000});
    judge(&s, &v);
    /* Past the seeds' 95%, the sizes make classes: 4 KiB, and 16 KiB (2%, too few for a pool
     * of their own) served by the 64 KiB class. */
    expect_verdict("94.999% within 2x", &v, PP_VERDICT_TIERED, NULL);
    expect_row("94.999% within 2x", &v, "size consistency", false);
    expect_row_value("94.999% within 2x", &v, "size consistency", 0.94999, 0.95);
    expect_row("94.999% within 2x", &v, "size spread", true);
    expect_row("94.999% within 2x", &v, "big enough", true);
    expect_tiers("94.999% within 2x", &v, 2, (const uint64_t[]){4096, 65536},
                 (const double[]){0.94999, 0.05001});
    CHECK(v.cap_bytes == 0, "94.999%% within 2x: no cap");
    pp_site_free(&s);
}

static void test_spread(void)
{
    struct pp_site s;
    struct pp_verdict v;

    /* 2% at the top, too many to cap, too few for a tier: the spread decides. */
    good_site(&s);
    SIZES(&s, {2000, 1}, {4096, 97999}, {200000, 2000});
    judge(&s, &v);
    expect_verdict("max/min = 100", &v, PP_VERDICT_POOL, NULL);
    expect_row_value("max/min = 100", &v, "size spread", 100, 100);
    expect_row("max/min = 100", &v, "size consistency", true);

    SIZES(&s, {2000, 1}, {4096, 97999}, {202000, 2000});
    judge(&s, &v);
    /* Past the spread: one class of 4 KiB (the lone 2000 B goes with it), one for the 2%. */
    expect_verdict("max/min = 101", &v, PP_VERDICT_TIERED, NULL);
    expect_tiers("max/min = 101", &v, 2, (const uint64_t[]){4096, 262144},
                 (const double[]){0.98, 0.02});
    expect_row("max/min = 101", &v, "size spread", false);
    expect_row_value("max/min = 101", &v, "size spread", 101, 100);
    expect_row("max/min = 101", &v, "size consistency", true);
    pp_site_free(&s);
}

static void test_big_enough(void)
{
    struct pp_site s;
    struct pp_verdict v;

    /* The seeds' case 2 in C: a 16 B block saves 50 ns per hit, 0.49999% of the run. */
    good_site(&s);
    SIZES(&s, {16, N});
    s.peak_live_bytes = 2 * 16;
    judge(&s, &v);
    expect_verdict("16 B", &v, PP_VERDICT_NO_POOL, "too small");
    expect_row("16 B", &v, "big enough", false);
    CHECK_DBL(row(&v, "big enough")->value, 0.0049999, "16 B: saves 0.49999%% of the run");

    /* Twice as many in the same second: 0.99999%, still under 1%; ...and 20 us shorter, over. */
    s.allocs = s.frees = 2 * N;
    FREE_CALLERS(&s, {"consume_buffer", 2 * N});
    POOLS(&s, {2, 2 * N - 2});
    VALUES(&s, PP_STATS_HIST_SIZE, {16, 2 * N});
    judge_in(&s, 2 * N, SECOND, &defaults, &v);
    expect_verdict("16 B x 200000 in 1 s", &v, PP_VERDICT_NO_POOL, "too small");
    judge_in(&s, 2 * N, SECOND - 20000, &defaults, &v);
    expect_verdict("16 B x 200000 in 0.99998 s", &v, PP_VERDICT_POOL, NULL);
    pp_site_free(&s);

    /* The trim cliff: 4 x 64 KiB in flight cost 20 us each through malloc, 100 ns pooled. */
    good_site(&s);
    SIZES(&s, {65536, N});
    s.peak_live = 4;
    s.peak_live_bytes = 4 * 65536;
    POOLS(&s, {4, 99990});
    judge(&s, &v);
    expect_verdict("4 x 64 KiB in flight", &v, PP_VERDICT_POOL, NULL);
    CHECK_DBL(v.saving_ns, 99990 * 19900.0, "4 x 64 KiB: saves 19.9 us per hit");
    CHECK_U64(v.pool_bytes, 4 * 65536, "4 x 64 KiB: the pool holds 256 KiB");

    /* Freed by another thread 10% of the time: one shared list; on two threads its lock costs
     * 400 ns against malloc's 510 (4 KiB): it still saves 1.09999% of the two threads' half
     * second each. */
    pp_site_free(&s);
    good_site(&s);
    s.cross_thread_frees = N / 10;
    struct pp_judge_context two = {N, SECOND / 2, 2, &test_costs};
    pp_judge(&s, &two, &defaults, &v);
    expect_verdict("4 KiB, 10% freed across threads, 2 threads", &v, PP_VERDICT_POOL, NULL);
    CHECK(v.pool_kind == PP_POOL_SHARED, "10%% cross-thread frees: a shared pool");
    CHECK_U64(v.pool_bytes, 8192, "shared pool: one list of 2 x 4 KiB");
    CHECK_DBL(v.saving_share, 0.01099978, "shared pool on 2 threads: 110 ns per hit");
    s.cross_thread_frees = N / 10 - 1;
    pp_judge(&s, &two, &defaults, &v);
    CHECK(v.kind == PP_VERDICT_POOL && v.pool_kind == PP_POOL_PER_THREAD,
          "just under 10%% cross-thread frees: per-thread pools");
    CHECK_U64(v.pool_bytes, 2 * 8192, "per-thread pools on 2 threads: 2 x 2 x 4 KiB");
    CHECK_U64(v.threads, 2, "per-thread pools: 2 threads");

    /* A shared list on two threads of 16 B blocks: 400 ns against 60, a loss. */
    s.cross_thread_frees = N / 2;
    SIZES(&s, {16, N});
    pp_judge(&s, &two, &defaults, &v);
    expect_verdict("16 B shared by 2 threads", &v, PP_VERDICT_NO_POOL, "slower than malloc");

    /* Large pools are flagged: 2 x 4 KiB on 8193 threads is over 64 MiB. (The saving, a share
     * of 8193 threads' time, is not the question here.) */
    s.cross_thread_frees = 0;
    SIZES(&s, {4096, N});
    struct pp_judge_context many = {N, SECOND, 8193, &test_costs};
    struct pp_thresholds nosave = defaults;
    nosave.min_saving_share = 0;
    pp_judge(&s, &many, &nosave, &v);
    CHECK(v.kind == PP_VERDICT_POOL && v.pool_bytes == 8193ull * 8192 && v.pool_bytes_large,
          "8193 threads x 2 x 4 KiB: pool_bytes_large");
    many.threads = 8192;
    pp_judge(&s, &many, &nosave, &v);
    CHECK(v.pool_bytes == 64 * MIB && !v.pool_bytes_large, "exactly 64 MiB of pools: not large");
    pp_site_free(&s);
}

/* ---- reuse ---- */

static void test_reuse(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    POOLS(&s, {1, 50000}, {2, 90000}, {4, 99000});
    judge(&s, &v);
    expect_verdict("90% hits", &v, PP_VERDICT_POOL, NULL);
    expect_row_value("90% hits", &v, "reuse", 0.90, 0.90);
    CHECK(strcmp(row(&v, "reuse")->value_text, "90.00% hits at capacity 2") == 0,
          "90%% hits: row text '90.00%% hits at capacity 2' (got '%s')",
          row(&v, "reuse")->value_text);
    CHECK_DBL(v.hit_rate, 0.90, "90%% hits: hit_rate");
    CHECK_U64(v.allocs_saved, 90000, "90%% hits: allocs_saved");

    POOLS(&s, {1, 50000}, {2, 89000}, {4, 99000});
    judge(&s, &v);
    expect_verdict("89% hits", &v, PP_VERDICT_NO_POOL, "low reuse");
    expect_row("89% hits", &v, "reuse", false);
    expect_row_value("89% hits", &v, "reuse", 0.89, 0.90);

    POOLS(&s, {1, 50000}, {2, 89999}, {4, 99000});
    judge(&s, &v);
    expect_verdict("89.999% hits", &v, PP_VERDICT_NO_POOL, "low reuse");

    /* peak_live 3: the capacity-4 simulation (capacity 2 would fail). */
    s.peak_live = 3;
    s.peak_live_bytes = 3 * 4096;
    POOLS(&s, {1, 0}, {2, 50000}, {4, 95000}, {8, 99000});
    judge(&s, &v);
    expect_verdict("peak 3, capacity 4 hits 95%", &v, PP_VERDICT_POOL, NULL);
    CHECK_U64(v.capacity, 3, "peak 3: capacity 3");
    CHECK_U64(v.sim_capacity, 4, "peak 3: simulated at capacity 4");
    CHECK_DBL(v.hit_rate, 0.95, "peak 3: hit rate from capacity 4");
    CHECK_U64(v.retained_bytes, 3 * 4096, "peak 3: retained_bytes = 3 x 4096");
    CHECK_U64(v.allocs_saved, 95000, "peak 3: allocs_saved");
    /* ...and not the capacity-8 one either. */
    POOLS(&s, {1, 0}, {2, 95000}, {4, 89000}, {8, 99000});
    judge(&s, &v);
    expect_verdict("peak 3, capacity 4 hits 89%", &v, PP_VERDICT_NO_POOL, "low reuse");
    CHECK_U64(v.sim_capacity, 4, "peak 3: still capacity 4");

    /* peak 4: the capacity-4 simulation itself. */
    s.peak_live = 4;
    judge(&s, &v);
    CHECK_U64(v.sim_capacity, 4, "peak 4: capacity 4 exactly");

    /* peak_live above every simulated capacity: the largest simulation (a lower bound of the
     * hit rate at the peak, since a bigger free list never hits less). */
    s.peak_live = 10;
    POOLS(&s, {1, 50000}, {2, 90000}, {4, 94000}, {8, 96000});
    judge(&s, &v);
    expect_verdict("peak 10, largest simulation 8", &v, PP_VERDICT_POOL, NULL);
    CHECK(v.capacity == 10 && v.sim_capacity == 8 && v.hit_rate == 0.96,
          "peak 10: capacity 10, hit rate 96%% from capacity 8");

    /* No simulation at all: no reuse. */
    s.peak_live = 2;
    set_pools(&s, NULL, 0);
    judge(&s, &v);
    expect_verdict("no simulation", &v, PP_VERDICT_NO_POOL, "low reuse");
    CHECK(v.hit_rate == 0 && v.sim_capacity == 0, "no simulation: hit rate 0 at capacity 0");

    /* allocs_saved is the number of hits, for any allocation count (no truncation of
     * hits/allocs x allocs: 1007/1029 x 1029 is 1006.9999999999999 in doubles). */
    s.allocs = s.frees = 1029;
    s.bytes = 1029 * 4096;
    FREE_CALLERS(&s, {"consume_buffer", 1029});
    VALUES(&s, PP_STATS_HIST_SIZE, {4096, 1029});
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, 1029});
    POOLS(&s, {1, 900}, {2, 1007});
    struct pp_thresholds t = defaults;
    t.min_saving_share = 0; /* 1007 hits save 0.05% of the second */
    judge_in(&s, 1029, SECOND, &t, &v);
    expect_verdict("1029 allocs, 1007 hits", &v, PP_VERDICT_POOL, NULL);
    CHECK_U64(v.allocs_saved, 1007, "1029 allocs, 1007 hits: allocs_saved = 1007");
    pp_site_free(&s);
}

/* ---- pool-capped ---- */

/* 2048..4095 B in the shim's four buckets (bulk allocations), plus `outliers` at 1 MiB. */
static void capped_site(struct pp_site *s, uint64_t bulk, uint64_t outliers)
{
    good_site(s);
    BUCKETS(s, PP_STATS_HIST_SIZE, {2048, bulk / 4}, {2560, bulk / 4}, {3072, bulk / 4},
            {3584, bulk / 4}, {MIB, outliers});
    s->min_size = 2048;
    s->max_size = MIB;
}

static void test_pool_capped(void)
{
    struct pp_site s;
    struct pp_verdict v;

    capped_site(&s, 99900, 100);
    judge(&s, &v);
    expect_verdict("0.1% at 1 MiB", &v, PP_VERDICT_POOL_CAPPED, NULL);
    expect_row("0.1% at 1 MiB", &v, "size consistency", true);
    expect_row("0.1% at 1 MiB", &v, "size spread", false);
    expect_row_value("0.1% at 1 MiB", &v, "size spread", 512, 100);
    expect_row("0.1% at 1 MiB", &v, "reuse", true);
    CHECK_U64(v.cap_bytes, 4096, "0.1%% at 1 MiB: cap 4096");
    CHECK_DBL(v.above_cap_share, 0.001, "0.1%% at 1 MiB: above_cap_share");
    CHECK_U64(v.object_bytes, 4096, "0.1%% at 1 MiB: object_bytes = the cap");
    CHECK_U64(v.capacity, 2, "0.1%% at 1 MiB: capacity");
    CHECK_DBL(v.hit_rate, 0.99998 * (1 - 0.001),
              "0.1%% at 1 MiB: hit rate = simulated x (1 - above share)");
    CHECK_U64(v.retained_bytes, 2 * 4096, "0.1%% at 1 MiB: retained_bytes = 2 x 4096");
    CHECK_U64(v.allocs_saved, 99898, "0.1%% at 1 MiB: allocs_saved = 99898");
    CHECK(v.ntiers == 0, "0.1%% at 1 MiB: no tiers");
    pp_site_free(&s);

    capped_site(&s, 98000, 2000);
    judge(&s, &v);
    /* 2% is too many to drop: the 1 MiB blocks get a tier of their own. */
    expect_verdict("2% at 1 MiB", &v, PP_VERDICT_TIERED, NULL);
    CHECK(v.cap_bytes == 0 && v.above_cap_share == 0, "2%% at 1 MiB: no cap");
    expect_tiers("2% at 1 MiB", &v, 2, (const uint64_t[]){4096, MIB}, (const double[]){0.98, 0.02});
    CHECK_U64(v.drop_above_bytes, MIB, "2%% at 1 MiB: drop above the top tier");
    pp_site_free(&s);

    /* Exact sizes; outliers exactly at max_outlier_share (1%), then just over. */
    good_site(&s);
    SIZES(&s, {3000, 99000}, {MIB, 1000});
    judge(&s, &v);
    expect_verdict("exact 3000 B + 1% at 1 MiB", &v, PP_VERDICT_POOL_CAPPED, NULL);
    CHECK_U64(v.cap_bytes, 4096, "exact 3000 B: cap rounded up to 4096");
    CHECK_DBL(v.above_cap_share, 0.01, "exact 3000 B + 1%%: above_cap_share 0.01");
    CHECK_DBL(v.hit_rate, 0.99998 * (1 - 0.01), "exact 3000 B + 1%%: hit rate");

    SIZES(&s, {3000, 98999}, {MIB, 1001});
    judge(&s, &v);
    expect_verdict("exact 3000 B + 1.001% at 1 MiB", &v, PP_VERDICT_TIERED, NULL);

    /* The seeds' case 3: a bulk under 1 KiB and a rare 1 MiB: one pool of 512 B blocks that
     * drops the big ones (512 B saves 331 ns per hit here). */
    SIZES(&s, {512, 99900}, {MIB, 100});
    judge(&s, &v);
    expect_verdict("bulk 512 B + 0.1% at 1 MiB", &v, PP_VERDICT_POOL_CAPPED, NULL);
    CHECK(v.cap_bytes == 512 && v.object_bytes == 512 && v.drop_above_bytes == 512,
          "bulk 512 B: cap and block 512 B");
    /* ...but 16 B blocks are not worth it. */
    SIZES(&s, {16, 99900}, {MIB, 100});
    judge(&s, &v);
    expect_verdict("bulk 16 B + 0.1% at 1 MiB", &v, PP_VERDICT_NO_POOL, "too small");

    /* ...and reused. */
    SIZES(&s, {3000, 99900}, {MIB, 100});
    POOLS(&s, {2, 89000});
    judge(&s, &v);
    expect_verdict("capped but 89% hits", &v, PP_VERDICT_NO_POOL, "low reuse");
    expect_row("capped but 89% hits", &v, "reuse", false);
    pp_site_free(&s);
}

/* ---- tiered ---- */

static void expect_tiers(const char *label, const struct pp_verdict *v, size_t n,
                         const uint64_t *upper, const double *share)
{
    bool ok = v->ntiers == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = v->tiers[i].upper_bytes == upper[i] && v->tiers[i].share == share[i];
    CHECK(ok, "%s: %zu tiers with the expected bounds and shares", label, n);
    if (!ok)
        for (size_t i = 0; i < v->ntiers; i++)
            printf("    tier %zu: <= %" PRIu64 " B, share %.17g\n", i, v->tiers[i].upper_bytes,
                   v->tiers[i].share);
}

static void test_tiered(void)
{
    struct pp_site s;
    struct pp_verdict v;

    good_site(&s);
    SIZES(&s, {2048, 50000}, {16384, 30000}, {131072, 20000});
    judge(&s, &v);
    expect_verdict("2 KiB / 16 KiB / 128 KiB", &v, PP_VERDICT_TIERED, NULL);
    expect_row("2 KiB / 16 KiB / 128 KiB", &v, "size consistency", false);
    expect_row("2 KiB / 16 KiB / 128 KiB", &v, "size spread", true);
    expect_tiers("2 KiB / 16 KiB / 128 KiB", &v, 3, (const uint64_t[]){2048, 16384, 131072},
                 (const double[]){0.5, 0.3, 0.2});
    CHECK_DBL(v.hit_rate, 0.99998, "tiered: hit rate as simulated");
    CHECK_U64(v.allocs_saved, 99998, "tiered: allocs_saved = the hits");
    CHECK(v.cap_bytes == 0 && v.drop_above_bytes == 131072, "tiered: no cap, drop above 128 KiB");
    CHECK(v.tiers[0].block_bytes == 2048 && v.tiers[2].block_bytes == 131072,
          "tiered: each tier's block is its bound");
    CHECK_U64(v.pool_bytes, 2 * (2048 + 16384 + 131072), "tiered: 2 blocks per tier");

    /* Class bounds round up to a power of two. */
    SIZES(&s, {3000, 50000}, {20000, 30000}, {100000, 20000});
    judge(&s, &v);
    expect_verdict("3000 / 20000 / 100000 B", &v, PP_VERDICT_TIERED, NULL);
    expect_tiers("3000 / 20000 / 100000 B", &v, 3, (const uint64_t[]){4096, 32768, 131072},
                 (const double[]){0.5, 0.3, 0.2});

    /* Four classes is the most. */
    SIZES(&s, {2048, 25000}, {8192, 25000}, {32768, 25000}, {131072, 25000});
    judge(&s, &v);
    expect_verdict("four classes", &v, PP_VERDICT_TIERED, NULL);
    expect_tiers("four classes", &v, 4, (const uint64_t[]){2048, 8192, 32768, 131072},
                 (const double[]){0.25, 0.25, 0.25, 0.25});

    SIZES(&s, {2048, 20000}, {8192, 20000}, {32768, 20000}, {131072, 20000}, {524288, 20000});
    judge(&s, &v);
    expect_verdict("five classes", &v, PP_VERDICT_NO_POOL, "sizes too spread");
    CHECK_U64(v.ntiers, 0, "five classes: no tiers");

    /* Small classes: no tier big enough to pool. */
    SIZES(&s, {16, 50000}, {64, 30000}, {256, 20000});
    s.peak_live_bytes = 512;
    judge(&s, &v);
    /* Under min_tier_bytes one class: a pool of 256 B blocks serves them all (case 3). */
    expect_verdict("16 / 64 / 256 B", &v, PP_VERDICT_POOL, NULL);
    CHECK_U64(v.ntiers, 0, "16 / 64 / 256 B: no tiers");
    CHECK_U64(v.object_bytes, 256, "16 / 64 / 256 B: 256 B blocks");
    s.peak_live_bytes = 8192;

    /* Small classes count by what they save, as any other. */
    SIZES(&s, {600, 60000}, {16384, 40000});
    judge(&s, &v);
    expect_verdict("60% at 600 B, 40% at 16 KiB", &v, PP_VERDICT_TIERED, NULL);
    CHECK_U64(v.ntiers, 2, "60%% at 600 B: two tiers");
    SIZES(&s, {600, 50000}, {16384, 50000});
    judge(&s, &v);
    expect_verdict("50% at 600 B, 50% at 16 KiB", &v, PP_VERDICT_TIERED, NULL);
    expect_tiers("50% at 600 B, 50% at 16 KiB", &v, 2, (const uint64_t[]){1024, 16384},
                 (const double[]){0.5, 0.5});

    /* A tier needs min_tier_share (5%); the largest class stays a tier anyway (no block above
     * would serve it), and 4.99% is too many to drop (max_outlier_share). */
    SIZES(&s, {2048, 50000}, {16384, 45000}, {131072, 5000});
    judge(&s, &v);
    expect_verdict("third class exactly 5%", &v, PP_VERDICT_TIERED, NULL);
    expect_tiers("third class exactly 5%", &v, 3, (const uint64_t[]){2048, 16384, 131072},
                 (const double[]){0.5, 0.45, 0.05});
    SIZES(&s, {2048, 50000}, {16384, 45010}, {131072, 4990});
    judge(&s, &v);
    expect_verdict("third class 4.99%", &v, PP_VERDICT_TIERED, NULL);
    CHECK_U64(v.ntiers, 3, "third class 4.99%%: three tiers");
    /* A middle class under 5% goes into the one above it. */
    SIZES(&s, {2048, 50000}, {16384, 4990}, {131072, 45010});
    judge(&s, &v);
    expect_tiers("middle class 4.99%", &v, 2, (const uint64_t[]){2048, 131072},
                 (const double[]){0.5, 0.5});

    /* Tiers still need reuse. */
    SIZES(&s, {2048, 50000}, {16384, 30000}, {131072, 20000});
    POOLS(&s, {2, 89000});
    judge(&s, &v);
    expect_verdict("tiers, 89% hits", &v, PP_VERDICT_NO_POOL, "low reuse");
    expect_row("tiers, 89% hits", &v, "reuse", false);
    pp_site_free(&s);
}

/* ---- the order of the verdicts ---- */

static void test_order(void)
{
    struct pp_site s;
    struct pp_verdict v;

    /* Presize and stack both apply: presize first. */
    good_site(&s);
    s.realloc_calls = s.realloc_grows = N;
    FREE_CALLERS(&s, {"make_buffer", N});
    judge(&s, &v);
    expect_row("presize and stack", &v, "grows by realloc", true);
    expect_row("presize and stack", &v, "freed in same fn", true);
    expect_verdict("presize and stack", &v, PP_VERDICT_PRESIZE, NULL);

    /* Stack and pool both apply: stack first. */
    s.realloc_calls = s.realloc_grows = 0;
    judge(&s, &v);
    expect_verdict("stack and pool", &v, PP_VERDICT_STACK, NULL);

    /* Presize comes before the pooling checks: a grown block kept to the end is presize. */
    s.realloc_calls = s.realloc_grows = N;
    FREE_CALLERS(&s, {"consume_buffer", N / 2});
    s.frees = N / 2;
    judge(&s, &v);
    expect_verdict("presize, half retained", &v, PP_VERDICT_PRESIZE, NULL);
    expect_row("presize, half retained", &v, "not retained", false);
    pp_site_free(&s);

    /* Rare: no-pool "too rare", whatever else would apply (1% of all allocations, and a pool
     * would save under min_saving_share). */
    struct pp_thresholds rare = defaults;
    rare.min_saving_share = 0.06;
    good_site(&s);
    judge_in(&s, 100 * N, SECOND, &rare, &v);
    expect_verdict("rare pool site", &v, PP_VERDICT_NO_POOL, "too rare");
    CHECK(v.allocs_saved == 0 && v.retained_bytes == 0, "rare pool site: nothing saved");
    FREE_CALLERS(&s, {"make_buffer", N});
    judge_in(&s, 100 * N, SECOND, &rare, &v);
    expect_verdict("rare stack site", &v, PP_VERDICT_NO_POOL, "too rare");
    s.realloc_calls = s.realloc_grows = N;
    judge_in(&s, 100 * N, SECOND, &rare, &v);
    expect_verdict("rare presize site", &v, PP_VERDICT_NO_POOL, "too rare");
    CHECK(v.presize_bytes == 0 && v.allocs_saved == 0, "rare presize site: no presize figures");
    pp_site_free(&s);

    /* The reason: retained before long-lived, before sizes, before low reuse, before too
     * small. */
    good_site(&s);
    s.frees = N / 2;
    FREE_CALLERS(&s, {"consume_buffer", N / 2});
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {5000000000ull, N / 2});
    SIZES(&s, {16, N / 2}, {100000, N / 2});
    POOLS(&s, {2, 10});
    judge(&s, &v);
    expect_verdict("everything fails", &v, PP_VERDICT_NO_POOL, "retained");
    s.frees = N;
    FREE_CALLERS(&s, {"consume_buffer", N});
    judge(&s, &v);
    expect_verdict("all but retained fail", &v, PP_VERDICT_NO_POOL, "long-lived");
    VALUES(&s, PP_STATS_HIST_LIFETIME_NS, {1000, N});
    judge(&s, &v);
    expect_verdict("small, reuse fail", &v, PP_VERDICT_NO_POOL, "low reuse");
    SIZES(&s, {16, N / 5}, {4096, N / 5}, {32768, N / 5}, {262144, N / 5}, {2097152, N / 5});
    judge(&s, &v);
    expect_verdict("sizes, small, reuse fail", &v, PP_VERDICT_NO_POOL, "sizes too spread");
    SIZES(&s, {16, N});
    POOLS(&s, {2, N});
    judge(&s, &v);
    expect_verdict("small fails", &v, PP_VERDICT_NO_POOL, "too small");

    /* The verdict is written from scratch: nothing of a previous verdict stays. */
    struct pp_verdict w;
    struct pp_site t;
    good_site(&t);
    SIZES(&t, {2048, 50000}, {16384, 30000}, {131072, 20000});
    judge(&t, &w);
    judge(&s, &w);
    CHECK(w.kind == PP_VERDICT_NO_POOL && w.ntiers == 0 && w.allocs_saved == 0,
          "a reused verdict struct holds only the new verdict");
    pp_site_free(&t);
    pp_site_free(&s);
}

/* An empty site (nothing allocated) is judged without dividing by zero: too rare. */
static void test_empty_site(void)
{
    struct pp_site s;
    struct pp_verdict v;
    pp_site_init(&s);
    judge(&s, &v);
    expect_verdict("empty site", &v, PP_VERDICT_NO_POOL, "too rare");
    CHECK(v.nchecks == 10 && v.allocs_saved == 0 && v.hit_rate == 0,
          "empty site: all rows, nothing saved");
    pp_site_free(&s);
}

/* ---- the cost model ---- */

static void test_cost_model(void)
{
    /* Measured points are returned as measured; between sizes, linear in log(size); in-flight
     * counts go to the nearest measured in log scale, ties up (2 is as near 1 as 4: the cliff). */
    CHECK_DBL(pp_cost_ns(&test_costs, PP_COST_MALLOC, 4096, 1), 510, "4 KiB x 1: as measured");
    CHECK(fabs(pp_cost_ns(&test_costs, PP_COST_MALLOC, 256, 1) - 285) < 1e-9,
          "256 B: halfway in log between 16 B and 4 KiB");
    CHECK_DBL(pp_cost_ns(&test_costs, PP_COST_MALLOC, 65536, 2), 20000, "64 KiB x 2: the cliff");
    CHECK_DBL(pp_cost_ns(&test_costs, PP_COST_MALLOC, 65536, 1.4), 600, "64 KiB x 1.4: no cliff");
    CHECK_DBL(pp_cost_ns(&test_costs, PP_COST_TLS, 131072, 1), 200, "128 KiB: x2 the largest");
    CHECK_DBL(pp_cost_ns(&test_costs, PP_COST_SHARED2, 1, 1), 400, "below the smallest size");

    /* The built-in tables parse; an allocator without one gets glibc's, with a note. */
    static struct pp_cost_model m;
    static const char *const allocators[] = {"glibc", "jemalloc", "tcmalloc"};
    for (size_t i = 0; i < 3; i++) {
        pp_cost_model_builtin(&m, allocators[i]);
        CHECK(m.nrows == 27 && m.note[0] == 0 && strstr(m.source, allocators[i]) &&
                  strncmp(m.source, "built-in: ", 10) == 0,
              "built-in %s table: 27 rows, no note (%s)", allocators[i], m.source);
    }
    pp_cost_model_builtin(&m, "mimalloc");
    CHECK(strcmp(m.note, "no table for mimalloc: the glibc table was used") == 0 &&
              strcmp(m.allocator, "mimalloc") == 0,
          "mimalloc: the glibc table, said so (%s)", m.note);

    /* Bad tables are refused with the line. */
    char err[160];
    static const char *const bad[] = {
        "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\n16\t1\t1\t1\t1\n",
        "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n16\t1\t1\t1\t1\n",
        "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n16\t1\t1\t1\t1\t-1\n",
        "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n64\t1\t1\t1\t1\t1\n"
        "16\t1\t1\t1\t1\t1\n",
        "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        CHECK(pp_cost_model_parse(&m, bad[i], err, sizeof err) == -1 && err[0],
              "bad table %zu refused: %s", i, err);
    }
}

/* ---- thresholds ---- */

static void test_thresholds(void)
{
    CHECK_U64(pp_threshold_count, sizeof(struct pp_thresholds) / sizeof(double),
              "one table entry per threshold field");
    bool reasons = true, offsets = true, names = true;
    for (size_t i = 0; i < pp_threshold_count; i++) {
        const struct pp_threshold_info *e = &pp_threshold_table[i];
        if (!e->why || !e->why[0] || !e->unit || !e->unit[0])
            reasons = false;
        if (e->offset % sizeof(double) || e->offset >= sizeof(struct pp_thresholds))
            offsets = false;
        if (!e->name || !e->name[0])
            names = false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(pp_threshold_table[j].name, e->name) == 0 ||
                pp_threshold_table[j].offset == e->offset)
                names = false;
    }
    CHECK(reasons, "every threshold has a unit and a non-empty reason");
    CHECK(offsets, "every threshold's offset is a double inside struct pp_thresholds");
    CHECK(names, "threshold names and offsets are distinct and non-empty");

    struct pp_thresholds t;
    memset(&t, 0xff, sizeof t);
    pp_thresholds_default(&t);
    bool match = true;
    for (size_t i = 0; i < pp_threshold_count; i++)
        if (*(const double *)((const char *)&t + pp_threshold_table[i].offset) !=
            pp_threshold_table[i].default_value)
            match = false;
    CHECK(match, "pp_thresholds_default matches the table");
    CHECK(t.min_share == 0.02 && t.min_rate == 1000 && t.consistency_share == 0.95 &&
              t.max_spread == 100 && t.min_saving_share == 0.01 && t.big_enough_bytes == 0 &&
              t.shared_free_share == 0.10 && t.max_pool_bytes == 64.0 * MIB &&
              t.max_tier_width == 16 && t.min_tier_bytes == 1024 &&
              t.max_retained_share == 0.01 && t.max_lifetime_ns == 1e9 &&
              t.min_hit_rate == 0.90 && t.max_outlier_share == 0.01 &&
              t.min_tier_share == 0.05 && t.presize_grows == 1.0 && t.same_fn_share == 0.95 &&
              t.stack_max_bytes == 16384 && t.arena_min_blocks == 64 &&
              t.arena_max_bytes == 4096,
          "the documented defaults");

    char err[200];
    struct pp_site s;
    struct pp_verdict v;
    good_site(&s);
    judge(&s, &v);
    expect_verdict("4 KiB, default min_saving_share", &v, PP_VERDICT_POOL, NULL);
    err[0] = 0;
    /* 500 ns x 99998 hits in 1 s: 4.9999% of the run. */
    CHECK(pp_thresholds_set(&t, "min_saving_share=0.05", err, sizeof err) == 0 &&
              t.min_saving_share == 0.05,
          "min_saving_share=0.05 accepted");
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("4 KiB, min_saving_share=0.05", &v, PP_VERDICT_NO_POOL, "too small");
    CHECK(row(&v, "big enough") && fabs(row(&v, "big enough")->value - 0.049999) < 1e-12 &&
              row(&v, "big enough")->threshold == 0.05,
          "4 KiB, min_saving_share=0.05: row 'big enough' 0.049999 vs 0.05");
    CHECK(pp_thresholds_set(&t, "min_saving_share=0.049999", err, sizeof err) == 0, "set 0.049999");
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("4 KiB, min_saving_share=0.049999", &v, PP_VERDICT_POOL, NULL);
    /* The optional floor on the median size. */
    CHECK(pp_thresholds_set(&t, "big_enough_bytes=4096", err, sizeof err) == 0, "set 4096");
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("4 KiB, big_enough_bytes=4096", &v, PP_VERDICT_POOL, NULL);
    CHECK(pp_thresholds_set(&t, "big_enough_bytes=4097", err, sizeof err) == 0, "set 4097");
    judge_in(&s, N, SECOND, &t, &v);
    expect_verdict("4 KiB, big_enough_bytes=4097", &v, PP_VERDICT_NO_POOL, "too small");
    pp_site_free(&s);

    CHECK(pp_thresholds_set(&t, "min_hit_rate=0.5", err, sizeof err) == 0 && t.min_hit_rate == 0.5,
          "min_hit_rate=0.5 accepted");
    CHECK(pp_thresholds_set(&t, "max_lifetime_ns=2e9", err, sizeof err) == 0 &&
              t.max_lifetime_ns == 2e9,
          "max_lifetime_ns=2e9 accepted (exponent)");
    CHECK(pp_thresholds_set(&t, "min_rate=0", err, sizeof err) == 0 && t.min_rate == 0,
          "min_rate=0 accepted");

    struct pp_thresholds before = t;
    err[0] = 0;
    int rc = pp_thresholds_set(&t, "no_such_threshold=1", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "unknown threshold 'no_such_threshold'"),
          "unknown name refused: %s", err);
    err[0] = 0;
    rc = pp_thresholds_set(&t, "min_shar=0.1", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "unknown threshold 'min_shar'"), "a prefix is not a name: %s",
          err);
    err[0] = 0;
    rc = pp_thresholds_set(&t, "min_share_x=0.1", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "unknown threshold 'min_share_x'"),
          "a longer name is not a name: %s", err);

    static const char *const bad[] = {
        "min_share",     "min_share=",       "min_share=abc", "min_share=0.1x",
        "min_share=-1",  "min_share=inf",    "min_share=nan", "min_share=1e999",
        "min_share=0.1 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        rc = pp_thresholds_set(&t, bad[i], err, sizeof err);
        CHECK(rc == -1 && strstr(err, "min_share") && strstr(err, "non-negative number"),
              "'%s' refused: %s", bad[i], err);
    }
    CHECK(memcmp(&before, &t, sizeof t) == 0, "refused assignments change nothing");

    /* A short error buffer is truncated, not overrun (ASan watches). */
    char tiny[8];
    CHECK(pp_thresholds_set(&t, "no_such_threshold=1", tiny, sizeof tiny) == -1 &&
              strlen(tiny) == sizeof tiny - 1,
          "a short error buffer gets a truncated message");

    CHECK(strcmp(pp_verdict_name(PP_VERDICT_POOL), "pool") == 0 &&
              strcmp(pp_verdict_name(PP_VERDICT_POOL_CAPPED), "pool-capped") == 0 &&
              strcmp(pp_verdict_name(PP_VERDICT_TIERED), "tiered") == 0 &&
              strcmp(pp_verdict_name(PP_VERDICT_PRESIZE), "presize") == 0 &&
              strcmp(pp_verdict_name(PP_VERDICT_STACK), "stack") == 0 &&
              strcmp(pp_verdict_name(PP_VERDICT_NO_POOL), "no-pool") == 0,
          "verdict names");
}

int main(void)
{
    pp_thresholds_default(&defaults);
    char err[128];
    if (pp_cost_model_parse(&test_costs, test_costs_tsv, err, sizeof err) != 0)
        abort();
    test_good_pool();
    test_cost_model();
    test_frequency();
    test_presize();
    test_stack();
    test_retained();
    test_lifetime();
    test_consistency();
    test_spread();
    test_big_enough();
    test_reuse();
    test_pool_capped();
    test_tiered();
    test_order();
    test_empty_site();
    test_thresholds();
    return check_summary();
}
