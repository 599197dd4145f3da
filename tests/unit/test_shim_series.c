/* test_shim_series.c — the shim's side of the SERIES record (shim/series.c): one point per
 * trace write, at most PP_SERIES_POINTS kept, every other old point dropped when full, so the
 * first and the newest points always stay. Driven directly: how many writes a real run makes
 * depends on the snapshot schedule (writer.c), which backs off when writes are slow.
 */
#include <stdio.h>

#include "check.h"
#include "../../shim/series.c"

/* Takes point i: time i, i allocations at stack 7 and 2i at stack 9. */
static const struct pp_series *take(unsigned i)
{
    pp_series_begin(i);
    pp_series_stack(7, i, 1);
    pp_series_stack(9, 2 * (uint64_t)i, 2);
    return pp_series_end();
}

int main(void)
{
    const struct pp_series *s = NULL;
    unsigned most = 0;
    for (unsigned i = 0; i < 64; i++) {
        s = take(i);
        most = s->npoints > most ? s->npoints : most;
    }
    CHECK_U64(s->npoints, 64, "64 writes: 64 points");
    s = take(64);
    CHECK_U64(s->npoints, 33, "the 65th: points 0, 2, ... 62 and 64");
    CHECK_U64(s->points[1].t_ns, 2, "... the second kept is point 2");
    CHECK_U64(s->points[32].t_ns, 64, "... the last is the new one");
    for (unsigned i = 65; i < 200; i++) {
        s = take(i);
        most = s->npoints > most ? s->npoints : most;
    }
    CHECK_U64(most, 64, "never more than 64 points");
    CHECK_U64(s->npoints, 40, "200 writes: 40 points");
    CHECK_U64(s->points[0].t_ns, 0, "the first write's point stays");
    CHECK_U64(s->points[39].t_ns, 199, "the newest is the last write's");
    int ordered = 1;
    for (unsigned i = 1; i < s->npoints; i++)
        ordered &= s->points[i].t_ns > s->points[i - 1].t_ns;
    CHECK(ordered, "points in time order");
    CHECK_U64(s->points[39].allocs, 199 * 3, "a point sums its stacks' allocations");
    CHECK_U64(s->points[39].stacks[0].id, 9, "the busiest stack first");
    CHECK_U64(s->points[39].stacks[1].allocs, 199, "then the next, with its own count");
    return check_summary();
}
