/* report_text.c — the default, human output of poolprobe-report.
 *
 * Recommendations come first, most allocations saved first: each with its site, the verdict, the
 * concrete action and its numbers, and the checklist rows (measured value next to threshold).
 * Then the sites not worth pooling among the busiest, each with the check that failed. Then the
 * full table, two lines per site: the numbers in fixed columns (79 characters wide), then the site's key,
 * its source location and where its blocks are freed. Sizes and lifetimes are percentiles from
 * the site model (site.h): exact for constant sizes, otherwise within one histogram bucket.
 */
#include "report_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"

#define LINE_WIDTH 79

static char *scaled(char *buf, size_t len, double v, double step, const char *const *units)
{
    size_t u = 0;
    while (v >= step && units[u + 1]) {
        v /= step;
        u++;
    }
    if (u == 0 && v == (double)(uint64_t)v)
        snprintf(buf, len, "%" PRIu64, (uint64_t)v);
    else if (v < 9.95)
        snprintf(buf, len, "%.1f%s", v, units[u]);
    else
        snprintf(buf, len, "%.0f%s", v, units[u]);
    return buf;
}

char *pp_human_bytes(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", NULL};
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64, bytes);
        return buf;
    }
    return scaled(buf, len, (double)bytes, 1024, units);
}

char *pp_human_count(char *buf, size_t len, double count)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", NULL};
    if (count < 1000 && count >= 10) {
        snprintf(buf, len, "%.0f", count);
        return buf;
    }
    return scaled(buf, len, count, 1000, units);
}

char *pp_human_ns(char *buf, size_t len, uint64_t ns)
{
    double v = (double)ns;
    const char *unit;
    if (ns < 1000) {
        snprintf(buf, len, "%" PRIu64 "ns", ns);
        return buf;
    } else if (v < 1e6) {
        v /= 1e3, unit = "us";
    } else if (v < 1e9) {
        v /= 1e6, unit = "ms";
    } else if (v < 60e9) {
        v /= 1e9, unit = "s";
    } else if (v < 3600e9) {
        v /= 60e9, unit = "m";
    } else {
        v /= 3600e9, unit = "h";
    }
    snprintf(buf, len, v < 9.95 ? "%.1f%s" : "%.0f%s", v, unit);
    return buf;
}

/* Counts print exactly while they fit the column. */
static char *column_count(char *buf, size_t len, uint64_t n)
{
    if (n < 10000000) {
        snprintf(buf, len, "%" PRIu64, n);
        return buf;
    }
    return pp_human_count(buf, len, (double)n);
}

static void print_command(FILE *out, const struct pp_trace_process *p, size_t room)
{
    char line[512] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < p->argc && used + 1 < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
                                 p->argv[i]);
    if (p->argc == 0)
        snprintf(line, sizeof line, "%s", p->exe ? p->exe : "");
    if (strlen(line) > room && room > 3)
        strcpy(line + room - 3, "...");
    fputs(line, out);
}

