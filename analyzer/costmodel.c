/* costmodel.c — the cost tables, built in and from the user's cache, and the lookup (see
 * costmodel.h).
 *
 * The built-in tables below are data: the output of `poolprobe-costmodel --scale 2`, pasted
 * verbatim, on the development machine (2-cpu Intel Xeon VM, Debian 12, glibc 2.36; jemalloc
 * 5.3.0 from libjemalloc2 and tcmalloc 2.10 from libtcmalloc-minimal4, each preloaded). That
 * machine was shared with other builds while measuring, so small-size figures carry +-50% noise;
 * the cliffs (tens of microseconds against tens of nanoseconds) do not depend on it. Measure your
 * own machine with `poolprobe-costmodel --save`.
 */
#include "costmodel.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_reader.h"

struct builtin_table {
    const char *allocator;
    const char *tsv;
};

static const struct builtin_table builtin_tables[] = {
    {"glibc",
     "# poolprobe cost model 1\n"
     "# allocator\tglibc 2.36\n"
     "# machine\tIntel(R) Xeon(R) Processor, 2 cpus, measured 2026-11-29\n"
     "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n"
     "16\t1\t70.0\t30.5\t58.0\t181.4\n"
     "16\t4\t59.3\t17.3\t58.1\t165.6\n"
     "16\t32\t52.2\t19.5\t52.3\t186.9\n"
     "64\t1\t54.8\t21.6\t64.1\t154.4\n"
     "64\t4\t27.2\t20.9\t46.8\t186.2\n"
     "64\t32\t66.1\t20.9\t58.8\t209.8\n"
     "256\t1\t48.8\t24.2\t54.0\t215.0\n"
     "256\t4\t27.6\t23.9\t56.4\t259.0\n"
     "256\t32\t46.6\t11.7\t34.0\t106.6\n"
     "1024\t1\t35.6\t28.0\t63.4\t214.2\n"
     "1024\t4\t53.1\t21.0\t57.7\t201.3\n"
     "1024\t32\t54.1\t15.3\t60.7\t200.2\n"
     "4096\t1\t106.0\t21.0\t61.3\t260.2\n"
     "4096\t4\t88.2\t20.1\t64.3\t155.2\n"
     "4096\t32\t70.8\t20.2\t56.1\t177.4\n"
     "16384\t1\t75.4\t34.5\t71.5\t218.4\n"
     "16384\t4\t86.5\t21.6\t59.5\t204.9\n"
     "16384\t32\t11047.1\t25.6\t66.0\t245.9\n"
     "65536\t1\t243.2\t187.5\t185.1\t460.8\n"
     "65536\t4\t25583.5\t150.1\t144.1\t351.5\n"
     "65536\t32\t41483.6\t161.6\t168.1\t381.8\n"
     "262144\t1\t579.0\t490.3\t638.0\t1086.2\n"
     "262144\t4\t160548.1\t610.4\t640.0\t1450.8\n"
     "262144\t32\t294852.6\t1197.8\t1163.3\t2871.8\n"
     "1048576\t1\t2577.4\t2915.5\t2454.8\t4902.2\n"
     "1048576\t4\t972522.8\t3514.1\t3477.8\t8686.3\n"
     "1048576\t32\t1222798.8\t4696.5\t4535.5\t8747.7\n"
    },
    {"jemalloc",
     "# poolprobe cost model 1\n"
     "# allocator\tjemalloc\n"
     "# machine\tIntel(R) Xeon(R) Processor, 2 cpus, measured 2026-11-29\n"
     "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n"
     "16\t1\t28.7\t24.1\t52.1\t204.1\n"
     "16\t4\t42.6\t45.0\t66.7\t208.2\n"
     "16\t32\t34.6\t29.1\t66.4\t212.5\n"
     "64\t1\t58.0\t37.2\t57.9\t211.5\n"
     "64\t4\t32.7\t29.4\t82.0\t226.0\n"
     "64\t32\t25.3\t22.9\t82.0\t241.0\n"
     "256\t1\t45.3\t38.5\t74.8\t228.3\n"
     "256\t4\t37.9\t26.3\t52.8\t210.1\n"
     "256\t32\t31.1\t14.1\t33.5\t115.1\n"
     "1024\t1\t25.0\t38.5\t76.8\t188.8\n"
     "1024\t4\t32.3\t22.4\t68.9\t226.7\n"
     "1024\t32\t218.5\t28.3\t56.4\t221.4\n"
     "4096\t1\t45.4\t33.6\t66.9\t267.9\n"
     "4096\t4\t29.4\t19.6\t78.1\t201.6\n"
     "4096\t32\t736.9\t37.2\t66.7\t227.6\n"
     "16384\t1\t123.2\t20.3\t63.0\t124.5\n"
     "16384\t4\t112.3\t34.5\t68.3\t193.7\n"
     "16384\t32\t730.3\t30.0\t70.5\t208.1\n"
     "65536\t1\t716.9\t166.0\t171.4\t506.2\n"
     "65536\t4\t1602.8\t154.0\t187.2\t361.6\n"
     "65536\t32\t1661.9\t151.1\t165.9\t572.5\n"
     "262144\t1\t1705.7\t616.8\t728.7\t1207.1\n"
     "262144\t4\t2273.1\t644.3\t589.4\t1144.4\n"
     "262144\t32\t1651.9\t297.4\t593.7\t797.9\n"
     "1048576\t1\t2804.8\t2760.9\t2588.6\t4453.3\n"
     "1048576\t4\t6338.8\t2461.0\t2411.2\t4657.1\n"
     "1048576\t32\t11079.1\t4134.9\t4191.6\t8636.8\n"
    },
    {"tcmalloc",
     "# poolprobe cost model 1\n"
     "# allocator\ttcmalloc\n"
     "# machine\tIntel(R) Xeon(R) Processor, 2 cpus, measured 2026-11-29\n"
     "size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n"
     "16\t1\t27.0\t22.0\t41.4\t151.0\n"
     "16\t4\t12.5\t22.9\t43.1\t182.1\n"
     "16\t32\t18.8\t19.3\t47.3\t173.8\n"
     "64\t1\t25.5\t27.1\t51.7\t120.7\n"
     "64\t4\t28.6\t30.2\t62.8\t166.2\n"
     "64\t32\t26.2\t23.4\t45.8\t124.7\n"
     "256\t1\t21.9\t24.9\t69.2\t168.4\n"
     "256\t4\t20.1\t22.0\t45.4\t169.7\n"
     "256\t32\t15.3\t19.7\t43.8\t158.1\n"
     "1024\t1\t25.1\t21.0\t52.3\t165.8\n"
     "1024\t4\t24.8\t23.5\t52.2\t178.1\n"
     "1024\t32\t18.5\t17.3\t23.4\t84.4\n"
     "4096\t1\t14.2\t12.0\t26.8\t95.4\n"
     "4096\t4\t14.7\t10.9\t48.7\t150.0\n"
     "4096\t32\t37.3\t11.7\t24.1\t94.8\n"
     "16384\t1\t41.2\t37.9\t102.1\t298.6\n"
     "16384\t4\t49.8\t42.0\t76.0\t213.4\n"
     "16384\t32\t64.9\t59.4\t81.0\t344.3\n"
     "65536\t1\t172.4\t156.4\t81.3\t286.6\n"
     "65536\t4\t185.7\t161.4\t141.7\t399.8\n"
     "65536\t32\t250.4\t215.7\t243.8\t528.0\n"
     "262144\t1\t637.0\t571.1\t632.4\t1196.0\n"
     "262144\t4\t592.5\t531.8\t596.5\t1096.2\n"
     "262144\t32\t971.3\t838.0\t1059.0\t1898.6\n"
     "1048576\t1\t3462.8\t2393.2\t1265.2\t3244.9\n"
     "1048576\t4\t5022.1\t3370.1\t3286.8\t7068.6\n"
     "1048576\t32\t20865.0\t4206.4\t4073.3\t7442.4\n"
    },
};

