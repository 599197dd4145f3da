/* report_gate.c — the gate's outputs (see report_gate.h).
 *
 * Numbers are exact: a gate is argued about one allocation at a time, so counts and bytes are
 * printed in full (humanized only beyond 12 digits) and per-op values with two decimals. The
 * text table is 76 columns wide; a site key that does not fit its column gets a line of its
 * own. The JSON is built with jansson, like the report's.
 */
#include "report_gate.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "numfmt.h"
#include "symbolize.h"

#define LINE_WIDTH 79
#define LABEL_WIDTH 28

static const enum pp_gate_outcome section_order[] = {
    PP_GATE_REGRESSION, PP_GATE_SUPPRESSED, PP_GATE_IMPROVEMENT, PP_GATE_UNCHANGED};

static bool is_site(const struct pp_gate_row *row)
{
    return row->key != NULL;
}

static bool per_op_row(const struct pp_gate_result *r, const struct pp_gate_row *row)
{
    return r->per_op && row->check != PP_GATE_PEAK_LIVE_BYTES;
}

/* Is the row shown in section `outcome`? Unchanged sites are not listed at all. */
static bool in_section(const struct pp_gate_row *row, enum pp_gate_outcome outcome)
{
    return row->outcome == outcome && !(outcome == PP_GATE_UNCHANGED && is_site(row));
}

static size_t count_in_section(const struct pp_gate_result *r, enum pp_gate_outcome outcome)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nrows; i++)
        n += in_section(&r->rows[i], outcome);
    return n;
}

static const char *section_title(enum pp_gate_outcome outcome)
{
    switch (outcome) {
    case PP_GATE_REGRESSION: return "Regressions";
    case PP_GATE_SUPPRESSED: return "Suppressed (accepted by --suppress, not failing)";
    case PP_GATE_IMPROVEMENT: return "Improvements";
    case PP_GATE_UNCHANGED: break;
    }
    return "Unchanged totals";
}

/* The compared value of one side: a count in full, or a per-op value. */
static char *value_text(char *buf, size_t len, const struct pp_gate_result *r,
                        const struct pp_gate_row *row, bool current)
{
    bool missing = current ? row->check == PP_GATE_GONE_SITE : row->check == PP_GATE_NEW_SITE;
    if (missing) {
        snprintf(buf, len, "-");
        return buf;
    }
    uint64_t count = current ? row->current : row->baseline;
    if (per_op_row(r, row)) {
        double v = current ? row->current_value : row->baseline_value;
        if (v < 1e9)
            snprintf(buf, len, "%.2f", v);
        else
            pp_human_count(buf, len, v);
        return buf;
    }
    if (count < UINT64_C(1000000000000))
        snprintf(buf, len, "%" PRIu64, count);
    else
        pp_human_count(buf, len, (double)count);
    return buf;
}

static char *change_text(char *buf, size_t len, const struct pp_gate_row *row)
{
    if (row->check == PP_GATE_NEW_SITE)
        snprintf(buf, len, "new");
    else if (row->check == PP_GATE_GONE_SITE)
        snprintf(buf, len, "gone");
    else if (isinf(row->change))
        snprintf(buf, len, "from 0");
    else if (row->change != 0 && fabs(row->change) < 0.001)
        snprintf(buf, len, "%+.2f%%", row->change * 100);
    else
        snprintf(buf, len, "%+.1f%%", row->change * 100);
    return buf;
}

static char *threshold_text(char *buf, size_t len, const struct pp_gate_row *row)
{
    if (isinf(row->threshold))
        snprintf(buf, len, "off");
    else if (row->check == PP_GATE_NEW_SITE)
        snprintf(buf, len, "share>=%g%%", row->threshold * 100);
    else if (row->check == PP_GATE_GONE_SITE)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "+%g%%", row->threshold * 100);
    return buf;
}

/* "gate.c:57" for a site row's current (else baseline) location; "" when unknown. */
static char *where_text(char *buf, size_t len, const struct pp_gate_row *row)
{
    const struct pp_summary_site *s = row->current_site ? row->current_site : row->baseline_site;
    buf[0] = '\0';
    if (s && s->file && s->line)
        snprintf(buf, len, "%s:%u", pp_basename(s->file), s->line);
    else if (s && s->file)
        snprintf(buf, len, "%s", pp_basename(s->file));
    return buf;
}

static const char *row_label(const struct pp_gate_result *r, const struct pp_gate_row *row)
{
    return is_site(row) ? row->key : pp_gate_check_label(row->check, per_op_row(r, row));
}

/* Print text wrapped to LINE_WIDTH, the first line after `first`, the others after `indent`. */
static void wrapped(FILE *out, const char *first, const char *indent, const char *text);

