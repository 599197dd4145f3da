/* test_gate.c — the regression gate's rules on summaries made in memory: every threshold
 * exactly at its edge (passes) and one allocation or byte beyond it (fails), per-op comparison,
 * improvements, new and gone sites, suppressions, threshold parsing; and loading JSON
 * baselines: good ones, and junk, truncated, mistyped or partial ones refused with a message. */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "check.h"
#include "gate.h"
#include "suppress.h"

/* ---- building summaries ---- */

static void add_site(struct pp_summary *s, const char *key, uint64_t allocs, uint64_t bytes)
{
    struct pp_summary_site *sites = realloc(s->sites, (s->nsites + 1) * sizeof *sites);
    if (!sites)
        abort();
    s->sites = sites;
    struct pp_summary_site *site = &s->sites[s->nsites++];
    memset(site, 0, sizeof *site);
    site->key = strdup(key);
    const char *hash = strchr(key, '#');
    site->function = hash ? strndup(key, (size_t)(hash - key)) : strdup(key);
    site->file = strdup("app.c");
    site->line = 10 + (unsigned)s->nsites;
    site->allocs = allocs;
    site->bytes = bytes;
}

/* A run of `allocs` allocations: one site "hot" with all of them but `tail`, which go to the
 * site "tail"; `bytes` bytes in total, `peak` peak live bytes. */
static void make_run(struct pp_summary *s, uint64_t allocs, uint64_t tail, uint64_t bytes,
                     uint64_t peak)
{
    memset(s, 0, sizeof *s);
    s->source = strdup("memory");
    s->allocs = allocs;
    s->bytes = bytes;
    s->peak_live_bytes = peak;
    s->has_peak = true;
    s->sample_every = 1;
    add_site(s, "hot", allocs - tail, bytes);
    if (tail)
        add_site(s, "tail", tail, 0);
}

static void index_run(struct pp_summary *s)
{
    char err[256];
    if (pp_summary_index(s, err, sizeof err))
        abort();
}

/* Compare and return the result's outcome for `check` (and key, for sites): the row's
 * outcome, or PP_GATE_UNCHANGED when the check produced no row. *passed gets the verdict. */
static enum pp_gate_outcome outcome_of(struct pp_summary *b, struct pp_summary *c,
                                       const struct pp_gate_thresholds *t,
                                       const struct pp_suppressions *sup,
                                       enum pp_gate_check check, const char *key, bool *passed)
{
    struct pp_gate_result r;
    index_run(b);
    index_run(c);
    if (pp_gate_compare(b, c, t, sup, &r))
        abort();
    enum pp_gate_outcome o = PP_GATE_UNCHANGED;
    for (size_t i = 0; i < r.nrows; i++)
        if (r.rows[i].check == check &&
            (key == NULL || (r.rows[i].key && strcmp(r.rows[i].key, key) == 0)))
            o = r.rows[i].outcome;
    if (passed)
        *passed = r.passed;
    pp_gate_result_free(&r);
    return o;
}

static const char *outcome_name(enum pp_gate_outcome o)
{
    switch (o) {
    case PP_GATE_REGRESSION: return "regression";
    case PP_GATE_SUPPRESSED: return "suppressed";
    case PP_GATE_IMPROVEMENT: return "improvement";
    case PP_GATE_UNCHANGED: break;
    }
    return "unchanged";
}

#define CHECK_OUTCOME(got, want, ...)                                                          \
    do {                                                                                       \
        enum pp_gate_outcome got_ = (got), want_ = (want);                                     \
        CHECK(got_ == want_, __VA_ARGS__);                                                     \
        if (got_ != want_)                                                                     \
            printf("    got %s, expected %s\n", outcome_name(got_), outcome_name(want_));      \
    } while (0)

/* One total at and around its edge: baseline `base`, current base x (1 + t) exactly passes,
 * one more fails; the mirror image for improvements. `which` selects the total. */
enum total { ALLOCS, BYTES, PEAK };

static void run_with(struct pp_summary *s, enum total which, uint64_t v)
{
    /* A big run so that the other totals and the site stay where they are. */
    make_run(s, which == ALLOCS ? v : 100000, 0, which == BYTES ? v : 1000000,
             which == PEAK ? v : 50000);
}