static const char *const way_columns[PP_COST_WAYS] = {"malloc_ns", "tls_ns", "shared1_ns",
                                                      "shared2_ns"};

int pp_cost_model_parse(struct pp_cost_model *m, const char *text, char *err, size_t errlen)
{
    char allocator[64] = "", machine[160] = "";
    m->nrows = 0;
    bool header = false;
    unsigned lineno = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        lineno++;
        size_t len = strcspn(line, "\n");
        if (len == 0)
            continue;
        if (line[0] == '#') {
            if (strncmp(line, "# allocator\t", 12) == 0)
                snprintf(allocator, sizeof allocator, "%.*s", (int)(len - 12), line + 12);
            else if (strncmp(line, "# machine\t", 10) == 0)
                snprintf(machine, sizeof machine, "%.*s", (int)(len - 10), line + 10);
            continue;
        }
        if (!header) {
            char want[128];
            snprintf(want, sizeof want, "size\tin_flight\t%s\t%s\t%s\t%s", way_columns[0],
                     way_columns[1], way_columns[2], way_columns[3]);
            if (len != strlen(want) || strncmp(line, want, len) != 0) {
                snprintf(err, errlen, "line %u: expected the column header '%s'", lineno,
                         "size in_flight malloc_ns tls_ns shared1_ns shared2_ns");
                return -1;
            }
            header = true;
            continue;
        }
        if (m->nrows == PP_COST_MAX_ROWS) {
            snprintf(err, errlen, "line %u: more than %d rows", lineno, PP_COST_MAX_ROWS);
            return -1;
        }
        struct pp_cost_row *r = &m->rows[m->nrows];
        unsigned long long size;
        unsigned in_flight;
        int used = 0;
        if (sscanf(line, "%llu\t%u\t%lf\t%lf\t%lf\t%lf%n", &size, &in_flight, &r->ns[0], &r->ns[1],
                   &r->ns[2], &r->ns[3], &used) != 6 || (size_t)used != len || size == 0 ||
            in_flight == 0 || !(r->ns[0] > 0 && r->ns[1] > 0 && r->ns[2] > 0 && r->ns[3] > 0) ||
            !isfinite(r->ns[0] + r->ns[1] + r->ns[2] + r->ns[3])) {
            snprintf(err, errlen, "line %u: expected size, in_flight and four positive ns figures",
                     lineno);
            return -1;
        }
        r->size = size;
        r->in_flight = in_flight;
        const struct pp_cost_row *prev = m->nrows ? &m->rows[m->nrows - 1] : NULL;
        if (prev && (prev->size > r->size ||
                     (prev->size == r->size && prev->in_flight >= r->in_flight))) {
            snprintf(err, errlen, "line %u: rows must ascend by size, then in_flight", lineno);
            return -1;
        }
        m->nrows++;
    }
    if (m->nrows == 0) {
        snprintf(err, errlen, "no rows");
        return -1;
    }
    snprintf(m->source, sizeof m->source, "%s%s%s", allocator[0] ? allocator : "allocator ?",
             machine[0] ? ", " : "", machine);
    return 0;
}

