/* trace_reader.h — load a poolprobe trace file (see trace_format.h) into memory.
 *
 * The reader is the analyzer's only door to untrusted bytes, so it must not crash, read out of
 * bounds or allocate more than the file can justify on any input: every read goes through a
 * struct pp_cursor, every count is checked against the bytes left before anything is allocated,
 * stack ids and histogram indexes are validated, and the END checksum is verified before the
 * payloads are parsed. It never prints: on failure it returns NULL and writes one line saying
 * what is wrong (without the file name, which the caller adds) into err.
 *
 * Records with tags it does not know, and bytes at the end of a known record's payload, are
 * skipped (that is what a minor version may add). A newer major version is refused.
 */
#ifndef POOLPROBE_TRACE_READER_H
#define POOLPROBE_TRACE_READER_H

/* The largest trace pp_trace_read_file reads (README, Limits). A trace's size grows with the
 * number of distinct stacks, not with run time: cppcheck on one file writes 10 MB for 373
 * sites. Reading takes about twice the file's size in memory; a bigger file is refused before
 * it is read, so a hostile or mistaken input (a core dump, a disk image) costs nothing. */
#define PP_TRACE_MAX_BYTES (512ull << 20)

#include <stddef.h>
#include <stdint.h>

#include "trace_format.h"

/* Where the four histograms of a STATS entry sit in pp_trace_stats.hists[]. */
enum pp_stats_hist {
    PP_STATS_HIST_SIZE,
    PP_STATS_HIST_LIFETIME_NS,
    PP_STATS_HIST_LIFETIME_ALLOCS,
    PP_STATS_HIST_CHAIN_FINAL_SIZE,
    PP_STATS_HIST_COUNT
};

/* A histogram as written: for EXACT, entries are (value, count); for LOGLIN, (bucket index,
 * count) with indexes < pp_hist_nbuckets(sub_bits). Keys strictly ascending. */
struct pp_trace_hist_entry {
    uint64_t key;
    uint64_t count;
};

struct pp_trace_hist {
    uint8_t kind;     /* enum pp_hist_kind */
    uint8_t sub_bits; /* LOGLIN only */
    uint16_t n;
    struct pp_trace_hist_entry *entries;
};

struct pp_trace_process {
    uint32_t pid, ppid;
    uint64_t start_realtime_ns, end_realtime_ns, duration_ns;
    uint32_t threads_seen, depth_limit, sample_every, flags;
    uint64_t untracked_frees, ops;
    char *exe;    /* NUL-terminated copy */
    uint32_t argc;
    char **argv;
};

struct pp_trace_module {
    uint64_t load_bias, lo, hi;
    char *path;
    unsigned char *build_id;
    uint32_t build_id_len;
};

struct pp_trace_stack {
    uint16_t depth, flags;
    uint64_t *ips; /* depth return addresses, innermost (the allocator's caller) first */
};

struct pp_trace_free_caller {
    uint64_t addr, count;
};

struct pp_trace_pool {
    uint32_t capacity;
    uint64_t hits;
};

struct pp_trace_stats {
    uint32_t stack_id; /* < pp_trace.nstacks, unique within the trace */
    uint64_t allocs, frees, alloc_bytes, min_size, max_size, live_bytes;
    uint64_t peak_live, peak_live_bytes, cross_thread_frees;
    uint64_t realloc_calls, realloc_grows, chains_freed, lifetime_ns_sum;
    uint8_t nfree_callers;
    struct pp_trace_free_caller *free_callers;
    uint64_t other_free_callers;
    uint8_t npool;
    struct pp_trace_pool *pools;
    struct pp_trace_hist hists[PP_STATS_HIST_COUNT];
    /* From the v1.1 STACK_THREADS record; 0 when the trace has none (v1.0). */
    uint32_t threads;              /* threads that allocated from this stack */
    uint64_t peak_live_per_thread; /* most blocks one thread had live at once */
};

struct pp_trace_totals {
    uint64_t allocs, frees, alloc_bytes, peak_live_bytes;
    uint32_t ncalls; /* as written; may differ from PP_CALL_COUNT in other minors */
    uint64_t *calls;
};

/* v1.1 POOLS: a pool of the program's own, counted through include/poolprobe.h's markers. */
struct pp_trace_own_pool {
    char *name;
    uint64_t gets, hits, misses, puts;
};

/* STACK_SAMPLES (v1.1, site mode): one full stack sampled under its site prefix. */
struct pp_trace_sample {
    uint32_t full_id, site_id; /* < pp_trace.nstacks */
    uint64_t count;
};

struct pp_trace {
    uint16_t major, minor;
    uint64_t flags; /* PP_TRACE_F_* */
    struct pp_trace_process process;
    uint32_t nmodules;
    struct pp_trace_module *modules;
    uint32_t nstacks;
    struct pp_trace_stack *stacks;
    uint32_t nstats;
    struct pp_trace_stats *stats;
    struct pp_trace_totals totals;
    uint32_t nown_pools;               /* v1.1 POOLS record; 0 when absent */
    struct pp_trace_own_pool *own_pools;
    /* Site mode (a STACK_SAMPLES record): the stacks with STATS are site prefixes, exact; full
     * stacks were sampled about 1 in stack_sample, so figures per full stack are estimates. */
    int site_mode;
    uint32_t stack_sample, site_depth;
    uint32_t nsamples;
    struct pp_trace_sample *samples;
};

/* Read and validate the trace at path. Returns a trace to release with pp_trace_free(), or NULL
 * with a message in err (e.g. "truncated: record STATS needs 4096 bytes at offset 1234, file has
 * 100"). Allocates; never prints. */
struct pp_trace *pp_trace_read_file(const char *path, char *err, size_t errlen);

/* Same, from bytes in memory (the trace does not keep pointers into buf). */
struct pp_trace *pp_trace_read_buffer(const void *buf, size_t len, char *err, size_t errlen);

void pp_trace_free(struct pp_trace *trace);

/* "PROCESS", "STATS", ... or NULL for a tag this reader does not know. */
const char *pp_trace_tag_name(uint32_t tag);

#endif
