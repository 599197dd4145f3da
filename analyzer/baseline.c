/* baseline.c — load a baseline (JSON report or trace) or summarize a report, into the gate's
 * model of a run (baseline.h).
 *
 * JSON is read with jansson, strictly: a baseline that is not exactly what it should be is
 * refused with one line saying why (not JSON at all, cut short, another format, a newer
 * version, a field of the wrong type, a site listed twice, or only some of the sites - a report
 * written with --top cannot tell a new site from one it left out). A wrong baseline must stop
 * the build with exit 2, never pass it silently. Only the fields the gate compares are read;
 * everything else in the report is ignored, so reports may grow fields.
 */
#include "baseline.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_json.h"
#include "symbolize.h"
#include "trace_format.h"
#include "trace_reader.h"

static char *copy_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int cmp_site_key(const void *a, const void *b)
{
    const struct pp_summary_site *x = a, *y = b;
    return strcmp(x->key, y->key);
}

int pp_summary_index(struct pp_summary *s, char *err, size_t errlen)
{
    if (s->nsites > 1)
        qsort(s->sites, s->nsites, sizeof *s->sites, cmp_site_key);
    for (size_t i = 1; i < s->nsites; i++) {
        if (strcmp(s->sites[i - 1].key, s->sites[i].key) == 0) {
            snprintf(err, errlen, "site \"%s\" is listed twice", s->sites[i].key);
            return -1;
        }
    }
    return 0;
}

const struct pp_summary_site *pp_summary_find(const struct pp_summary *s, const char *key)
{
    struct pp_summary_site probe = {.key = (char *)key};
    if (s->nsites == 0)
        return NULL;
    return bsearch(&probe, s->sites, s->nsites, sizeof *s->sites, cmp_site_key);
}

void pp_summary_free(struct pp_summary *s)
{
    for (size_t i = 0; i < s->nsites; i++) {
        free(s->sites[i].key);
        free(s->sites[i].function);
        free(s->sites[i].file);
    }
    free(s->sites);
    free(s->source);
    memset(s, 0, sizeof *s);
}

int pp_summary_from_report(struct pp_summary *s, const struct pp_report *r, const char *source,
                           char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->allocs = r->allocs;
    s->bytes = r->bytes;
    s->peak_live_bytes = r->peak_live_bytes;
    s->has_peak = true;
    s->ops = r->ops;
    s->sample_every = r->sample_every ? r->sample_every : 1;
    s->snapshot = r->snapshot;
    s->stacks_estimated = r->stacks_estimated;
    s->source = strdup(source);
    s->sites = calloc(r->nsites ? r->nsites : 1, sizeof *s->sites);
    if (!s->source || !s->sites)
        goto oom;
    for (size_t i = 0; i < r->nsites; i++) {
        const struct pp_site *site = &r->sites[i];
        struct pp_summary_site *out = &s->sites[s->nsites++];
        out->key = strdup(site->key);
        if (!out->key)
            goto oom;
        if (site->nframes > 0) {
            out->function = copy_or_null(site->frames[0].function);
            out->file = copy_or_null(site->frames[0].file);
            out->line = site->frames[0].line;
            if ((site->frames[0].function && !out->function) ||
                (site->frames[0].file && !out->file))
                goto oom;
        }
        out->allocs = site->allocs;
        out->bytes = site->bytes;
        out->peak_live_bytes = site->peak_live_bytes;
    }
    /* Keys of one report are unique by construction (sites.c). */
    return pp_summary_index(s, err, errlen);
oom:
    pp_summary_free(s);
    snprintf(err, errlen, "out of memory while summarizing the report");
    return -1;
}

/* ---- JSON ---- */

