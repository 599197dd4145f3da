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
#include "ownpools.h"
#include "numfmt.h"
#include "tried.h"

/* Lines are cut to this many columns (0: never cut, --wide); main sets the terminal's width. */
static size_t line_width = 79;

void pp_report_text_set_width(size_t columns)
{
    line_width = columns;
}

/* Cut line to the width, marking the cut with "...". */
static void fit(char *line)
{
    if (line_width > 3 && strlen(line) > line_width)
        strcpy(line + line_width - 3, "...");
}

/* A rate per second from fewer allocations than this says nothing (one allocation in a 0.6 s
 * run is not "1.7/s"): the rate column shows "-". */
#define PP_RATE_MIN_ALLOCS 5

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
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < ' ')
            *c = ' ';
    if (strlen(line) > room && room > 3)
        strcpy(line + room - 3, "...");
    fputs(line, out);
}

/* Text in lines of at most line_width, each indented by indent spaces, broken at spaces. */
static void print_wrapped(FILE *out, int indent, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t room = line_width - (size_t)indent, n = strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = room;
        }
        fprintf(out, "%*s%.*s\n", indent, "", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* Several processes: which one to look at first. */
static void print_busiest_process(FILE *out, const struct pp_report *r)
{
    if (r->ntraces < 2 || r->allocs == 0)
        return;
    size_t best = 0;
    for (size_t i = 1; i < r->ntraces; i++)
        if (r->traces[i]->totals.allocs > r->traces[best]->totals.allocs)
            best = i;
    const struct pp_trace_process *p = &r->traces[best]->process;
    const char *cmd = p->argc ? pp_basename(p->argv[0]) : p->exe ? pp_basename(p->exe) : "?";
    fprintf(out, "  most allocations: pid %" PRIu32 " (%s), %.0f%%; pick processes with "
                 "--process PID|COMMAND\n",
            p->pid, cmd, 100.0 * (double)r->traces[best]->totals.allocs / (double)r->allocs);
}

/* A runtime that pools below malloc explains an almost empty report: say it first. */
static void print_pooling_runtime(FILE *out, const struct pp_report *r)
{
    if (!r->pooling_runtime)
        return;
    char note[512];
    snprintf(note, sizeof note,
             "note: %s pools objects below malloc, so this report sees only what reaches "
             "malloc: %s.",
             r->pooling_runtime->name, r->pooling_runtime->how);
    print_wrapped(out, 2, note);
}

/* Sites shown as module+0xoffset: say once how to get their names. */
static void print_nameless(FILE *out, const struct pp_report *r)
{
    if (r->nnameless == 0)
        return;
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "note: no names for some code in");
    for (size_t i = 0; i < r->nnameless && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s %s",
                                 i ? (i + 1 == r->nnameless ? " and" : ",") : "",
                                 pp_basename(r->nameless[i]));
    if (used < sizeof text)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 ": install the debug symbols (");
    size_t packages = 0;
    for (size_t i = 0; i < r->nnameless && used < sizeof text; i++) {
        char pkg[256];
        if (pp_debug_package(r->nameless[i], pkg, sizeof pkg))
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s",
                                     packages++ ? ", " : "", pkg);
    }
    if (used < sizeof text)
        snprintf(text + used, sizeof text - used, "%sor set DEBUGINFOD_URLS)",
                 packages ? "; " : "the package's -dbgsym or -dbg, ");
    print_wrapped(out, 2, text);
}

/* How many wrappers the header names before pointing at the JSON report for the rest. */
#define WRAPPERS_SHOWN 4

