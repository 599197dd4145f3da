/* sample.c — POOLPROBE_SAMPLE's draw: which allocations a thread records, 1 in N at random.
 *
 * Each allocation is recorded with probability p = 1/sample_every, independently, so per-stack
 * counts scaled by sample_every are unbiased estimates. Drawing that coin at every allocation
 * cost about 12 instructions each (callgrind, allocbench), most of what a left-out allocation
 * cost; instead a thread draws how many allocations to leave out before its next recorded one,
 * which for independent coins is geometric: P(gap = k) = (1 - p)^k p, drawn as
 * floor(ln U / ln(1 - p)) from a uniform U in (0, 1]. The same process, one draw per recorded
 * allocation; the hook only counts the gap down (shim.h, pp_record_counts_alloc).
 */
#include "shim.h"

/* ln x for a positive, normal x, to about 1e-13: the shim links no libm. x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)), and ln m = 2 atanh(z) = 2 (z + z^3/3 + z^5/5 + ...), z = (m-1)/(m+1),
 * |z| < 0.172. */
static double ln(double x)
{
    union {
        double d;
        uint64_t u;
    } v = {x};
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & ((1ull << 52) - 1)) | (1023ull << 52);
    double m = v.d;
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k <= 17; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum + e * 0.6931471805599453;
}

/* Allocations to leave out before the next recorded one. */
static uint64_t draw_gap(struct pp_thread *t)
{
    uint64_t x = t->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    double u = (double)((x >> 11) + 1) * 0x1p-53; /* (0, 1] */
    return (uint64_t)(ln(u) / ln(1.0 - 1.0 / pp_config.sample_every));
}

int pp_sample_due(struct pp_thread *t)
{
    if (PP_UNLIKELY(!t->rng)) {
        t->rng = ((pp_config.sample_seed ? pp_config.sample_seed * 0x9e3779b97f4a7c15ull
                                         : pp_now_ns() ^ pp_process.pid) ^
                  ((uint64_t)t->index << 32)) | 1;
        /* The thread's first recorded allocation is as far off as any later one. */
        if ((t->sample_skip = draw_gap(t)) != 0) {
            t->sample_skip--;
            return 0;
        }
    }
    t->sample_skip = draw_gap(t);
    return 1;
}

