/* hist.c — log-linear bucket bounds, the in-memory histogram model and percentiles.
 *
 * Bins and exact values are kept as sorted sparse arrays: most sites touch a handful of buckets,
 * and a report may hold thousands of sites with four histograms each. Adding is append, sort,
 * coalesce; that is O(n log n) per add and fine for the sizes a trace holds.
 */
#include "hist.h"

#include <stdlib.h>

#include "trace_format.h"

unsigned pp_hist_nbuckets(unsigned sub_bits)
{
    return pp_hist_index(UINT64_MAX, sub_bits) + 1;
}

uint64_t pp_hist_bucket_min(unsigned idx, unsigned sub_bits)
{
    return pp_hist_lower(idx, sub_bits);
}

uint64_t pp_hist_bucket_max(unsigned idx, unsigned sub_bits)
{
    if (idx + 1 >= pp_hist_nbuckets(sub_bits))
        return UINT64_MAX;
    return pp_hist_lower(idx + 1, sub_bits) - 1;
}

void pp_hist_init(struct pp_hist *h, unsigned sub_bits)
{
    *h = (struct pp_hist){.sub_bits = sub_bits, .exact = true};
}

void pp_hist_free(struct pp_hist *h)
{
    free(h->bins);
    free(h->values);
    pp_hist_init(h, h->sub_bits);
}

static int cmp_bin(const void *a, const void *b)
{
    unsigned x = ((const struct pp_hist_bin *)a)->index, y = ((const struct pp_hist_bin *)b)->index;
    return (x > y) - (x < y);
}

static int cmp_value(const void *a, const void *b)
{
    uint64_t x = ((const struct pp_hist_value *)a)->value;
    uint64_t y = ((const struct pp_hist_value *)b)->value;
    return (x > y) - (x < y);
}

/* Append n bins to h->bins, then sort and coalesce equal indexes. */
static int append_bins(struct pp_hist *h, const struct pp_hist_bin *add, size_t n)
{
    if (n == 0)
        return 0;
    struct pp_hist_bin *bins = realloc(h->bins, (h->nbins + n) * sizeof *bins);
    if (!bins)
        return -1;
    h->bins = bins;
    size_t total = h->nbins;
    for (size_t i = 0; i < n; i++)
        if (add[i].count)
            bins[total++] = add[i];
    qsort(bins, total, sizeof *bins, cmp_bin);
    size_t out = 0;
    for (size_t i = 0; i < total; i++) {
        if (out && bins[out - 1].index == bins[i].index)
            bins[out - 1].count = pp_add_sat(bins[out - 1].count, bins[i].count);
        else
            bins[out++] = bins[i];
    }
    h->nbins = out;
    return 0;
}

static int append_values(struct pp_hist *h, const struct pp_hist_value *add, size_t n)
{
    if (n == 0)
        return 0;
    struct pp_hist_value *values = realloc(h->values, (h->nvalues + n) * sizeof *values);
    if (!values)
        return -1;
    h->values = values;
    size_t total = h->nvalues;
    for (size_t i = 0; i < n; i++)
        if (add[i].count)
            values[total++] = add[i];
    qsort(values, total, sizeof *values, cmp_value);
    size_t out = 0;
    for (size_t i = 0; i < total; i++) {
        if (out && values[out - 1].value == values[i].value)
            values[out - 1].count = pp_add_sat(values[out - 1].count, values[i].count);
        else
            values[out++] = values[i];
    }
    h->nvalues = out;
    return 0;
}

static void drop_values(struct pp_hist *h)
{
    free(h->values);
    h->values = NULL;
    h->nvalues = 0;
    h->exact = false;
}

int pp_hist_add_values(struct pp_hist *h, const struct pp_hist_value *v, size_t n)
{
    if (n == 0)
        return 0;
    struct pp_hist_bin *bins = malloc(n * sizeof *bins);
    if (!bins)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bins[i].index = pp_hist_index(v[i].value, h->sub_bits);
        bins[i].count = v[i].count;
        h->total = pp_add_sat(h->total, v[i].count);
    }
    int rc = append_bins(h, bins, n);
    free(bins);
    if (rc)
        return rc;
    if (h->exact) {
        if (append_values(h, v, n))
            return -1;
        if (h->nvalues > PP_HIST_EXACT_MAX)
            drop_values(h);
    }
    return 0;
}