static void total_edge(const char *name, enum total which, enum pp_gate_check check,
                       uint64_t base, uint64_t edge)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    t.site_allocs = INFINITY; /* the one site follows the total; judge the total alone */
    struct pp_summary b, c;
    bool passed;

    run_with(&b, which, base);
    run_with(&c, which, edge);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, check, NULL, &passed), PP_GATE_UNCHANGED,
                  "%s: %llu -> %llu (exactly at the threshold) is not a regression", name,
                  (unsigned long long)base, (unsigned long long)edge);
    CHECK(passed, "%s: exactly at the threshold passes the gate", name);
    pp_summary_free(&c);

    run_with(&c, which, edge + 1);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, check, NULL, &passed), PP_GATE_REGRESSION,
                  "%s: %llu -> %llu (one over) is a regression", name,
                  (unsigned long long)base, (unsigned long long)edge + 1);
    CHECK(!passed, "%s: one over fails the gate", name);
    pp_summary_free(&c);

    run_with(&c, which, edge - 1);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, check, NULL, NULL), PP_GATE_UNCHANGED,
                  "%s: one under the threshold is unchanged", name);
    pp_summary_free(&c);
    pp_summary_free(&b);

    /* Improvements mirror regressions: baseline edge, current base is exactly at the edge. */
    run_with(&b, which, edge);
    run_with(&c, which, base);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, check, NULL, NULL), PP_GATE_UNCHANGED,
                  "%s: %llu -> %llu is not yet an improvement", name, (unsigned long long)edge,
                  (unsigned long long)base);
    pp_summary_free(&b);
    run_with(&b, which, edge + 1);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, check, NULL, NULL), PP_GATE_IMPROVEMENT,
                  "%s: %llu -> %llu is an improvement", name, (unsigned long long)edge + 1,
                  (unsigned long long)base);
    pp_summary_free(&b);
    pp_summary_free(&c);
}

static void test_total_edges(void)
{
    total_edge("total_allocs +5%", ALLOCS, PP_GATE_TOTAL_ALLOCS, 1000, 1050);
    total_edge("total_allocs +5% at 20000", ALLOCS, PP_GATE_TOTAL_ALLOCS, 20000, 21000);
    total_edge("total_bytes +10%", BYTES, PP_GATE_TOTAL_BYTES, 10000, 11000);
    /* 1.1 is 1.100000000000000088 in binary: floating point would move this edge. */
    total_edge("total_bytes +10% at 100", BYTES, PP_GATE_TOTAL_BYTES, 100, 110);
    total_edge("peak_live_bytes +10%", PEAK, PP_GATE_PEAK_LIVE_BYTES, 4096000, 4505600);
}

/* A threshold whose decimal has no exact binary form: the edge must still be exact. */
static void test_inexact_threshold(void)
{
    struct pp_gate_thresholds t;
    char err[256];
    pp_gate_thresholds_default(&t);
    CHECK(pp_gate_thresholds_set(&t, "total_allocs=0.15", err, sizeof err) == 0,
          "total_allocs=0.15 accepted");
    t.site_allocs = INFINITY;
    struct pp_summary b, c;
    make_run(&b, 100, 0, 1000, 100);
    make_run(&c, 115, 0, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_TOTAL_ALLOCS, NULL, NULL),
                  PP_GATE_UNCHANGED, "+15%% exactly (100 -> 115, 1.15 is inexact) passes");
    pp_summary_free(&c);
    make_run(&c, 116, 0, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_TOTAL_ALLOCS, NULL, NULL),
                  PP_GATE_REGRESSION, "100 -> 116 at +15%% fails");
    pp_summary_free(&c);
    pp_summary_free(&b);
}

