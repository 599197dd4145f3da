/* test_hist.c — log-linear bucket math and percentiles (analyzer/hist.c). */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "hist.h"
#include "trace_format.h"

/* Every bucket of a layout: contiguous, starting at 0, ending at UINT64_MAX, each bound maps
 * back to its bucket, and a bucket is at most 1/2^sub_bits of its lower bound wide. */
static void test_layout(unsigned sub_bits, const char *name)
{
    unsigned n = pp_hist_nbuckets(sub_bits);
    bool contiguous = pp_hist_bucket_min(0, sub_bits) == 0, round_trip = true, narrow = true;
    for (unsigned i = 0; i < n; i++) {
        uint64_t lo = pp_hist_bucket_min(i, sub_bits), hi = pp_hist_bucket_max(i, sub_bits);
        if (lo > hi || pp_hist_index(lo, sub_bits) != i || pp_hist_index(hi, sub_bits) != i)
            round_trip = false;
        if (i + 1 < n && pp_hist_bucket_min(i + 1, sub_bits) != hi + 1)
            contiguous = false;
        if (lo >= (2ull << sub_bits) && (hi - lo) > (lo >> sub_bits))
            narrow = false;
        if (lo < (2ull << sub_bits) && lo != hi) /* small values are exact */
            narrow = false;
    }
    CHECK(contiguous && pp_hist_bucket_max(n - 1, sub_bits) == UINT64_MAX,
          "%s (sub_bits %u): %u buckets cover 0..2^64-1 without gaps", name, sub_bits, n);
    CHECK(round_trip, "%s: every bucket's bounds map back to it", name);
    CHECK(narrow, "%s: buckets at most 1/%u of their value wide, exact below %u", name,
          1u << sub_bits, 2u << sub_bits);

    /* Around every power of two: the value is inside its bucket, and 2^k starts a bucket. */
    bool around = true, starts = true;
    for (unsigned k = 0; k < 64; k++) {
        uint64_t p = 1ull << k;
        uint64_t vs[3] = {p - 1, p, p + 1};
        for (int j = 0; j < 3; j++) {
            unsigned idx = pp_hist_index(vs[j], sub_bits);
            if (idx >= n || vs[j] < pp_hist_bucket_min(idx, sub_bits) ||
                vs[j] > pp_hist_bucket_max(idx, sub_bits))
                around = false;
        }
        if (pp_hist_bucket_min(pp_hist_index(p, sub_bits), sub_bits) != p)
            starts = false;
        if (k > 0 && pp_hist_index(p, sub_bits) != pp_hist_index(p - 1, sub_bits) + 1)
            starts = false;
    }
    CHECK(around, "%s: 2^k-1, 2^k, 2^k+1 fall inside their buckets for k = 0..63", name);
    CHECK(starts, "%s: each power of two starts a new bucket", name);
    CHECK(pp_hist_index(UINT64_MAX, sub_bits) == n - 1, "%s: UINT64_MAX is the last bucket", name);
}

