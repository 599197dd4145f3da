/* baseline.h — what the regression gate knows about one run: its totals, the operations it
 * declared, and per site (by key) its allocation count, bytes and peak live bytes.
 *
 * Both sides of a comparison are put in this model: the baseline, read from a JSON report
 * (`poolprobe-report --format json` or `--write-baseline`, the small diffable file teams commit)
 * or from a trace; and the current run, from the report main builds. The gate (gate.h) compares
 * two summaries and never looks at traces, so it can be tested on summaries made in memory.
 *
 * Sites are identified by their key alone (sites.c: function names, "fn#2" for a second site
 * in one function), never by address or line, so a baseline survives code moving. A baseline
 * must be written with the same --group-by as the run it is compared with.
 */
#ifndef POOLPROBE_BASELINE_H
#define POOLPROBE_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sites.h"

struct pp_summary_site {
    char *key;      /* stable symbolic identity; owned */
    char *function; /* frames[0].function, for display; owned, NULL if unknown */
    char *file;     /* frames[0].file, for display and annotations; owned, NULL if unknown */
    unsigned line;  /* 0 if unknown */
    uint64_t allocs, bytes, peak_live_bytes;
};

struct pp_summary {
    char *source;             /* where it came from ("base.json", "trace.bin"), owned */
    uint64_t allocs, bytes;   /* totals of the run */
    uint64_t peak_live_bytes; /* process-wide peak (sum over processes when merged) */
    bool has_peak;            /* false: a hand-written JSON baseline without peak_live_bytes */
    uint64_t ops;             /* operations declared (poolprobe_ops, --ops); 0 = none */
    uint32_t sample_every;    /* largest 1-in-N sampling of its traces; 1 = exact counts */
    bool snapshot;            /* some trace was written before its process exited */
    bool stacks_estimated;    /* grouped by stack from site-mode traces: estimated figures */
    size_t nsites;            /* sorted by key (strcmp), keys unique */
    struct pp_summary_site *sites;
};

/* Summarize a built report. source is copied. Allocates; returns -1 on out of memory with a
 * message in err (the summary is left empty). */
int pp_summary_from_report(struct pp_summary *summary, const struct pp_report *report,
                           const char *source, char *err, size_t errlen);

/* Load the baseline at path: a trace (recognized by its magic) is read and grouped with
 * options, symbolized with warnings going to `warnings` (may be NULL); anything else must be a
 * poolprobe-report JSON document of version 1 listing all of its sites. Never prints an error:
 * returns -1 with one line in err saying what is wrong, without the file name (the caller adds
 * it). Allocates. */
/* The largest JSON baseline pp_summary_load reads (README, Limits): jansson takes about eight
 * times a document's size in memory. A report's JSON is about 9 KB a site, so this holds some
 * 14,000 sites; a trace used as the baseline is smaller and has its own limit. */
#define PP_BASELINE_JSON_MAX_BYTES (128ull << 20)

int pp_summary_load(struct pp_summary *summary, const char *path,
                    const struct pp_group_options *options, FILE *warnings, char *err,
                    size_t errlen);

/* Same, for a JSON document already in memory (len bytes, need not be NUL-terminated). */
int pp_summary_load_json_buffer(struct pp_summary *summary, const char *source,
                                const char *json, size_t len, char *err, size_t errlen);

/* The site with this key, or NULL. No allocation. */
const struct pp_summary_site *pp_summary_find(const struct pp_summary *summary, const char *key);

/* Sort the sites by key and check keys are unique (for summaries built by hand, as the unit
 * tests do). Returns -1 with a message in err when two sites share a key. */
int pp_summary_index(struct pp_summary *summary, char *err, size_t errlen);

void pp_summary_free(struct pp_summary *summary);

/* Write report as the JSON document --format json prints (all sites) to path, atomically: a
 * temporary file beside it, renamed over path once complete, so an interrupted update never
 * leaves half a baseline. Never prints: -1 with one line in err (without the file name). */
int pp_baseline_write(const char *path, const struct pp_report *report, char *err,
                      size_t errlen);

#endif
