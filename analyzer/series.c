/* series.c — read the SERIES record and name its stacks by site (see series.h).
 *
 * A point lists the busiest stacks at that moment (the shim keeps eight), so a site's line is
 * the sum of its stacks that made the list; where none did, the value is unknown (-1) rather
 * than a made-up zero. Stacks are named as the report names sites: the first frame outside the
 * allocator (pp_is_allocator_frame), by function.
 */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct point_stack {
    uint32_t id;
    uint64_t allocs, live_bytes;
};

/* The whole file in memory; NULL with a message in err. */
static unsigned char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "cannot read the time series");
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *len = buf ? (size_t)size : 0;
    return buf;
}

/* The allocating function of a recorded stack, as the report names its site. */
static const char *stack_name(struct pp_symbolizer *sym, int space, const struct pp_trace_stack *st,
                              const struct pp_group_options *options)
{
    const struct pp_frame *last = NULL;
    for (uint16_t i = 0; i < st->depth; i++) {
        const struct pp_frame *frames;
        size_t n = pp_symbolize(sym, space, st->ips[i], &frames);
        for (size_t k = 0; k < n; k++) {
            last = &frames[k];
            if (!pp_is_allocator_frame(&frames[k], options))
                return pp_frame_name(sym, &frames[k]);
        }
    }
    return last ? pp_frame_name(sym, last) : "?";
}

static int alloc_line(struct pp_series_line *line, const char *name, size_t n)
{
    line->name = name;
    line->allocs = malloc((n ? n : 1) * sizeof *line->allocs);
    line->live_bytes = malloc((n ? n : 1) * sizeof *line->live_bytes);
    return line->allocs && line->live_bytes ? 0 : -1;
}

int pp_series_load(struct pp_series *out, const char *path, const struct pp_trace *trace,
                   struct pp_symbolizer *sym, const struct pp_group_options *options, char *err,
                   size_t errlen)
{
    size_t len;
    struct point_stack *stacks = NULL;
    const char **names = NULL;
    size_t *first = NULL; /* index of each point's first stack in stacks[] */
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->pid = trace->process.pid;
    unsigned char *buf = slurp(path, &len, err, errlen);
    if (!buf)
        return -1;
    struct pp_cursor c = {buf, buf + len, 1};
    pp_get_bytes(&c, NULL, 12);
    uint32_t header = pp_get_u32(&c);
    c = (struct pp_cursor){buf, buf + len, 1};
    pp_get_bytes(&c, NULL, header);
    struct pp_cursor rec = {0};
    while (c.ok) {
        uint32_t tag = pp_get_u32(&c);
        pp_get_u32(&c);
        uint64_t size = pp_get_u64(&c);
        if (!c.ok || size > (uint64_t)(c.end - c.p) || tag == PP_REC_END)
            break;
        if (tag == PP_REC_SERIES) {
            rec = (struct pp_cursor){c.p, c.p + size, 1};
            break;
        }
        pp_get_bytes(&c, NULL, (size_t)size);
    }
    if (!rec.ok) { /* a v1.0 trace: no series */
        rc = 0;
        goto done;
    }
    out->interval_ns = pp_get_u64(&rec);
    uint32_t npoints = pp_get_u32(&rec);
    /* Each point takes at least 25 bytes: check before allocating what the count claims. */
    if (!rec.ok || npoints > (size_t)(rec.end - rec.p) / 25) {
        snprintf(err, errlen, "SERIES record: %u points do not fit in it", npoints);
        goto done;
    }
    size_t nstacks_all = 0;
    out->t_ns = malloc((npoints ? npoints : 1) * sizeof *out->t_ns);
    first = malloc((npoints + 1) * sizeof *first);
    stacks = malloc(((size_t)npoints * 8 + 1) * sizeof *stacks);
    if (!out->t_ns || !first || !stacks || alloc_line(&out->process, "process", npoints)) {
        snprintf(err, errlen, "out of memory reading the time series");
        goto done;
    }
    for (uint32_t i = 0; i < npoints; i++) {
        out->t_ns[i] = pp_get_u64(&rec);
        out->process.allocs[i] = (int64_t)pp_get_u64(&rec);
        out->process.live_bytes[i] = (int64_t)pp_get_u64(&rec);
        uint8_t n = pp_get_u8(&rec);
        first[i] = nstacks_all;
        if (n > 8) {
            snprintf(err, errlen, "SERIES record: point %u lists %u stacks (at most 8)", i, n);
            goto done;
        }
        for (uint8_t k = 0; k < n; k++) {
            struct point_stack *s = &stacks[nstacks_all++];
            s->id = pp_get_u32(&rec);
            s->allocs = pp_get_u64(&rec);
            s->live_bytes = pp_get_u64(&rec);
            if (rec.ok && s->id >= trace->nstacks) {
                snprintf(err, errlen, "SERIES record: stack id %u out of range (%u stacks)",
                         s->id, trace->nstacks);
                goto done;
            }
        }
    }
    first[npoints] = nstacks_all;
    if (!rec.ok) {
        snprintf(err, errlen, "SERIES record: truncated");
        goto done;
    }
    out->npoints = npoints;

    /* Name every listed stack; the lines are the sites of the last point, busiest first. */
    int space = pp_symbolizer_add_trace(sym, trace);
    names = malloc((nstacks_all + 1) * sizeof *names);
    if (space < 0 || !names) {
        snprintf(err, errlen, "out of memory naming the time series");
        goto done;
    }
    for (size_t k = 0; k < nstacks_all; k++)
        names[k] = stack_name(sym, space, &trace->stacks[stacks[k].id], options);
    for (size_t k = npoints ? first[npoints - 1] : 0; k < nstacks_all; k++) {
        size_t l = 0;
        while (l < out->nlines && strcmp(out->lines[l].name, names[k]) != 0)
            l++;
        if (l < out->nlines || out->nlines == PP_SERIES_MAX_LINES)
            continue;
        if (alloc_line(&out->lines[out->nlines++], names[k], npoints)) {
            snprintf(err, errlen, "out of memory reading the time series");
            goto done;
        }
    }
    for (size_t l = 0; l < out->nlines; l++) {
        struct pp_series_line *line = &out->lines[l];
        for (uint32_t i = 0; i < npoints; i++) {
            line->allocs[i] = line->live_bytes[i] = -1;
            for (size_t k = first[i]; k < first[i + 1]; k++) {
                if (strcmp(names[k], line->name) != 0)
                    continue;
                if (line->allocs[i] < 0)
                    line->allocs[i] = line->live_bytes[i] = 0;
                line->allocs[i] += (int64_t)stacks[k].allocs;
                line->live_bytes[i] += (int64_t)stacks[k].live_bytes;
            }
        }
    }
    rc = 0;
done:
    if (rc)
        pp_series_free(out);
    free(names);
    free(stacks);
    free(first);
    free(buf);
    return rc;
}

void pp_series_free(struct pp_series *s)
{
    free(s->t_ns);
    free(s->process.allocs);
    free(s->process.live_bytes);
    for (size_t l = 0; l < s->nlines; l++) {
        free(s->lines[l].allocs);
        free(s->lines[l].live_bytes);
    }
    memset(s, 0, sizeof *s);
}