/* site_allocs at +10%, for a site holding well over site_min_share. */
static void test_site_edge(void)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    t.total_allocs = t.total_bytes = INFINITY;
    struct pp_summary b, c;
    bool passed;
    make_run(&b, 100000, 1000, 1000, 100); /* tail: 1000 of 100000 = 1% */
    make_run(&c, 100100, 1100, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", &passed),
                  PP_GATE_UNCHANGED, "site_allocs: 1000 -> 1100 (exactly +10%%) passes");
    CHECK(passed, "site_allocs: the gate passes at the edge");
    pp_summary_free(&c);
    make_run(&c, 100101, 1101, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", &passed),
                  PP_GATE_REGRESSION, "site_allocs: 1000 -> 1101 fails");
    CHECK(!passed, "site_allocs: the gate fails one over the edge");
    pp_summary_free(&c);
    pp_summary_free(&b);
    /* The mirror image: 1100 -> 1000 is exactly at the edge (1000 x 1.1), not yet better. */
    make_run(&b, 100100, 1100, 1000, 100);
    make_run(&c, 100000, 1000, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_UNCHANGED, "site_allocs: 1100 -> 1000 is not yet an improvement");
    pp_summary_free(&b);
    make_run(&b, 100101, 1101, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_IMPROVEMENT, "site_allocs: 1101 -> 1000 is an improvement");
    pp_summary_free(&c);
    pp_summary_free(&b);
}

/* site_min_share: a site is gated from 0.5% of all allocations, in either run. */
static void test_site_min_share_edge(void)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    t.total_allocs = t.total_bytes = INFINITY;
    struct pp_summary b, c;
    /* Baseline: 50 of 10000 = 0.5% exactly; current: 100 of 100000 = 0.1%. */
    make_run(&b, 10000, 50, 1000, 100);
    make_run(&c, 100000, 100, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_REGRESSION, "site_min_share: a site at exactly 0.5%% is gated");
    pp_summary_free(&b);
    make_run(&b, 10001, 50, 1000, 100); /* 50 of 10001: just under 0.5% */
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_UNCHANGED, "site_min_share: a site just under 0.5%% is not gated");
    pp_summary_free(&c);
    pp_summary_free(&b);
    /* The share of the current run counts too: 0.1% before, 0.5% now. */
    make_run(&b, 100000, 100, 1000, 100);
    make_run(&c, 100000, 500, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_REGRESSION, "site_min_share: a site grown to 0.5%% is gated");
    pp_summary_free(&c);
    make_run(&c, 100000, 499, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", NULL),
                  PP_GATE_UNCHANGED, "site_min_share: a site grown to 0.499%% is not gated");
    pp_summary_free(&c);
    pp_summary_free(&b);
}

/* new_site_share: a new site fails from 1% of the current run's allocations. */
static void test_new_site_edge(void)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    t.total_allocs = t.total_bytes = INFINITY;
    struct pp_summary b, c;
    bool passed;
    make_run(&b, 10000, 0, 1000, 100);
    make_run(&c, 10000, 100, 1000, 100); /* "tail" is new: 100 of 10000 = 1% */
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_NEW_SITE, "tail", &passed),
                  PP_GATE_REGRESSION, "new_site_share: a new site at exactly 1%% fails");
    CHECK(!passed, "new_site_share: the gate fails");
    pp_summary_free(&c);
    make_run(&c, 10000, 99, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_NEW_SITE, "tail", &passed),
                  PP_GATE_UNCHANGED, "new_site_share: a new site at 0.99%% passes");
    CHECK(passed, "new_site_share: the gate passes");
    pp_summary_free(&c);
    pp_summary_free(&b);

    /* Gone: a baseline site holding site_min_share that the current run lacks. */
    make_run(&b, 10000, 100, 1000, 100);
    make_run(&c, 10000, 0, 1000, 100);
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_GONE_SITE, "tail", &passed),
                  PP_GATE_IMPROVEMENT, "a gone site is an improvement");
    CHECK(passed, "a gone site passes the gate");
    pp_summary_free(&c);
    pp_summary_free(&b);
}

/* Per operation: twice the operations with twice the allocations is no change; the edge is
 * per op; without ops on both sides, whole-run counts are compared. */