static void test_v1_layouts(void)
{
    test_layout(PP_SIZE_SUB_BITS, "size");
    test_layout(PP_LIFETIME_NS_SUB_BITS, "lifetime_ns");
    test_layout(PP_LIFETIME_ALLOCS_SUB_BITS, "lifetime_allocs");
    test_layout(0, "sub_bits 0");
    test_layout(PP_HIST_MAX_SUB_BITS, "largest accepted");
    /* The bucket counts the v1 shim uses reach exactly as far as trace_format.h says. */
    CHECK_U64(pp_hist_index((1ull << 48) - 1, PP_SIZE_SUB_BITS), PP_SIZE_BUCKETS - 1,
              "size buckets end at 2^48");
    CHECK_U64(pp_hist_index((1ull << 46) - 1, PP_LIFETIME_NS_SUB_BITS), PP_LIFETIME_NS_BUCKETS - 1,
              "lifetime_ns buckets end at 2^46");
    CHECK_U64(pp_hist_index((1ull << 40) - 1, PP_LIFETIME_ALLOCS_SUB_BITS),
              PP_LIFETIME_ALLOCS_BUCKETS - 1, "lifetime_allocs buckets end at 2^40");
    /* A few hand-checked values for sub_bits 2. */
    CHECK_U64(pp_hist_index(7, 2), 7, "7 is exact");
    CHECK_U64(pp_hist_index(8, 2), 8, "8 starts bucket 8");
    CHECK_U64(pp_hist_index(10, 2), 9, "10 shares bucket 9 with 11");
    CHECK_U64(pp_hist_bucket_max(9, 2), 11, "bucket 9 is 10..11");
    CHECK_U64(pp_hist_bucket_min(pp_hist_index(4096, 2), 2), 4096, "4096 starts a bucket");
    CHECK_U64(pp_hist_bucket_max(pp_hist_index(4096, 2), 2), 5119, "4096's bucket ends at 5119");
}

static struct pp_hist bucketed(unsigned sub_bits, uint64_t from, uint64_t to)
{
    /* Values from..to once each, as LOGLIN buckets (the shim's view). */
    struct pp_hist h;
    pp_hist_init(&h, sub_bits);
    unsigned n = pp_hist_nbuckets(sub_bits);
    uint64_t *counts = calloc(n, sizeof *counts);
    for (uint64_t v = from; v <= to; v++)
        counts[pp_hist_index(v, sub_bits)]++;
    struct pp_hist_bin *bins = calloc(n, sizeof *bins);
    size_t nb = 0;
    for (unsigned i = 0; i < n; i++)
        if (counts[i])
            bins[nb++] = (struct pp_hist_bin){i, counts[i]};
    pp_hist_add_buckets(&h, bins, nb, sub_bits);
    free(counts);
    free(bins);
    return h;
}

static bool within(uint64_t got, uint64_t want, double rel)
{
    double d = (double)got - (double)want;
    return (d < 0 ? -d : d) <= rel * (double)want;
}