/* A non-negative integer member; -1 with a message when absent (and required) or mistyped. */
static int get_count(const json_t *obj, const char *name, const char *where, bool required,
                     uint64_t *out, bool *present, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    if (present)
        *present = v != NULL;
    if (!v) {
        if (!required)
            return 0;
        snprintf(err, errlen, "%s has no \"%s\"", where, name);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "%s: \"%s\" is not a non-negative integer", where, name);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* frames[0]'s function, file and line, when the site has frames. */
static int load_site_frame(const json_t *site, struct pp_summary_site *out, const char *where,
                           char *err, size_t errlen)
{
    json_t *frames = json_object_get(site, "frames");
    if (!frames)
        return 0;
    if (!json_is_array(frames)) {
        snprintf(err, errlen, "%s: \"frames\" is not an array", where);
        return -1;
    }
    json_t *f = json_array_get(frames, 0);
    if (!f)
        return 0;
    if (!json_is_object(f)) {
        snprintf(err, errlen, "%s: frames[0] is not an object", where);
        return -1;
    }
    json_t *function = json_object_get(f, "function"), *file = json_object_get(f, "file");
    json_t *line = json_object_get(f, "line");
    if (json_is_string(function) && !(out->function = strdup(json_string_value(function))))
        return -2;
    if (json_is_string(file) && !(out->file = strdup(json_string_value(file))))
        return -2;
    if (json_is_integer(line) && json_integer_value(line) > 0 &&
        json_integer_value(line) <= (json_int_t)UINT32_MAX)
        out->line = (unsigned)json_integer_value(line);
    return 0;
}

static int load_sites(struct pp_summary *s, const json_t *sites, char *err, size_t errlen)
{
    size_t n = json_array_size(sites);
    s->sites = calloc(n ? n : 1, sizeof *s->sites);
    if (!s->sites)
        return -2;
    for (size_t i = 0; i < n; i++) {
        json_t *site = json_array_get(sites, i);
        char where[48];
        snprintf(where, sizeof where, "sites[%zu]", i);
        if (!json_is_object(site)) {
            snprintf(err, errlen, "%s is not an object", where);
            return -1;
        }
        json_t *key = json_object_get(site, "key");
        if (!json_is_string(key) || json_string_length(key) == 0) {
            snprintf(err, errlen, "%s has no \"key\" string", where);
            return -1;
        }
        struct pp_summary_site *out = &s->sites[s->nsites++];
        if (!(out->key = strdup(json_string_value(key))))
            return -2;
        if (get_count(site, "allocs", where, true, &out->allocs, NULL, err, errlen) ||
            get_count(site, "bytes", where, true, &out->bytes, NULL, err, errlen) ||
            get_count(site, "peak_live_bytes", where, false, &out->peak_live_bytes, NULL, err,
                      errlen))
            return -1;
        int rc = load_site_frame(site, out, where, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* Read the document root into s: -1 with a message for a bad document, -2 out of memory. */
static int load_document(struct pp_summary *s, const json_t *root, char *err, size_t errlen)
{
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a poolprobe-report JSON document (the top is not an object)");
        return -1;
    }
    json_t *format = json_object_get(root, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), "poolprobe-report") != 0) {
        snprintf(err, errlen,
                 "not a poolprobe-report JSON document (\"format\" is not \"poolprobe-report\")");
        return -1;
    }
    json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version)) {
        snprintf(err, errlen, "\"version\" is missing or not an integer");
        return -1;
    }
    if (json_integer_value(version) != PP_REPORT_JSON_VERSION) {
        snprintf(err, errlen, "report version %lld, this poolprobe-report reads version %d",
                 (long long)json_integer_value(version), PP_REPORT_JSON_VERSION);
        return -1;
    }
    json_t *totals = json_object_get(root, "totals");
    if (!json_is_object(totals)) {
        snprintf(err, errlen, "\"totals\" is missing or not an object");
        return -1;
    }
    if (get_count(totals, "allocs", "totals", true, &s->allocs, NULL, err, errlen) ||
        get_count(totals, "bytes", "totals", true, &s->bytes, NULL, err, errlen) ||
        get_count(totals, "peak_live_bytes", "totals", false, &s->peak_live_bytes, &s->has_peak,
                  err, errlen))
        return -1;

    /* Operations: the top-level "ops" (which --ops may have set), else the processes' own. */
    json_t *processes = json_object_get(root, "processes");
    if (processes && !json_is_array(processes)) {
        snprintf(err, errlen, "\"processes\" is not an array");
        return -1;
    }
    bool has_ops;
    if (get_count(root, "ops", "the document", false, &s->ops, &has_ops, err, errlen))
        return -1;
    for (size_t i = 0; i < json_array_size(processes); i++) {
        json_t *p = json_array_get(processes, i);
        uint64_t ops = 0;
        if (!has_ops && json_is_object(p) &&
            get_count(p, "ops", "a process", false, &ops, NULL, err, errlen) == 0)
            s->ops += ops;
        if (json_is_object(p) && json_is_true(json_object_get(p, "snapshot")))
            s->snapshot = true;
    }
    s->stacks_estimated = json_is_true(json_object_get(root, "stacks_estimated"));
    uint64_t sample_every = 1;
    if (get_count(root, "sample_every", "the document", false, &sample_every, NULL, err, errlen))
        return -1;
    s->sample_every = sample_every > UINT32_MAX ? UINT32_MAX
                                                : (uint32_t)(sample_every ? sample_every : 1);

    json_t *sites = json_object_get(root, "sites");
    if (!json_is_array(sites)) {
        snprintf(err, errlen, "\"sites\" is missing or not an array");
        return -1;
    }
    uint64_t site_count = 0;
    bool has_count;
    if (get_count(root, "site_count", "the document", false, &site_count, &has_count, err,
                  errlen))
        return -1;
    if (has_count && site_count > json_array_size(sites)) {
        snprintf(err, errlen,
                 "lists %zu of its %llu sites (written with --top?); a baseline needs them all: "
                 "write it with --write-baseline",
                 json_array_size(sites), (unsigned long long)site_count);
        return -1;
    }
    int rc = load_sites(s, sites, err, errlen);
    if (rc)
        return rc;
    return pp_summary_index(s, err, errlen);
}