static void print_header(FILE *out, const struct pp_report *r, size_t shown)
{
    char a[16], b[16], c[16];
    fprintf(out, "poolprobe-report: %zu process%s%s\n", r->ntraces, r->ntraces == 1 ? "" : "es",
            r->ntraces > 1 ? " (merged)" : "");
    for (size_t i = 0; i < r->ntraces; i++) {
        const struct pp_trace_process *p = &r->traces[i]->process;
        int n = fprintf(out, "  pid %" PRIu32 "  %5s  ", p->pid, pp_human_ns(a, sizeof a, p->duration_ns));
        print_command(out, p, n > 0 && n < LINE_WIDTH ? (size_t)(LINE_WIDTH - n) : 10);
        fputc('\n', out);
    }
    fprintf(out, "  %" PRIu64 " allocations, %" PRIu64 " frees, %s bytes requested, peak %s live\n",
            r->allocs, r->frees, pp_human_bytes(b, sizeof b, r->bytes),
            pp_human_bytes(c, sizeof c, r->peak_live_bytes));
    if (r->untracked_frees)
        fprintf(out, "  %" PRIu64 " frees of blocks allocated before tracing started\n",
                r->untracked_frees);
    if (r->sample_every > 1)
        fprintf(out, "  note: sampled 1 in %" PRIu32 " allocations: per-site figures are estimates\n"
                     "  (scaled back); totals are exact but the peak is of sampled blocks only\n",
                r->sample_every);
    if (r->stacks_estimated)
        fprintf(out, "  note: full stacks were sampled: figures per stack are estimates (per-site\n"
                     "  figures are exact; POOLPROBE_STACKS=full records every stack exactly)\n");
    if (r->snapshot)
        fprintf(out, "  note: snapshot taken while the process ran\n");
    if (r->tracking_lost)
        fprintf(out, "  warning: the shim ran out of memory: counts stop early\n");
    fprintf(out, "  %zu site%s", r->nsites, r->nsites == 1 ? "" : "s");
    if (shown < r->nsites)
        fprintf(out, ", top %zu shown", shown);
    fprintf(out, "\n\n");
}

/* The second line of a row: key, where, freed by, verdict. */
static void print_site_where(FILE *out, const struct pp_site *s, const struct pp_verdict *v)
{
    char line[1024];
    size_t used = 0;
    if (v)
        used += (size_t)snprintf(line, sizeof line, "    [%s] %s", pp_verdict_name(v->kind),
                                 s->key);
    else
        used += (size_t)snprintf(line, sizeof line, "    %s", s->key);
    const struct pp_frame *f = s->nframes ? &s->frames[0] : NULL;
    if (f && f->file && used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, "  %s:%u",
                                 pp_basename(f->file), f->line);
    if (used < sizeof line) {
        const char *freed;
        char pct[16] = "";
        if (s->frees == 0) {
            freed = "never freed";
        } else if (s->nfree_callers == 0 || !s->free_callers[0].function) {
            freed = "freed by ?";
        } else {
            const struct pp_site_free_caller *fc = &s->free_callers[0];
            freed = f && f->function && strcmp(fc->function, f->function) == 0 ? "same fn"
                                                                               : fc->function;
            if (fc->count < s->frees)
                snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * (double)fc->count / (double)s->frees);
        }
        const char *prefix = s->frees == 0 || strncmp(freed, "freed", 5) == 0 ? "" : "freed: ";
        used += (size_t)snprintf(line + used, sizeof line - used, "  %s%s%s", prefix, freed, pct);
    }
    uint64_t live = pp_site_live_at_exit(s);
    if (live && s->frees && used < sizeof line)
        snprintf(line + used, sizeof line - used, ", %" PRIu64 " live at exit", live);
    if (strlen(line) > LINE_WIDTH)
        strcpy(line + LINE_WIDTH - 3, "...");
    fprintf(out, "%s\n", line);
}

