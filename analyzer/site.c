/* site.c — accumulate STATS entries into the per-site model (see site.h for the rules). */
#include "site.h"

#include <stdlib.h>
#include <string.h>

static const unsigned hist_sub_bits[PP_STATS_HIST_COUNT] = {
    [PP_STATS_HIST_SIZE] = PP_SIZE_SUB_BITS,
    [PP_STATS_HIST_LIFETIME_NS] = PP_LIFETIME_NS_SUB_BITS,
    [PP_STATS_HIST_LIFETIME_ALLOCS] = PP_LIFETIME_ALLOCS_SUB_BITS,
    [PP_STATS_HIST_CHAIN_FINAL_SIZE] = PP_SIZE_SUB_BITS,
};

void pp_site_init(struct pp_site *site)
{
    memset(site, 0, sizeof *site);
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
        pp_hist_init(&site->hists[h], hist_sub_bits[h]);
}

void pp_site_free(struct pp_site *site)
{
    free(site->key);
    free(site->frames);
    free(site->free_callers);
    free(site->pools);
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
        pp_hist_free(&site->hists[h]);
    memset(site, 0, sizeof *site);
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static int add_hist(struct pp_hist *h, const struct pp_trace_hist *t, uint64_t scale)
{
    if (t->n == 0)
        return 0;
    int rc = 0;
    if (t->kind == PP_HIST_EXACT) {
        struct pp_hist_value *v = malloc(t->n * sizeof *v);
        if (!v)
            return -1;
        for (unsigned i = 0; i < t->n; i++)
            v[i] = (struct pp_hist_value){t->entries[i].key, mul_sat(t->entries[i].count, scale)};
        rc = pp_hist_add_values(h, v, t->n);
        free(v);
    } else {
        struct pp_hist_bin *b = malloc(t->n * sizeof *b);
        if (!b)
            return -1;
        for (unsigned i = 0; i < t->n; i++)
            b[i] = (struct pp_hist_bin){(unsigned)t->entries[i].key,
                                        mul_sat(t->entries[i].count, scale)};
        rc = pp_hist_add_buckets(h, b, t->n, t->sub_bits);
        free(b);
    }
    return rc;
}

static int add_free_caller(struct pp_site *site, const char *function, uint64_t count)
{
    for (size_t i = 0; i < site->nfree_callers; i++) {
        if (site->free_callers[i].function == function ||
            (function && site->free_callers[i].function &&
             strcmp(site->free_callers[i].function, function) == 0)) {
            site->free_callers[i].count = pp_add_sat(site->free_callers[i].count, count);
            return 0;
        }
    }
    struct pp_site_free_caller *fc =
        realloc(site->free_callers, (site->nfree_callers + 1) * sizeof *fc);
    if (!fc)
        return -1;
    site->free_callers = fc;
    fc[site->nfree_callers++] = (struct pp_site_free_caller){function, count};
    return 0;
}

static int add_pool(struct pp_site *site, uint32_t capacity, uint64_t hits)
{
    for (size_t i = 0; i < site->npools; i++) {
        if (site->pools[i].capacity == capacity) {
            site->pools[i].hits = pp_add_sat(site->pools[i].hits, hits);
            return 0;
        }
    }
    struct pp_site_pool *p = realloc(site->pools, (site->npools + 1) * sizeof *p);
    if (!p)
        return -1;
    site->pools = p;
    p[site->npools++] = (struct pp_site_pool){capacity, hits};
    return 0;
}

static int cmp_free_caller(const void *a, const void *b)
{
    uint64_t x = ((const struct pp_site_free_caller *)a)->count;
    uint64_t y = ((const struct pp_site_free_caller *)b)->count;
    return (x < y) - (x > y);
}

static int cmp_pool(const void *a, const void *b)
{
    uint32_t x = ((const struct pp_site_pool *)a)->capacity;
    uint32_t y = ((const struct pp_site_pool *)b)->capacity;
    return (x > y) - (x < y);
}

int pp_site_add_stats(struct pp_site *site, const struct pp_trace_stats *s,
                      const char *const *free_caller_names, uint64_t scale)
{
    if (s->allocs) {
        bool first = site->allocs == 0;
        if (first || s->min_size < site->min_size)
            site->min_size = s->min_size;
        if (first || s->max_size > site->max_size)
            site->max_size = s->max_size;
    }
    site->nstacks++;
    site->allocs = pp_add_sat(site->allocs, mul_sat(s->allocs, scale));
    site->frees = pp_add_sat(site->frees, mul_sat(s->frees, scale));
    site->bytes = pp_add_sat(site->bytes, mul_sat(s->alloc_bytes, scale));
    site->live_bytes = pp_add_sat(site->live_bytes, mul_sat(s->live_bytes, scale));
    /* A sampled peak of 0 or 1 says little about the real one (anything up to scale), and
     * scaling it would invent a peak of scale: keep it. Larger sampled peaks scale. */
    uint64_t peak_scale = s->peak_live > 1 ? scale : 1;
    site->peak_live = pp_add_sat(site->peak_live, mul_sat(s->peak_live, peak_scale));
    site->peak_live_bytes =
        pp_add_sat(site->peak_live_bytes, mul_sat(s->peak_live_bytes, peak_scale));
    site->cross_thread_frees =
        pp_add_sat(site->cross_thread_frees, mul_sat(s->cross_thread_frees, scale));
    site->realloc_calls = pp_add_sat(site->realloc_calls, mul_sat(s->realloc_calls, scale));
    site->realloc_grows = pp_add_sat(site->realloc_grows, mul_sat(s->realloc_grows, scale));
    site->chains_freed = pp_add_sat(site->chains_freed, mul_sat(s->chains_freed, scale));
    site->lifetime_ns_sum = pp_add_sat(site->lifetime_ns_sum, mul_sat(s->lifetime_ns_sum, scale));
    site->other_free_callers =
        pp_add_sat(site->other_free_callers, mul_sat(s->other_free_callers, scale));
    for (unsigned i = 0; i < s->nfree_callers; i++)
        if (add_free_caller(site, free_caller_names ? free_caller_names[i] : NULL,
                            mul_sat(s->free_callers[i].count, scale)))
            return -1;
    if (site->nfree_callers > 1)
        qsort(site->free_callers, site->nfree_callers, sizeof *site->free_callers,
              cmp_free_caller);
    for (unsigned i = 0; i < s->npool; i++)
        if (add_pool(site, s->pools[i].capacity, mul_sat(s->pools[i].hits, scale)))
            return -1;
    if (site->npools > 1)
        qsort(site->pools, site->npools, sizeof *site->pools, cmp_pool);
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
        if (add_hist(&site->hists[h], &s->hists[h], scale))
            return -1;
    return 0;
}

uint64_t pp_site_live_at_exit(const struct pp_site *site)
{
    return site->allocs > site->frees ? site->allocs - site->frees : 0;
}

uint64_t pp_site_size_percentile(const struct pp_site *site, double pct)
{
    if (site->allocs == 0)
        return 0;
    return pp_hist_percentile(&site->hists[PP_STATS_HIST_SIZE], pct, site->min_size,
                              site->max_size);
}

uint64_t pp_site_lifetime_percentile(const struct pp_site *site, double pct)
{
    return pp_hist_percentile(&site->hists[PP_STATS_HIST_LIFETIME_NS], pct, 0, UINT64_MAX);
}

uint64_t pp_site_element_bytes(const struct pp_site *site)
{
    const struct pp_hist *h = &site->hists[PP_STATS_HIST_SIZE];
    if (!h->exact || h->nvalues == 0)
        return site->min_size;
    uint64_t g = 0;
    for (size_t i = 0; i < h->nvalues; i++) {
        uint64_t a = h->values[i].value, b = g;
        while (b) {
            uint64_t t = a % b;
            a = b;
            b = t;
        }
        g = a;
    }
    return g;
}