const char *pp_cost_allocator_of(const struct pp_trace *trace)
{
    static const char *const known[] = {"jemalloc", "tcmalloc", "mimalloc"};
    for (uint32_t i = 0; trace && i < trace->nmodules; i++) {
        const char *path = trace->modules[i].path;
        const char *base = path ? strrchr(path, '/') : NULL;
        base = base ? base + 1 : path;
        for (size_t k = 0; base && k < sizeof known / sizeof *known; k++)
            if (strncmp(base, "lib", 3) == 0 && strstr(base, known[k]))
                return known[k];
    }
    return "glibc";
}

void pp_cost_model_builtin(struct pp_cost_model *m, const char *allocator)
{
    const struct builtin_table *t = &builtin_tables[0];
    for (size_t i = 0; i < sizeof builtin_tables / sizeof *builtin_tables; i++)
        if (strcmp(builtin_tables[i].allocator, allocator) == 0)
            t = &builtin_tables[i];
    char err[128], source[256];
    if (pp_cost_model_parse(m, t->tsv, err, sizeof err) != 0)
        abort(); /* the built-in tables are tested (test_checklist.c) */
    snprintf(source, sizeof source, "built-in: %.200s", m->source);
    memcpy(m->source, source, sizeof m->source);
    snprintf(m->allocator, sizeof m->allocator, "%s", allocator);
    m->note[0] = '\0';
    if (strcmp(t->allocator, allocator) != 0)
        snprintf(m->note, sizeof m->note, "no table for %s: the %s table was used", allocator,
                 t->allocator);
}

