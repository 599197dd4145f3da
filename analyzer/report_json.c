/* report_json.c — --format json, built with jansson (it gets escaping and UTF-8 right).
 *
 * Numbers are JSON integers. jansson's integers are signed 64-bit, so a u64 counter above
 * INT64_MAX (only a corrupt-but-checksummed trace can have one) is written as INT64_MAX.
 * Fields beyond the fixed contract: per process the ppid, threads, sample_every, flags; per
 * site live_bytes_at_exit, peak_live_bytes, cross_thread_frees, realloc_*, lifetime sum,
 * lifetime_allocs percentiles, free_callers, pool_sim and the stack count; at the top, "ops"
 * (operations declared by the run, which the gate's JSON baselines rely on).
 * Site placement (sites.h): per site "runtime" (the C runtime's own allocation) and, for a
 * libstdc++ growth path, "container" {kind, type, element, advice, reserve}; at the top,
 * "wrappers" (frames skipped as wrappers: name, origin, call_sites, allocs), "runtime" {sites,
 * allocs}, "pooling_runtime" ({name, how} of a runtime pooling below malloc, or null) and
 * "nameless_modules" (modules holding unnamed sites: module, debug_package or null).
 */
#include "report_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "ownpools.h"
#include "tried.h"
#include "trace_format.h"

