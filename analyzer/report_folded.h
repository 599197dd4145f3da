/* report_folded.h — the report as folded stacks, the input of flamegraph.pl, inferno and
 * speedscope: one "outermost;...;allocating-function VALUE" line per call stack.
 *
 * Writes to out and does not check for write errors (the caller checks once at the end). No
 * allocation.
 */
#ifndef POOLPROBE_REPORT_FOLDED_H
#define POOLPROBE_REPORT_FOLDED_H

#include <stdio.h>

#include "sites.h"

/* What each line counts. */
enum pp_folded_value {
    PP_FOLDED_ALLOCS,      /* allocations (the default) */
    PP_FOLDED_BYTES,       /* bytes requested */
    PP_FOLDED_LIVE_BYTES,  /* bytes still live when the trace was written */
};

/* One line per site of report (built with PP_GROUP_BY_STACK, so that a site is one stack), in
 * the report's order; sites whose value is 0 are left out. The values add up to the sum over
 * the sites (for an exact trace, the trace's totals). */
void pp_report_folded(FILE *out, const struct pp_report *report, enum pp_folded_value value);

/* The folded name of a frame: its function, else "module+0xoffset", else "0xaddress"; with ';'
 * (the frame separator) written as ':'. Writes into buf (len > 0) and returns it. Shared with
 * the HTML report's flame graph. */
char *pp_folded_frame_name(char *buf, size_t len, const struct pp_frame *frame);

#endif
