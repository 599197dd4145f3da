/* sites.c — find each stack's allocation site, group stacks into sites, give sites their keys.
 *
 * What counts as "the allocator" (leading frames skipped to find the site):
 *   - the shim's own module (libpoolprobe*), should the shim leave any of its frames;
 *   - libc's allocation entry points and their internal aliases (malloc, __libc_malloc, ...);
 *   - libc's strdup family (strdup, strndup, wcsdup): pure "allocate and copy" wrappers, whose
 *     caller is the site a user means. Functions that allocate for their own state (fopen,
 *     setlocale, qsort) are not skipped: their sites are marked runtime (runtime.h);
 *   - every operator new / new[] (mangled _Znw* / _Zna*, or DWARF's "operator new...");
 *   - C++ standard library code (std::, __gnu_cxx::): the container's owner is the site, and
 *     the skipped frames say which container grew (cxx.h);
 *   - wrapper functions: the defaults below (unless --no-default-wrappers) plus --wrappers;
 *   - then a C runtime function that allocates for its caller (getline, asprintf: runtime.h);
 *   - then the wrappers the stacks themselves reveal (wrappers.h; unless --no-auto-wrappers).
 * Only a leading run of such frames is skipped; if a whole stack is allocator, its outermost
 * frame is the site.
 *
 * Keys. A key must survive rebuilds, code moving and ASLR, so it is made of function names:
 *   - by site:  the allocation frame's function ("render_buf"), or "module+0xoffset" when it
 *               has no symbol (not stable across rebuilds, but nothing better exists);
 *   - by stack: the function chain from the allocation frame outwards, "f0<f1<f2".
 * When several sites of one report get the same name (one function allocating on two lines),
 * they are ordered by file and line (then module) and all but the first get an ordinal: "render",
 * "render#2", "render#3". So adding an allocation below an existing one leaves the existing key
 * alone, and line numbers moving does not change any key. Sites in a function with no line
 * information (symbol table only) are told apart by code address, in address order.
 */
#include "sites.h"
#include "stack_estimate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* libc's allocation functions and the names glibc's debug info gives them. */
static const char *const libc_allocators[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "__libc_malloc", "__libc_calloc", "__libc_realloc",
    "__libc_reallocarray", "__libc_free", "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
    "__posix_memalign", "__libc_aligned_alloc", "_mid_memalign",
    "strdup", "strndup", "__strdup", "__strndup", "wcsdup", "__wcsdup",
    NULL,
};

/* Well-known wrappers whose caller is the interesting site. Patterns, '*' for any text; a
 * pattern matches a C++ name with or without its parameter list. */
static const char *const default_wrappers[] = {
    /* gnulib / GNU tools */
    "xmalloc", "xcalloc", "xrealloc", "xreallocarray", "xzalloc", "xmemdup", "xstrdup",
    "xstrndup", "xnmalloc", "xnrealloc", "x2realloc", "x2nrealloc", "ximalloc", "xicalloc",
    /* GLib */
    "g_malloc", "g_malloc0", "g_realloc", "g_malloc_n", "g_malloc0_n", "g_realloc_n",
    "g_try_malloc", "g_try_malloc0", "g_try_realloc", "g_try_malloc_n", "g_try_malloc0_n",
    "g_try_realloc_n", "g_strdup", "g_strndup", "g_memdup", "g_memdup2", "g_slice_alloc",
    "g_slice_alloc0",
    /* CPython */
    "PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc", "_PyMem_RawMalloc",
    "_PyMem_RawCalloc", "_PyMem_RawRealloc", "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc",
    "_PyMem_DebugRawAlloc", "_PyMem_DebugRawMalloc", "_PyMem_DebugRawCalloc",
    "_PyMem_DebugRawRealloc", "_PyMem_DebugMalloc", "_PyMem_DebugCalloc", "_PyMem_DebugRealloc",
    "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc", "_PyObject_Malloc",
    "_PyObject_Calloc", "_PyObject_Realloc",
    /* OpenSSL */
    "CRYPTO_malloc", "CRYPTO_zalloc", "CRYPTO_realloc", "CRYPTO_clear_realloc", "CRYPTO_strdup",
    "CRYPTO_strndup",
    NULL,
};

