/* try_targets.c — which sites `poolprobe try` applies, with which numbers, and how the shim finds
 * them.
 *
 * The sites and verdicts are the analyzer's own: the trace is grouped and judged exactly as
 * poolprobe-report does (default wrappers, default thresholds), and each site's numbers are
 * read from the JSON report it would print, so the runner follows the report's contract rather
 * than the checklist's structs. Newer report fields are taken when present (pool_kind,
 * capacity_per_thread, tiers[].block_bytes, drop_above_bytes) and today's otherwise (capacity,
 * object_bytes, cap_bytes, tiers[].upper_bytes).
 *
 * A site's "chains" name it to the shim: for every recorded stack grouped into the site, the
 * return addresses from the call into the allocator up to the one in the allocating function
 * (so through the wrappers, runtime functions and operator new the analyzer skipped), each as
 * build-id + offset. Which site a stack is in is read back from the grouping itself (see
 * stack_site), so the runner follows sites.c's rules without repeating them.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "checklist.h"
#include "cxx.h"
#include "report_json.h"
#include "sites.h"
#include "symbolize.h"
#include "trace_reader.h"
#include "try.h"

static uint64_t get_u64(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static const char *get_str(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The numbers of verdict for site s (its JSON object), overridden where the user said so. */
static void applied_from(json_t *s, const char *verdict, const struct try_override *ov,
                         struct try_applied *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->verdict, sizeof a->verdict, "%s", verdict);
    const char *kind = ov->kind ? ov->kind : get_str(s, "pool_kind");
    snprintf(a->kind, sizeof a->kind, "%s",
             kind && !strcmp(kind, "shared") ? "shared" : "per-thread");
    uint64_t cap = get_u64(s, "capacity_per_thread");
    if (!cap)
        cap = get_u64(s, "capacity");
    if (!cap)
        cap = get_u64(s, "peak_live");
    a->capacity = ov->capacity ? ov->capacity : cap ? cap : 1;
    json_t *size = json_object_get(s, "size");
    uint64_t max_size = get_u64(size, "max");
    uint64_t object = get_u64(s, "object_bytes");
    a->object_bytes = ov->object_bytes ? ov->object_bytes : object ? object : max_size;
    uint64_t drop = get_u64(s, "drop_above_bytes");
    a->cap_bytes = ov->cap_bytes ? ov->cap_bytes : drop ? drop : get_u64(s, "cap_bytes");
    snprintf(a->mode, sizeof a->mode, "pool");

    if (!strcmp(verdict, "pool")) {
        a->ntiers = 1;
        a->tier_bytes[0] = a->object_bytes;
    } else if (!strcmp(verdict, "pool-capped")) {
        if (!a->cap_bytes)
            a->cap_bytes = a->object_bytes;
        a->ntiers = 1;
        a->tier_bytes[0] = a->cap_bytes;
    } else if (!strcmp(verdict, "tiered")) {
        json_t *tiers = json_object_get(s, "tiers");
        size_t i;
        json_t *tier;
        json_array_foreach(tiers, i, tier) {
            uint64_t b = get_u64(tier, "block_bytes");
            if (!b)
                b = get_u64(tier, "upper_bytes");
            if (a->ntiers < TRY_MAX_TIERS && b > (a->ntiers ? a->tier_bytes[a->ntiers - 1] : 0))
                a->tier_bytes[a->ntiers++] = b;
        }
        if (!a->ntiers) { /* --as tiered on a site the report gave no tiers: one class */
            a->tier_bytes[a->ntiers++] = a->object_bytes;
            snprintf(a->note, sizeof a->note, "no tiers in the report: one class of %" PRIu64
                     " bytes", a->object_bytes);
        }
    } else if (!strcmp(verdict, "stack")) {
        /* One scratch block per thread, of the site's largest size. */
        snprintf(a->kind, sizeof a->kind, "per-thread");
        a->capacity = 1;
        a->ntiers = 1;
        a->tier_bytes[0] = a->object_bytes = ov->object_bytes ? ov->object_bytes : max_size;
    } else if (!strcmp(verdict, "presize")) {
        snprintf(a->mode, sizeof a->mode, "presize");
        a->presize_bytes = ov->object_bytes ? ov->object_bytes : get_u64(s, "presize_bytes");
        if (!a->presize_bytes)
            a->presize_bytes = get_u64(json_object_get(s, "chain_final_size"), "p95");
    } else {
        if (strcmp(verdict, "none") && strcmp(verdict, "no-pool"))
            snprintf(a->note, sizeof a->note, "%s is not emulated: applied as none", verdict);
        snprintf(a->verdict, sizeof a->verdict, "none");
        snprintf(a->mode, sizeof a->mode, "observe");
    }
    if (!strcmp(a->mode, "pool") && a->tier_bytes[0] == 0) {
        snprintf(a->note, sizeof a->note, "no object size known: applied as none");
        snprintf(a->mode, sizeof a->mode, "observe");
        a->ntiers = 0;
    }
}