static void test_per_op(void)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    struct pp_summary b, c;
    struct pp_gate_result r;
    bool passed;
    make_run(&b, 1000, 0, 64000, 100);
    b.ops = 1000;
    make_run(&c, 2000, 0, 128000, 100);
    c.ops = 2000;
    index_run(&b);
    index_run(&c);
    CHECK(pp_gate_compare(&b, &c, &t, NULL, &r) == 0 && r.per_op && r.passed,
          "2x ops with 2x allocations passes per op");
    CHECK(r.nnotes > 0 && strstr(r.notes[0], "per operation") != NULL,
          "the result says it compared per operation");
    pp_gate_result_free(&r);
    c.ops = 0;
    CHECK(pp_gate_compare(&b, &c, &t, NULL, &r) == 0 && !r.per_op && !r.passed,
          "the same without ops on the current side fails");
    pp_gate_result_free(&r);
    pp_summary_free(&c);

    /* 1 alloc/op -> 1.05 allocs/op at 2000 ops: 2100 passes, 2101 fails. */
    t.site_allocs = INFINITY;
    make_run(&c, 2100, 0, 128000, 100);
    c.ops = 2000;
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_TOTAL_ALLOCS, NULL, &passed),
                  PP_GATE_UNCHANGED, "per op: 1.05 allocs/op (exactly +5%%) passes");
    pp_summary_free(&c);
    make_run(&c, 2101, 0, 128000, 100);
    c.ops = 2000;
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_TOTAL_ALLOCS, NULL, &passed),
                  PP_GATE_REGRESSION, "per op: 2101 allocs in 2000 ops fails");
    pp_summary_free(&c);
    /* Peak live bytes are never per op. */
    make_run(&c, 2000, 0, 128000, 200);
    c.ops = 2000;
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_PEAK_LIVE_BYTES, NULL, NULL),
                  PP_GATE_REGRESSION, "per op: peak live bytes are compared as measured");
    pp_summary_free(&c);
    pp_summary_free(&b);
}

static void test_suppressions(void)
{
    struct pp_gate_thresholds t;
    pp_gate_thresholds_default(&t);
    struct pp_suppressions sup = {0};
    struct pp_summary b, c;
    bool passed;
    CHECK(pp_suppressions_add(&sup, "ta*") == 0, "pattern added");
    make_run(&b, 10000, 1000, 1000, 100);
    make_run(&c, 11000, 2000, 1000, 100); /* tail doubles; totals +10% because of it */
    CHECK_OUTCOME(outcome_of(&b, &c, &t, NULL, PP_GATE_SITE_ALLOCS, "tail", &passed),
                  PP_GATE_REGRESSION, "unsuppressed: the doubled site regresses");
    CHECK(!passed, "unsuppressed: the gate fails");
    CHECK_OUTCOME(outcome_of(&b, &c, &t, &sup, PP_GATE_SITE_ALLOCS, "tail", &passed),
                  PP_GATE_SUPPRESSED, "suppressed: listed as suppressed");
    CHECK_OUTCOME(outcome_of(&b, &c, &t, &sup, PP_GATE_TOTAL_ALLOCS, NULL, NULL),
                  PP_GATE_UNCHANGED, "suppressed: its allocations are out of the totals");
    CHECK(passed, "suppressed: the gate passes");
    pp_summary_free(&c);
    pp_summary_free(&b);

    CHECK(pp_suppressions_match(&sup, "tail#2", "tail"), "a pattern matches a key with ordinal");
    CHECK(!pp_suppressions_match(&sup, "hot", "hot"), "a pattern does not match another site");
    CHECK(!pp_suppressions_match(NULL, "tail", "tail"), "no suppressions match nothing");
    pp_suppressions_free(&sup);

    char path[] = "/tmp/poolprobe-test-gate-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "# accepted on purpose\n\n  parse#2  \n   # indented comment\nio_*\n";
    CHECK(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1),
          "suppressions file written");
    if (fd >= 0)
        close(fd);
    char err[256];
    CHECK(pp_suppressions_load(&sup, path, err, sizeof err) == 0 && sup.npatterns == 2,
          "two patterns read, comments and blank lines skipped");
    CHECK(sup.npatterns == 2 && strcmp(sup.patterns[0], "parse#2") == 0 &&
              strcmp(sup.patterns[1], "io_*") == 0,
          "'parse#2' is a pattern (its '#' is not first), blanks trimmed");
    pp_suppressions_free(&sup);
    unlink(path);
    CHECK(pp_suppressions_load(&sup, path, err, sizeof err) == -1 &&
              strstr(err, "cannot open") != NULL,
          "a missing suppressions file is refused: %s", err);
    pp_suppressions_free(&sup);
}