/* "render_buf  seeds.c:52" and, on the next line, the callers folded. */
static void print_site_title(FILE *out, size_t rank, const struct pp_site *s,
                             const struct pp_verdict *v)
{
    char line[512];
    const struct pp_frame *f = s->nframes ? &s->frames[0] : NULL;
    int n = snprintf(line, sizeof line, "%2zu. %-11s %s", rank, pp_verdict_name(v->kind), s->key);
    if (f && f->file && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  %s:%u", pp_basename(f->file), f->line);
    if (strlen(line) > LINE_WIDTH)
        strcpy(line + LINE_WIDTH - 3, "...");
    fprintf(out, "%s\n", line);
    if (s->nframes > 1) {
        size_t used = (size_t)snprintf(line, sizeof line, "    called from");
        /* Up to four callers, and never the C runtime's frames below main. */
        size_t i = 1;
        for (; i < s->nframes && i <= 4 && used < sizeof line; i++) {
            const char *fn = s->frames[i].function ? s->frames[i].function : "?";
            used += (size_t)snprintf(line + used, sizeof line - used, "%s %s", i > 1 ? " <" : "",
                                     fn);
            if (strcmp(fn, "main") == 0)
                break;
        }
        if (i == 5 && i < s->nframes && used < sizeof line)
            snprintf(line + used, sizeof line - used, " < ...");
        if (strlen(line) > LINE_WIDTH)
            strcpy(line + LINE_WIDTH - 3, "...");
        fprintf(out, "%s\n", line);
    }
}

/* The concrete action, with the numbers needed to take it. */
static void print_action(FILE *out, const struct pp_site *s, const struct pp_verdict *v)
{
    char a[16], b[16], c[16];
    switch (v->kind) {
    case PP_VERDICT_POOL:
        fprintf(out, "    free list of %" PRIu64 " x %s B; hit rate %.2f%%; retains %s\n",
                v->capacity, pp_human_bytes(a, sizeof a, v->object_bytes), v->hit_rate * 100,
                pp_human_bytes(b, sizeof b, v->retained_bytes));
        break;
    case PP_VERDICT_POOL_CAPPED:
        fprintf(out,
                "    free list of %" PRIu64 " x %s B, dropping blocks over %s B (%.2f%% of\n"
                "    allocations); hit rate %.2f%%; retains %s\n",
                v->capacity, pp_human_bytes(a, sizeof a, v->object_bytes),
                pp_human_bytes(b, sizeof b, v->cap_bytes), v->above_cap_share * 100,
                v->hit_rate * 100, pp_human_bytes(c, sizeof c, v->retained_bytes));
        break;
    case PP_VERDICT_TIERED:
        fprintf(out, "    a free list per size class:");
        for (size_t i = 0; i < v->ntiers; i++)
            fprintf(out, "%s <=%s B (%.0f%%)", i ? "," : "",
                    pp_human_bytes(a, sizeof a, v->tiers[i].upper_bytes), v->tiers[i].share * 100);
        fprintf(out, "\n");
        break;
    case PP_VERDICT_PRESIZE:
        fprintf(out, "    allocate %s B up front: covers 95%% of the final sizes\n",
                pp_human_bytes(a, sizeof a, v->presize_bytes));
        break;
    case PP_VERDICT_STACK:
        fprintf(out, "    automatic storage (%s B at most) or one buffer reused across calls\n",
                pp_human_bytes(a, sizeof a, s->peak_live_bytes));
        break;
    case PP_VERDICT_NO_POOL:
        break;
    }
}

void pp_print_checks(FILE *out, const struct pp_verdict *v)
{
    for (size_t i = 0; i < v->nchecks; i++) {
        const struct pp_check *c = &v->checks[i];
        const char *mark = c->pooling ? (c->pass ? "ok" : "NO") : (c->pass ? "yes" : "no");
        fprintf(out, "    %-3s %-16s %-30s %s\n", mark, c->name, c->value_text,
                c->threshold_text);
    }
}

static void print_recommendations(FILE *out, const struct pp_report *r, size_t top)
{
    size_t *order = NULL;
    size_t n = pp_report_recommendations(r, &order);
    if (n == (size_t)-1)
        n = 0;
    if (top && n > top)
        n = top;
    if (n == 0) {
        fprintf(out, "No site is worth pooling or a simpler fix (see the checks with "
                     "--site PATTERN).\n\n");
    } else {
        fprintf(out, "Recommendations, most allocations saved first:\n\n");
        for (size_t k = 0; k < n; k++) {
            const struct pp_site *s = &r->sites[order[k]];
            const struct pp_verdict *v = &r->verdicts[order[k]];
            print_site_title(out, k + 1, s, v);
            print_action(out, s, v);
            if (v->kind == PP_VERDICT_PRESIZE)
                fprintf(out, "    saves %" PRIu64 " reallocs of blocks from %" PRIu64
                             " allocations\n",
                        v->allocs_saved, s->allocs);
            else
                fprintf(out, "    saves %" PRIu64 " of %" PRIu64 " allocations (%.1f%% of all)\n",
                        v->allocs_saved, s->allocs,
                        r->allocs ? 100.0 * (double)v->allocs_saved / (double)r->allocs : 0.0);
            pp_print_checks(out, v);
            fputc('\n', out);
        }
    }
    free(order);

    /* The busiest sites that are not worth it, and why: a skeptic's first question. */
    size_t shown = 0;
    for (size_t i = 0; i < r->nsites && shown < 5; i++) {
        const struct pp_verdict *v = &r->verdicts[i];
        if (v->kind != PP_VERDICT_NO_POOL)
            continue;
        if (shown++ == 0)
            fprintf(out, "Busiest sites not worth pooling:\n");
        const struct pp_check *failed = v->failed_check >= 0 ? &v->checks[v->failed_check] : NULL;
        char line[256], key[32];
        snprintf(key, sizeof key, "%s", r->sites[i].key);
        if (strlen(r->sites[i].key) > 24)
            strcpy(key + 21, "...");
        snprintf(line, sizeof line, "  %-24s %-16s %s%s%s", key, v->reason,
                 failed ? failed->value_text : "", failed ? ", need " : "",
                 failed ? failed->threshold_text : "");
        if (strlen(line) > LINE_WIDTH)
            strcpy(line + LINE_WIDTH - 3, "...");
        fprintf(out, "%s\n", line);
    }
    if (shown)
        fputc('\n', out);
}

void pp_report_text(FILE *out, const struct pp_report *r, size_t top)
{
    size_t shown = top && top < r->nsites ? top : r->nsites;
    print_header(out, r, shown);
    if (shown == 0)
        return;
    if (r->verdicts)
        print_recommendations(out, r, top);
    uint64_t all = r->allocs;
    if (all == 0)
        for (size_t i = 0; i < r->nsites; i++)
            all += r->sites[i].allocs;
    /* Group labels over the size and lifetime columns. */
    fprintf(out, "%30s%s\n", "", "  ------- size (bytes) -------  - lifetime -");
    fprintf(out, "%7s %6s %6s %6s %6s %5s %5s %5s %5s %6s %6s %5s\n", "allocs", "share", "rate/s",
            "bytes", "min", "p50", "p95", "p99", "max", "p50", "p99", "peak");
    double seconds = (double)r->duration_ns / 1e9;
    for (size_t i = 0; i < shown; i++) {
        const struct pp_site *s = &r->sites[i];
        char n[16], share[16], rate[16], bytes[16], mn[16], p50[16], p95[16], p99[16], mx[16];
        char l50[16], l99[16], peak[16];
        snprintf(share, sizeof share, "%.1f%%", all ? 100.0 * (double)s->allocs / (double)all : 0.0);
        if (seconds > 0)
            pp_human_count(rate, sizeof rate, (double)s->allocs / seconds);
        else
            strcpy(rate, "-");
        bool freed = s->frees > 0 && s->hists[PP_STATS_HIST_LIFETIME_NS].total > 0;
        fprintf(out, "%7s %6s %6s %6s %6s %5s %5s %5s %5s %6s %6s %5s\n",
                column_count(n, sizeof n, s->allocs), share, rate,
                pp_human_bytes(bytes, sizeof bytes, s->bytes),
                pp_human_bytes(mn, sizeof mn, s->min_size),
                pp_human_bytes(p50, sizeof p50, pp_site_size_percentile(s, 50)),
                pp_human_bytes(p95, sizeof p95, pp_site_size_percentile(s, 95)),
                pp_human_bytes(p99, sizeof p99, pp_site_size_percentile(s, 99)),
                pp_human_bytes(mx, sizeof mx, s->max_size),
                freed ? pp_human_ns(l50, sizeof l50, pp_site_lifetime_percentile(s, 50)) : "-",
                freed ? pp_human_ns(l99, sizeof l99, pp_site_lifetime_percentile(s, 99)) : "-",
                column_count(peak, sizeof peak, s->peak_live));
        print_site_where(out, s, r->verdicts ? &r->verdicts[i] : NULL);
    }
}
