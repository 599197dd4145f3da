/* wrappers.c — wrappers found from the stacks (see wrappers.h for the rules and their reasons). */
#include "wrappers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "hist.h"

/* The rounds are bounded: each round moves stacks at least one frame outwards, so a stack
 * depth bounds them anyway; this only caps the work on pathological input. */
#define MAX_ROUNDS 64

const char *pp_wrapper_origin_name(enum pp_wrapper_origin origin)
{
    switch (origin) {
    case PP_WRAPPER_AUTO:
        return "auto";
    case PP_WRAPPER_GIVEN:
        return "given";
    case PP_WRAPPER_BUILTIN:
        return "built-in";
    }
    return "?";
}

long pp_wrapper_note(struct pp_wrapper_list *list, const char *name,
                     enum pp_wrapper_origin origin, size_t callers, uint64_t allocs)
{
    for (size_t i = 0; i < list->n; i++) {
        struct pp_wrapper *w = &list->items[i];
        if (w->origin == origin && strcmp(w->name, name) == 0) {
            w->allocs = pp_add_sat(w->allocs, allocs);
            if (callers > w->callers)
                w->callers = callers;
            return (long)i;
        }
    }
    struct pp_wrapper *items = realloc(list->items, (list->n + 1) * sizeof *items);
    if (!items)
        return -1;
    list->items = items;
    char *copy = strdup(name);
    if (!copy)
        return -1;
    items[list->n] = (struct pp_wrapper){copy, origin, callers, allocs};
    return (long)list->n++;
}

void pp_wrapper_list_free(struct pp_wrapper_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i].name);
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* A call site into a candidate, and the sizes requested through it. */
struct caller {
    char *ident;
    uint64_t min_size, max_size;
    UT_hash_handle hh;
};

/* A frame that may be a wrapper, and the stacks whose site it is this round. */
struct candidate {
    char *ident;
    const char *function; /* NULL in stripped code */
    size_t *views, nviews, cap;
    UT_hash_handle hh;
};

/* A frame as a candidate: its function and module, or its address in a stripped module (each
 * unnamed code address is its own candidate: nothing groups them into functions). */
static void candidate_ident(struct pp_symbolizer *sym, const struct pp_frame *f, char *buf,
                            size_t len)
{
    snprintf(buf, len, "%s\x1f%s", pp_frame_name(sym, f), f->module ? pp_basename(f->module) : "");
}

/* A call site: the caller's name, its line (or its address when it has no line). */
static void caller_ident(struct pp_symbolizer *sym, const struct pp_frame *f, char *buf,
                         size_t len)
{
    snprintf(buf, len, "%s\x1f%s\x1f%u\x1f%s\x1f%" PRIx64, pp_frame_name(sym, f),
             f->file ? f->file : "", f->line, f->module ? pp_basename(f->module) : "",
             f->line ? 0 : f->offset);
}

static void free_callers(struct caller **callers)
{
    struct caller *k, *ktmp;
    HASH_ITER(hh, *callers, k, ktmp) {
        HASH_DEL(*callers, k);
        free(k->ident);
        free(k);
    }
}

static void free_candidates(struct candidate **all)
{
    struct candidate *c, *ctmp;
    HASH_ITER(hh, *all, c, ctmp) {
        HASH_DEL(*all, c);
        free(c->ident);
        free(c->views);
        free(c);
    }
}

/* Frees of this stack's blocks made inside function itself. */
static uint64_t self_frees(struct pp_symbolizer *sym, const struct pp_stack_view *v,
                           const char *function)
{
    if (!function)
        return 0;
    uint64_t n = 0;
    for (unsigned i = 0; i < v->stats->nfree_callers; i++) {
        const struct pp_frame *ff;
        size_t nf = pp_symbolize(sym, v->space, v->stats->free_callers[i].addr, &ff);
        for (size_t j = 0; j < nf; j++)
            if (ff[j].function && strcmp(ff[j].function, function) == 0) {
                n += v->stats->free_callers[i].count * v->scale;
                break;
            }
    }
    return n;
}

static int add_to_candidate(struct candidate **all, struct pp_symbolizer *sym,
                            struct pp_stack_view *views, size_t i)
{
    char ident[4096];
    const struct pp_frame *f = &views[i].frames[views[i].site];
    candidate_ident(sym, f, ident, sizeof ident);
    struct candidate *c;
    HASH_FIND_STR(*all, ident, c);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->ident = strdup(ident))) {
            free(c);
            return -1;
        }
        c->function = f->function;
        HASH_ADD_KEYPTR(hh, *all, c->ident, strlen(c->ident), c);
    }
    if (c->nviews == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        size_t *grown = realloc(c->views, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->views = grown;
        c->cap = cap;
    }
    c->views[c->nviews++] = i;
    return 0;
}

