/* report_html.h — the report as one self-contained HTML page, to look at rather than read.
 *
 * Recommendations as cards (verdict, numbers, checklist rows, predicted saving, and the measured
 * one when --try gave a poolprobe try result, tried.h), each site's size and lifetime
 * histograms, an allocation flame graph (by count or bytes; click to zoom; search), allocations
 * and live bytes over time when the traces carry a series, and the regression gate's comparison when there is one. Everything is
 * inline: the page's script and style and the chart and flame-graph libraries (Chart.js,
 * d3-flame-graph, d3-selection, with their licences) are embedded in poolprobe-report at build
 * time, so the page needs no network and no server. Allocates; writes only to out.
 */
#ifndef POOLPROBE_REPORT_HTML_H
#define POOLPROBE_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "series.h"
#include "sites.h"

struct pp_html_input {
    const struct pp_report *report; /* by site, judged: cards, histograms, tables */
    const struct pp_report *stacks; /* the same traces by call stack: the flame graph */
    const char *gate_json;          /* the gate's JSON document (report_gate.h) or NULL */
    const char *title;              /* the page title: the traces it shows */
    const struct pp_series *series; /* allocations over time (series.h), or NULL */
};

/* Write the page. Returns 0, or -1 with a message in err (out of memory, a JSON document that
 * does not parse); write errors on out are left to the caller's final check. */
int pp_report_html(FILE *out, const struct pp_html_input *in, char *err, size_t errlen);

#endif
