/* hist.h — histogram math for the analyzer: bucket bounds, a per-site histogram model, merging
 * and percentiles.
 *
 * The shim writes each histogram either EXACT (a short list of value/count pairs) or LOGLIN
 * (log-linear buckets, see pp_hist_index() in trace_format.h). In memory a site keeps one
 * struct pp_hist per measured quantity: sparse log-linear bins in a fixed layout (sub_bits chosen
 * by the owner), plus the exact value list for as long as every input was exact and the list stays
 * short. Percentiles are then exact when the values are, and otherwise a value inside the bucket
 * that holds the rank, clamped to the caller's exact [min, max] (so a constant-size site reports
 * exactly its size).
 *
 * Nothing here does I/O. Functions that allocate say so and return -1 on out of memory.
 */
#ifndef POOLPROBE_HIST_H
#define POOLPROBE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest sub_bits the reader accepts: 256 buckets per power of two, 14592 buckets in all, well
 * inside the u16 bucket index of the format. v1 writers use 1 or 2. */
#define PP_HIST_MAX_SUB_BITS 8

/* Exact value lists longer than this are dropped after a merge (buckets remain). */
#define PP_HIST_EXACT_MAX 1024

/* Number of log-linear buckets needed to hold every u64 value with this sub_bits. */
unsigned pp_hist_nbuckets(unsigned sub_bits);

/* Smallest value in bucket idx, and the largest (inclusive, so the last bucket's bound does not
 * overflow). idx must be < pp_hist_nbuckets(sub_bits). */
uint64_t pp_hist_bucket_min(unsigned idx, unsigned sub_bits);
uint64_t pp_hist_bucket_max(unsigned idx, unsigned sub_bits);

struct pp_hist_bin {
    unsigned index;
    uint64_t count;
};

struct pp_hist_value {
    uint64_t value;
    uint64_t count;
};

struct pp_hist {
    unsigned sub_bits;           /* layout of bins */
    size_t nbins;                /* bins sorted by index, no zero counts */
    struct pp_hist_bin *bins;
    bool exact;                  /* values below is the full distribution */
    size_t nvalues;              /* sorted by value, no zero counts */
    struct pp_hist_value *values;
    uint64_t total;              /* sum of counts (saturating) */
};

/* a + b, saturating at UINT64_MAX (counts merged from corrupt-but-checksummed traces must not
 * wrap). */
static inline uint64_t pp_add_sat(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;
    return r < a ? UINT64_MAX : r;
}

/* An empty histogram with bins of this layout; exact (an empty list is exact). No allocation. */
void pp_hist_init(struct pp_hist *h, unsigned sub_bits);
void pp_hist_free(struct pp_hist *h);

/* Add exact values (ascending or not; duplicates allowed). Allocates; -1 on out of memory. */
int pp_hist_add_values(struct pp_hist *h, const struct pp_hist_value *v, size_t n);

/* Add log-linear buckets written with src_sub_bits (indexes < pp_hist_nbuckets(src_sub_bits)).
 * When the layouts differ a source bucket is counted in the bucket of h that holds its lower
 * bound. The histogram stops being exact. Allocates; -1 on out of memory. */
int pp_hist_add_buckets(struct pp_hist *h, const struct pp_hist_bin *b, size_t n,
                        unsigned src_sub_bits);

/* dst += src (bucket-wise; exact lists concatenated while both are exact and short). */
int pp_hist_merge(struct pp_hist *dst, const struct pp_hist *src);

/* The value at percentile pct (0 < pct <= 100) by nearest rank: the smallest recorded value v
 * with at least pct% of the counts <= v. From exact values when available; otherwise the
 * middle of the holding bucket's intersection with [lo_clamp, hi_clamp]. 0 when empty. */
uint64_t pp_hist_percentile(const struct pp_hist *h, double pct, uint64_t lo_clamp,
                            uint64_t hi_clamp);

/* A run of values [lo, hi] holding count of them: one exact value (lo == hi) or one bucket
 * narrowed to [lo_clamp, hi_clamp]. What the checklist reasons about. */
struct pp_hist_span {
    uint64_t lo, hi;
    uint64_t count;
};

/* The spans of h in ascending order, into *out (malloc'd, caller frees). Returns how many;
 * (size_t)-1 on out of memory. */
size_t pp_hist_spans(const struct pp_hist *h, uint64_t lo_clamp, uint64_t hi_clamp,
                     struct pp_hist_span **out);

/* How many of the values in spans lie in [lo, hi]; a span partly inside counts pro rata (values
 * are assumed evenly spread within a bucket), so the result may be fractional. */
double pp_span_count_between(const struct pp_hist_span *spans, size_t n, uint64_t lo,
                             uint64_t hi);

#endif