static json_t *integer(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* json_object_set_new with a NULL value (out of memory) leaves the object incomplete; the
 * caller notices through the `failed` flag set by set(). */
static void set(json_t *obj, const char *name, json_t *value, int *failed)
{
    if (!obj || !value || json_object_set_new(obj, name, value) != 0)
        *failed = 1;
}

static void append(json_t *arr, json_t *value, int *failed)
{
    if (!arr || !value || json_array_append_new(arr, value) != 0)
        *failed = 1;
}

static json_t *process_json(const struct pp_trace *t, int *failed)
{
    const struct pp_trace_process *p = &t->process;
    json_t *o = json_object();
    set(o, "pid", integer(p->pid), failed);
    set(o, "ppid", integer(p->ppid), failed);
    /* The command as one string (arguments joined by spaces), as the contract has it. */
    size_t len = 1;
    for (uint32_t i = 0; i < p->argc; i++)
        len += strlen(p->argv[i]) + 1;
    char *command = malloc(len);
    if (command) {
        command[0] = '\0';
        for (uint32_t i = 0; i < p->argc; i++) {
            if (i)
                strcat(command, " ");
            strcat(command, p->argv[i]);
        }
    }
    set(o, "command", command ? json_string(p->argc ? command : p->exe) : NULL, failed);
    free(command);
    json_t *argv = json_array();
    for (uint32_t i = 0; i < p->argc; i++)
        append(argv, json_string(p->argv[i]), failed);
    set(o, "argv", argv, failed);
    set(o, "exe", json_string(p->exe), failed);
    set(o, "duration_ns", integer(p->duration_ns), failed);
    set(o, "start_realtime_ns", integer(p->start_realtime_ns), failed);
    set(o, "threads", integer(p->threads_seen), failed);
    set(o, "depth_limit", integer(p->depth_limit), failed);
    set(o, "sample_every", integer(p->sample_every), failed);
    set(o, "forked_child", json_boolean(p->flags & PP_PROC_F_FORKED_CHILD), failed);
    set(o, "descendant", json_boolean(p->flags & PP_PROC_F_DESCENDANT), failed);
    set(o, "tracking_lost", json_boolean(p->flags & PP_PROC_F_TRACKING_LOST), failed);
    set(o, "died", json_boolean(p->flags & PP_PROC_F_DIED), failed);
    set(o, "snapshot", json_boolean(t->flags & PP_TRACE_F_SNAPSHOT), failed);
    set(o, "untracked_frees", integer(p->untracked_frees), failed);
    set(o, "ops", integer(p->ops), failed);
    set(o, "trace_version", json_sprintf("%u.%u", t->major, t->minor), failed);
    return o;
}

static json_t *frame_json(const struct pp_frame *f, int *failed)
{
    json_t *o = json_object();
    if (f->function) {
        set(o, "function", json_string(f->function), failed);
    } else if (f->module) {
        set(o, "function", json_sprintf("%s+0x%" PRIx64, pp_basename(f->module), f->offset),
            failed);
    } else {
        set(o, "function", json_sprintf("0x%" PRIx64, f->offset), failed);
    }
    set(o, "file", string_or_null(f->file), failed);
    set(o, "line", integer(f->line), failed);
    set(o, "module", string_or_null(f->module), failed);
    if (!f->function)
        set(o, "offset", integer(f->offset), failed);
    if (f->inlined)
        set(o, "inlined", json_true(), failed);
    return o;
}

static json_t *percentiles(const struct pp_hist *h, uint64_t lo, uint64_t hi, int *failed)
{
    json_t *o = json_object();
    set(o, "p50", integer(pp_hist_percentile(h, 50, lo, hi)), failed);
    set(o, "p95", integer(pp_hist_percentile(h, 95, lo, hi)), failed);
    set(o, "p99", integer(pp_hist_percentile(h, 99, lo, hi)), failed);
    set(o, "count", integer(h->total), failed);
    set(o, "exact", json_boolean(h->exact), failed);
    return o;
}

/* The verdict, its checklist rows and the numbers needed to act on it. */
static void verdict_json(json_t *o, const struct pp_verdict *v, int *failed)
{
    set(o, "verdict", json_string(pp_verdict_name(v->kind)), failed);
    set(o, "reason", string_or_null(v->reason), failed);
    json_t *checks = json_array();
    for (size_t i = 0; i < v->nchecks; i++) {
        const struct pp_check *c = &v->checks[i];
        json_t *row = json_object();
        set(row, "name", json_string(c->name), failed);
        set(row, "pass", json_boolean(c->pass), failed);
        set(row, "value", json_real(c->value), failed);
        set(row, "threshold", json_real(c->threshold), failed);
        set(row, "value_text", json_string(c->value_text), failed);
        set(row, "threshold_text", json_string(c->threshold_text), failed);
        set(row, "kind", json_string(c->pooling ? "pooling" : "simpler-fix"), failed);
        set(row, "why", json_string(c->why), failed);
        append(checks, row, failed);
    }
    set(o, "checks", checks, failed);
    set(o, "allocs_saved", integer(v->allocs_saved), failed);
    /* Contract 1.1: the time the fix saves and, for pools, which pool and how much it holds. */
    set(o, "saving_ns", json_real(v->saving_ns), failed);
    set(o, "saving_share", json_real(v->saving_share), failed);
    const char *kind = pp_pool_kind_name(v->pool_kind);
    set(o, "pool_kind", string_or_null(kind), failed);
    set(o, "threads", integer(v->threads), failed);
    if (kind) {
        set(o, "capacity_per_thread", integer(v->capacity_per_thread), failed);
        set(o, "pool_bytes", integer(v->pool_bytes), failed);
        set(o, "pool_bytes_large", json_boolean(v->pool_bytes_large), failed);
        set(o, "drop_above_bytes", v->drop_above_bytes ? integer(v->drop_above_bytes) : json_null(),
            failed);
    }
    if (v->kind == PP_VERDICT_PRESIZE && v->then.kind != PP_VERDICT_NO_POOL) {
        json_t *then = json_object();
        set(then, "verdict", json_string(pp_verdict_name(v->then.kind)), failed);
        set(then, "pool_kind", string_or_null(pp_pool_kind_name(v->then.pool_kind)), failed);
        set(then, "capacity_per_thread", integer(v->then.capacity_per_thread), failed);
        set(then, "object_bytes", integer(v->then.object_bytes), failed);
        set(then, "threads", integer(v->then.threads), failed);
        set(then, "saving_ns", json_real(v->then.saving_ns), failed);
        set(then, "saving_share", json_real(v->then.saving_share), failed);
        set(o, "then", then, failed);
    } else {
        set(o, "then", json_null(), failed);
    }
    switch (v->kind) {
    case PP_VERDICT_POOL_CAPPED:
        set(o, "cap_bytes", integer(v->cap_bytes), failed);
        set(o, "above_cap_share", json_real(v->above_cap_share), failed);
        __attribute__((fallthrough)); /* a capped pool has the numbers of a pool too */
    case PP_VERDICT_POOL:
        set(o, "capacity", integer(v->capacity), failed);
        set(o, "object_bytes", integer(v->object_bytes), failed);
        set(o, "hit_rate", json_real(v->hit_rate), failed);
        set(o, "simulated_capacity", integer(v->sim_capacity), failed);
        set(o, "retained_bytes", integer(v->retained_bytes), failed);
        break;
    case PP_VERDICT_TIERED: {
        json_t *tiers = json_array();
        for (size_t i = 0; i < v->ntiers; i++) {
            json_t *tier = json_object();
            set(tier, "upper_bytes", integer(v->tiers[i].upper_bytes), failed);
            set(tier, "block_bytes", integer(v->tiers[i].block_bytes), failed);
            set(tier, "share", json_real(v->tiers[i].share), failed);
            append(tiers, tier, failed);
        }
        set(o, "tiers", tiers, failed);
        set(o, "hit_rate", json_real(v->hit_rate), failed);
        break;
    }
    case PP_VERDICT_PRESIZE:
        set(o, "presize_bytes", integer(v->presize_bytes), failed);
        set(o, "realloc_calls_saved", integer(v->reallocs_saved), failed);
        break;
    case PP_VERDICT_ARENA:
        set(o, "arena_bytes", integer(v->arena_bytes), failed);
        break;
    case PP_VERDICT_STACK:
    case PP_VERDICT_NO_POOL:
        break;
    }
}

/* The program's own pools (contract 1.1): each with its verdict. The thresholds are the
 * checklist's defaults overridden as given (pp_report_judge keeps them). */
static json_t *own_pools_json(const struct pp_report *r, int *failed)
{
    json_t *arr = json_array();
    const struct pp_thresholds *t = pp_report_thresholds();
    for (size_t i = 0; t && i < r->ntraces; i++)
        for (uint32_t k = 0; k < r->traces[i]->nown_pools; k++) {
            struct pp_own_pool_verdict v;
            pp_judge_own_pool(&r->traces[i]->own_pools[k], r->traces[i]->process.duration_ns, t,
                              &v);
            json_t *o = json_object();
            set(o, "name", json_string(v.name), failed);
            set(o, "pid", integer(r->traces[i]->process.pid), failed);
            set(o, "gets", integer(v.gets), failed);
            set(o, "hits", integer(v.hits), failed);
            set(o, "misses", integer(v.misses), failed);
            set(o, "puts", integer(v.puts), failed);
            set(o, "gets_per_s", json_real(v.gets_per_s), failed);
            set(o, "hit_rate", json_real(v.hit_rate), failed);
            set(o, "verdict", json_string(v.verdict), failed);
            set(o, "why", json_string(v.why), failed);
            append(arr, o, failed);
        }
    return arr;
}

/* Which cost table the savings come from (contract 1.1). */
static json_t *cost_model_json(int *failed)
{
    const struct pp_cost_model *m = pp_report_cost_model();
    if (!m)
        return json_null();
    json_t *o = json_object();
    set(o, "allocator", json_string(m->allocator), failed);
    set(o, "source", json_string(m->source), failed);
    set(o, "note", m->note[0] ? json_string(m->note) : json_null(), failed);
    return o;
}

/* poolprobe try's measurement of the site (--try FILE). */
static json_t *measured_json(const struct pp_tried_site *t, int *failed)
{
    json_t *o = json_object();
    set(o, "verdict", json_string(t->verdict), failed);
    const struct pp_ratio *ratios[2] = {&t->cpu, &t->wall};
    for (int i = 0; i < 2; i++) {
        json_t *r = json_object();
        set(r, "median", json_real(ratios[i]->median), failed);
        set(r, "min", json_real(ratios[i]->min), failed);
        set(r, "max", json_real(ratios[i]->max), failed);
        set(o, i ? "wall_ratio" : "cpu_ratio", r, failed);
    }
    set(o, "matched", integer(t->matched), failed);
    set(o, "hits", integer(t->hits), failed);
    set(o, "misses", integer(t->misses), failed);
    set(o, "drops", integer(t->drops), failed);
    set(o, "confirmed", json_boolean(t->confirmed), failed);
    set(o, "alone", json_boolean(t->alone), failed);
    return o;
}

static json_t *site_json(const struct pp_site *s, const struct pp_verdict *v, int *failed)
{
    json_t *o = json_object();
    set(o, "key", json_string(s->key), failed);
    json_t *frames = json_array();
    for (size_t i = 0; i < s->nframes; i++)
        append(frames, frame_json(&s->frames[i], failed), failed);
    set(o, "frames", frames, failed);
    set(o, "allocs", integer(s->allocs), failed);
    set(o, "frees", integer(s->frees), failed);
    set(o, "bytes", integer(s->bytes), failed);
    set(o, "live_at_exit", integer(pp_site_live_at_exit(s)), failed);
    set(o, "live_bytes_at_exit", integer(s->live_bytes), failed);
    set(o, "peak_live", integer(s->peak_live), failed);
    set(o, "peak_live_bytes", integer(s->peak_live_bytes), failed);
    set(o, "peak_is_upper_bound", json_boolean(s->nstacks > 1), failed);
    set(o, "stacks", integer(s->nstacks), failed);

    json_t *size = json_object();
    set(size, "min", integer(s->allocs ? s->min_size : 0), failed);
    set(size, "max", integer(s->allocs ? s->max_size : 0), failed);
    set(size, "p50", integer(pp_site_size_percentile(s, 50)), failed);
    set(size, "p95", integer(pp_site_size_percentile(s, 95)), failed);
    set(size, "p99", integer(pp_site_size_percentile(s, 99)), failed);
    set(size, "exact", json_boolean(s->hists[PP_STATS_HIST_SIZE].exact), failed);
    set(o, "size", size, failed);

    json_t *life = percentiles(&s->hists[PP_STATS_HIST_LIFETIME_NS], 0, UINT64_MAX, failed);
    set(life, "sum", integer(s->lifetime_ns_sum), failed);
    set(o, "lifetime_ns", life, failed);
    set(o, "lifetime_allocs",
        percentiles(&s->hists[PP_STATS_HIST_LIFETIME_ALLOCS], 0, UINT64_MAX, failed), failed);

    set(o, "cross_thread_frees", integer(s->cross_thread_frees), failed);
    set(o, "realloc_calls", integer(s->realloc_calls), failed);
    set(o, "realloc_grows", integer(s->realloc_grows), failed);
    set(o, "chains_freed", integer(s->chains_freed), failed);
    set(o, "chain_final_size",
        percentiles(&s->hists[PP_STATS_HIST_CHAIN_FINAL_SIZE], 0, UINT64_MAX, failed), failed);

    json_t *fcs = json_array();
    for (size_t i = 0; i < s->nfree_callers; i++) {
        json_t *fc = json_object();
        set(fc, "function", string_or_null(s->free_callers[i].function), failed);
        set(fc, "count", integer(s->free_callers[i].count), failed);
        append(fcs, fc, failed);
    }
    set(o, "free_callers", fcs, failed);
    set(o, "other_free_callers", integer(s->other_free_callers), failed);

    json_t *pools = json_array();
    for (size_t i = 0; i < s->npools; i++) {
        json_t *p = json_object();
        set(p, "capacity", integer(s->pools[i].capacity), failed);
        set(p, "hits", integer(s->pools[i].hits), failed);
        append(pools, p, failed);
    }
    set(o, "pool_sim", pools, failed);
    set(o, "runtime", json_boolean(s->runtime), failed);
    if (s->cxx.kind != PP_CXX_NONE) {
        char advice[512];
        uint64_t n = pp_cxx_advice(&s->cxx, pp_site_element_bytes(s), s->min_size, s->max_size, advice,
                                   sizeof advice);
        json_t *c = json_object();
        set(c, "kind", json_string(pp_cxx_kind_name(s->cxx.kind)), failed);
        set(c, "type", s->cxx.container[0] ? json_string(s->cxx.container) : json_null(), failed);
        set(c, "element", s->cxx.element[0] ? json_string(s->cxx.element) : json_null(), failed);
        set(c, "advice", json_string(advice), failed);
        set(c, "reserve", n ? integer(n) : json_null(), failed);
        set(o, "container", c, failed);
    }
    if (v)
        verdict_json(o, v, failed);
    const struct pp_tried_site *tried = pp_tried_find(s->key);
    if (tried)
        set(o, "measured", measured_json(tried, failed), failed);
    return o;
}

/* Where the sites were placed: the wrappers skipped, the runtime's share, a pooling runtime. */
static void placement_json(json_t *root, const struct pp_report *r, int *failed)
{
    json_t *wrappers = json_array();
    for (size_t i = 0; i < r->wrappers.n; i++) {
        const struct pp_wrapper *w = &r->wrappers.items[i];
        json_t *o = json_object();
        set(o, "name", json_string(w->name), failed);
        set(o, "origin", json_string(pp_wrapper_origin_name(w->origin)), failed);
        set(o, "call_sites", integer(w->callers), failed);
        set(o, "allocs", integer(w->allocs), failed);
        append(wrappers, o, failed);
    }
    set(root, "wrappers", wrappers, failed);
    json_t *runtime = json_object();
    set(runtime, "sites", integer(r->runtime_sites), failed);
    set(runtime, "allocs", integer(r->runtime_allocs), failed);
    set(root, "runtime", runtime, failed);
    json_t *pooling = json_null();
    if (r->pooling_runtime) {
        pooling = json_object();
        set(pooling, "name", json_string(r->pooling_runtime->name), failed);
        set(pooling, "how", json_string(r->pooling_runtime->how), failed);
    }
    set(root, "pooling_runtime", pooling, failed);
    json_t *nameless = json_array();
    for (size_t i = 0; i < r->nnameless; i++) {
        char pkg[256];
        json_t *o = json_object();
        set(o, "module", json_string(r->nameless[i]), failed);
        set(o, "debug_package",
            pp_debug_package(r->nameless[i], pkg, sizeof pkg) ? json_string(pkg) : json_null(),
            failed);
        append(nameless, o, failed);
    }
    set(root, "nameless_modules", nameless, failed);
}

int pp_report_json(FILE *out, const struct pp_report *r, size_t top)
{
    int failed = 0;
    json_t *root = json_object();
    set(root, "format", json_string("poolprobe-report"), &failed);
    set(root, "version", json_integer(PP_REPORT_JSON_VERSION), &failed);
    set(root, "minor_version", json_integer(PP_REPORT_JSON_MINOR), &failed);
    json_t *procs = json_array();
    for (size_t i = 0; i < r->ntraces; i++)
        append(procs, process_json(r->traces[i], &failed), &failed);
    set(root, "processes", procs, &failed);
    json_t *totals = json_object();
    set(totals, "allocs", integer(r->allocs), &failed);
    set(totals, "frees", integer(r->frees), &failed);
    set(totals, "bytes", integer(r->bytes), &failed);
    set(totals, "peak_live_bytes", integer(r->peak_live_bytes), &failed);
    set(totals, "untracked_frees", integer(r->untracked_frees), &failed);
    set(totals, "duration_ns", integer(r->duration_ns), &failed);
    set(root, "totals", totals, &failed);
    /* Operations the run declared (poolprobe_ops, or --ops): the gate compares counts per op. */
    set(root, "ops", integer(r->ops), &failed);
    set(root, "sampled", json_boolean(r->sample_every > 1), &failed);
    set(root, "sample_every", integer(r->sample_every), &failed);
    set(root, "stacks_estimated", json_boolean(r->stacks_estimated), &failed);
    set(root, "site_count", integer(r->nsites), &failed);
    size_t shown = top && top < r->nsites ? top : r->nsites;
    json_t *sites = json_array();
    for (size_t i = 0; i < shown; i++)
        append(sites, site_json(&r->sites[i], r->verdicts ? &r->verdicts[i] : NULL, &failed),
               &failed);
    set(root, "sites", sites, &failed);
    set(root, "cost_model", cost_model_json(&failed), &failed);
    set(root, "pools", own_pools_json(r, &failed), &failed);
    placement_json(root, r, &failed);
    if (!failed) {
        json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
    }
    json_decref(root);
    return failed ? -1 : 0;
}