/* input_len: bytes of the JSON text, so an error at its very end reads as a truncation
 * (jansson words it differently depending on where the cut fell). */
static int load_json(struct pp_summary *s, const char *source, json_t *root,
                     const json_error_t *jerr, size_t input_len, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!root) {
        if (input_len > 0 && jerr->position >= 0 && (size_t)jerr->position >= input_len)
            snprintf(err, errlen, "truncated: the JSON document ends early (line %d: %s)",
                     jerr->line, jerr->text);
        else
            snprintf(err, errlen, "not a valid JSON document: %s (line %d, column %d)",
                     jerr->text, jerr->line, jerr->column);
        return -1;
    }
    int rc = -2;
    if ((s->source = strdup(source)))
        rc = load_document(s, root, err, errlen);
    json_decref(root);
    if (rc == -2)
        snprintf(err, errlen, "out of memory while reading the baseline");
    if (rc)
        pp_summary_free(s);
    return rc ? -1 : 0;
}

int pp_summary_load_json_buffer(struct pp_summary *s, const char *source, const char *json,
                                size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    return load_json(s, source, root, &jerr, len, err, errlen);
}

/* A trace baseline: read, symbolize and group it exactly as main does the current run. */
static int load_trace(struct pp_summary *s, const char *path,
                      const struct pp_group_options *options, FILE *warnings, char *err,
                      size_t errlen)
{
    memset(s, 0, sizeof *s);
    struct pp_trace *trace = pp_trace_read_file(path, err, errlen);
    if (!trace)
        return -1;
    struct pp_symbolizer *sym = pp_symbolizer_new(warnings);
    struct pp_report report = {0};
    const struct pp_trace *traces[1] = {trace};
    int rc = -1;
    if (!sym)
        snprintf(err, errlen, "out of memory");
    else if (pp_report_build(&report, traces, 1, sym, options, err, errlen) == 0)
        rc = pp_summary_from_report(s, &report, path, err, errlen);
    pp_report_free(&report);
    pp_symbolizer_free(sym);
    pp_trace_free(trace);
    return rc;
}

int pp_summary_load(struct pp_summary *s, const char *path,
                    const struct pp_group_options *options, FILE *warnings, char *err,
                    size_t errlen)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    char magic[PP_TRACE_MAGIC_LEN];
    size_t got = fread(magic, 1, sizeof magic, f);
    if (got == sizeof magic && memcmp(magic, PP_TRACE_MAGIC, PP_TRACE_MAGIC_LEN) == 0) {
        fclose(f);
        return load_trace(s, path, options, warnings, err, errlen);
    }
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        fclose(f);
        return -1;
    }
    if (got == 0) {
        fclose(f);
        snprintf(err, errlen, "empty file (neither a trace nor a JSON report)");
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size > PP_BASELINE_JSON_MAX_BYTES) {
        fclose(f);
        snprintf(err, errlen,
                 "%llu MiB, over the %llu MiB limit for a JSON baseline (a trace as the "
                 "baseline is smaller)",
                 (unsigned long long)st.st_size >> 20, PP_BASELINE_JSON_MAX_BYTES >> 20);
        return -1;
    }
    /* Read at most the limit and one byte more: a bigger document is refused before jansson
     * builds it (a 190 MB one took 20 s and 1.46 GB to be told it was no baseline). */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || len > PP_BASELINE_JSON_MAX_BYTES)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf || read_error || len > PP_BASELINE_JSON_MAX_BYTES) {
        if (!buf)
            snprintf(err, errlen, "out of memory while reading the baseline");
        else if (read_error)
            snprintf(err, errlen, "cannot read: %s", strerror(errno));
        else
            snprintf(err, errlen,
                     "over the %llu MiB limit for a JSON baseline (a trace as the baseline "
                     "is smaller)",
                     PP_BASELINE_JSON_MAX_BYTES >> 20);
        free(buf);
        return -1;
    }
    int rc = pp_summary_load_json_buffer(s, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

int pp_baseline_write(const char *path, const struct pp_report *report, char *err,
                      size_t errlen)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".XXXXXX");
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", sizeof ".XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside it: %s", strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp makes 0600; a baseline is meant to be committed and read by others. */
    mode_t mask = umask(0);
    umask(mask);
    int rc = -1;
    FILE *f = NULL;
    if (fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
        close(fd);
    } else if (pp_report_json(f, report, 0) != 0) {
        snprintf(err, errlen, "out of memory while writing JSON");
        fclose(f);
    } else if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0) {
        snprintf(err, errlen, "write error: %s", strerror(errno));
        fclose(f);
    } else if (fclose(f) != 0) {
        snprintf(err, errlen, "write error: %s", strerror(errno));
    } else if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename the temporary file over it: %s", strerror(errno));
    } else {
        rc = 0;
    }
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