static void summary_line(FILE *out, const char *name, const struct pp_summary *s)
{
    char text[1024], ops[48] = "";
    if (s->ops)
        snprintf(ops, sizeof ops, ", %" PRIu64 " ops", s->ops);
    snprintf(text, sizeof text, "%s (%zu sites, %" PRIu64 " allocs, %" PRIu64 " bytes%s)",
             s->source, s->nsites, s->allocs, s->bytes, ops);
    wrapped(out, name, "          ", text);
}

static void wrapped(FILE *out, const char *first, const char *indent, const char *text)
{
    size_t col = strlen(first);
    fputs(first, out);
    bool line_start = true;
    while (*text) {
        while (*text == ' ')
            text++;
        size_t word = strcspn(text, " ");
        if (word == 0)
            break;
        if (!line_start && col + 1 + word > LINE_WIDTH) {
            fprintf(out, "\n%s", indent);
            col = strlen(indent);
            line_start = true;
        }
        if (!line_start) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += word;
        text += word;
        line_start = false;
    }
    fputc('\n', out);
}

static void text_row(FILE *out, const struct pp_gate_result *r, const struct pp_gate_row *row)
{
    char base[32], cur[32], change[32], threshold[32], where[300];
    const char *label = row_label(r, row);
    if (strlen(label) > LABEL_WIDTH) {
        fprintf(out, "  %s\n", label);
        label = "";
    }
    fprintf(out, "  %-*s %12s %12s %8s %10s\n", LABEL_WIDTH, label,
            value_text(base, sizeof base, r, row, false),
            value_text(cur, sizeof cur, r, row, true), change_text(change, sizeof change, row),
            threshold_text(threshold, sizeof threshold, row));
    if (!is_site(row))
        return;
    char detail[400];
    where_text(where, sizeof where, row);
    snprintf(detail, sizeof detail, "%s%s%s%.2f%% of allocations%s",
             row->check == PP_GATE_NEW_SITE    ? "new site, "
             : row->check == PP_GATE_GONE_SITE ? "gone, "
                                               : "",
             where, where[0] ? ", " : "", row->share * 100,
             row->check == PP_GATE_GONE_SITE ? " in the baseline" : "");
    wrapped(out, "      ", "      ", detail);
}

void pp_gate_text(FILE *out, const struct pp_gate_result *r, const struct pp_summary *b,
                  const struct pp_summary *c)
{
    fprintf(out, "poolprobe gate: %s - %zu regression%s", r->passed ? "passed" : "FAILED",
            r->nregressions, r->nregressions == 1 ? "" : "s");
    if (r->nsuppressed)
        fprintf(out, ", %zu suppressed", r->nsuppressed);
    fprintf(out, ", %zu improvement%s\n", r->nimprovements, r->nimprovements == 1 ? "" : "s");
    summary_line(out, "baseline: ", b);
    summary_line(out, "current:  ", c);
    for (size_t i = 0; i < r->nnotes; i++)
        wrapped(out, "note: ", "      ", r->notes[i]);
    for (size_t k = 0; k < sizeof section_order / sizeof section_order[0]; k++) {
        enum pp_gate_outcome outcome = section_order[k];
        if (count_in_section(r, outcome) == 0)
            continue;
        fprintf(out, "\n%s:\n  %-*s %12s %12s %8s %10s\n", section_title(outcome), LABEL_WIDTH,
                "", "baseline", "current", "change", "threshold");
        for (size_t i = 0; i < r->nrows; i++)
            if (in_section(&r->rows[i], outcome))
                text_row(out, r, &r->rows[i]);
    }
}

/* ---- markdown ---- */

/* s inside a table cell's code span: '|' escaped (GFM splits cells on it even there), a
 * backquote (would end the span) shown as a quote. */
static void md_code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '`')
            fputc('\'', out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('`', out);
}

static void md_row(FILE *out, const struct pp_gate_result *r, const struct pp_gate_row *row)
{
    char base[32], cur[32], change[32], threshold[32], where[300];
    fputs("| ", out);
    if (is_site(row)) {
        if (row->check == PP_GATE_NEW_SITE)
            fputs("new ", out);
        else if (row->check == PP_GATE_GONE_SITE)
            fputs("gone ", out);
        md_code(out, row->key);
        where_text(where, sizeof where, row);
        fprintf(out, " | %s%s%.2f%% | ", where, where[0] ? ", " : "", row->share * 100);
    } else {
        fprintf(out, "%s | | ", row_label(r, row));
    }
    fprintf(out, "%s | %s | %s | %s |\n", value_text(base, sizeof base, r, row, false),
            value_text(cur, sizeof cur, r, row, true), change_text(change, sizeof change, row),
            threshold_text(threshold, sizeof threshold, row));
}