/* The frames skipped as wrappers, busiest first: the user can check them and override. */
static void print_wrappers(FILE *out, const struct pp_report *r)
{
    if (r->wrappers.n == 0)
        return;
    const struct pp_wrapper *top[WRAPPERS_SHOWN] = {0};
    for (size_t i = 0; i < r->wrappers.n; i++) {
        const struct pp_wrapper *w = &r->wrappers.items[i];
        for (size_t j = 0; j < WRAPPERS_SHOWN; j++) {
            if (!top[j] || w->allocs > top[j]->allocs) {
                memmove(&top[j + 1], &top[j], (WRAPPERS_SHOWN - 1 - j) * sizeof top[0]);
                top[j] = w;
                break;
            }
        }
    }
    fprintf(out, "  wrappers skipped (their callers are the sites; -w to add, "
                 "--no-auto-wrappers):\n");
    for (size_t j = 0; j < WRAPPERS_SHOWN && top[j]; j++) {
        char line[256], calls[48] = "";
        if (top[j]->callers)
            snprintf(calls, sizeof calls, ", %zu call sites", top[j]->callers);
        snprintf(line, sizeof line, "    %s (%s%s, %" PRIu64 " allocations)", top[j]->name,
                 pp_wrapper_origin_name(top[j]->origin), calls, top[j]->allocs);
        fit(line);
        fprintf(out, "%s\n", line);
    }
    if (r->wrappers.n > WRAPPERS_SHOWN)
        fprintf(out, "    and %zu more (all in --format json)\n", r->wrappers.n - WRAPPERS_SHOWN);
}

static void print_header(FILE *out, const struct pp_report *r, size_t shown)
{
    char a[16], b[16], c[16];
    fprintf(out, "poolprobe-report: %zu process%s%s\n", r->ntraces, r->ntraces == 1 ? "" : "es",
            r->ntraces > 1 ? " (merged)" : "");
    for (size_t i = 0; i < r->ntraces; i++) {
        const struct pp_trace_process *p = &r->traces[i]->process;
        int n = fprintf(out, "  pid %" PRIu32 "  %5s  ", p->pid, pp_human_ns(a, sizeof a, p->duration_ns));
        print_command(out, p, line_width == 0 ? SIZE_MAX
                              : n > 0 && (size_t)n < line_width ? line_width - (size_t)n
                                                               : 10);
        fputc('\n', out);
    }
    fprintf(out, "  %" PRIu64 " allocations, %" PRIu64 " frees, %s bytes requested, peak %s live\n",
            r->allocs, r->frees, pp_human_bytes(b, sizeof b, r->bytes),
            pp_human_bytes(c, sizeof c, r->peak_live_bytes));
    if (r->ops)
        fprintf(out, "  %" PRIu64 " operations: %.2f allocations, %s bytes per operation\n", r->ops,
                (double)r->allocs / (double)r->ops,
                pp_human_bytes(b, sizeof b, (uint64_t)((double)r->bytes / (double)r->ops + 0.5)));
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
    if (r->died)
        fprintf(out, "  note: the process died without exiting (a signal); its trace was written\n"
                     "  after its death and is complete up to it\n");
    if (r->tracking_lost)
        fprintf(out, "  warning: the shim ran out of memory: counts stop early\n");
    fprintf(out, "  %zu site%s", r->nsites, r->nsites == 1 ? "" : "s");
    if (shown < r->nsites)
        fprintf(out, ", top %zu shown", shown);
    if (r->runtime_sites)
        fprintf(out, " (%zu of them the C runtime's own)", r->runtime_sites);
    fprintf(out, "\n");
    print_busiest_process(out, r);
    print_pooling_runtime(out, r);
    print_wrappers(out, r);
    print_nameless(out, r);
    fprintf(out, "\n");
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
    fit(line);
    fprintf(out, "%s\n", line);
}

