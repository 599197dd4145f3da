/* test_shim_sample.c — POOLPROBE_SAMPLE's draw (shim/sample.c): the gaps between recorded
 * allocations are geometric, so each allocation is recorded with probability 1/N independently.
 *
 * Driven directly, a thread state at a time, the way the hook counts (shim.h,
 * pp_record_counts_alloc): skip while sample_skip is not 0, else ask pp_sample_due. Every
 * statistical bound is 5 standard deviations wide, with a fixed seed, so the test is repeatable;
 * a draw from the wrong distribution (a log in the wrong base, a gap off by one, the first
 * allocation always recorded) lands far outside them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../shim/sample.c"

struct pp_config pp_config;
struct pp_process pp_process;

uint64_t pp_now_ns(void)
{
    return 12345;
}

/* The hook's decision for one allocation. */
static int recorded(struct pp_thread *t)
{
    if (t->sample_skip) {
        t->sample_skip--;
        return 0;
    }
    return pp_sample_due(t);
}

/* Runs n allocations on a fresh thread state; returns how many were recorded, and counts the
 * gaps (allocations left out between two recorded ones) of 0 and 1 and their sum. */
struct run {
    uint64_t recorded, gap0, gap1, gaps, gap_sum, first;
};
static struct run run(uint32_t every, uint64_t seed, uint32_t index, uint64_t n)
{
    struct pp_thread t;
    memset(&t, 0, sizeof t);
    t.index = index;
    pp_config.sample_every = every;
    pp_config.sample_seed = seed;
    struct run r = {0, 0, 0, 0, 0, UINT64_MAX};
    uint64_t last = UINT64_MAX;
    for (uint64_t i = 0; i < n; i++) {
        if (!recorded(&t))
            continue;
        r.recorded++;
        if (r.first == UINT64_MAX)
            r.first = i;
        if (last != UINT64_MAX) {
            uint64_t gap = i - last - 1;
            r.gaps++;
            r.gap_sum += gap;
            r.gap0 += gap == 0;
            r.gap1 += gap == 1;
        }
        last = i;
    }
    return r;
}

/* |x - mean| <= 5 sd */
static int within(double x, double mean, double sd)
{
    return fabs(x - mean) <= 5 * sd;
}

int main(void)
{
    /* ln against libm's log, from tiny to near 1 (1 - 1/N for the largest N). */
    double worst = 0;
    const double xs[] = {0x1p-53, 1e-9, 0.001, 0.1, 0.5, 0.70710678, 0.75, 0.9, 0.999999,
                         1 - 1.0 / 4294967295.0, 1.0, 1.5, 3.0};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double want = log(xs[i]), got = ln(xs[i]);
        double err = want ? fabs(got - want) / fabs(want) : fabs(got);
        worst = err > worst ? err : worst;
    }
    CHECK(worst < 1e-9, "ln within 1e-9 of log (relative) from 2^-53 to 3");

    /* 1 in 4, 4 M allocations: recorded ~ Binomial(4M, 1/4). */
    uint64_t n = 4000000;
    struct run r = run(4, 7, 0, n);
    double p = 0.25;
    CHECK(within((double)r.recorded, n * p, sqrt(n * p * (1 - p))),
          "1 in 4: recorded within 5 sd of N/4");
    /* Gaps are geometric: P(0) = p, P(1) = (1-p) p, mean (1-p)/p. */
    double g = (double)r.gaps;
    CHECK(within((double)r.gap0, g * p, sqrt(g * p * (1 - p))), "1 in 4: gap 0 in a quarter");
    double p1 = (1 - p) * p;
    CHECK(within((double)r.gap1, g * p1, sqrt(g * p1 * (1 - p1))),
          "1 in 4: gap 1 in 3/16 of them");
    /* Variance of a geometric gap: (1-p)/p^2 = 12 */
    CHECK(within((double)r.gap_sum / g, (1 - p) / p, sqrt((1 - p) / (p * p) / g)),
          "1 in 4: mean gap 3");

    /* The first recorded allocation is not always the first one: over 4000 threads it is the
     * very first about 1 time in 4. */
    uint64_t first0 = 0, first1 = 0;
    for (uint32_t i = 0; i < 4000; i++) {
        uint64_t f = run(4, 7, i, 64).first;
        first0 += f == 0;
        first1 += f == 1;
    }
    CHECK(within((double)first0, 1000, sqrt(4000 * p * (1 - p))),
          "1 in 4: a thread's first allocation recorded 1 time in 4");
    CHECK(within((double)first1, 750, sqrt(4000 * p1 * (1 - p1))),
          "1 in 4: its second allocation first recorded 3 times in 16");

    /* 1 in 1000: recorded ~ Binomial(10 M, 1/1000), mean gap 999. */
    n = 10000000;
    r = run(1000, 7, 0, n);
    p = 0.001;
    CHECK(within((double)r.recorded, n * p, sqrt(n * p * (1 - p))),
          "1 in 1000: recorded within 5 sd of N/1000");
    g = (double)r.gaps;
    CHECK(within((double)r.gap_sum / g, (1 - p) / p, sqrt((1 - p) / (p * p) / g)),
          "1 in 1000: mean gap 999");

    /* A fixed seed repeats; threads draw differently from each other. */
    struct run a = run(100, 7, 3, 100000), b = run(100, 7, 3, 100000), c = run(100, 7, 4, 100000);
    CHECK(a.recorded == b.recorded && a.gap_sum == b.gap_sum && a.first == b.first,
          "the same seed and thread: the same allocations recorded");
    CHECK(a.gap_sum != c.gap_sum || a.first != c.first, "another thread: other allocations");
    return check_summary();
}
