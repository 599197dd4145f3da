/* report_pprof.h — the report as a pprof profile (gzipped profile.proto), for `go tool pprof`
 * and continuous-profiling servers (Pyroscope, Parca) that ingest pprof.
 *
 * Like Go's heap profile it has four sample types: alloc_objects (count), alloc_space (bytes),
 * inuse_objects (count) and inuse_space (bytes), one sample per call stack, with symbolized
 * functions, file names, lines and inlined frames, and one mapping per module (path and
 * build-id). Allocates; writes only to out.
 */
#ifndef POOLPROBE_REPORT_PPROF_H
#define POOLPROBE_REPORT_PPROF_H

#include <stddef.h>
#include <stdio.h>

#include "sites.h"

/* Write report (built with PP_GROUP_BY_STACK) to out as a gzipped profile. Returns 0, or -1 with
 * a message in err (out of memory, compression failure); write errors on out are left to the
 * caller's final check. */
int pp_report_pprof(FILE *out, const struct pp_report *report, char *err, size_t errlen);

#endif