static void test_threshold_parsing(void)
{
    struct pp_gate_thresholds t;
    char err[256];
    pp_gate_thresholds_default(&t);
    CHECK(t.total_allocs == 0.05 && t.total_bytes == 0.10 && t.site_allocs == 0.10 &&
              t.site_min_share == 0.005 && t.new_site_share == 0.01 &&
              t.peak_live_bytes == 0.10,
          "defaults as documented");
    CHECK(pp_gate_thresholds_set(&t, "peak_live_bytes=off", err, sizeof err) == 0 &&
              isinf(t.peak_live_bytes),
          "NAME=off disables a check");
    CHECK(pp_gate_thresholds_set(&t, "site_allocs=0.25", err, sizeof err) == 0 &&
              t.site_allocs == 0.25,
          "NAME=VALUE sets it");
    CHECK(pp_gate_thresholds_set(&t, "site_allocs=-1", err, sizeof err) == -1,
          "a negative value is refused");
    CHECK(pp_gate_thresholds_set(&t, "site_allocs=x", err, sizeof err) == -1,
          "a non-number is refused");
    CHECK(pp_gate_thresholds_set(&t, "site_allocs", err, sizeof err) == -1,
          "a missing value is refused");
    CHECK(pp_gate_thresholds_set(&t, "min_share=1", err, sizeof err) == -1 &&
              strstr(err, "unknown gate threshold") != NULL,
          "a checklist threshold is not a gate threshold");
    for (size_t i = 0; i < pp_gate_threshold_count; i++)
        CHECK(pp_gate_threshold_table[i].why && strlen(pp_gate_threshold_table[i].why) > 20,
              "threshold %s documents its reason", pp_gate_threshold_table[i].name);

    struct pp_summary b, c;
    struct pp_gate_result r;
    make_run(&b, 1000, 0, 1000, 100);
    make_run(&c, 1000, 0, 1000, 100000);
    index_run(&b);
    index_run(&c);
    CHECK(pp_gate_compare(&b, &c, &t, NULL, &r) == 0 && r.passed,
          "a disabled check does not fail the gate");
    pp_gate_result_free(&r);
    pp_summary_free(&c);
    pp_summary_free(&b);
}

/* ---- JSON baselines ---- */

static const char good_json[] =
    "{\"format\": \"poolprobe-report\", \"version\": 1,"
    " \"processes\": [{\"pid\": 1, \"ops\": 300, \"snapshot\": false},"
    "                 {\"pid\": 2, \"ops\": 200}],"
    " \"totals\": {\"allocs\": 1500, \"frees\": 1500, \"bytes\": 64000,"
    "              \"peak_live_bytes\": 4096},"
    " \"site_count\": 2,"
    " \"sites\": [{\"key\": \"render#2\", \"allocs\": 500, \"bytes\": 32000,"
    "              \"frames\": [{\"function\": \"render\", \"file\": \"app.c\", \"line\": 9}]},"
    "             {\"key\": \"parse\", \"allocs\": 1000, \"bytes\": 32000,"
    "              \"peak_live_bytes\": 64, \"frames\": []}]}";

static int load(struct pp_summary *s, const char *json, char *err, size_t errlen)
{
    return pp_summary_load_json_buffer(s, "base.json", json, strlen(json), err, errlen);
}

static void refused(const char *what, const char *json, const char *expect)
{
    struct pp_summary s;
    char err[512] = "";
    int rc = load(&s, json, err, sizeof err);
    CHECK(rc == -1 && strstr(err, expect) != NULL, "%s is refused: %s", what, err);
    if (rc == 0)
        pp_summary_free(&s);
}