int pp_hist_add_buckets(struct pp_hist *h, const struct pp_hist_bin *b, size_t n,
                        unsigned src_sub_bits)
{
    if (n == 0)
        return 0;
    struct pp_hist_bin *bins = malloc(n * sizeof *bins);
    if (!bins)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bins[i].index = src_sub_bits == h->sub_bits
                            ? b[i].index
                            : pp_hist_index(pp_hist_bucket_min(b[i].index, src_sub_bits),
                                            h->sub_bits);
        bins[i].count = b[i].count;
        h->total = pp_add_sat(h->total, b[i].count);
    }
    int rc = append_bins(h, bins, n);
    free(bins);
    drop_values(h);
    return rc;
}

int pp_hist_merge(struct pp_hist *dst, const struct pp_hist *src)
{
    if (src->exact && dst->exact)
        return pp_hist_add_values(dst, src->values, src->nvalues);
    if (src->exact) {
        /* dst already inexact: only the buckets matter. */
        struct pp_hist tmp;
        pp_hist_init(&tmp, dst->sub_bits);
        int rc = pp_hist_add_values(&tmp, src->values, src->nvalues);
        if (rc == 0)
            rc = pp_hist_add_buckets(dst, tmp.bins, tmp.nbins, tmp.sub_bits);
        pp_hist_free(&tmp);
        return rc;
    }
    return pp_hist_add_buckets(dst, src->bins, src->nbins, src->sub_bits);
}

/* 1-based nearest rank of percentile pct among total counts. */
static uint64_t rank_of(double pct, uint64_t total)
{
    if (pct <= 0)
        return 1;
    if (pct >= 100)
        return total;
    long double r = (long double)pct / 100.0L * (long double)total;
    uint64_t rank = (uint64_t)r;
    if ((long double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    return rank > total ? total : rank;
}

uint64_t pp_hist_percentile(const struct pp_hist *h, double pct, uint64_t lo_clamp,
                            uint64_t hi_clamp)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = rank_of(pct, h->total);
    uint64_t seen = 0;
    if (h->exact) {
        for (size_t i = 0; i < h->nvalues; i++) {
            seen = pp_add_sat(seen, h->values[i].count);
            if (seen >= rank)
                return h->values[i].value;
        }
        return h->nvalues ? h->values[h->nvalues - 1].value : 0;
    }
    if (h->nbins == 0)
        return 0;
    size_t i = 0;
    for (; i < h->nbins; i++) {
        seen = pp_add_sat(seen, h->bins[i].count);
        if (seen >= rank)
            break;
    }
    if (i == h->nbins)
        i = h->nbins - 1;
    uint64_t lo = pp_hist_bucket_min(h->bins[i].index, h->sub_bits);
    uint64_t hi = pp_hist_bucket_max(h->bins[i].index, h->sub_bits);
    /* Narrow to what the exact bounds allow; if they contradict the bucket (they cannot in a
     * consistent trace), fall back to the bucket alone. */
    uint64_t nlo = lo > lo_clamp ? lo : lo_clamp;
    uint64_t nhi = hi < hi_clamp ? hi : hi_clamp;
    if (nlo <= nhi) {
        lo = nlo;
        hi = nhi;
    }
    return lo + (hi - lo) / 2;
}

size_t pp_hist_spans(const struct pp_hist *h, uint64_t lo_clamp, uint64_t hi_clamp,
                     struct pp_hist_span **out)
{
    *out = NULL;
    size_t n = h->exact ? h->nvalues : h->nbins;
    if (n == 0)
        return 0;
    struct pp_hist_span *spans = malloc(n * sizeof *spans);
    if (!spans)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (h->exact) {
            spans[i] = (struct pp_hist_span){h->values[i].value, h->values[i].value,
                                             h->values[i].count};
            continue;
        }
        uint64_t lo = pp_hist_bucket_min(h->bins[i].index, h->sub_bits);
        uint64_t hi = pp_hist_bucket_max(h->bins[i].index, h->sub_bits);
        if (lo < lo_clamp && lo_clamp <= hi)
            lo = lo_clamp;
        if (hi > hi_clamp && hi_clamp >= lo)
            hi = hi_clamp;
        spans[i] = (struct pp_hist_span){lo, hi, h->bins[i].count};
    }
    *out = spans;
    return n;
}

double pp_span_count_between(const struct pp_hist_span *spans, size_t n, uint64_t lo,
                             uint64_t hi)
{
    double count = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pp_hist_span *s = &spans[i];
        if (s->hi < lo || s->lo > hi)
            continue;
        if (s->lo >= lo && s->hi <= hi) {
            count += (double)s->count;
            continue;
        }
        /* Partly inside: assume the values spread evenly over the span. */
        uint64_t a = s->lo > lo ? s->lo : lo, b = s->hi < hi ? s->hi : hi;
        count += (double)s->count * ((double)(b - a) + 1) / ((double)(s->hi - s->lo) + 1);
    }
    return count;
}