bool pp_glob_match(const char *pattern, const char *name)
{
    const char *star = NULL, *resume = NULL;
    while (*name) {
        if (*pattern == '*') {
            star = pattern++;
            resume = name;
        } else if (*pattern == *name) {
            pattern++;
            name++;
        } else if (star) {
            pattern = star + 1;
            name = ++resume;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

bool pp_site_matches(const char *pattern, const char *key, const char *function)
{
    return pp_glob_match(pattern, key) || (function && pp_glob_match(pattern, function));
}

/* Length of a C++ name without its trailing parameter list and qualifiers: "ns::f(int) const"
 * -> "ns::f". The whole length when there is none. */
static size_t name_without_params(const char *name)
{
    size_t len = strlen(name);
    static const char *const quals[] = {" const", " volatile", " &&", " &"};
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < sizeof quals / sizeof quals[0]; i++) {
            size_t q = strlen(quals[i]);
            if (len > q && strncmp(name + len - q, quals[i], q) == 0) {
                len -= q;
                again = true;
            }
        }
    }
    if (len == 0 || name[len - 1] != ')')
        return strlen(name);
    int depth = 0;
    for (size_t i = len; i-- > 0;) {
        if (name[i] == ')')
            depth++;
        else if (name[i] == '(' && --depth == 0)
            return i > 0 ? i : strlen(name);
    }
    return strlen(name);
}

static bool name_matches(const char *pattern, const char *name)
{
    if (!name)
        return false;
    if (pp_glob_match(pattern, name))
        return true;
    size_t n = name_without_params(name);
    if (n == strlen(name))
        return false;
    char *bare = strndup(name, n);
    bool r = bare && pp_glob_match(pattern, bare);
    free(bare);
    return r;
}


static bool frame_matches(const char *pattern, const struct pp_frame *f)
{
    if (name_matches(pattern, f->function) || name_matches(pattern, f->symbol))
        return true;
    if (f->function)
        return false;
    char name[512];
    pp_frame_address(f, name, sizeof name);
    return pp_glob_match(pattern, name);
}

/* Which wrapper list matches the frame: -1 none, -2 the built-in list, i >= 0 wrappers[i]. */
static long wrapper_match(const struct pp_frame *f, const struct pp_group_options *opt)
{
    if (!opt)
        return -1;
    if (opt->default_wrappers)
        for (size_t i = 0; default_wrappers[i]; i++)
            if (name_matches(default_wrappers[i], f->function) ||
                name_matches(default_wrappers[i], f->symbol))
                return -2;
    for (size_t i = 0; i < opt->nwrappers; i++)
        if (frame_matches(opt->wrappers[i], f))
            return (long)i;
    return -1;
}

/* The allocator proper: the shim, libc's allocation functions, operator new, and the C++
 * standard library between a container and operator new. */
static bool allocator_proper(const struct pp_frame *f)
{
    if (f->module && strncmp(pp_basename(f->module), "libpoolprobe", 12) == 0)
        return true;
    if (pp_name_in_list(libc_allocators, f->function) ||
        pp_name_in_list(libc_allocators, f->symbol))
        return true;
    if (f->symbol && (strncmp(f->symbol, "_Znw", 4) == 0 || strncmp(f->symbol, "_Zna", 4) == 0))
        return true;
    if (f->function && strncmp(f->function, "operator new", 12) == 0)
        return true;
    return pp_cxx_library_frame(f);
}

bool pp_is_allocator_frame(const struct pp_frame *f, const struct pp_group_options *opt)
{
    return allocator_proper(f) || wrapper_match(f, opt) != -1;
}

/* A growing string. */
struct text {
    char *s;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Grouping state: one entry per site, found by the site's identity string. */
struct group {
    char *ident; /* frame identities, in sort order (name, file, line, module) */
    char *name;  /* key before disambiguation */
    size_t site;
    UT_hash_handle hh;
};

/* Identity of one frame: name, file, zero-padded line (so identities sort in line order), and
 * module basename; with no line, the code address (zero-padded: address order), so that a
 * function known only from the symbol table still has one site per call to malloc. Separators
 * are control characters no symbol contains. */
static void add_frame_ident(struct text *t, struct pp_symbolizer *sym, const struct pp_frame *f)
{
    text_add(t, "%s\x1f%s\x1f%010u\x1f%s\x1f%016" PRIx64 "\x1e", pp_frame_name(sym, f),
             f->file ? f->file : "", f->line, f->module ? pp_basename(f->module) : "",
             f->line ? 0 : f->offset);
}

static const struct pp_frame no_stack_frame = {.function = "[no stack]"};

static int push_frame(struct pp_stack_view *v, size_t *cap, const struct pp_frame *f)
{
    if (v->nframes == *cap) {
        size_t grown = *cap ? *cap * 2 : 16;
        struct pp_frame *frames = realloc(v->frames, grown * sizeof *frames);
        if (!frames)
            return -1;
        v->frames = frames;
        *cap = grown;
    }
    v->frames[v->nframes++] = *f;
    return 0;
}

/* Symbolize a stack into v (inline frames expanded). */
static int expand_stack(struct pp_stack_view *v, struct pp_symbolizer *sym,
                        const struct pp_trace_stack *stack)
{
    size_t cap = 0;
    for (unsigned d = 0; d < stack->depth; d++) {
        const struct pp_frame *frames;
        size_t n = pp_symbolize(sym, v->space, stack->ips[d], &frames);
        for (size_t i = 0; i < n; i++)
            if (push_frame(v, &cap, &frames[i]))
                return -1;
    }
    if (v->nframes == 0 && push_frame(v, &cap, &no_stack_frame))
        return -1;
    return 0;
}

/* The site by the fixed rules: from frame k, skip the leading allocator and wrapper frames
 * (noting which wrappers matched), then a runtime function that returns its memory to the
 * caller. Returns 1 when the site moved, 0 when not, -1 on out of memory. */
static int find_fixed_site(struct pp_report *r, struct pp_symbolizer *sym,
                           struct pp_stack_view *v, const struct pp_group_options *opt, size_t k)
{
    size_t from = k;
    const char *last_noted = NULL; /* interned: equal names are equal pointers */
    for (; k + 1 < v->nframes; k++) {
        const struct pp_frame *f = &v->frames[k];
        if (allocator_proper(f))
            continue;
        long w = wrapper_match(f, opt);
        if (w == -1)
            break;
        if (w >= 0)
            r->pattern_matched[w] = true;
        /* An inlined frame and its container may carry one name: count the stack once. */
        const char *name = pp_frame_name(sym, f);
        if (name == last_noted)
            continue;
        last_noted = name;
        if (pp_wrapper_note(&r->wrappers, name, w == -2 ? PP_WRAPPER_BUILTIN : PP_WRAPPER_GIVEN,
                            0, v->allocs) < 0)
            return -1;
    }
    /* getline, asprintf, __cxa_allocate_exception...: the runtime allocates for its caller. */
    for (size_t j = k; j + 1 < v->nframes && pp_runtime_module(&v->frames[j]); j++)
        if (pp_runtime_returns_to_caller(&v->frames[j]))
            k = j + 1;
    v->site = k;
    return k != from;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->ident, y->ident);
}

static int cmp_site(const void *a, const void *b)
{
    const struct pp_site *x = a, *y = b;
    if (x->allocs != y->allocs)
        return x->allocs < y->allocs ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* Give every group its key: its name, plus "#N" for the N-th (N >= 2) of equal names. */
static int assign_keys(struct group *groups, struct pp_site *sites, size_t nsites)
{
    struct group **order = malloc((nsites ? nsites : 1) * sizeof *order);
    if (!order)
        return -1;
    size_t i = 0;
    for (struct group *g = groups; g; g = g->hh.next)
        order[i++] = g;
    if (nsites > 1)
        qsort(order, nsites, sizeof *order, cmp_group);
    unsigned ordinal = 1;
    for (i = 0; i < nsites; i++) {
        ordinal = (i > 0 && strcmp(order[i - 1]->name, order[i]->name) == 0) ? ordinal + 1 : 1;
        struct text key = {0};
        if (ordinal == 1)
            text_add(&key, "%s", order[i]->name);
        else
            text_add(&key, "%s#%u", order[i]->name, ordinal);
        if (key.failed) {
            free(order);
            free(key.s);
            return -1;
        }
        sites[order[i]->site].key = key.s;
    }
    free(order);
    return 0;
}

static int add_stats(struct pp_report *r, struct group **groups, struct pp_symbolizer *sym,
                     const struct pp_stack_view *v, const struct pp_group_options *opt)
{
    size_t k = v->site;
    size_t last = opt->group_by == PP_GROUP_BY_STACK ? v->nframes : k + 1;
    struct text ident = {0}, name = {0};
    for (size_t i = k; i < last; i++) {
        add_frame_ident(&ident, sym, &v->frames[i]);
        text_add(&name, "%s%s", i > k ? "<" : "", pp_frame_name(sym, &v->frames[i]));
    }
    /* One line of C++ can allocate a map's nodes and its buckets: two sites, two fixes. */
    struct pp_cxx_container cxx;
    pp_cxx_recognise(v->frames, k, &cxx);
    if (cxx.kind != PP_CXX_NONE)
        text_add(&ident, "%s", pp_cxx_kind_name(cxx.kind));
    if (ident.failed || name.failed) {
        free(ident.s);
        free(name.s);
        return -1;
    }
    struct group *g;
    HASH_FIND_STR(*groups, ident.s, g);
    if (g) {
        free(ident.s);
        free(name.s);
    } else {
        struct pp_site *sites = realloc(r->sites, (r->nsites + 1) * sizeof *sites);
        g = calloc(1, sizeof *g);
        if (sites)
            r->sites = sites;
        if (!sites || !g) {
            free(g);
            free(ident.s);
            free(name.s);
            return -1;
        }
        pp_site_init(&sites[r->nsites]);
        sites[r->nsites].runtime = pp_runtime_module(&v->frames[k]);
        g->ident = ident.s;
        g->name = name.s;
        g->site = r->nsites++;
        HASH_ADD_KEYPTR(hh, *groups, g->ident, strlen(g->ident), g);
    }
    struct pp_site *site = &r->sites[g->site];
    const struct pp_trace_stats *s = v->stats;
    /* Show the callers of the busiest stack in the site, and its container. */
    if (!site->frames || s->allocs > site->best_stack_allocs) {
        struct pp_frame *frames = malloc((v->nframes - k) * sizeof *frames);
        if (!frames)
            return -1;
        memcpy(frames, v->frames + k, (v->nframes - k) * sizeof *frames);
        free(site->frames);
        site->frames = frames;
        site->nframes = v->nframes - k;
        site->best_stack_allocs = s->allocs;
        site->cxx = cxx;
    }
    const char *names[256];
    for (unsigned i = 0; i < s->nfree_callers; i++) {
        const struct pp_frame *ff;
        pp_symbolize(sym, v->space, s->free_callers[i].addr, &ff);
        names[i] = pp_frame_name(sym, &ff[0]);
    }
    return pp_site_add_stats(site, s, names, v->scale);
}

/* A module whose code allocates at a site with no name: busiest sites first. */
static void note_nameless(struct pp_report *r, const char *module)
{
    for (size_t i = 0; i < r->nnameless; i++)
        if (r->nameless[i] == module)
            return;
    if (r->nnameless < PP_NAMELESS_MAX)
        r->nameless[r->nnameless++] = module;
}

/* The first runtime seen that pools objects below malloc (its frames are in some stack). */
static const struct pp_pooling_runtime *find_pooling_runtime(const struct pp_stack_view *views,
                                                             size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < views[i].nframes; j++) {
            const struct pp_pooling_runtime *p = pp_pooling_runtime_of(&views[i].frames[j]);
            if (p)
                return p;
        }
    return NULL;
}

int pp_report_build(struct pp_report *r, const struct pp_trace *const *traces, size_t n,
                    struct pp_symbolizer *sym, const struct pp_group_options *opt, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->traces = traces;
    r->ntraces = n;
    r->sample_every = 1;
    struct group *groups = NULL;
    struct pp_stack_view *views = NULL;
    size_t nviews = 0, cap = 0;
    int rc = 0;
    r->pattern_matched = calloc(opt->nwrappers ? opt->nwrappers : 1, sizeof *r->pattern_matched);
    /* Per trace, the estimated STATS of its full stacks when grouping a site-mode trace by
     * stack (the views point into them until the end). */
    struct {
        struct pp_trace_stats *stats;
        uint32_t n;
    } *estimated = calloc(n ? n : 1, sizeof *estimated);
    if (!r->pattern_matched || !estimated)
        rc = -1;
    for (size_t ti = 0; ti < n && rc == 0; ti++) {
        const struct pp_trace *t = traces[ti];
        r->allocs += t->totals.allocs;
        r->frees += t->totals.frees;
        r->bytes += t->totals.alloc_bytes;
        /* When sampling, this is the peak of the sampled blocks only: not scaled, since one
         * sampled big block would scale into a peak that never was. */
        r->peak_live_bytes += t->totals.peak_live_bytes;
        r->untracked_frees += t->process.untracked_frees;
        r->ops += t->process.ops;
        if (t->process.duration_ns > r->duration_ns)
            r->duration_ns = t->process.duration_ns;
        if (t->process.sample_every > r->sample_every)
            r->sample_every = t->process.sample_every;
        r->snapshot |= (t->flags & PP_TRACE_F_SNAPSHOT) != 0;
        r->tracking_lost |= (t->process.flags & PP_PROC_F_TRACKING_LOST) != 0;
        r->died |= (t->process.flags & PP_PROC_F_DIED) != 0;
        int space = pp_symbolizer_add_trace(sym, t);
        if (space < 0) {
            rc = -1;
            break;
        }
        /* A sampled trace recorded one call in sample_every: scale back to unbiased estimates. */
        uint64_t scale = t->process.sample_every > 1 ? t->process.sample_every : 1;
        /* Site mode: by site, the exact prefix figures, each expanded from its most sampled
         * full stack (same first frames, more callers); by stack, the sampled full stacks'
         * estimated figures (stack_estimate.h). */
        const struct pp_trace_stats *stats = t->stats;
        uint32_t nstats = t->nstats, *shown = NULL;
        if (opt->group_by == PP_GROUP_BY_STACK && t->site_mode) {
            if (pp_stack_estimate(t, &estimated[ti].stats, &estimated[ti].n)) {
                rc = -1;
                break;
            }
            stats = estimated[ti].stats;
            nstats = estimated[ti].n;
            r->stacks_estimated = true;
        } else {
            shown = pp_stack_estimate_shown(t);
        }
        for (uint32_t i = 0; i < nstats && rc == 0; i++) {
            if (nviews == cap) {
                size_t grown = cap ? cap * 2 : 64;
                struct pp_stack_view *more = realloc(views, grown * sizeof *more);
                if (!more) {
                    rc = -1;
                    break;
                }
                views = more;
                cap = grown;
            }
            const struct pp_trace_stats *s = &stats[i];
            struct pp_stack_view *v = &views[nviews++];
            *v = (struct pp_stack_view){.space = space, .stats = s, .scale = scale};
            if (__builtin_mul_overflow(s->allocs, scale, &v->allocs))
                v->allocs = UINT64_MAX;
            if (__builtin_mul_overflow(s->frees, scale, &v->frees))
                v->frees = UINT64_MAX;
            rc = expand_stack(v, sym, &t->stacks[shown ? shown[s->stack_id] : s->stack_id]);
            if (rc == 0)
                rc = find_fixed_site(r, sym, v, opt, 0) < 0 ? -1 : 0;
        }
        free(shown);
    }
    /* The user names wrappers as the report prints sites, and a site may be where the auto
     * wrappers led: apply the lists again above them, and look for wrappers above those. */
    for (int pass = 0; pass < 4 && rc == 0 && !opt->no_auto_wrappers; pass++) {
        rc = pp_wrappers_detect(views, nviews, sym, &r->wrappers);
        bool moved = false;
        for (size_t i = 0; i < nviews && rc == 0; i++) {
            int m = find_fixed_site(r, sym, &views[i], opt, views[i].site);
            rc = m < 0 ? -1 : 0;
            moved |= m > 0;
        }
        if (!moved)
            break;
    }
    for (size_t i = 0; i < nviews && rc == 0; i++)
        rc = add_stats(r, &groups, sym, &views[i], opt);
    if (rc == 0)
        rc = assign_keys(groups, r->sites, r->nsites);
    r->pooling_runtime = find_pooling_runtime(views, nviews);
    struct group *g, *tmp;
    HASH_ITER(hh, groups, g, tmp) {
        HASH_DEL(groups, g);
        free(g->ident);
        free(g->name);
        free(g);
    }
    for (size_t i = 0; i < nviews; i++)
        free(views[i].frames);
    free(views);
    for (size_t ti = 0; estimated && ti < n; ti++)
        pp_stack_estimate_free(estimated[ti].stats, estimated[ti].n);
    free(estimated);
    if (rc) {
        snprintf(err, errlen, "out of memory while grouping sites");
        pp_report_free(r);
        return -1;
    }
    if (r->nsites > 1)
        qsort(r->sites, r->nsites, sizeof *r->sites, cmp_site);
    /* Sites without a name in a module that was read: debug symbols would name them. */
    for (size_t i = 0; i < r->nsites; i++) {
        const struct pp_site *site = &r->sites[i];
        if (site->runtime) {
            r->runtime_sites++;
            r->runtime_allocs += site->allocs;
        } else if (site->nframes && !site->frames[0].function && site->frames[0].module &&
                   pp_symbolizer_module_read(sym, site->frames[0].module)) {
            note_nameless(r, site->frames[0].module);
        }
    }
    return 0;
}

void pp_report_free(struct pp_report *r)
{
    for (size_t i = 0; i < r->nsites; i++)
        pp_site_free(&r->sites[i]);
    free(r->sites);
    free(r->verdicts);
    pp_wrapper_list_free(&r->wrappers);
    free(r->pattern_matched);
    memset(r, 0, sizeof *r);
}
