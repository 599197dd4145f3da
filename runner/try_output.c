/* try_output.c — what `poolprobe try` concludes and how it says it (text and JSON).
 *
 * Ratios are per pair: run i with the pool applied over run i without (the two runs of a pair
 * are adjacent in time, so slow phases of a loaded machine hit both); the median, min and max
 * of the n pair ratios are shown for CPU time (user + system) and wall time.
 *
 * "confirmed" is decided by ranks, not by a ratio threshold: every run with the pool must be
 * faster than every run without it, in CPU time and in wall time, with n >= 5 runs per arm. If
 * the pool changed nothing, the 2n times would be exchangeable and the n runs of one arm would
 * all be the fastest by chance with probability 1/C(2n, n): 1 in 252 for n = 5, 1 in 924 for
 * n = 6 (the extreme case of a Mann-Whitney test). A machine busy with other work slows runs of
 * both arms alike and only makes confirmation harder; it cannot make a useless pool look good
 * except by that chance. It says nothing about the size of the effect: read the ratios for that.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "try.h"

#define MIN_RUNS_TO_CONFIRM 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v[0..n). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], cmp_double);
    return !n ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void try_ratio_stats(const struct try_result *r, bool cpu, struct try_stats *out)
{
    double ratios[r->nruns ? r->nruns : 1];
    for (size_t i = 0; i < r->nruns; i++) {
        double with = cpu ? r->with[i].cpu_s : r->with[i].wall_s;
        double without = cpu ? r->without[i].cpu_s : r->without[i].wall_s;
        ratios[i] = without > 0 ? with / without : 1.0;
    }
    size_t n = r->nruns;
    out->median = median(ratios, n); /* sorts */
    out->min = n ? ratios[0] : 0;
    out->max = n ? ratios[n - 1] : 0;
}

static bool arms_separate(const struct try_result *r, bool cpu)
{
    double slowest_with = 0, fastest_without = 1e300;
    for (size_t i = 0; i < r->nruns; i++) {
        double w = cpu ? r->with[i].cpu_s : r->with[i].wall_s;
        double wo = cpu ? r->without[i].cpu_s : r->without[i].wall_s;
        if (w > slowest_with)
            slowest_with = w;
        if (wo < fastest_without)
            fastest_without = wo;
    }
    return slowest_with < fastest_without;
}

bool try_confirmed(const struct try_result *r)
{
    return r->nruns >= MIN_RUNS_TO_CONFIRM && arms_separate(r, true) && arms_separate(r, false);
}

static uint64_t peak_rss(const struct try_run *runs, size_t n)
{
    uint64_t peak = 0;
    for (size_t i = 0; i < n; i++)
        if (runs[i].maxrss_bytes > peak)
            peak = runs[i].maxrss_bytes;
    return peak;
}

static void print_applied(FILE *out, const struct try_applied *a)
{
    fprintf(out, "%s", a->verdict);
    if (!strcmp(a->mode, "pool")) {
        fprintf(out, " (%s, capacity %" PRIu64, a->kind, a->capacity);
        if (a->ntiers == 1)
            fprintf(out, ", blocks of %" PRIu64 " B", a->tier_bytes[0]);
        else
            for (unsigned i = 0; i < a->ntiers; i++)
                fprintf(out, "%s%" PRIu64, i ? "/" : ", classes ", a->tier_bytes[i]);
        fprintf(out, ")");
    } else if (!strcmp(a->mode, "presize")) {
        fprintf(out, " (%" PRIu64 " B first allocation)", a->presize_bytes);
    }
    if (a->note[0])
        fprintf(out, " [%s]", a->note);
}

/* hits: allocations the pool served (presize: made the recommended size). */
static void print_counts(FILE *out, const struct try_counts *c, const char *tail)
{
    fprintf(out, "  hits      %" PRIu64 " of %" PRIu64 " allocations (%" PRIu64 " misses, %" PRIu64
            " drops above the cap, %" PRIu64 " frees past capacity)%s\n", c->hits, c->matched,
            c->misses, c->drops, c->overflows, tail);
}

