/* costmodel.h — what malloc+free and each kind of pool cost, per block size and blocks in flight.
 *
 * The checklist predicts the time a fix saves from these costs and the site's own counts, sizes
 * and in-flight blocks. A table is measured, not assumed: tests/bench/costmodel.c (installed as
 * poolprobe-costmodel) times, in fresh processes, the loop "take N blocks, touch them, give them
 * back" four ways: malloc+free, a thread-local free list, one locked list on one thread, and the
 * same list shared by two threads. Its in-flight counts straddle glibc's trim threshold, so the
 * table holds the cliff where each free hands pages back and each malloc faults them in again.
 *
 * Which table: the user's own, written by `poolprobe-costmodel --save` to
 * $XDG_CACHE_HOME/poolprobe/costmodel-ALLOCATOR.tsv (~/.cache when unset), when it exists; else
 * the table built in for that allocator (costmodel.c says where each was measured); else the
 * built-in glibc table, with a note saying so. The allocator of a trace is the one its module
 * list shows (libjemalloc, libtcmalloc, libmimalloc preloaded behind the shim), else glibc.
 *
 * No I/O except pp_cost_model_find reading the cache file. No allocation.
 */
#ifndef POOLPROBE_COSTMODEL_H
#define POOLPROBE_COSTMODEL_H

#include <stddef.h>
#include <stdint.h>

struct pp_trace;

/* The ways to get and give back a block, in the table's column order. */
enum pp_cost_way {
    PP_COST_MALLOC,  /* malloc + free */
    PP_COST_TLS,     /* thread-local free list (the per-thread pool) */
    PP_COST_SHARED1, /* one free list behind a mutex, one thread using it */
    PP_COST_SHARED2, /* the same list, two threads using it at once */
    PP_COST_WAYS
};

#define PP_COST_MAX_ROWS 96

struct pp_cost_row {
    uint64_t size;      /* bytes per block */
    uint32_t in_flight; /* blocks taken before any is given back */
    double ns[PP_COST_WAYS]; /* per block: get, touch each page, give back */
};

struct pp_cost_model {
    char allocator[32]; /* the allocator the report asked for: "glibc", "jemalloc", ... */
    char source[256];   /* which table: "built-in: glibc 2.36, <cpu>, measured <date>" or
                           the cache file's path and its own header */
    char note[128];     /* "" or e.g. "no table for mimalloc: the glibc table was used" */
    size_t nrows;       /* sorted by size, then in_flight */
    struct pp_cost_row rows[PP_COST_MAX_ROWS];
};

/* Parse a table in the TSV poolprobe-costmodel prints. 0, or -1 with a message in err. */
int pp_cost_model_parse(struct pp_cost_model *m, const char *text, char *err, size_t errlen);

/* The allocator a trace ran on, from its module list: "jemalloc", "tcmalloc", "mimalloc" or
 * "glibc". */
const char *pp_cost_allocator_of(const struct pp_trace *trace);

/* The table for allocator (see the top of this file). A cache file that exists but does not
 * parse is an error: -1 with "FILE: what is wrong" in err. */
int pp_cost_model_find(struct pp_cost_model *m, const char *allocator, char *err, size_t errlen);

/* The built-in table for allocator, or the glibc one (with a note) when there is none. Never
 * fails. */
void pp_cost_model_builtin(struct pp_cost_model *m, const char *allocator);

/* Nanoseconds per block to get, touch and give back a block of size bytes when in_flight blocks
 * are taken at once: interpolated in log(size) between measured sizes, at the measured in-flight
 * count nearest in log scale; above the largest size measured, proportional to the size (the
 * cost is then page faults). */
double pp_cost_ns(const struct pp_cost_model *m, enum pp_cost_way way, uint64_t size,
                  double in_flight);

#endif
