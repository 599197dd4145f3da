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

#include "site.h"
#include "threshold.h"

enum pp_verdict_kind {
    PP_VERDICT_NO_POOL, /* the default: some check failed (see the rows) */
    PP_VERDICT_POOL,    /* a free list of fixed-size objects */
    PP_VERDICT_POOL_CAPPED, /* a free list that drops objects above cap_bytes */
    PP_VERDICT_TIERED,  /* one free list per size class */
    PP_VERDICT_PRESIZE, /* allocate the final size up front instead of growing by realloc */
    PP_VERDICT_STACK,   /* small and freed where allocated: automatic storage or a reused buffer */
};

/* "pool", "pool-capped", "tiered", "presize", "stack", "no-pool". */
const char *pp_verdict_name(enum pp_verdict_kind kind);

/* The thresholds. Defaults and the reason for each are in checklist.c's table. */
struct pp_thresholds {
    double min_share;          /* frequency: share of all allocations */
    double min_rate;           /* frequency: allocations per second */
    double consistency_share;  /* share within 2x of the median */
    double max_spread;         /* max size / min size */
    double big_enough_bytes;   /* median size at which a free list beats malloc+free */
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
    uint64_t upper_bytes; /* class upper bound: the tier's largest size rounded up to 2^k */
    double share;         /* of the site's allocations */
};

#define PP_MAX_TIERS 4

struct pp_verdict {
    enum pp_verdict_kind kind;
    const char *reason;        /* no-pool: the first failed check, in words ("too rare",
                                  "retained", "long-lived", "sizes too spread", "too small",
                                  "low reuse"); NULL for the other verdicts */
    size_t nchecks;
    struct pp_check checks[12];
    int failed_check;          /* index of the first failed pooling row, -1 when none */
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
    /* all: what acting on the verdict saves, for ranking recommendations */
    uint64_t allocs_saved;     /* allocations (or realloc calls) that go away */
};

/* Judge site within report context: total allocations of the report and its duration. */
void pp_judge(const struct pp_site *site, uint64_t total_allocs, uint64_t duration_ns,
              const struct pp_thresholds *t, struct pp_verdict *out);

struct pp_report;

/* Judge every site of a report into report->verdicts (allocated; freed by pp_report_free).
 * -1 on out of memory. */
int pp_report_judge(struct pp_report *report, const struct pp_thresholds *t);

/* Indexes of the report's sites with a verdict other than no-pool, most allocations saved
 * first, into *order (malloc'd); returns how many, (size_t)-1 on out of memory. */
size_t pp_report_recommendations(const struct pp_report *report, size_t **order);

#endif