int pp_cost_model_find(struct pp_cost_model *m, const char *allocator, char *err, size_t errlen)
{
    char path[1024];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/poolprobe/costmodel-%s.tsv", xdg, allocator);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.cache/poolprobe/costmodel-%s.tsv", home, allocator);
    else
        path[0] = '\0';
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f) {
        pp_cost_model_builtin(m, allocator);
        return 0;
    }
    static char text[32768];
    size_t n = fread(text, 1, sizeof text - 1, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    text[n] = '\0';
    char why[160];
    if (bad) {
        snprintf(err, errlen, "%s: cannot read it whole (at most %zu bytes)", path,
                 sizeof text - 1);
        return -1;
    }
    if (pp_cost_model_parse(m, text, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s (remeasure with poolprobe-costmodel --save)", path, why);
        return -1;
    }
    char source[256];
    snprintf(source, sizeof source, "%.120s (%.120s)", path, m->source);
    memcpy(m->source, source, sizeof m->source);
    snprintf(m->allocator, sizeof m->allocator, "%s", allocator);
    m->note[0] = '\0';
    return 0;
}

/* The row of size index [first, last) whose in_flight is nearest n in log scale (ties go to
 * the larger count: the cliff is what a pool avoids). */
static const struct pp_cost_row *nearest_in_flight(const struct pp_cost_row *rows, size_t count,
                                                   double n)
{
    const struct pp_cost_row *best = &rows[0];
    double best_d = INFINITY;
    for (size_t i = 0; i < count; i++) {
        double d = fabs(log((double)rows[i].in_flight) - log(n));
        if (d <= best_d + 1e-9) {
            best = &rows[i];
            best_d = d;
        }
    }
    return best;
}

double pp_cost_ns(const struct pp_cost_model *m, enum pp_cost_way way, uint64_t size,
                  double in_flight)
{
    if (m->nrows == 0)
        return 0;
    if (size == 0)
        size = 1;
    if (!(in_flight >= 1))
        in_flight = 1;
    /* The measured sizes around size: rows [lo_first, lo_first+lo_n) and the next size's. */
    size_t lo_first = 0, hi_first = 0, i = 0;
    while (i < m->nrows) {
        size_t j = i;
        while (j < m->nrows && m->rows[j].size == m->rows[i].size)
            j++;
        if (m->rows[i].size <= size)
            lo_first = i;
        if (m->rows[i].size >= size) {
            hi_first = i;
            break;
        }
        hi_first = i;
        i = j;
    }
    size_t lo_n = 0, hi_n = 0;
    while (lo_first + lo_n < m->nrows && m->rows[lo_first + lo_n].size == m->rows[lo_first].size)
        lo_n++;
    while (hi_first + hi_n < m->nrows && m->rows[hi_first + hi_n].size == m->rows[hi_first].size)
        hi_n++;
    const struct pp_cost_row *lo = nearest_in_flight(&m->rows[lo_first], lo_n, in_flight);
    const struct pp_cost_row *hi = nearest_in_flight(&m->rows[hi_first], hi_n, in_flight);
    if (size <= m->rows[0].size)
        return lo->ns[way];
    if (size >= hi->size && hi->size == lo->size) /* above the largest size measured */
        return hi->ns[way] * (double)size / (double)hi->size;
    double f = (log((double)size) - log((double)lo->size)) /
               (log((double)hi->size) - log((double)lo->size));
    return lo->ns[way] + f * (hi->ns[way] - lo->ns[way]);
}