/* "render_buf  demo.c:41" and, on the next line, the callers folded. */
static void print_site_title(FILE *out, size_t rank, const struct pp_site *s,
                             const struct pp_verdict *v)
{
    char line[512];
    const struct pp_frame *f = s->nframes ? &s->frames[0] : NULL;
    int n = snprintf(line, sizeof line, "%2zu. %-11s %s", rank, pp_verdict_name(v->kind), s->key);
    if (f && f->file && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  %s:%u", pp_basename(f->file), f->line);
    fit(line);
    fprintf(out, "%s\n", line);
    if (s->nframes > 1) {
        size_t used = (size_t)snprintf(line, sizeof line, "    called from");
        /* Up to four callers, and never the C runtime's frames below main. */
        size_t i = 1;
        for (; i < s->nframes && i <= 4 && used < sizeof line; i++) {
            char unnamed[256];
            const char *fn = s->frames[i].function;
            if (!fn) {
                pp_frame_address(&s->frames[i], unnamed, sizeof unnamed);
                fn = unnamed;
            }
            used += (size_t)snprintf(line + used, sizeof line - used, "%s %s", i > 1 ? " <" : "",
                                     fn);
            if (strcmp(fn, "main") == 0)
                break;
        }
        if (i == 5 && i < s->nframes && used < sizeof line)
            snprintf(line + used, sizeof line - used, " < ...");
        fit(line);
        fprintf(out, "%s\n", line);
    }
}

/* "per-thread free list of 1 x 4.0K B" and, with several threads, what all of them hold. */
static void print_pool(FILE *out, const struct pp_verdict *v, uint64_t object_bytes)
{
    char a[16], b[16];
    fprintf(out, "    %s free list of %" PRIu64 " x %s B", pp_pool_kind_name(v->pool_kind),
            v->capacity_per_thread, pp_human_bytes(a, sizeof a, object_bytes));
    if (v->pool_kind == PP_POOL_PER_THREAD && v->threads > 1)
        fprintf(out, " per thread, %" PRIu32 " threads", v->threads);
    fprintf(out, ": holds %s%s\n", pp_human_bytes(b, sizeof b, v->pool_bytes),
            v->pool_bytes_large ? " (warning: large, see max_pool_bytes)" : "");
}

/* The concrete action, with the numbers needed to take it. */
void pp_print_action(FILE *out, const struct pp_site *s, const struct pp_verdict *v)
{
    char a[16], b[16];
    switch (v->kind) {
    case PP_VERDICT_POOL:
        print_pool(out, v, v->object_bytes);
        fprintf(out, "    hit rate %.2f%%\n", v->hit_rate * 100);
        break;
    case PP_VERDICT_POOL_CAPPED:
        print_pool(out, v, v->object_bytes);
        fprintf(out, "    dropping blocks over %s B (%.2f%% of allocations); hit rate %.2f%%\n",
                pp_human_bytes(a, sizeof a, v->cap_bytes), v->above_cap_share * 100,
                v->hit_rate * 100);
        break;
    case PP_VERDICT_TIERED:
        fprintf(out, "    %s free list per class:", pp_pool_kind_name(v->pool_kind));
        for (size_t i = 0; i < v->ntiers; i++)
            fprintf(out, "%s <=%s (%.0f%%)", i ? "," : "",
                    pp_human_bytes(a, sizeof a, v->tiers[i].upper_bytes), v->tiers[i].share * 100);
        fprintf(out, "\n    dropping blocks over %s B; %" PRIu64 " per class per thread,"
                     " holds %s%s\n",
                pp_human_bytes(a, sizeof a, v->drop_above_bytes), v->capacity_per_thread,
                pp_human_bytes(b, sizeof b, v->pool_bytes),
                v->pool_bytes_large ? " (warning: large)" : "");
        break;
    case PP_VERDICT_PRESIZE:
        fprintf(out, "    allocate %s B up front: covers 95%% of the final sizes\n",
                pp_human_bytes(a, sizeof a, v->presize_bytes));
        if (v->then.kind != PP_VERDICT_NO_POOL)
            fprintf(out, "    presize %s, then pool (%s, %" PRIu64 " x %s): saves %.1f%% more\n",
                    pp_human_bytes(a, sizeof a, v->presize_bytes),
                    pp_pool_kind_name(v->then.pool_kind), v->then.capacity_per_thread,
                    pp_human_bytes(b, sizeof b, v->then.object_bytes),
                    v->then.saving_share * 100);
        break;
    case PP_VERDICT_STACK:
        fprintf(out, "    automatic storage (%s B at most) or one buffer reused across calls\n",
                pp_human_bytes(a, sizeof a, s->peak_live_bytes));
        break;
    case PP_VERDICT_ARENA:
        fprintf(out, "    an arena (bump allocator) of %s B, released at once\n",
                pp_human_bytes(a, sizeof a, v->arena_bytes));
        break;
    case PP_VERDICT_NO_POOL:
        break;
    }
}

void pp_print_checks_legend(FILE *out, const char *indent)
{
    fprintf(out, "%s(rows: ok/NO = a condition for pooling holds/fails, the first NO decides;\n"
                 "%s yes/no = the condition for a simpler fix, pre-size or a stack buffer)\n",
            indent, indent);
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

/* The C++ advice line of a container site ("reserve(N)"), if it has one. */
static bool print_cxx_advice(FILE *out, const struct pp_site *s)
{
    if (s->cxx.kind == PP_CXX_NONE)
        return false;
    char advice[512];
    pp_cxx_advice(&s->cxx, pp_site_element_bytes(s), s->min_size, s->max_size, advice, sizeof advice);
    print_wrapped(out, 4, advice);
    return true;
}

/* Container growth found in the user's functions: the C++ fix comes before any pool. */
static void print_containers(FILE *out, const struct pp_report *r, size_t top)
{
    size_t shown = 0, limit = top ? top : 5;
    for (size_t i = 0; i < r->nsites && shown < limit; i++) {
        const struct pp_site *s = &r->sites[i];
        if (s->runtime || s->cxx.kind == PP_CXX_NONE || s->allocs < PP_RATE_MIN_ALLOCS)
            continue;
        if (shown++ == 0)
            fprintf(out, "C++ containers, most allocations first:\n\n");
        char line[512];
        snprintf(line, sizeof line, "%2zu. %-11s %s  %" PRIu64 " allocations", shown,
                 pp_cxx_kind_name(s->cxx.kind), s->key, s->allocs);
        fit(line);
        fprintf(out, "%s\n", line);
        print_cxx_advice(out, s);
    }
    if (shown)
        fputc('\n', out);
}

/* What poolprobe try measured for this site (--try FILE), when it did. */
static void print_measured(FILE *out, const struct pp_site *s)
{
    const struct pp_tried_site *t = pp_tried_find(s->key);
    if (!t)
        return;
    fprintf(out, "    measured (try %s%s): cpu x%.3f (%.3f-%.3f), wall x%.3f, %s\n", t->verdict,
            t->alone ? "" : ", with the other sites", t->cpu.median, t->cpu.min, t->cpu.max,
            t->wall.median, t->confirmed ? "confirmed" : "not confirmed");
}

static void print_recommendations(FILE *out, const struct pp_report *r, size_t top)
{
    size_t *order = NULL;
    size_t n = pp_report_recommendations(r, &order);
    if (n == (size_t)-1)
        n = 0;
    /* The C runtime's own allocations are not the user's to change. */
    size_t kept = 0;
    for (size_t k = 0; k < n; k++)
        if (!r->sites[order[k]].runtime)
            order[kept++] = order[k];
    n = kept;
    if (top && n > top)
        n = top;
    if (n == 0) {
        fprintf(out, "No site is worth pooling or a simpler fix (see the checks with "
                     "--site PATTERN).\n\n");
    } else {
        fprintf(out, "Recommendations, most time saved first:\n");
        pp_print_checks_legend(out, "");
        fputc('\n', out);
        const struct pp_cost_model *m = pp_report_cost_model();
        if (m) {
            char line[512];
            snprintf(line, sizeof line, "    (savings from the cost model %.256s%s%.128s)", m->source,
                     m->note[0] ? "; " : "", m->note);
            fit(line);
            fprintf(out, "%s\n\n", line);
        }
        for (size_t k = 0; k < n; k++) {
            const struct pp_site *s = &r->sites[order[k]];
            const struct pp_verdict *v = &r->verdicts[order[k]];
            print_site_title(out, k + 1, s, v);
            pp_print_action(out, s, v);
            print_cxx_advice(out, s);
            char ns[16];
            pp_human_ns(ns, sizeof ns, v->saving_ns > 0 ? (uint64_t)v->saving_ns : 0);
            if (v->kind == PP_VERDICT_PRESIZE)
                fprintf(out, "    saves %" PRIu64 " reallocs of %" PRIu64
                             " blocks: %s, %.1f%% of the run\n",
                        v->allocs_saved, s->allocs, ns, v->saving_share * 100);
            else
                fprintf(out, "    saves %" PRIu64 " of %" PRIu64 " allocations: %s, %.1f%% of the"
                             " run\n",
                        v->allocs_saved, s->allocs, ns, v->saving_share * 100);
            print_measured(out, s);
            pp_print_checks(out, v);
            fputc('\n', out);
        }
    }
    free(order);

    /* The busiest sites that are not worth it, and why: a skeptic's first question. */
    size_t shown = 0;
    for (size_t i = 0; i < r->nsites && shown < 5; i++) {
        const struct pp_verdict *v = &r->verdicts[i];
        if (v->kind != PP_VERDICT_NO_POOL || r->sites[i].runtime ||
            r->sites[i].cxx.kind != PP_CXX_NONE)
            continue;
        if (shown++ == 0)
            fprintf(out, "Busiest sites not worth pooling:\n");
        const struct pp_check *failed = v->failed_check >= 0 ? &v->checks[v->failed_check] : NULL;
        char line[1024], key[512];
        snprintf(key, sizeof key, "%s", r->sites[i].key);
        if (line_width && strlen(r->sites[i].key) > 24)
            strcpy(key + 21, "...");
        snprintf(line, sizeof line, "  %-24s %-16s %s%s%s", key, v->reason,
                 failed ? failed->value_text : "", failed ? ", need " : "",
                 failed ? failed->threshold_text : "");
        fit(line);
        fprintf(out, "%s\n", line);
    }
    if (shown)
        fputc('\n', out);
}

/* The program's own pools (include/poolprobe.h markers), each with keep, resize or remove. */
static void print_own_pools(FILE *out, const struct pp_report *r)
{
    const struct pp_thresholds *t = pp_report_thresholds();
    size_t shown = 0;
    for (size_t i = 0; t && i < r->ntraces; i++)
        for (uint32_t k = 0; k < r->traces[i]->nown_pools; k++) {
            struct pp_own_pool_verdict v;
            pp_judge_own_pool(&r->traces[i]->own_pools[k], r->traces[i]->process.duration_ns, t,
                              &v);
            if (shown++ == 0)
                fprintf(out, "Your pools (marked with POOLPROBE_POOL_*):\n");
            char line[256], rate[16];
            snprintf(line, sizeof line, "  %-7s %-20.20s %5s gets/s, hit %5.1f%%: %s", v.verdict,
                     v.name, pp_human_count(rate, sizeof rate, v.gets_per_s), v.hit_rate * 100,
                     v.why);
            fit(line);
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
    print_containers(out, r, top);
    if (r->verdicts)
        print_recommendations(out, r, top);
    print_own_pools(out, r);
    uint64_t all = r->allocs;
    if (all == 0)
        for (size_t i = 0; i < r->nsites; i++)
            all += r->sites[i].allocs;
    /* Group labels over the size and lifetime columns. */
    fprintf(out, "%30s%s\n", "", "  ------- size (bytes) -------  - lifetime -");
    fprintf(out, "%7s %6s %6s %6s %6s %5s %5s %5s %5s %6s %6s %5s\n", "allocs", "share", "rate/s",
            "bytes", "min", "p50", "p95", "p99", "max", "p50", "p99", "peak");
    double seconds = (double)r->duration_ns / 1e9;
    uint64_t runtime_bytes = 0;
    for (size_t i = 0; i < shown; i++) {
        const struct pp_site *s = &r->sites[i];
        if (s->runtime && !r->list_runtime) {
            runtime_bytes += s->bytes;
            continue;
        }
        char n[16], share[16], rate[16], bytes[16], mn[16], p50[16], p95[16], p99[16], mx[16];
        char l50[16], l99[16], peak[16];
        snprintf(share, sizeof share, "%.1f%%", all ? 100.0 * (double)s->allocs / (double)all : 0.0);
        if (seconds > 0 && s->allocs >= PP_RATE_MIN_ALLOCS)
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
    if (r->runtime_sites && !r->list_runtime) {
        char n[16], bytes[16];
        fprintf(out, "%7s %5.1f%% %6s %6s  runtime: %zu site%s of the C runtime's own (stdio,\n"
                     "    locale, NSS, loader, thread TLS); --all lists them\n",
                column_count(n, sizeof n, r->runtime_allocs),
                all ? 100.0 * (double)r->runtime_allocs / (double)all : 0.0, "-",
                pp_human_bytes(bytes, sizeof bytes, runtime_bytes), r->runtime_sites,
                r->runtime_sites == 1 ? "" : "s");
    }
}