static void md_source(FILE *out, const char *name, const struct pp_summary *s)
{
    fprintf(out, "%s ", name);
    md_code(out, s->source);
    fprintf(out, " (%zu sites, %" PRIu64 " allocs", s->nsites, s->allocs);
    if (s->ops)
        fprintf(out, ", %" PRIu64 " ops", s->ops);
    fputs(")", out);
}

void pp_gate_markdown(FILE *out, const struct pp_gate_result *r, const struct pp_summary *b,
                      const struct pp_summary *c)
{
    if (r->passed)
        fputs("### poolprobe: no allocation regression\n\n", out);
    else
        fprintf(out, "### poolprobe: %zu allocation regression%s\n\n", r->nregressions,
                r->nregressions == 1 ? "" : "s");
    md_source(out, "Baseline", b);
    md_source(out, ", current", c);
    fputs(".\n", out);
    for (size_t k = 0; k < sizeof section_order / sizeof section_order[0]; k++) {
        enum pp_gate_outcome outcome = section_order[k];
        if (count_in_section(r, outcome) == 0)
            continue;
        fprintf(out, "\n**%s**\n\n", section_title(outcome));
        fputs("| what | where, share | baseline | current | change | threshold |\n"
              "| --- | --- | ---: | ---: | ---: | ---: |\n",
              out);
        for (size_t i = 0; i < r->nrows; i++)
            if (in_section(&r->rows[i], outcome))
                md_row(out, r, &r->rows[i]);
    }
    if (r->nnotes)
        fputc('\n', out);
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "> %s\n", r->notes[i]);
}

/* ---- JSON ---- */

static void set(json_t *obj, const char *name, json_t *value, int *failed)
{
    if (!obj || !value || json_object_set_new(obj, name, value) != 0)
        *failed = 1;
}

static void append(json_t *arr, json_t *value, int *failed)
{
    if (!arr || !value || json_array_append_new(arr, value) != 0)
        *failed = 1;
}

