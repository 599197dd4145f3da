/* report_html.c — the HTML report (see report_html.h).
 *
 * The page is a skeleton, the report's numbers as one JSON document, and the embedded script
 * that draws from them (web/report.js, bundled with its libraries by the Makefile and linked in
 * as binary objects). The C side decides every number and word the text report would: verdicts,
 * actions (pp_print_action), checklist rows, histogram spans; the script only lays them out
 * and draws. The JSON is written with '/' escaped, so no string in it can close the <script>
 * element that holds it.
 */
#include "report_html.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "report_explain.h"
#include "report_folded.h"
#include "report_text.h"
#include "tried.h"

/* The bundle built by the Makefile: the libraries, their licences and web/report.js; and the
 * page's style. Linked in with `ld -r -b binary`, so not NUL-terminated. */
extern const char _binary_report_js_start[], _binary_report_js_end[];
extern const char _binary_report_css_start[], _binary_report_css_end[];

/* Sites shown with their histograms beyond the recommendations: the busiest. */
#define HTML_BUSIEST_SITES 12
/* Histogram bars at most; finer spans are merged per power of two. */
#define HTML_MAX_BARS 40

struct json_build {
    bool failed;
};

/* Adds value to obj under key, noting out of memory (jansson returns NULL or -1). */
static void set(struct json_build *b, json_t *obj, const char *key, json_t *value)
{
    if (!value || json_object_set_new(obj, key, value))
        b->failed = true;
}

static void append(struct json_build *b, json_t *array, json_t *value)
{
    if (!value || json_array_append_new(array, value))
        b->failed = true;
}

static json_t *count(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* [[lo, hi, count], ...] of a histogram, merged per power of two above HTML_MAX_BARS. */
static json_t *hist_json(struct json_build *b, const struct pp_hist *h, uint64_t lo_clamp,
                         uint64_t hi_clamp)
{
    json_t *bars = json_array();
    struct pp_hist_span *spans = NULL;
    size_t n = pp_hist_spans(h, lo_clamp, hi_clamp, &spans);
    if (n == (size_t)-1) {
        b->failed = true;
        n = 0;
    }
    if (n > HTML_MAX_BARS)
        n = pp_spans_merge_octaves(spans, n);
    for (size_t i = 0; i < n && bars; i++)
        append(b, bars, json_pack("[III]", (json_int_t)spans[i].lo, (json_int_t)spans[i].hi,
                                  (json_int_t)spans[i].count));
    free(spans);
    if (!bars)
        b->failed = true;
    return bars;
}

/* The action text of a verdict, as the text report prints it, without its indentation. */
static json_t *action_json(const struct pp_site *s, const struct pp_verdict *v)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return NULL;
    pp_print_action(mem, s, v);
    fclose(mem);
    /* "    free list ...\n    allocations); ..." -> one line */
    char *w = text;
    for (const char *r = text; *r; r++) {
        if (*r == '\n') {
            while (r[1] == ' ')
                r++;
            if (r[1])
                *w++ = ' ';
        } else if (!(w == text && *r == ' ')) {
            *w++ = *r;
        }
    }
    *w = 0;
    json_t *j = json_string(text);
    free(text);
    return j;
}

static json_t *site_json(struct json_build *b, const struct pp_report *r, size_t i)
{
    const struct pp_site *s = &r->sites[i];
    const struct pp_verdict *v = &r->verdicts[i];
    const struct pp_frame *f = s->nframes ? &s->frames[0] : NULL;
    char name[512];
    json_t *o = json_object();
    if (!o) {
        b->failed = true;
        return NULL;
    }
    set(b, o, "key", json_string(s->key));
    set(b, o, "function", json_string(f ? pp_folded_frame_name(name, sizeof name, f) : "?"));
    set(b, o, "file", f && f->file ? json_string(pp_basename(f->file)) : json_null());
    set(b, o, "line", json_integer(f ? f->line : 0));
    json_t *callers = json_array();
    for (size_t k = 1; k < s->nframes && k <= 6 && callers; k++) {
        append(b, callers, json_string(pp_folded_frame_name(name, sizeof name, &s->frames[k])));
        if (s->frames[k].function && strcmp(s->frames[k].function, "main") == 0)
            break;
    }
    set(b, o, "callers", callers);
    set(b, o, "verdict", json_string(pp_verdict_name(v->kind)));
    set(b, o, "reason", v->reason ? json_string(v->reason) : json_null());
    set(b, o, "action", v->kind == PP_VERDICT_NO_POOL ? json_null() : action_json(s, v));
    set(b, o, "allocs", count(s->allocs));
    set(b, o, "frees", count(s->frees));
    set(b, o, "bytes", count(s->bytes));
    set(b, o, "allocs_saved", count(v->allocs_saved));
    set(b, o, "peak_live", count(s->peak_live));
    set(b, o, "live_at_exit", count(pp_site_live_at_exit(s)));
    set(b, o, "size_p50", count(pp_site_size_percentile(s, 50)));
    set(b, o, "lifetime_p50_ns", count(pp_site_lifetime_percentile(s, 50)));
    json_t *checks = json_array();
    for (size_t k = 0; k < v->nchecks && checks; k++) {
        const struct pp_check *c = &v->checks[k];
        const char *mark = c->pooling ? (c->pass ? "ok" : "NO") : (c->pass ? "yes" : "no");
        append(b, checks, json_pack("{s:s,s:s,s:s,s:s,s:s}", "mark", mark, "name", c->name,
                                    "value", c->value_text, "threshold", c->threshold_text,
                                    "why", c->why ? c->why : ""));
    }
    set(b, o, "checks", checks);
    /* What poolprobe try measured (--try FILE): the card's measured saving. */
    const struct pp_tried_site *t = pp_tried_find(s->key);
    set(b, o, "measured",
        t ? json_pack("{s:s,s:b,s:b,s:f,s:f,s:f,s:f,s:I,s:I}", "verdict", t->verdict, "alone",
                      t->alone, "confirmed", t->confirmed, "cpu", t->cpu.median, "cpu_min",
                      t->cpu.min, "cpu_max", t->cpu.max, "wall", t->wall.median, "hits",
                      (json_int_t)t->hits, "misses", (json_int_t)t->misses)
          : json_null());
    set(b, o, "size", hist_json(b, &s->hists[PP_STATS_HIST_SIZE], s->min_size, s->max_size));
    set(b, o, "lifetime", hist_json(b, &s->hists[PP_STATS_HIST_LIFETIME_NS], 0, UINT64_MAX));
    return o;
}

