/* series.c — a small, bounded time series of the process's allocations, one point per trace
 * write, for the HTML report's "over time" charts.
 *
 * Each time the writer encodes a trace (every POOLPROBE_INTERVAL while the program runs, and at
 * exit) it takes a point: the time since start, the allocations and live bytes summed over
 * every stack, and the same two numbers for the few busiest stacks at that moment. The points
 * live in static storage (no allocation at all); when PP_SERIES_POINTS are taken, every other
 * old point is dropped, so a long run keeps an even coverage in bounded space (about 14 KiB,
 * and as many bytes of trace at most). Only the writer touches it, and there is one writer at
 * a time (writer.c), so there is no locking. Below the writer; calls nothing.
 */
#include "shim.h"

static struct pp_series series;
static struct pp_series_point pending; /* the point being taken */

void pp_series_begin(uint64_t t_ns)
{
    pending = (struct pp_series_point){.t_ns = t_ns};
}

void pp_series_stack(uint32_t id, uint64_t allocs, uint64_t live_bytes)
{
    struct pp_series_point *p = &pending;
    p->allocs += allocs;
    p->live_bytes += live_bytes;
    /* Keep the busiest stacks by allocations, largest first (insertion into a short list). */
    unsigned at = p->nstacks;
    while (at > 0 && p->stacks[at - 1].allocs < allocs)
        at--;
    if (at >= PP_SERIES_STACKS)
        return;
    unsigned last = p->nstacks < PP_SERIES_STACKS ? p->nstacks : PP_SERIES_STACKS - 1;
    for (unsigned i = last; i > at; i--)
        p->stacks[i] = p->stacks[i - 1];
    p->stacks[at] = (struct pp_series_stack){id, allocs, live_bytes};
    if (p->nstacks < PP_SERIES_STACKS)
        p->nstacks++;
}

const struct pp_series *pp_series_end(void)
{
    if (series.npoints == PP_SERIES_POINTS) {
        /* Full: keep points 0, 2, 4, ... (the last one is replaced by the new point anyway). */
        for (unsigned i = 0; i < PP_SERIES_POINTS / 2; i++)
            series.points[i] = series.points[2 * i];
        series.npoints = PP_SERIES_POINTS / 2;
    }
    series.points[series.npoints++] = pending;
    return &series;
}