static json_t *integer(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A finite real, or null (an infinite change or a disabled threshold). */
static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static const char *check_id(enum pp_gate_check check)
{
    switch (check) {
    case PP_GATE_TOTAL_ALLOCS: return "total_allocs";
    case PP_GATE_TOTAL_BYTES: return "total_bytes";
    case PP_GATE_PEAK_LIVE_BYTES: return "peak_live_bytes";
    case PP_GATE_SITE_ALLOCS: return "site_allocs";
    case PP_GATE_NEW_SITE: return "new_site";
    case PP_GATE_GONE_SITE: break;
    }
    return "gone_site";
}

/* The name of a total in "totals": "allocs", "bytes", "peak_live_bytes". */
static const char *total_id(enum pp_gate_check check)
{
    return check == PP_GATE_TOTAL_ALLOCS  ? "allocs"
           : check == PP_GATE_TOTAL_BYTES ? "bytes"
                                          : "peak_live_bytes";
}

static const char *outcome_id(enum pp_gate_outcome outcome)
{
    switch (outcome) {
    case PP_GATE_REGRESSION: return "regression";
    case PP_GATE_SUPPRESSED: return "suppressed";
    case PP_GATE_IMPROVEMENT: return "improvement";
    case PP_GATE_UNCHANGED: break;
    }
    return "unchanged";
}

static json_t *row_json(const struct pp_gate_result *r, const struct pp_gate_row *row,
                        int *failed)
{
    json_t *o = json_object();
    set(o, "check", json_string(check_id(row->check)), failed);
    set(o, "status", json_string(outcome_id(row->outcome)), failed);
    if (is_site(row)) {
        const struct pp_summary_site *s =
            row->current_site ? row->current_site : row->baseline_site;
        set(o, "site", json_string(row->key), failed);
        set(o, "function", s->function ? json_string(s->function) : json_null(), failed);
        set(o, "file", s->file ? json_string(s->file) : json_null(), failed);
        set(o, "line", json_integer(s->line), failed);
        set(o, "share", json_real(row->share), failed);
    }
    set(o, "baseline", integer(row->baseline), failed);
    set(o, "current", integer(row->current), failed);
    if (per_op_row(r, row)) {
        set(o, "baseline_per_op", json_real(row->baseline_value), failed);
        set(o, "current_per_op", json_real(row->current_value), failed);
    }
    set(o, "change", row->check == PP_GATE_NEW_SITE ? json_null() : real_or_null(row->change),
        failed);
    set(o, "threshold", real_or_null(row->threshold), failed);
    set(o, "threshold_name", json_string(pp_gate_check_threshold_name(row->check)), failed);
    return o;
}

static json_t *side_json(const struct pp_summary *s, int *failed)
{
    json_t *o = json_object();
    set(o, "source", json_string(s->source), failed);
    set(o, "sites", integer(s->nsites), failed);
    set(o, "allocs", integer(s->allocs), failed);
    set(o, "bytes", integer(s->bytes), failed);
    set(o, "peak_live_bytes", s->has_peak ? integer(s->peak_live_bytes) : json_null(), failed);
    set(o, "ops", integer(s->ops), failed);
    set(o, "sample_every", integer(s->sample_every), failed);
    set(o, "snapshot", json_boolean(s->snapshot), failed);
    return o;
}

int pp_gate_json(FILE *out, const struct pp_gate_result *r, const struct pp_summary *b,
                 const struct pp_summary *c, const struct pp_gate_thresholds *t)
{
    int failed = 0;
    json_t *root = json_object();
    set(root, "format", json_string("poolprobe-gate"), &failed);
    set(root, "version", json_integer(PP_GATE_JSON_VERSION), &failed);
    set(root, "passed", json_boolean(r->passed), &failed);
    set(root, "per_op", json_boolean(r->per_op), &failed);
    set(root, "baseline", side_json(b, &failed), &failed);
    set(root, "current", side_json(c, &failed), &failed);
    json_t *thresholds = json_object();
    for (size_t i = 0; i < pp_gate_threshold_count; i++) {
        double v = pp_threshold_value(&pp_gate_threshold_table[i], t);
        set(thresholds, pp_gate_threshold_table[i].name, real_or_null(v), &failed);
    }
    set(root, "thresholds", thresholds, &failed);
    json_t *lists[3] = {json_array(), json_array(), json_array()};
    json_t *totals = json_object();
    for (size_t i = 0; i < r->nrows; i++) {
        const struct pp_gate_row *row = &r->rows[i];
        if (!is_site(row))
            set(totals, total_id(row->check), row_json(r, row, &failed), &failed);
        if (row->outcome != PP_GATE_UNCHANGED)
            append(lists[row->outcome == PP_GATE_REGRESSION   ? 0
                         : row->outcome == PP_GATE_SUPPRESSED ? 1
                                                              : 2],
                   row_json(r, row, &failed), &failed);
    }
    set(root, "regressions", lists[0], &failed);
    set(root, "suppressed", lists[1], &failed);
    set(root, "improvements", lists[2], &failed);
    set(root, "totals", totals, &failed);
    json_t *notes = json_array();
    for (size_t i = 0; i < r->nnotes; i++)
        append(notes, json_string(r->notes[i]), &failed);
    set(root, "notes", notes, &failed);
    if (!failed) {
        /* 12 significant digits: 0.05 rather than 0.050000000000000003. */
        json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        fputc('\n', out);
    }
    json_decref(root);
    return failed ? -1 : 0;
}

/* ---- GitHub Actions ---- */

/* Workflow command escaping: data escapes %, CR, LF; property values also ':' and ','. */
static void gh_escaped(FILE *out, const char *s, bool property)
{
    for (; *s; s++) {
        switch (*s) {
        case '%': fputs("%25", out); break;
        case '\r': fputs("%0D", out); break;
        case '\n': fputs("%0A", out); break;
        case ':': property ? fputs("%3A", out) : fputc(':', out); break;
        case ',': property ? fputs("%2C", out) : fputc(',', out); break;
        default: fputc(*s, out);
        }
    }
}

void pp_gate_annotations(FILE *out, const struct pp_gate_result *r, const char *workspace)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct pp_gate_row *row = &r->rows[i];
        if (row->outcome != PP_GATE_REGRESSION)
            continue;
        fputs("::error ", out);
        const struct pp_summary_site *s = row->current_site;
        const char *file = s ? s->file : NULL;
        size_t wlen = workspace ? strlen(workspace) : 0;
        if (file && wlen && strncmp(file, workspace, wlen) == 0 && file[wlen] == '/')
            file += wlen + 1;
        else if (file && file[0] == '/')
            file = NULL;
        if (file) {
            fputs("file=", out);
            gh_escaped(out, file, true);
            if (s->line)
                fprintf(out, ",line=%u", s->line);
            fputc(',', out);
        }
        fputs("title=poolprobe allocation regression::", out);
        char base[32], cur[32], change[32], threshold[32], msg[600];
        snprintf(msg, sizeof msg, "%s%s%s: %s -> %s (%s, threshold %s)",
                 is_site(row) ? pp_gate_check_label(row->check, false) : "",
                 is_site(row) ? " " : "", row_label(r, row),
                 value_text(base, sizeof base, r, row, false),
                 value_text(cur, sizeof cur, r, row, true),
                 change_text(change, sizeof change, row),
                 threshold_text(threshold, sizeof threshold, row));
        gh_escaped(out, msg, false);
        fputc('\n', out);
    }
}
