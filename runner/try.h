/* try.h — poolprobe-try, the runner of `poolprobe try`: declarations shared by its files.
 *
 *   try_targets.c  which sites to try, with what numbers, named by the return addresses the shim
 *                  can match (from a trace, through the analyzer's own grouping and verdicts)
 *   try_measure.c  running the program: a plain run, then the two arms under the shim in try
 *                  mode; rusage per run, output and exit status compared with the plain run
 *   try_output.c   ratios, `confirmed`, and the text and JSON results
 *   try_main.c     the command line and the order of runs
 *
 * The runner allocates with the ordinary malloc and reports trouble as
 * "poolprobe try: error: ..." on stderr; only main picks the exit status.
 */
#ifndef POOLPROBE_TRY_RUNNER_H
#define POOLPROBE_TRY_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRY_MAX_TIERS 4
#define TRY_MAX_DEPTH 16 /* as shim/try.c */

/* The numbers applied to one site (what the shim emulates). */
struct try_applied {
    char verdict[24];      /* pool, pool-capped, tiered, presize, stack, none (or the report's
                              name for one the shim cannot emulate, applied as none) */
    char mode[12];         /* the shim's: pool, presize, observe */
    char kind[12];         /* per-thread, shared */
    uint64_t capacity;     /* per free list */
    uint64_t object_bytes; /* pool, stack: block size */
    uint64_t cap_bytes;    /* pool-capped: larger requests are not pooled */
    uint64_t presize_bytes;
    unsigned ntiers;       /* size classes the shim gets (a plain pool has one) */
    uint64_t tier_bytes[TRY_MAX_TIERS];
    char note[96];         /* why something was not applied as asked; "" when it was */
};

struct try_chain {
    unsigned depth;
    char build_id[TRY_MAX_DEPTH][129]; /* hex */
    uint64_t offset[TRY_MAX_DEPTH];    /* return address - load bias */
};

struct try_target {
    char *key;
    char *function;         /* allocating function, for --site matching */
    char report_verdict[24]; /* what the report said */
    uint64_t allocs;        /* in the trace */
    uint64_t allocs_saved;  /* the report's prediction (0 when it has none) */
    struct try_applied applied;
    size_t nchains;
    struct try_chain *chains;
    unsigned chains_skipped; /* deeper than TRY_MAX_DEPTH or in a module without build-id */
};

/* What the user asked with --as and friends. */
struct try_override {
    const char *const *thresholds; /* "NAME=VALUE" for the checklist, as poolprobe-report -t */
    size_t nthresholds;
    const char *verdict;    /* NULL: the report's */
    uint64_t capacity, object_bytes, cap_bytes; /* 0: the report's */
    const char *kind;       /* NULL: the report's, else per-thread */
};

/* Sites of the trace at path that match any of patterns (all recommended sites when there are
 * none), with the report's or the overridden verdict. Returns the count (0 = none) into
 * *targets, or -1 with a message in err. */
long try_targets_load(const char *trace_path, const char *const *patterns, size_t npatterns,
                      const struct try_override *ov, struct try_target **targets, char *err,
                      size_t errlen);
void try_targets_free(struct try_target *targets, size_t n);
/* Write the shim's targets file: every target listed (chains included), those with
 * apply[i] true in their mode, the others observed. -1 on write error. */
int try_targets_write(const char *path, const struct try_target *targets, size_t n,
                      const bool *apply);

/* One run of the program. */
struct try_run {
    double cpu_s, wall_s;
    uint64_t maxrss_bytes;
    int status;             /* wait status */
    bool same;              /* output and exit status as the plain run's */
    unsigned unresolved;    /* arms: chains the shim could not resolve (most of any process) */
};

/* What the shim counted for one site in one run (summed over the run's processes). */
struct try_counts {
    uint64_t matched, hits, misses, drops, overflows;
};

struct try_program {
    char *const *argv;
    const char *shim;       /* libpoolprobe.so */
    const char *dir;        /* scratch directory */
    const char *stdin_path; /* each run reads this from its start, or NULL for /dev/null */
};

/* The plain run (no shim): its output becomes the reference. -1 when it could not start. */
int try_run_plain(const struct try_program *p, struct try_run *r, char *err, size_t errlen);
/* Record a trace of the program under the shim into trace_path. */
int try_run_record(const struct try_program *p, const char *trace_path, struct try_run *r,
                   char *err, size_t errlen);
/* A run in try mode with targets_path; counts[0..n) receive the shim's counts. */
int try_run_arm(const struct try_program *p, const char *targets_path, struct try_run *r,
                struct try_counts *counts, size_t n, char *err, size_t errlen);
/* "exit status 3", "killed by signal 11 (Segmentation fault)". */
const char *try_describe_status(int status, char *buf, size_t len);

/* One measured configuration: the sites applied together (all, or one with --each). */
struct try_result {
    const char *key;        /* NULL for all together */
    size_t target;          /* index when key is set */
    size_t nruns;
    struct try_run *without, *with; /* nruns each, pair i = (without[i], with[i]) */
    struct try_counts counts;       /* the last run with the pool applied */
    struct try_counts *site_counts; /* per target, the last run with the pool */
};

struct try_stats {
    double median, min, max;
};
void try_ratio_stats(const struct try_result *r, bool cpu, struct try_stats *out);
/* Every run with the pool faster than every run without, in CPU and in wall time, with
 * enough runs that chance alone does that at most 1 time in 100 (see try_output.c). */
bool try_confirmed(const struct try_result *r);

/* plain: the run without the shim (what interposition itself costs shows against it). */
void try_print_text(FILE *out, char *const *argv, const char *trace_note,
                    const struct try_run *plain, const struct try_target *targets,
                    size_t ntargets, const struct try_result *results, size_t nresults,
                    size_t runs);
int try_print_json(FILE *out, char *const *argv, const struct try_run *plain,
                   const struct try_target *targets, size_t ntargets,
                   const struct try_result *results, size_t nresults, size_t runs);

#endif