static void print_result(FILE *out, const struct try_result *r)
{
    struct try_stats cpu, wall;
    try_ratio_stats(r, true, &cpu);
    try_ratio_stats(r, false, &wall);
    const struct try_counts *c = &r->counts;
    print_counts(out, c, "");
    fprintf(out, "  cpu       with/without %.3f (%.3f-%.3f)\n", cpu.median, cpu.min, cpu.max);
    fprintf(out, "  wall      with/without %.3f (%.3f-%.3f)\n", wall.median, wall.min, wall.max);
    fprintf(out, "  peak rss  %.1f MiB without, %.1f MiB with\n",
            (double)peak_rss(r->without, r->nruns) / 1048576.0,
            (double)peak_rss(r->with, r->nruns) / 1048576.0);
    if (r->nruns && r->with[r->nruns - 1].unresolved)
        fprintf(out, "  note      %u return-address chains were not found in the modules the "
                "program loaded (another build, or a library it did not load this time)\n",
                r->with[r->nruns - 1].unresolved);
    if (try_confirmed(r))
        fprintf(out, "  confirmed yes: all %zu runs with it beat all %zu without, in CPU and "
                "wall time\n", r->nruns, r->nruns);
    else if (r->nruns < MIN_RUNS_TO_CONFIRM)
        fprintf(out, "  confirmed no: %zu runs per arm cannot confirm (needs --runs >= %d)\n",
                r->nruns, MIN_RUNS_TO_CONFIRM);
    else
        fprintf(out, "  confirmed no: the runs with and without it overlap\n");
}

/* Median of one arm's CPU or wall seconds. */
static double arm_median(const struct try_run *runs, size_t n, bool cpu)
{
    double v[n ? n : 1];
    for (size_t i = 0; i < n; i++)
        v[i] = cpu ? runs[i].cpu_s : runs[i].wall_s;
    return median(v, n);
}

void try_print_text(FILE *out, char *const *argv, const char *trace_note,
                    const struct try_run *plain, const struct try_target *targets,
                    size_t ntargets, const struct try_result *results, size_t nresults,
                    size_t runs)
{
    fprintf(out, "poolprobe try:");
    for (size_t i = 0; argv[i]; i++)
        fprintf(out, " %s", argv[i]);
    fprintf(out, "\n%s\n", trace_note);
    fprintf(out, "%zu paired runs per arm after one warm-up each; output and exit status "
            "identical to a plain run in every run\n", runs);
    fprintf(out, "plain run (no shim): %.3fs cpu, %.3fs wall; arm without the pool: %.3fs cpu "
            "(median)\n", plain->cpu_s, plain->wall_s,
            nresults ? arm_median(results[0].without, results[0].nruns, true) : 0.0);
    for (size_t i = 0; i < ntargets; i++) {
        const struct try_target *t = &targets[i];
        fprintf(out, "\nsite %s (report: %s", t->key, t->report_verdict);
        if (t->allocs_saved && !strcmp(t->report_verdict, "presize"))
            fprintf(out, ", saves %" PRIu64 " reallocs of %" PRIu64 " blocks", t->allocs_saved,
                    t->allocs);
        else if (t->allocs_saved)
            fprintf(out, ", saves %" PRIu64 " of %" PRIu64 " allocations", t->allocs_saved,
                    t->allocs);
        fprintf(out, ")\n  applied   ");
        print_applied(out, &t->applied);
        fprintf(out, "\n");
        if (t->chains_skipped)
            fprintf(out, "  note      %u of its stacks cannot be named to the shim (deeper than "
                    "%d frames, or a module without build-id)\n", t->chains_skipped,
                    TRY_MAX_DEPTH);
        bool alone = false;
        for (size_t k = 0; k < nresults; k++)
            if (results[k].key && results[k].target == i) {
                print_result(out, &results[k]);
                alone = true;
            }
        for (size_t k = 0; k < nresults && !alone && ntargets > 1; k++)
            if (!results[k].key) {
                const struct try_counts *c = &results[k].site_counts[i];
                print_counts(out, c, "; timed with the others below");
            }
    }
    for (size_t k = 0; k < nresults; k++)
        if (!results[k].key) {
            fprintf(out, "\nall %zu site%s together\n", ntargets, ntargets == 1 ? "" : "s");
            print_result(out, &results[k]);
        }
}

static void set(json_t *o, const char *name, json_t *v, int *failed)
{
    if (!o || !v || json_object_set_new(o, name, v))
        *failed = 1;
}