/* Stacks for the flame graph: frames outermost first, with allocations and bytes. */
static json_t *stacks_json(struct json_build *b, const struct pp_report *stacks)
{
    char name[512];
    json_t *list = json_array();
    for (size_t i = 0; stacks && i < stacks->nsites && list; i++) {
        const struct pp_site *s = &stacks->sites[i];
        json_t *frames = json_array();
        for (size_t k = s->nframes; k-- > 0 && frames;)
            append(b, frames, json_string(pp_folded_frame_name(name, sizeof name, &s->frames[k])));
        append(b, list, json_pack("{s:o,s:o,s:o}", "frames", frames ? frames : json_array(),
                                  "allocs", count(s->allocs), "bytes", count(s->bytes)));
    }
    if (!list)
        b->failed = true;
    return list;
}

static json_t *processes_json(struct json_build *b, const struct pp_report *r)
{
    json_t *list = json_array();
    for (size_t i = 0; i < r->ntraces && list; i++) {
        const struct pp_trace_process *p = &r->traces[i]->process;
        json_t *argv = json_array();
        for (uint32_t k = 0; k < p->argc && argv; k++)
            append(b, argv, json_string(p->argv[k]));
        append(b, list, json_pack("{s:I,s:o,s:I}", "pid", (json_int_t)p->pid,
                                  "argv", argv ? argv : json_array(), "duration_ns",
                                  (json_int_t)p->duration_ns));
    }
    if (!list)
        b->failed = true;
    return list;
}

static json_t *series_values(struct json_build *b, const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n && a; i++)
        append(b, a, v[i] < 0 ? json_null() : json_integer(v[i])); /* null: not known then */
    if (!a)
        b->failed = true;
    return a;
}

static json_t *series_line(struct json_build *b, const struct pp_series_line *line, size_t n)
{
    json_t *o = json_object();
    if (!o) {
        b->failed = true;
        return NULL;
    }
    set(b, o, "key", json_string(line->name));
    set(b, o, "allocs", series_values(b, line->allocs, n));
    set(b, o, "live_bytes", series_values(b, line->live_bytes, n));
    return o;
}

/* {pid, interval_ns, t_ns: [...], process: {allocs, live_bytes}, sites: [{key, allocs,
 * live_bytes}]}: cumulative allocations and live bytes at each trace write. */
static json_t *series_json(struct json_build *b, const struct pp_series *s)
{
    json_t *o = json_object(), *t = json_array(), *lines = json_array();
    if (!o || !t || !lines) {
        json_decref(o), json_decref(t), json_decref(lines);
        b->failed = true;
        return NULL;
    }
    for (size_t i = 0; i < s->npoints; i++)
        append(b, t, count(s->t_ns[i]));
    for (size_t l = 0; l < s->nlines; l++)
        append(b, lines, series_line(b, &s->lines[l], s->npoints));
    set(b, o, "pid", json_integer(s->pid));
    set(b, o, "interval_ns", count(s->interval_ns));
    set(b, o, "t_ns", t);
    set(b, o, "process", series_line(b, &s->process, s->npoints));
    set(b, o, "sites", lines);
    return o;
}