/* Identity of a site frame as sites.c groups sites by it: name, file, line, module, the offset
 * when there is no line, and the libstdc++ container the stack grew through (cxx.h). */
static char *frame_ident(struct pp_symbolizer *sym, const struct pp_frame *f,
                         enum pp_cxx_kind cxx)
{
    char *ident;
    if (asprintf(&ident, "%s\x1f%s\x1f%u\x1f%s\x1f%" PRIx64 "\x1f%s", pp_frame_name(sym, f),
                 f->file ? f->file : "", f->line, f->module ? pp_basename(f->module) : "",
                 f->line ? 0 : f->offset, cxx != PP_CXX_NONE ? pp_cxx_kind_name(cxx) : "") < 0)
        return NULL;
    return ident;
}

/* The report's sites by the identity of their allocation frame. */
struct site_ident {
    char *ident;
    size_t site;
    UT_hash_handle hh;
};

static void idents_free(struct site_ident **map)
{
    struct site_ident *e, *tmp;
    HASH_ITER(hh, *map, e, tmp) {
        HASH_DEL(*map, e);
        free(e->ident);
        free(e);
    }
}

/* -1 on out of memory. */
static int idents_build(struct site_ident **map, struct pp_symbolizer *sym,
                        const struct pp_report *r)
{
    for (size_t i = 0; i < r->nsites; i++) {
        if (!r->sites[i].nframes)
            continue;
        struct site_ident *e = calloc(1, sizeof *e);
        if (!e || !(e->ident = frame_ident(sym, &r->sites[i].frames[0], r->sites[i].cxx.kind))) {
            free(e);
            return -1;
        }
        e->site = i;
        struct site_ident *old;
        HASH_FIND_STR(*map, e->ident, old);
        if (old) { /* cannot happen when grouping by site; keep the first */
            free(e->ident);
            free(e);
            continue;
        }
        HASH_ADD_KEYPTR(hh, *map, e->ident, strlen(e->ident), e);
    }
    return 0;
}

/* The report site a recorded stack belongs to: its innermost frame that is some site's
 * allocation frame. sites.c moves a stack's site outwards past the allocator, wrappers (named
 * or found by wrappers.c) and runtime functions, by rules on the frame alone, so a frame it
 * skips is never a site; the first site frame from the inside is the stack's. *ip_index is the
 * index of the return address that frame came from. -1 when none (or out of memory). */
static long stack_site(struct site_ident *map, struct pp_symbolizer *sym, int space,
                       const struct pp_trace_stack *st, unsigned *ip_index)
{
    struct pp_frame below[64]; /* the expanded frames inside the candidate: for cxx.h */
    size_t nbelow = 0;
    for (unsigned d = 0; d < st->depth; d++) {
        const struct pp_frame *frames;
        size_t n = pp_symbolize(sym, space, st->ips[d], &frames);
        for (size_t i = 0; i < n; i++) {
            struct pp_cxx_container cxx;
            pp_cxx_recognise(below, nbelow, &cxx);
            char *ident = frame_ident(sym, &frames[i], cxx.kind);
            if (!ident)
                return -1;
            struct site_ident *e;
            HASH_FIND_STR(map, ident, e);
            free(ident);
            if (e) {
                *ip_index = d;
                return (long)e->site;
            }
            if (nbelow == sizeof below / sizeof below[0])
                return -1; /* deeper than any chain the shim can match */
            below[nbelow++] = frames[i];
        }
    }
    return -1;
}