static void test_percentiles(void)
{
    struct pp_hist h;
    pp_hist_init(&h, PP_SIZE_SUB_BITS);
    CHECK_U64(pp_hist_percentile(&h, 50, 0, UINT64_MAX), 0, "empty histogram: 0");

    /* Constant size through buckets: exact thanks to the clamp to [min, max]. */
    struct pp_hist_bin b = {pp_hist_index(100, PP_SIZE_SUB_BITS), 1000};
    pp_hist_add_buckets(&h, &b, 1, PP_SIZE_SUB_BITS);
    CHECK(!h.exact && h.total == 1000, "buckets make an inexact histogram of 1000");
    CHECK(pp_hist_percentile(&h, 50, 100, 100) == 100 && pp_hist_percentile(&h, 99, 100, 100) == 100,
          "constant size 100 in bucket 96..111: p50 = p99 = 100 exactly");
    uint64_t mid = pp_hist_percentile(&h, 50, 0, UINT64_MAX);
    CHECK(mid >= 96 && mid <= 111, "unclamped: a value inside the bucket (%" PRIu64 ")", mid);
    pp_hist_free(&h);

    /* Constant size as exact values. */
    pp_hist_init(&h, PP_SIZE_SUB_BITS);
    struct pp_hist_value v = {4096, 77};
    pp_hist_add_values(&h, &v, 1);
    CHECK(h.exact && pp_hist_percentile(&h, 95, 0, UINT64_MAX) == 4096, "exact 4096: p95 4096");
    pp_hist_free(&h);

    /* 1..1024 uniform, exact: nearest rank. */
    pp_hist_init(&h, PP_SIZE_SUB_BITS);
    for (uint64_t i = 1; i <= 1024; i++) {
        struct pp_hist_value one = {i, 1};
        pp_hist_add_values(&h, &one, 1);
    }
    CHECK(h.exact && h.total == 1024, "1024 exact values kept exact (limit %d)", PP_HIST_EXACT_MAX);
    CHECK_U64(pp_hist_percentile(&h, 50, 1, 1024), 512, "uniform 1..1024 exact: p50");
    CHECK_U64(pp_hist_percentile(&h, 95, 1, 1024), 973, "uniform 1..1024 exact: p95");
    CHECK_U64(pp_hist_percentile(&h, 99, 1, 1024), 1014, "uniform 1..1024 exact: p99");
    CHECK_U64(pp_hist_percentile(&h, 100, 1, 1024), 1024, "uniform 1..1024 exact: p100");
    struct pp_hist_value more = {5000, 1};
    pp_hist_add_values(&h, &more, 1);
    CHECK(!h.exact && h.total == 1025, "a 1025th distinct value drops the exact list");
    pp_hist_free(&h);

    /* 1..1024 uniform through buckets: within half a bucket's relative width (see
     * test_worst_case for why that is the bound). */
    for (unsigned sb = 1; sb <= 2; sb++) {
        h = bucketed(sb, 1, 1024);
        double rel = 1.0 / (double)(2u << sb);
        uint64_t p50 = pp_hist_percentile(&h, 50, 1, 1024);
        uint64_t p95 = pp_hist_percentile(&h, 95, 1, 1024);
        uint64_t p99 = pp_hist_percentile(&h, 99, 1, 1024);
        CHECK(within(p50, 512, rel) && within(p95, 973, rel) && within(p99, 1014, rel),
              "uniform 1..1024, sub_bits %u: p50 %" PRIu64 " p95 %" PRIu64 " p99 %" PRIu64
              " within %.1f%%", sb, p50, p95, p99, rel * 100);
        CHECK(pp_hist_percentile(&h, 100, 1, 1024) <= 1024, "sub_bits %u: p100 <= max", sb);
        pp_hist_free(&h);
    }
}

/* The worst relative error of a percentile read from buckets. The answer is the middle of the
 * bucket holding the rank, lo + (hi - lo) / 2; a bucket of a value >= 2^(sub_bits+1) spans
 * 2^e / 2^sub_bits values from lo >= 2^e, so any value v in it is off by at most
 * (hi - lo) / 2 < lo / 2^(sub_bits+1) <= v / 2^(sub_bits+1): under 12.5% for the size layout
 * (sub_bits 2), under 25% for lifetimes (sub_bits 1). The bound is approached at the low end
 * of the widest-relative buckets (v = 2^e): checked over every value up to 2^16 that it is
 * never reached and that the largest error seen is within 1% of it, so it is the true worst
 * case and not a loose one. Below 2^(sub_bits+1) buckets hold one value: no error at all. */
static void test_worst_case(void)
{
    for (unsigned sb = 1; sb <= 2; sb++) {
        double bound = 1.0 / (double)(2u << sb), worst = 0;
        uint64_t worst_v = 0;
        for (uint64_t v = 1; v <= 65536; v++) {
            struct pp_hist h;
            pp_hist_init(&h, sb);
            struct pp_hist_bin b = {pp_hist_index(v, sb), 1};
            pp_hist_add_buckets(&h, &b, 1, sb);
            uint64_t got = pp_hist_percentile(&h, 50, 0, UINT64_MAX);
            double err = ((double)got - (double)v) / (double)v;
            err = err < 0 ? -err : err;
            if (err > worst) {
                worst = err;
                worst_v = v;
            }
            pp_hist_free(&h);
        }
        CHECK(worst < bound && worst > 0.99 * bound,
              "sub_bits %u: worst percentile error %.4f%% (at %" PRIu64 "), just under the bound "
              "%.1f%% = half a bucket", sb, worst * 100, worst_v, bound * 100);
    }
    struct pp_hist h;
    pp_hist_init(&h, PP_SIZE_SUB_BITS);
    bool exact_small = true;
    for (uint64_t v = 0; v < (2u << PP_SIZE_SUB_BITS); v++) {
        struct pp_hist_bin b = {pp_hist_index(v, PP_SIZE_SUB_BITS), 1};
        pp_hist_free(&h);
        pp_hist_add_buckets(&h, &b, 1, PP_SIZE_SUB_BITS);
        exact_small &= pp_hist_percentile(&h, 50, 0, UINT64_MAX) == v;
    }
    pp_hist_free(&h);
    CHECK(exact_small, "values below %u come back exactly from buckets", 2u << PP_SIZE_SUB_BITS);
}

