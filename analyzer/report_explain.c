/* report_explain.c — one site in full, for a reader who wants to check the verdict.
 *
 * Histograms are drawn as bars over their recorded spans; when a histogram has more spans than
 * fit a screen, neighbouring spans are merged into one row per power of two.
 */
#include "report_explain.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "numfmt.h"
#include "report_text.h"

#define BAR_WIDTH 30
#define MAX_ROWS 24

typedef char *(*human_fn)(char *buf, size_t len, uint64_t v);

static char *human_plain(char *buf, size_t len, uint64_t v)
{
    return pp_human_count(buf, len, (double)v);
}

size_t pp_spans_merge_octaves(struct pp_hist_span *spans, size_t n)
{
    size_t out_n = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned octave = spans[i].lo ? 63u - (unsigned)__builtin_clzll(spans[i].lo) : 0;
        struct pp_hist_span *last = out_n ? &spans[out_n - 1] : NULL;
        unsigned last_octave = last && last->lo ? 63u - (unsigned)__builtin_clzll(last->lo) : 0;
        if (last && octave == last_octave) {
            last->hi = spans[i].hi;
            last->count += spans[i].count;
        } else {
            spans[out_n++] = spans[i];
        }
    }
    return out_n;
}

/* Rows of [lo, hi] -> count; merged per power of two when there are too many spans. */
static void draw_hist(FILE *out, const char *title, const struct pp_hist *h, uint64_t lo_clamp,
                      uint64_t hi_clamp, human_fn human)
{
    fprintf(out, "  %s:\n", title);
    struct pp_hist_span *spans = NULL;
    size_t n = pp_hist_spans(h, lo_clamp, hi_clamp, &spans);
    if (n == 0 || n == (size_t)-1) {
        fprintf(out, "    (none)\n");
        free(spans);
        return;
    }
    if (n > MAX_ROWS)
        n = pp_spans_merge_octaves(spans, n);
    uint64_t total = 0, most = 0;
    for (size_t i = 0; i < n; i++) {
        total += spans[i].count;
        if (spans[i].count > most)
            most = spans[i].count;
    }
    for (size_t i = 0; i < n; i++) {
        char a[16], b[16], range[40], bar[BAR_WIDTH + 1];
        if (spans[i].lo == spans[i].hi)
            snprintf(range, sizeof range, "%s", human(a, sizeof a, spans[i].lo));
        else
            snprintf(range, sizeof range, "%s..%s", human(a, sizeof a, spans[i].lo),
                     human(b, sizeof b, spans[i].hi));
        size_t len = most ? (size_t)((double)spans[i].count / (double)most * BAR_WIDTH + 0.5) : 0;
        if (len == 0 && spans[i].count)
            len = 1;
        memset(bar, '#', len);
        bar[len] = '\0';
        fprintf(out, "    %15s %-*s %" PRIu64 " (%.1f%%)\n", range, BAR_WIDTH, bar,
                spans[i].count, 100.0 * (double)spans[i].count / (double)total);
    }
    free(spans);
}

static void explain_one(FILE *out, const struct pp_report *r, size_t i)
{
    const struct pp_site *s = &r->sites[i];
    const struct pp_verdict *v = &r->verdicts[i];
    char a[16], b[16];
    fprintf(out, "site %s: %s%s%s%s\n", s->key, pp_verdict_name(v->kind), v->reason ? " (" : "",
            v->reason ? v->reason : "", v->reason ? ")" : "");
    for (size_t f = 0; f < s->nframes; f++) {
        const struct pp_frame *fr = &s->frames[f];
        fprintf(out, "  %s %s", f ? "  from" : "at", fr->function ? fr->function : "?");
        if (fr->file)
            fprintf(out, "  %s:%u", fr->file, fr->line);
        else if (fr->module)
            fprintf(out, "  %s+0x%" PRIx64, pp_basename(fr->module), fr->offset);
        fputc('\n', out);
    }
    fprintf(out, "  %" PRIu64 " allocations (%" PRIu64 " freed, %" PRIu64
                 " live at exit) from %zu stack%s, %s requested\n",
            s->allocs, s->frees, pp_site_live_at_exit(s), s->nstacks, s->nstacks == 1 ? "" : "s",
            pp_human_bytes(a, sizeof a, s->bytes));
    fprintf(out, "  peak %" PRIu64 " live (%s)%s; %" PRIu64 " freed by another thread; %" PRIu64
                 " reallocs (%" PRIu64 " growing)\n",
            s->peak_live, pp_human_bytes(b, sizeof b, s->peak_live_bytes),
            s->nstacks > 1 ? " at most" : "", s->cross_thread_frees, s->realloc_calls,
            s->realloc_grows);
    if (s->nfree_callers) {
        fprintf(out, "  freed by:");
        for (size_t k = 0; k < s->nfree_callers; k++)
            fprintf(out, "%s %s (%" PRIu64 ")", k ? "," : "",
                    s->free_callers[k].function ? s->free_callers[k].function : "?",
                    s->free_callers[k].count);
        if (s->other_free_callers)
            fprintf(out, ", others (%" PRIu64 ")", s->other_free_callers);
        fputc('\n', out);
    }
    fputc('\n', out);
    draw_hist(out, "size (bytes)", &s->hists[PP_STATS_HIST_SIZE], s->min_size, s->max_size,
              pp_human_bytes);
    draw_hist(out, "lifetime", &s->hists[PP_STATS_HIST_LIFETIME_NS], 0, UINT64_MAX, pp_human_ns);
    draw_hist(out, "lifetime in allocations by the same thread",
              &s->hists[PP_STATS_HIST_LIFETIME_ALLOCS], 0, UINT64_MAX, human_plain);
    if (s->hists[PP_STATS_HIST_CHAIN_FINAL_SIZE].total)
        draw_hist(out, "final size of realloc'd blocks", &s->hists[PP_STATS_HIST_CHAIN_FINAL_SIZE],
                  0, UINT64_MAX, pp_human_bytes);

    fprintf(out, "\n  checklist:\n");
    pp_print_checks_legend(out, "  ");
    pp_print_checks(out, v);
    fprintf(out, "\n  what-if free list (this run's own allocations and frees replayed):\n");
    fprintf(out, "    %8s %10s %9s %10s\n", "capacity", "hits", "hit rate", "retains");
    for (size_t k = 0; k < s->npools; k++) {
        const struct pp_site_pool *p = &s->pools[k];
        fprintf(out, "    %8" PRIu32 " %10" PRIu64 " %8.2f%% %10s%s\n", p->capacity, p->hits,
                s->allocs ? 100.0 * (double)p->hits / (double)s->allocs : 0.0,
                pp_human_bytes(a, sizeof a, (uint64_t)p->capacity * s->max_size),
                p->capacity == v->sim_capacity ? "  <- peak live" : "");
    }
    fputc('\n', out);
}

size_t pp_report_explain(FILE *out, const struct pp_report *r, const char *pattern)
{
    size_t matched = 0;
    for (size_t i = 0; i < r->nsites && r->verdicts; i++) {
        const struct pp_site *s = &r->sites[i];
        const char *fn = s->nframes ? s->frames[0].function : NULL;
        if (!pp_site_matches(pattern, s->key, fn))
            continue;
        explain_one(out, r, i);
        matched++;
    }
    return matched;
}
