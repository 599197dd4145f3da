/* report_gate.h — the regression gate's outputs: text for a terminal (80 columns), markdown for
 * a pull-request comment, JSON for machines, and GitHub Actions annotations.
 *
 * Every format lists regressions first (with the threshold each one broke), then suppressed
 * regressions, then improvements, then the totals that did not change beyond their thresholds,
 * then the notes. They write to out and do not check for write errors (the caller checks
 * ferror/fflush once at the end).
 */
#ifndef POOLPROBE_REPORT_GATE_H
#define POOLPROBE_REPORT_GATE_H

#include <stdio.h>

#include "baseline.h"
#include "gate.h"

#define PP_GATE_JSON_VERSION 1

void pp_gate_text(FILE *out, const struct pp_gate_result *result,
                  const struct pp_summary *baseline, const struct pp_summary *current);

void pp_gate_markdown(FILE *out, const struct pp_gate_result *result,
                      const struct pp_summary *baseline, const struct pp_summary *current);

/* {"format": "poolprobe-gate", "version": 1, "passed", "per_op", "baseline", "current",
 * "thresholds", "regressions", "suppressed", "improvements", "totals", "notes"}. Returns -1 on
 * out of memory (nothing written). */
int pp_gate_json(FILE *out, const struct pp_gate_result *result,
                 const struct pp_summary *baseline, const struct pp_summary *current,
                 const struct pp_gate_thresholds *thresholds);

/* One "::error file=...,line=...,title=...::message" line per regression, the workflow command
 * GitHub Actions turns into an annotation. A source file under workspace (GITHUB_WORKSPACE, may
 * be NULL) is made relative to it; an absolute file elsewhere is left out (the annotation then
 * has no location). */
void pp_gate_annotations(FILE *out, const struct pp_gate_result *result, const char *workspace);

#endif