/* An embedded JSON document (the gate's) parsed, or NULL in *out when text is NULL. */
static int parse_document(const char *text, const char *what, json_t **out, char *err,
                          size_t errlen)
{
    json_error_t jerr;
    *out = NULL;
    if (!text)
        return 0;
    *out = json_loads(text, 0, &jerr);
    if (!*out) {
        snprintf(err, errlen, "%s: not JSON: %s (line %d)", what, jerr.text, jerr.line);
        return -1;
    }
    return 0;
}

static json_t *page_data(struct json_build *b, const struct pp_html_input *in, json_t *gate)
{
    const struct pp_report *r = in->report;
    json_t *data = json_object();
    if (!data) {
        b->failed = true;
        return NULL;
    }
    set(b, data, "title", json_string(in->title ? in->title : "poolprobe report"));
    set(b, data, "version", json_string(PP_VERSION));
    set(b, data, "processes", processes_json(b, r));
    set(b, data, "totals",
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:b,s:b}", "allocs", count(r->allocs),
                  "frees", count(r->frees), "bytes", count(r->bytes), "peak_live_bytes",
                  count(r->peak_live_bytes), "ops", count(r->ops), "duration_ns",
                  count(r->duration_ns), "sample_every", (json_int_t)r->sample_every,
                  "snapshot", r->snapshot, "tracking_lost", r->tracking_lost));

    /* Cards: the recommendations in order, then the busiest sites not worth pooling. */
    size_t *order = NULL;
    size_t nrec = r->verdicts ? pp_report_recommendations(r, &order) : 0;
    if (nrec == (size_t)-1) {
        b->failed = true;
        nrec = 0;
    }
    json_t *sites = json_array(), *recommended = json_array(), *busiest = json_array();
    for (size_t k = 0; k < nrec && sites; k++) {
        append(b, recommended, json_integer((json_int_t)json_array_size(sites)));
        append(b, sites, site_json(b, r, order[k]));
    }
    for (size_t i = 0, shown = 0; r->verdicts && i < r->nsites && shown < HTML_BUSIEST_SITES && sites; i++) {
        if (r->verdicts[i].kind != PP_VERDICT_NO_POOL)
            continue;
        append(b, busiest, json_integer((json_int_t)json_array_size(sites)));
        append(b, sites, site_json(b, r, i));
        shown++;
    }
    free(order);
    set(b, data, "sites", sites);
    set(b, data, "recommended", recommended);
    set(b, data, "busiest", busiest);
    set(b, data, "site_count", count(r->nsites));
    set(b, data, "stacks", stacks_json(b, in->stacks));
    set(b, data, "series", in->series ? series_json(b, in->series) : json_null());
    set(b, data, "gate", gate ? json_incref(gate) : json_null());
    return data;
}

/* Write text[0..len) into a <script> or <style> element; the bundle never holds "</" followed
 * by the element's name (the Makefile checks), so it is written as it is. */
static void put_raw(FILE *out, const char *start, const char *end)
{
    fwrite(start, 1, (size_t)(end - start), out);
}

static void put_escaped(FILE *out, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*text, out);
        }
    }
}

int pp_report_html(FILE *out, const struct pp_html_input *in, char *err, size_t errlen)
{
    struct json_build b = {0};
    json_t *gate = NULL, *data = NULL;
    char *text = NULL;
    int rc = -1;

    if (parse_document(in->gate_json, "gate result", &gate, err, errlen))
        goto done;
    data = page_data(&b, in, gate);
    /* '/' escaped: "</script>" cannot appear inside the JSON. */
    text = data && !b.failed ? json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    if (!text) {
        snprintf(err, errlen, "out of memory while writing HTML");
        goto done;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"poolprobe-report " PP_VERSION "\">\n<title>",
          out);
    put_escaped(out, in->title ? in->title : "poolprobe report");
    fputs(" - poolprobe</title>\n<style>\n", out);
    put_raw(out, _binary_report_css_start, _binary_report_css_end);
    fputs("</style>\n</head>\n<body>\n<main id=\"report\">\n"
          "<noscript><p>This report draws its cards and charts with JavaScript; the same "
          "numbers are in <code>poolprobe-report --format json</code>.</p></noscript>\n"
          "</main>\n<script type=\"application/json\" id=\"pp-data\">",
          out);
    fputs(text, out);
    /* Errors are collected from the start, so a test can tell a broken page from a quiet one. */
    fputs("</script>\n<script>window.ppErrors = []; window.addEventListener('error', "
          "function (e) { window.ppErrors.push(String(e.message)); "
          "var s = document.getElementById('pp-status'); "
          "if (s) s.setAttribute('data-errors', String(window.ppErrors.length)); });"
          "</script>\n<script>\n",
          out);
    put_raw(out, _binary_report_js_start, _binary_report_js_end);
    fputs("\n</script>\n</body>\n</html>\n", out);
    rc = 0;
done:
    free(text);
    json_decref(data);
    json_decref(gate);
    return rc;
}