static void test_merge(void)
{
    struct pp_hist a, b;
    pp_hist_init(&a, PP_SIZE_SUB_BITS);
    pp_hist_init(&b, PP_SIZE_SUB_BITS);
    struct pp_hist_value va[2] = {{16, 3}, {32, 1}}, vb[2] = {{16, 2}, {64, 4}};
    pp_hist_add_values(&a, va, 2);
    pp_hist_add_values(&b, vb, 2);
    pp_hist_merge(&a, &b);
    CHECK(a.exact && a.nvalues == 3 && a.values[0].value == 16 && a.values[0].count == 5 &&
              a.total == 10,
          "exact + exact: values add (16 x5, 32 x1, 64 x4)");
    CHECK_U64(pp_hist_percentile(&a, 50, 16, 64), 16, "merged exact p50");
    CHECK_U64(pp_hist_percentile(&a, 70, 16, 64), 64, "merged exact p70");

    struct pp_hist c = bucketed(PP_SIZE_SUB_BITS, 100, 103);
    pp_hist_merge(&a, &c);
    CHECK(!a.exact && a.total == 14, "exact + buckets: inexact, totals add");
    size_t count16 = 0;
    for (size_t i = 0; i < a.nbins; i++)
        if (a.bins[i].index == pp_hist_index(16, PP_SIZE_SUB_BITS))
            count16 = a.bins[i].count;
    CHECK_U64(count16, 5, "bucket of 16 holds 5 after the merge");

    /* Exact into inexact: the exact values land in dst's buckets, counts add. */
    struct pp_hist e;
    pp_hist_init(&e, PP_SIZE_SUB_BITS);
    struct pp_hist_value ve[2] = {{16, 7}, {5000, 2}};
    pp_hist_add_values(&e, ve, 2);
    pp_hist_merge(&a, &e);
    count16 = 0;
    uint64_t count5000 = 0;
    for (size_t i = 0; i < a.nbins; i++) {
        if (a.bins[i].index == pp_hist_index(16, PP_SIZE_SUB_BITS))
            count16 = a.bins[i].count;
        if (a.bins[i].index == pp_hist_index(5000, PP_SIZE_SUB_BITS))
            count5000 = a.bins[i].count;
    }
    CHECK(!a.exact && a.total == 23 && count16 == 12 && count5000 == 2,
          "exact into inexact: total 14 + 9 = %" PRIu64 ", bucket of 16 holds 5 + 7 = %" PRIu64
          ", bucket of 5000 holds %" PRIu64, a.total, count16, count5000);
    pp_hist_free(&e);

    /* Re-bucketing: sub_bits 2 buckets into a sub_bits 1 histogram. */
    struct pp_hist d;
    pp_hist_init(&d, 1);
    pp_hist_merge(&d, &c);
    CHECK(d.total == 4 && d.nbins == 1 && d.bins[0].index == pp_hist_index(100, 1),
          "sub_bits 2 -> 1: 100..103 land in 1-bit bucket of 96");
    pp_hist_free(&a);
    pp_hist_free(&b);
    pp_hist_free(&c);
    pp_hist_free(&d);
}

int main(void)
{
    test_v1_layouts();
    test_percentiles();
    test_worst_case();
    test_merge();
    return check_summary();
}
