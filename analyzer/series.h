/* series.h — allocations over time: the SERIES record of a v1.1 trace (trace_format.h), read and
 * named by site, for the HTML report's charts.
 *
 * The trace reader skips records it does not need, so this reads the file again for the one
 * record; the caller has already read and checked the trace (its END checksum) with
 * pp_trace_read_file. Allocates; never prints.
 */
#ifndef POOLPROBE_SERIES_H
#define POOLPROBE_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "sites.h"
#include "symbolize.h"
#include "trace_reader.h"

#define PP_SERIES_MAX_LINES 6 /* sites drawn besides the process */

/* One line of a chart: cumulative allocations and live bytes at each point; a site's value is
 * -1 at a point where none of its stacks was among the busiest the shim kept. */
struct pp_series_line {
    const char *name; /* the site's allocating function (symbolizer-owned), or "process" */
    int64_t *allocs, *live_bytes;
};

struct pp_series {
    uint32_t pid;
    uint64_t interval_ns;
    size_t npoints;
    uint64_t *t_ns;              /* since the process started */
    struct pp_series_line process;
    size_t nlines;               /* the busiest sites at the last point, most first */
    struct pp_series_line lines[PP_SERIES_MAX_LINES];
};

/* The series of the trace at path (already read as trace), its stacks named with sym like the
 * report's sites (options: the wrappers to skip). out->npoints is 0 when the trace has none
 * (written by a v1.0 shim). Returns 0, or -1 with a message in err (out of memory, unreadable,
 * a malformed SERIES record). */
int pp_series_load(struct pp_series *out, const char *path, const struct pp_trace *trace,
                   struct pp_symbolizer *sym, const struct pp_group_options *options, char *err,
                   size_t errlen);
void pp_series_free(struct pp_series *s);

#endif
