/* checklist.h — "should you pool this?": the seeds' checklist applied to one site.
 *
 * The checklist comes from the sync.Pool articles this project carries to C (README, "The
 * checklist"): a pool pays only for allocations that are frequent, of consistent size, big
 * enough that the allocator's cost beats a free list's, and not retained; and a simpler fix
 * (automatic storage, pre-sizing) beats any pool when it applies. Every threshold is a named,
 * documented, overridable default (pp_threshold_table); every verdict carries its rows, each with
 * the measured value next to its threshold, so a reader can disagree with a number rather than
 * with a black box.
 *
 * Judging is pure computation on the site model: no I/O. pp_judge allocates only scratch memory
 * it frees before returning; a verdict owns no memory.
 */
#ifndef POOLPROBE_CHECKLIST_H
#define POOLPROBE_CHECKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "costmodel.h"
#include "site.h"
#include "threshold.h"

enum pp_verdict_kind {
    PP_VERDICT_NO_POOL, /* the default: some check failed (see the rows) */
    PP_VERDICT_POOL,    /* a free list of fixed-size objects */
    PP_VERDICT_POOL_CAPPED, /* a free list that drops objects above cap_bytes */
    PP_VERDICT_TIERED,  /* one free list per size class */
    PP_VERDICT_PRESIZE, /* allocate the final size up front instead of growing by realloc */
    PP_VERDICT_STACK,   /* small and freed where allocated: automatic storage or a reused buffer */
    PP_VERDICT_ARENA,   /* many small blocks kept to the end or freed together: a bump allocator */
};

/* "pool", "pool-capped", "tiered", "presize", "stack", "arena", "no-pool". */
const char *pp_verdict_name(enum pp_verdict_kind kind);

/* Which pool a pooling verdict proposes. */
enum pp_pool_kind {
    PP_POOL_NONE,       /* not a pooling verdict */
    PP_POOL_PER_THREAD, /* a thread-local free list per thread: sync.Pool's per-P, no lock */
    PP_POOL_SHARED,     /* one list behind a lock: blocks are freed by other threads */
};

/* "per-thread", "shared", or NULL for PP_POOL_NONE. */
const char *pp_pool_kind_name(enum pp_pool_kind kind);

/* The thresholds. Defaults and the reason for each are in checklist.c's table. */
struct pp_thresholds {
    double min_share;          /* frequency: share of all allocations (or the saving below) */
    double min_rate;           /* frequency: allocations per second */
    double consistency_share;  /* share within 2x of the median */
    double max_spread;         /* max size / min size */
    double min_saving_share;   /* big enough: the fix saves this share of the run time */
    double big_enough_bytes;   /* big enough: optional floor on the median size (0: none) */
    double shared_free_share;  /* pool kind: frees by another thread that make a pool shared */
    double max_pool_bytes;     /* warn when the pools hold more memory than this in all */
    double max_tier_width;     /* tiered: widest class, largest block / smallest size */
    double min_tier_bytes;     /* tiered: no class boundary below this size */
    double arena_min_blocks;   /* arena: blocks live at once */
    double arena_max_bytes;    /* arena: median block size */
    double max_retained_share; /* blocks live at exit / blocks allocated */
    double max_lifetime_ns;    /* p95 lifetime */
    double min_hit_rate;       /* simulated free list at capacity = peak live */
    double max_outlier_share;  /* pool-capped and tiered: share allowed above the cap */
    double min_tier_share;     /* tiered: smallest share that makes a tier */
    double presize_grows;      /* presize: growing reallocs per block */
    double same_fn_share;      /* stack: share of frees in the allocating function */
    double stack_max_bytes;    /* stack: most bytes live at once that fit on a stack */
};

/* The table (threshold.h): every field of struct pp_thresholds, its default and its reason. */
extern const struct pp_threshold_info pp_threshold_table[];
extern const size_t pp_threshold_count;

void pp_thresholds_default(struct pp_thresholds *t);
/* Apply "NAME=VALUE"; returns 0, or -1 with a message in err. */
int pp_thresholds_set(struct pp_thresholds *t, const char *assignment, char *err, size_t errlen);

/* One checklist row: what was measured against what it was compared with. */
struct pp_check {
    const char *name;      /* "frequency", "size consistency", ... */
    bool pass;             /* the condition the name states holds */
    bool pooling;          /* a row of the pooling checklist (false: a simpler-fix row) */
    const char *fails_as;  /* pooling rows: the no-pool reason when this row fails first */
    double value;          /* the main measurement (a share is 0..1, sizes in bytes) */
    double threshold;      /* what value was compared with */
    char value_text[64];   /* all of the measurement, human readable ("33%, 1.2M/s") */
    char threshold_text[64]; /* all it was compared with (">= 2%, >= 1.0K/s") */
    const char *why;       /* one line */
};