static const struct pp_trace_module *module_of(const struct pp_trace *t, uint64_t ip)
{
    for (uint32_t i = 0; i < t->nmodules; i++)
        if (ip - 1 >= t->modules[i].lo && ip - 1 < t->modules[i].hi)
            return &t->modules[i];
    return NULL;
}

/* Name the stack's return addresses 0..d to the shim as one of tg's chains. -1 on out of
 * memory. */
static int add_chain(struct try_target *tg, const struct pp_trace *t,
                     const struct pp_trace_stack *st, unsigned d)
{
    if (d + 1 > TRY_MAX_DEPTH) {
        tg->chains_skipped++;
        return 0;
    }
    struct try_chain c;
    memset(&c, 0, sizeof c); /* compared bytewise below */
    c.depth = d + 1;
    for (unsigned k = 0; k <= d; k++) {
        const struct pp_trace_module *m = module_of(t, st->ips[k]);
        if (!m || !m->build_id_len) {
            tg->chains_skipped++;
            return 0;
        }
        for (uint32_t b = 0; b < m->build_id_len && b < 64; b++)
            sprintf(c.build_id[k] + 2 * b, "%02x", m->build_id[b]);
        c.offset[k] = st->ips[k] - m->load_bias;
    }
    /* Stacks that differ only above the site share a chain. */
    for (size_t k = 0; k < tg->nchains; k++)
        if (!memcmp(&tg->chains[k], &c, sizeof c))
            return 0;
    struct try_chain *grown = realloc(tg->chains, (tg->nchains + 1) * sizeof *grown);
    if (!grown)
        return -1;
    tg->chains = grown;
    tg->chains[tg->nchains++] = c;
    return 0;
}

static bool wanted(const struct pp_site *s, const char *verdict, const char *const *patterns,
                   size_t npatterns)
{
    if (!npatterns)
        return strcmp(verdict, "no-pool") != 0;
    const char *fn = s->nframes ? s->frames[0].function : NULL;
    for (size_t i = 0; i < npatterns; i++)
        if (pp_site_matches(patterns[i], s->key, fn))
            return true;
    return false;
}

/* The analyzer's JSON report of r, parsed. */
static json_t *report_as_json(const struct pp_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return NULL;
    int rc = pp_report_json(mem, r, 0);
    fclose(mem);
    json_t *root = rc == 0 ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return root;
}

