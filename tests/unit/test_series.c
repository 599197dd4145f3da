/* test_series.c — the SERIES record (v1.1) as the HTML report reads it (analyzer/series.c):
 * exact values of a valid series, sites' lines with gaps where a stack was not listed, a
 * v1.0 trace without one, and every malformed record refused with its reason, never read past
 * (this runs under ASan and UBSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "series.h"
#include "trace_builder.h"

/* One point: t, process allocs and live bytes, then n stacks (id, allocs, live bytes). */
struct test_point {
    uint64_t t, allocs, live;
    unsigned n;
    uint64_t stack[9][3];
};

/* A valid trace with a SERIES record of these points; declared_points/declared_stacks override
 * the counts written (for malformed records) when not 0; cut drops bytes from the record's end. */
static void build(struct tb *t, const struct test_point *p, unsigned np, uint32_t declared_points,
                  size_t cut)
{
    memset(t, 0, sizeof *t);
    tb_header(t, PP_TRACE_MAJOR, 1);
    tb_process(t);
    tb_modules(t);
    tb_stacks(t);
    tb_stats(t);
    tb_totals(t);
    size_t at = tb_begin_record(t, PP_REC_SERIES);
    tb_u64(t, 1000000000ull);
    tb_u32(t, declared_points ? declared_points : np);
    for (unsigned i = 0; i < np; i++) {
        tb_u64(t, p[i].t);
        tb_u64(t, p[i].allocs);
        tb_u64(t, p[i].live);
        tb_u8(t, (uint8_t)p[i].n);
        for (unsigned k = 0; k < p[i].n; k++) {
            tb_u32(t, (uint32_t)p[i].stack[k][0]);
            tb_u64(t, p[i].stack[k][1]);
            tb_u64(t, p[i].stack[k][2]);
        }
    }
    t->len -= cut;
    tb_end_record(t, at);
    tb_end(t);
}

/* Line names belong to the symbolizer: one for the whole test, freed at the end. */
static struct pp_symbolizer *sym;

/* Write t to a file, read it as a trace, then its series. Returns pp_series_load's result. */
static int load(struct tb *t, struct pp_series *s, char *err, size_t errlen)
{
    char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/poolprobe-test-series.XXXXXX", dir && *dir ? dir : P_tmpdir);
    int fd = mkstemp(path);
    int rc = -1;
    if (fd < 0 || write(fd, t->buf, t->len) != (ssize_t)t->len) {
        snprintf(err, errlen, "cannot write the test trace");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    struct pp_trace *trace = pp_trace_read_buffer(t->buf, t->len, err, errlen);
    struct pp_group_options options = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    if (trace && sym)
        rc = pp_series_load(s, path, trace, sym, &options, err, errlen);
    else if (trace)
        snprintf(err, errlen, "out of memory");
    pp_trace_free(trace);
    unlink(path);
    free(t->buf);
    return rc;
}

static void test_valid(void)
{
    /* Stack 0 is listed at every point, stack 2 only at the last two. */
    static const struct test_point points[] = {
        {1000, 10, 100, 1, {{0, 10, 100}}},
        {2000, 30, 300, 2, {{0, 20, 200}, {2, 10, 100}}},
        {3000, 60, 50, 2, {{2, 35, 40}, {0, 25, 10}}},
    };
    struct tb t;
    struct pp_series s;
    char err[256] = "";
    build(&t, points, 3, 0, 0);
    int rc = load(&t, &s, err, sizeof err);
    CHECK(rc == 0, "valid series reads (%s)", err);
    CHECK_U64(s.npoints, 3, "three points");
    CHECK_U64(s.pid, TB_PID, "pid of the trace");
    CHECK_U64(s.interval_ns, 1000000000ull, "interval");
    CHECK(s.npoints == 3 && s.t_ns[0] == 1000 && s.t_ns[2] == 3000, "times as written");
    CHECK(s.npoints == 3 && s.process.allocs[1] == 30 && s.process.live_bytes[2] == 50,
          "process values as written");
    CHECK_U64(s.nlines, 2, "two sites at the last point");
    /* The last point lists stack 2 first (more allocations): its line comes first. */
    const struct pp_series_line *a = s.nlines == 2 ? &s.lines[0] : NULL;
    const struct pp_series_line *b = s.nlines == 2 ? &s.lines[1] : NULL;
    CHECK(a && b && strcmp(a->name, b->name) != 0, "lines named apart (%s, %s)",
          a ? a->name : "-", b ? b->name : "-");
    CHECK(a && a->allocs[0] == -1 && a->allocs[1] == 10 && a->allocs[2] == 35,
          "stack 2's line: unknown at the first point, then as listed");
    CHECK(b && b->allocs[0] == 10 && b->allocs[1] == 20 && b->live_bytes[2] == 10,
          "stack 0's line: every point");
    pp_series_free(&s);
}

static void test_absent(void)
{
    struct tb t = {0};
    struct pp_series s;
    char err[256] = "";
    tb_valid_trace(&t);
    CHECK(load(&t, &s, err, sizeof err) == 0 && s.npoints == 0 && s.nlines == 0,
          "a trace without SERIES: no points, no error (%s)", err);
    pp_series_free(&s);
}

static void refused(const char *what, const struct test_point *p, unsigned np,
                    uint32_t declared, size_t cut, const char *want)
{
    struct tb t;
    struct pp_series s;
    char err[256] = "";
    build(&t, p, np, declared, cut);
    int rc = load(&t, &s, err, sizeof err);
    CHECK(rc == -1 && strstr(err, want) != NULL, "%s: refused (\"%s\")", what, err);
    CHECK(s.npoints == 0 && s.t_ns == NULL, "%s: nothing left allocated", what);
}

static void test_malformed(void)
{
    static const struct test_point one[] = {{1000, 10, 100, 1, {{0, 10, 100}}}};
    static const struct test_point nine[] = {
        {1000, 10, 100, 9, {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}, {0, 1, 1}, {0, 1, 1}, {0, 1, 1},
                            {0, 1, 1}, {0, 1, 1}, {0, 1, 1}}}};
    static const struct test_point bad_id[] = {{1000, 10, 100, 1, {{7, 10, 100}}}};
    refused("a million points claimed", one, 1, 1000000, 0, "do not fit");
    refused("nine stacks in a point", nine, 1, 0, 0, "lists 9 stacks");
    refused("a stack id past the STACKS record", bad_id, 1, 0, 0, "stack id 7 out of range");
    refused("a point cut short", one, 1, 0, 8, "truncated");
}

int main(void)
{
    sym = pp_symbolizer_new(NULL);
    test_valid();
    test_absent();
    test_malformed();
    pp_symbolizer_free(sym);
    return check_summary();
}