/* The call sites `level` frames above the candidate's stacks' sites (stacks that allocated and
 * have such a frame), with the sizes each requested. Returns how many, -1 on out of memory;
 * *complete says whether every allocating stack had a frame there. */
static long callers_at(const struct candidate *c, const struct pp_stack_view *views,
                       struct pp_symbolizer *sym, size_t level, struct caller **out,
                       bool *complete)
{
    long n = 0;
    *complete = true;
    for (size_t i = 0; i < c->nviews; i++) {
        const struct pp_stack_view *v = &views[c->views[i]];
        if (v->stats->allocs == 0)
            continue;
        if (v->site + level >= v->nframes) {
            *complete = false;
            continue;
        }
        char ident[4096];
        caller_ident(sym, &v->frames[v->site + level], ident, sizeof ident);
        struct caller *k;
        HASH_FIND_STR(*out, ident, k);
        if (!k) {
            k = calloc(1, sizeof *k);
            if (!k || !(k->ident = strdup(ident))) {
                free(k);
                return -1;
            }
            k->min_size = v->stats->min_size;
            k->max_size = v->stats->max_size;
            HASH_ADD_KEYPTR(hh, *out, k->ident, strlen(k->ident), k);
            n++;
        } else {
            if (v->stats->min_size < k->min_size)
                k->min_size = v->stats->min_size;
            if (v->stats->max_size > k->max_size)
                k->max_size = v->stats->max_size;
        }
    }
    return n;
}

/* Sizes follow the caller when the callers do not all request one and the same size range. */
static bool sizes_follow_caller(const struct caller *callers)
{
    for (const struct caller *k = callers; k; k = k->hh.next)
        if (k->min_size != callers->min_size || k->max_size != callers->max_size)
            return true;
    return false;
}

/* How many frames to climb if c is a wrapper (0 if it is not). A candidate reached from one
 * call site only (SQLite's static allocator behind sqlite3Malloc) is judged by where its
 * single chain of callers fans out; the whole chain is the wrapper. */
static long wrapper_levels(const struct candidate *c, const struct pp_stack_view *views,
                           struct pp_symbolizer *sym, size_t *ncallers)
{
    uint64_t frees = 0, own = 0;
    for (size_t i = 0; i < c->nviews; i++) {
        frees = pp_add_sat(frees, views[c->views[i]].frees);
        own = pp_add_sat(own, self_frees(sym, &views[c->views[i]], c->function));
    }
    /* A function that frees most of its blocks itself uses them; it does not hand them out. */
    if (c->function && frees && own * 2 >= frees)
        return 0;
    for (size_t level = 1; level <= MAX_ROUNDS; level++) {
        struct caller *callers = NULL;
        bool complete;
        long n = callers_at(c, views, sym, level, &callers, &complete);
        bool follows = n > 0 && sizes_follow_caller(callers);
        free_callers(&callers);
        if (n < 0)
            return -1;
        if (n == 1 && complete)
            continue; /* one chain so far: look where it fans out */
        *ncallers = (size_t)n;
        return n >= PP_WRAPPER_MIN_CALLERS && follows ? (long)level : 0;
    }
    return 0;
}

int pp_wrappers_detect(struct pp_stack_view *views, size_t n, struct pp_symbolizer *sym,
                       struct pp_wrapper_list *list)
{
    int rc = 0;
    for (int round = 0; round < MAX_ROUNDS && rc == 0; round++) {
        struct candidate *all = NULL;
        for (size_t i = 0; i < n && rc == 0; i++)
            if (views[i].site + 1 < views[i].nframes)
                rc = add_to_candidate(&all, sym, views, i);
        bool moved = false;
        for (struct candidate *c = all; c && rc == 0; c = c->hh.next) {
            size_t ncallers = 0;
            long levels = wrapper_levels(c, views, sym, &ncallers);
            if (levels < 0)
                rc = -1;
            if (levels <= 0)
                continue;
            /* Every frame of the chain is listed: the user may know any of them by name. */
            const struct pp_stack_view *first = &views[c->views[0]];
            for (long l = 0; l < levels && rc == 0; l++)
                if (pp_wrapper_note(list, pp_frame_name(sym, &first->frames[first->site + l]),
                                    PP_WRAPPER_AUTO, ncallers, 0) < 0)
                    rc = -1;
            for (size_t i = 0; i < c->nviews && rc == 0; i++) {
                struct pp_stack_view *v = &views[c->views[i]];
                long idx = pp_wrapper_note(list, pp_frame_name(sym, &v->frames[v->site]),
                                           PP_WRAPPER_AUTO, ncallers, v->allocs);
                if (idx < 0)
                    rc = -1;
                size_t climb = (size_t)levels;
                if (v->site + climb >= v->nframes)
                    climb = v->nframes - 1 - v->site;
                v->site += climb;
                moved |= climb > 0;
            }
        }
        free_candidates(&all);
        if (!moved)
            break;
    }
    return rc;
}