static void test_json(void)
{
    struct pp_summary s;
    char err[512] = "";
    CHECK(load(&s, good_json, err, sizeof err) == 0, "a good baseline loads (%s)", err);
    CHECK_U64(s.allocs, 1500, "totals.allocs");
    CHECK_U64(s.bytes, 64000, "totals.bytes");
    CHECK(s.has_peak && s.peak_live_bytes == 4096, "totals.peak_live_bytes");
    CHECK_U64(s.ops, 500, "ops summed over processes when there is no top-level ops");
    CHECK_U64(s.nsites, 2, "two sites");
    const struct pp_summary_site *r2 = pp_summary_find(&s, "render#2");
    CHECK(r2 && r2->allocs == 500 && r2->line == 9 && strcmp(r2->function, "render") == 0 &&
              strcmp(r2->file, "app.c") == 0,
          "render#2 found by key, with its frame");
    CHECK(pp_summary_find(&s, "render") == NULL, "no site by a key it does not have");
    pp_summary_free(&s);

    char with_ops[sizeof good_json + 32];
    snprintf(with_ops, sizeof with_ops, "{\"ops\": 42, %s", good_json + 1);
    CHECK(load(&s, with_ops, err, sizeof err) == 0 && s.ops == 42,
          "a top-level ops (written by --ops) wins over the processes' ops");
    pp_summary_free(&s);

    /* Cut short at every length: never accepted, never a crash (ASan watches). */
    size_t len = strlen(good_json), accepted = 0;
    for (size_t cut = 0; cut < len; cut++)
        if (pp_summary_load_json_buffer(&s, "base.json", good_json, cut, err, sizeof err) == 0) {
            accepted++;
            pp_summary_free(&s);
        }
    CHECK_U64(accepted, 0, "no truncation of a baseline is accepted");

    refused("junk", "this is not JSON", "not a valid JSON document");
    refused("truncated", "{\"format\": \"poolprobe-report\", \"vers", "truncated: the JSON");
    refused("an empty document", "", "not a valid JSON document");
    refused("an array", "[1, 2]", "not a poolprobe-report JSON document");
    refused("another format", "{\"format\": \"poolprobe-gate\", \"version\": 1}",
            "not a poolprobe-report JSON document");
    refused("a newer version", "{\"format\": \"poolprobe-report\", \"version\": 2}",
            "report version 2");
    refused("no totals", "{\"format\": \"poolprobe-report\", \"version\": 1, \"sites\": []}",
            "\"totals\"");
    refused("a negative count",
            "{\"format\": \"poolprobe-report\", \"version\": 1, \"sites\": [],"
            " \"totals\": {\"allocs\": -1, \"bytes\": 0}}",
            "not a non-negative integer");
    refused("a string count",
            "{\"format\": \"poolprobe-report\", \"version\": 1, \"sites\": [],"
            " \"totals\": {\"allocs\": \"12\", \"bytes\": 0}}",
            "not a non-negative integer");
    refused("a site without a key",
            "{\"format\": \"poolprobe-report\", \"version\": 1,"
            " \"totals\": {\"allocs\": 1, \"bytes\": 1}, \"sites\": [{\"allocs\": 1, \"bytes\": 1}]}",
            "sites[0] has no \"key\"");
    refused("a site without allocs",
            "{\"format\": \"poolprobe-report\", \"version\": 1,"
            " \"totals\": {\"allocs\": 1, \"bytes\": 1}, \"sites\": [{\"key\": \"f\", \"bytes\": 1}]}",
            "sites[0] has no \"allocs\"");
    refused("a site listed twice",
            "{\"format\": \"poolprobe-report\", \"version\": 1,"
            " \"totals\": {\"allocs\": 2, \"bytes\": 2}, \"sites\": ["
            " {\"key\": \"f\", \"allocs\": 1, \"bytes\": 1},"
            " {\"key\": \"f\", \"allocs\": 1, \"bytes\": 1}]}",
            "listed twice");
    refused("a report written with --top",
            "{\"format\": \"poolprobe-report\", \"version\": 1, \"site_count\": 3,"
            " \"totals\": {\"allocs\": 1, \"bytes\": 1},"
            " \"sites\": [{\"key\": \"f\", \"allocs\": 1, \"bytes\": 1}]}",
            "lists 1 of its 3 sites");

    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    CHECK(pp_summary_load(&s, "/nonexistent/poolprobe/base.json", &opt, NULL, err,
                          sizeof err) == -1 &&
              strstr(err, "cannot open") != NULL,
          "a missing baseline is refused: %s", err);
}

int main(void)
{
    test_total_edges();
    test_inexact_threshold();
    test_site_edge();
    test_site_min_share_edge();
    test_new_site_edge();
    test_per_op();
    test_suppressions();
    test_threshold_parsing();
    test_json();
    return check_summary();
}