static json_t *integer(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *applied_json(const struct try_applied *a, int *failed)
{
    json_t *o = json_object();
    set(o, "verdict", json_string(a->verdict), failed);
    if (!strcmp(a->mode, "pool")) {
        set(o, "kind", json_string(a->kind), failed);
        set(o, "capacity", integer(a->capacity), failed);
        json_t *tiers = json_array();
        for (unsigned i = 0; i < a->ntiers; i++)
            json_array_append_new(tiers, integer(a->tier_bytes[i]));
        set(o, "block_bytes", tiers, failed);
        if (!strcmp(a->verdict, "pool-capped"))
            set(o, "cap_bytes", integer(a->cap_bytes), failed);
    } else if (!strcmp(a->mode, "presize")) {
        set(o, "presize_bytes", integer(a->presize_bytes), failed);
    }
    if (a->note[0])
        set(o, "note", json_string(a->note), failed);
    return o;
}

static json_t *stats_json(const struct try_result *r, bool cpu, int *failed)
{
    struct try_stats s;
    try_ratio_stats(r, cpu, &s);
    json_t *o = json_object();
    set(o, "median", json_real(s.median), failed);
    set(o, "min", json_real(s.min), failed);
    set(o, "max", json_real(s.max), failed);
    return o;
}

static void result_json(json_t *o, const struct try_result *r, int *failed)
{
    set(o, "matched", integer(r->counts.matched), failed);
    set(o, "hits", integer(r->counts.hits), failed);
    set(o, "misses", integer(r->counts.misses), failed);
    set(o, "drops", integer(r->counts.drops), failed);
    set(o, "overflows", integer(r->counts.overflows), failed);
    set(o, "cpu_ratio", stats_json(r, true, failed), failed);
    set(o, "wall_ratio", stats_json(r, false, failed), failed);
    json_t *rss = json_object();
    set(rss, "without", integer(peak_rss(r->without, r->nruns)), failed);
    set(rss, "with", integer(peak_rss(r->with, r->nruns)), failed);
    set(o, "rss_bytes", rss, failed);
    set(o, "confirmed", json_boolean(try_confirmed(r)), failed);
    set(o, "unresolved_chains", integer(r->nruns ? r->with[r->nruns - 1].unresolved : 0), failed);
    json_t *secs = json_object();
    set(secs, "without", json_real(arm_median(r->without, r->nruns, true)), failed);
    set(secs, "with", json_real(arm_median(r->with, r->nruns, true)), failed);
    set(o, "cpu_seconds", secs, failed);
    secs = json_object();
    set(secs, "without", json_real(arm_median(r->without, r->nruns, false)), failed);
    set(secs, "with", json_real(arm_median(r->with, r->nruns, false)), failed);
    set(o, "wall_seconds", secs, failed);
}

int try_print_json(FILE *out, char *const *argv, const struct try_run *plain,
                   const struct try_target *targets, size_t ntargets,
                   const struct try_result *results, size_t nresults, size_t runs)
{
    int failed = 0;
    json_t *root = json_object();
    set(root, "format", json_string("poolprobe-try"), &failed);
    set(root, "version", json_integer(1), &failed);
    json_t *program = json_array();
    for (size_t i = 0; argv[i]; i++)
        json_array_append_new(program, json_string(argv[i]));
    set(root, "program", program, &failed);
    set(root, "runs", integer(runs), &failed);
    json_t *p = json_object();
    set(p, "cpu_seconds", json_real(plain->cpu_s), &failed);
    set(p, "wall_seconds", json_real(plain->wall_s), &failed);
    set(root, "plain", p, &failed);
    json_t *sites = json_array();
    for (size_t i = 0; i < ntargets; i++) {
        const struct try_target *t = &targets[i];
        json_t *s = json_object();
        set(s, "key", json_string(t->key), &failed);
        set(s, "verdict", json_string(t->applied.verdict), &failed);
        set(s, "report_verdict", json_string(t->report_verdict), &failed);
        set(s, "applied", applied_json(&t->applied, &failed), &failed);
        set(s, "allocs_saved_predicted", integer(t->allocs_saved), &failed);
        set(s, "chains", integer(t->nchains), &failed);
        set(s, "chains_skipped", integer(t->chains_skipped), &failed);
        /* Measured alone (--each) when it was, else its counts from the run of all. */
        const struct try_result *alone = NULL, *all = NULL;
        for (size_t k = 0; k < nresults; k++) {
            if (results[k].key && results[k].target == i)
                alone = &results[k];
            if (!results[k].key)
                all = &results[k];
        }
        if (alone) {
            result_json(s, alone, &failed);
            set(s, "measured_alone", json_true(), &failed);
        } else if (all) {
            result_json(s, all, &failed);
            const struct try_counts *c = &all->site_counts[i];
            set(s, "matched", integer(c->matched), &failed);
            set(s, "hits", integer(c->hits), &failed);
            set(s, "misses", integer(c->misses), &failed);
            set(s, "drops", integer(c->drops), &failed);
            set(s, "overflows", integer(c->overflows), &failed);
            /* One site tried: the run of all is its run alone. */
            set(s, "measured_alone", json_boolean(ntargets == 1), &failed);
        }
        json_array_append_new(sites, s);
    }
    set(root, "sites", sites, &failed);
    for (size_t k = 0; k < nresults; k++)
        if (!results[k].key) {
            json_t *all = json_object();
            result_json(all, &results[k], &failed);
            set(root, "all", all, &failed);
        }
    if (!failed) {
        json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
    }
    json_decref(root);
    return failed ? -1 : 0;
}