struct pp_tier {
    uint64_t upper_bytes; /* class upper bound: sizes up to this go to this tier (2^k) */
    uint64_t block_bytes; /* the block the tier's pool holds: its largest size seen */
    double share;         /* of the site's allocations */
};

/* The second step of a chained advice ("presize 64K, then pool (per-thread, 1 x 64K)"). */
struct pp_verdict_then {
    enum pp_verdict_kind kind;   /* PP_VERDICT_NO_POOL: there is no second step */
    enum pp_pool_kind pool_kind;
    uint64_t capacity_per_thread;
    uint64_t object_bytes;
    uint32_t threads;
    double saving_ns, saving_share;
};

#define PP_MAX_TIERS 4

struct pp_verdict {
    enum pp_verdict_kind kind;
    const char *reason;        /* no-pool: why, in words ("too rare", "retained", "long-lived",
                                  "sizes too spread", "too small", "slower than malloc",
                                  "low reuse"); NULL for the other verdicts */
    size_t nchecks;
    struct pp_check checks[12];
    int failed_check;          /* index of the first failed pooling row, -1 when none */
    /* the time the fix saves, from the cost model (costmodel.h): ns over the run, and as a
       share of the run's duration. For pooling verdicts, at the simulated hit rate. */
    double saving_ns, saving_share;
    /* pool, pool-capped and tiered */
    enum pp_pool_kind pool_kind;
    uint64_t capacity_per_thread; /* objects each thread's pool holds: the peak live of one
                                     thread (the site's peak when the trace has no per-thread
                                     figure) */
    uint32_t threads;          /* threads with a pool: that allocate here (or the process's) */
    uint64_t pool_bytes;       /* memory all the pools hold when full */
    bool pool_bytes_large;     /* pool_bytes > max_pool_bytes */
    uint64_t drop_above_bytes; /* pool-capped and tiered: give blocks larger than this back to
                                  malloc (0: nothing to drop) */
    /* pool and pool-capped */
    uint64_t capacity;         /* objects the pool holds: the peak number live */
    uint64_t object_bytes;     /* size of each pooled object */
    double hit_rate;           /* simulated on this run at `capacity`, 0..1 */
    uint32_t sim_capacity;     /* the simulated capacity hit_rate comes from: the smallest
                                  >= capacity, or the largest simulated (4096) below it */
    uint64_t retained_bytes;   /* memory the full pool keeps: capacity x object_bytes */
    /* pool-capped */
    uint64_t cap_bytes;        /* drop (do not return) objects larger than this */
    double above_cap_share;    /* allocations above the cap */
    /* tiered */
    size_t ntiers;
    struct pp_tier tiers[PP_MAX_TIERS];
    /* presize */
    uint64_t presize_bytes;    /* covers at least 95% of the final sizes */
    uint64_t reallocs_saved;
    struct pp_verdict_then then; /* presize: the pool the presized block still deserves */
    /* arena */
    uint64_t arena_bytes;      /* the peak bytes live: what the arena must hold */
    /* all: what acting on the verdict saves, for ranking recommendations */
    uint64_t allocs_saved;     /* allocations (or realloc calls) that go away */
};

/* What a site is judged against: the report's totals and the costs of the allocator. */
struct pp_judge_context {
    uint64_t total_allocs;     /* of the whole report */
    uint64_t duration_ns;      /* of the run: the denominator of rates and saving shares */
    uint32_t threads;          /* threads that allocated in the process (at least 1) */
    const struct pp_cost_model *cost;
};

void pp_judge(const struct pp_site *site, const struct pp_judge_context *ctx,
              const struct pp_thresholds *t, struct pp_verdict *out);

struct pp_report;

/* Judge every site of a report into report->verdicts (allocated; freed by pp_report_free),
 * with the cost table for the traces' allocator (pp_cost_model_find; a cache file that does not
 * parse is reported on stderr once and the built-in table used). -1 on out of memory. */
int pp_report_judge(struct pp_report *report, const struct pp_thresholds *t);

/* The thresholds the last pp_report_judge used (for the program's own pools), NULL before any. */
const struct pp_thresholds *pp_report_thresholds(void);

/* The cost table the last pp_report_judge used (the analyzer judges one report per run), NULL
 * before any. */
const struct pp_cost_model *pp_report_cost_model(void);

/* Indexes of the report's sites with a verdict other than no-pool, most time saved first,
 * into *order (malloc'd); returns how many, (size_t)-1 on out of memory. */
size_t pp_report_recommendations(const struct pp_report *report, size_t **order);

#endif