long try_targets_load(const char *trace_path, const char *const *patterns, size_t npatterns,
                      const struct try_override *ov, struct try_target **out, char *err,
                      size_t errlen)
{
    char why[512];
    struct pp_trace *t = pp_trace_read_file(trace_path, why, sizeof why);
    if (!t) {
        snprintf(err, errlen, "%s: %s", trace_path, why);
        return -1;
    }
    struct pp_symbolizer *sym = pp_symbolizer_new(NULL);
    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_thresholds th;
    pp_thresholds_default(&th);
    for (size_t i = 0; i < ov->nthresholds; i++)
        if (pp_thresholds_set(&th, ov->thresholds[i], why, sizeof why)) {
            snprintf(err, errlen, "--threshold %s: %s", ov->thresholds[i], why);
            pp_symbolizer_free(sym);
            pp_trace_free(t);
            return -1;
        }
    struct pp_report r;
    const struct pp_trace *traces[1] = {t};
    long n = -1;
    size_t ntargets = 0; /* allocated entries, for the cleanup */
    struct try_target *targets = NULL;
    json_t *root = NULL;
    if (!sym || pp_report_build(&r, traces, 1, sym, &opt, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", trace_path, sym ? why : "out of memory");
        goto out;
    }
    if (pp_report_judge(&r, &th) || !(root = report_as_json(&r))) {
        snprintf(err, errlen, "out of memory while judging %s", trace_path);
        goto out_report;
    }
    json_t *jsites = json_object_get(root, "sites");
    targets = calloc(r.nsites ? r.nsites : 1, sizeof *targets);
    ntargets = r.nsites;
    if (!targets) {
        snprintf(err, errlen, "out of memory");
        goto out_report;
    }
    n = 0;
    int space = pp_symbolizer_add_trace(sym, t); /* the same space: modules are shared */
    long *target_of = malloc((r.nsites ? r.nsites : 1) * sizeof *target_of);
    struct site_ident *idents = NULL;
    if (!target_of || idents_build(&idents, sym, &r)) {
        snprintf(err, errlen, "out of memory");
        n = -1;
        goto out_idents;
    }
    for (size_t i = 0; i < r.nsites; i++) {
        target_of[i] = -1;
        json_t *js = json_array_get(jsites, i);
        const char *verdict = get_str(js, "verdict");
        if (!verdict || !wanted(&r.sites[i], verdict, patterns, npatterns) || !r.sites[i].nframes)
            continue;
        target_of[i] = n;
        struct try_target *tg = &targets[n++];
        tg->key = strdup(r.sites[i].key);
        tg->function = r.sites[i].frames[0].function ? strdup(r.sites[i].frames[0].function)
                                                     : NULL;
        snprintf(tg->report_verdict, sizeof tg->report_verdict, "%s", verdict);
        tg->allocs = r.sites[i].allocs;
        tg->allocs_saved = get_u64(js, "allocs_saved");
        applied_from(js, ov->verdict ? ov->verdict : verdict, ov, &tg->applied);
    }
    /* A site-mode trace's STATS stacks are short site prefixes, which may end below the site
     * (a C++ container's growth path is ~10 frames): its sampled full stacks, among them the
     * first allocation of every prefix, reach the site. */
    uint32_t nstacks = t->nstats + t->nsamples;
    for (uint32_t si = 0; si < nstacks && n > 0; si++) {
        uint32_t id = si < t->nstats ? t->stats[si].stack_id : t->samples[si - t->nstats].full_id;
        const struct pp_trace_stack *st = &t->stacks[id];
        unsigned d;
        long site = stack_site(idents, sym, space, st, &d);
        if (site >= 0 && target_of[site] >= 0 && add_chain(&targets[target_of[site]], t, st, d)) {
            snprintf(err, errlen, "out of memory");
            n = -1;
            break;
        }
    }
out_idents:
    idents_free(&idents);
    free(target_of);
out_report:
    json_decref(root);
    pp_report_free(&r);
out:
    if (n < 0) {
        try_targets_free(targets, ntargets);
        targets = NULL;
    }
    pp_symbolizer_free(sym);
    pp_trace_free(t);
    *out = targets;
    return n;
}

void try_targets_free(struct try_target *targets, size_t n)
{
    if (!targets)
        return;
    for (size_t i = 0; i < n; i++) {
        free(targets[i].key);
        free(targets[i].function);
        free(targets[i].chains);
    }
    free(targets);
}

int try_targets_write(const char *path, const struct try_target *targets, size_t n,
                      const bool *apply)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "poolprobe-try-targets 1\n");
    for (size_t i = 0; i < n; i++) {
        const struct try_applied *a = &targets[i].applied;
        fprintf(f, "site %zu %s %s %" PRIu64 " %" PRIu64 " %u", i,
                apply[i] ? a->mode : "observe", a->kind, a->capacity, a->presize_bytes,
                a->ntiers);
        for (unsigned k = 0; k < a->ntiers; k++)
            fprintf(f, " %" PRIu64, a->tier_bytes[k]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < targets[i].nchains; c++) {
            const struct try_chain *ch = &targets[i].chains[c];
            fprintf(f, "chain %zu %u", i, ch->depth);
            for (unsigned d = 0; d < ch->depth; d++)
                fprintf(f, " b:%s %" PRIx64, ch->build_id[d], ch->offset[d]);
            fputc('\n', f);
        }
    return fclose(f) == 0 ? 0 : -1;
}
