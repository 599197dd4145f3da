/* stack_estimate.c — figures per full stack in a site-mode trace (see stack_estimate.h).
 *
 * Proportional shares are the simplest unbiased estimate: the sampled calls are a uniform
 * sample of the prefix's calls (the shim draws the gap between two unwinds at random), so a
 * full stack that took k of a prefix's K samples made about k/K of its allocations, bytes,
 * frees and reallocs, and its histograms have about k/K of each bucket. Peaks are shared the
 * same way, which is rougher: a peak does not split. The report marks all of them estimates.
 */
#include "stack_estimate.h"

#include <stdlib.h>
#include <string.h>

/* x * num / den, rounded to nearest, without overflow. */
static uint64_t share(uint64_t x, uint64_t num, uint64_t den)
{
    return (uint64_t)(((unsigned __int128)x * num + den / 2) / den);
}

static int scaled_copy(struct pp_trace_stats *d, const struct pp_trace_stats *s, uint32_t full,
                       uint64_t num, uint64_t den)
{
    *d = *s;
    d->stack_id = full;
    d->free_callers = NULL;
    d->pools = NULL;
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
        d->hists[h].entries = NULL;
    uint64_t *counts[] = {&d->allocs, &d->frees, &d->alloc_bytes, &d->live_bytes, &d->peak_live,
                          &d->peak_live_bytes, &d->cross_thread_frees, &d->realloc_calls,
                          &d->realloc_grows, &d->chains_freed, &d->lifetime_ns_sum,
                          &d->other_free_callers};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        *counts[i] = share(*counts[i], num, den);
    d->free_callers = calloc(s->nfree_callers ? s->nfree_callers : 1, sizeof *d->free_callers);
    d->pools = calloc(s->npool ? s->npool : 1, sizeof *d->pools);
    if (!d->free_callers || !d->pools)
        return -1;
    for (unsigned i = 0; i < s->nfree_callers; i++)
        d->free_callers[i] = (struct pp_trace_free_caller){
            s->free_callers[i].addr, share(s->free_callers[i].count, num, den)};
    for (unsigned i = 0; i < s->npool; i++)
        d->pools[i] = (struct pp_trace_pool){s->pools[i].capacity,
                                             share(s->pools[i].hits, num, den)};
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++) {
        const struct pp_trace_hist *sh = &s->hists[h];
        d->hists[h].entries = calloc(sh->n ? sh->n : 1, sizeof *sh->entries);
        if (!d->hists[h].entries)
            return -1;
        for (unsigned i = 0; i < sh->n; i++)
            d->hists[h].entries[i] = (struct pp_trace_hist_entry){
                sh->entries[i].key, share(sh->entries[i].count, num, den)};
    }
    return 0;
}

int pp_stack_estimate(const struct pp_trace *t, struct pp_trace_stats **out, uint32_t *n)
{
    *out = NULL;
    *n = t->nstats;
    if (!t->site_mode)
        return 0;
    /* For each stack id: its STATS entry (+1, 0 = none) and its samples as a prefix. */
    uint32_t *entry = calloc(t->nstacks ? t->nstacks : 1, sizeof *entry);
    uint64_t *prefix_samples = calloc(t->nstacks ? t->nstacks : 1, sizeof *prefix_samples);
    struct pp_trace_stats *stats =
        calloc((size_t)t->nsamples + t->nstats + 1, sizeof *stats);
    uint32_t count = 0;
    if (!entry || !prefix_samples || !stats)
        goto oom;
    for (uint32_t i = 0; i < t->nstats; i++)
        entry[t->stats[i].stack_id] = i + 1;
    for (uint32_t i = 0; i < t->nsamples; i++)
        if (entry[t->samples[i].site_id])
            prefix_samples[t->samples[i].site_id] += t->samples[i].count;
    for (uint32_t i = 0; i < t->nsamples; i++) {
        const struct pp_trace_sample *sm = &t->samples[i];
        if (!entry[sm->site_id] || !sm->count)
            continue;
        if (scaled_copy(&stats[count++], &t->stats[entry[sm->site_id] - 1], sm->full_id,
                        sm->count, prefix_samples[sm->site_id]))
            goto oom;
    }
    for (uint32_t i = 0; i < t->nstats; i++)
        if (!prefix_samples[t->stats[i].stack_id] &&
            scaled_copy(&stats[count++], &t->stats[i], t->stats[i].stack_id, 1, 1))
            goto oom;
    free(entry);
    free(prefix_samples);
    *out = stats;
    *n = count;
    return 0;
oom:
    free(entry);
    free(prefix_samples);
    pp_stack_estimate_free(stats, count);
    return -1;
}

void pp_stack_estimate_free(struct pp_trace_stats *stats, uint32_t n)
{
    if (!stats)
        return;
    for (uint32_t i = 0; i < n; i++) {
        free(stats[i].free_callers);
        free(stats[i].pools);
        for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
            free(stats[i].hists[h].entries);
    }
    free(stats);
}

uint32_t *pp_stack_estimate_shown(const struct pp_trace *t)
{
    if (!t->site_mode)
        return NULL;
    uint32_t *shown = calloc(t->nstacks ? t->nstacks : 1, sizeof *shown);
    uint64_t *best = calloc(t->nstacks ? t->nstacks : 1, sizeof *best);
    if (!shown || !best) {
        free(shown);
        free(best);
        return NULL;
    }
    for (uint32_t id = 0; id < t->nstacks; id++)
        shown[id] = id;
    for (uint32_t i = 0; i < t->nsamples; i++) {
        const struct pp_trace_sample *sm = &t->samples[i];
        if (sm->count > best[sm->site_id]) {
            best[sm->site_id] = sm->count;
            shown[sm->site_id] = sm->full_id;
        }
    }
    free(best);
    return shown;
}
