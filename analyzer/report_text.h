/* report_text.h — the human report: a header about the traced processes, then one row per site.
 * Laid out for an 80-column terminal. Writes to out and does not check for write errors (the
 * caller checks ferror/fflush once at the end). */
#ifndef POOLPROBE_REPORT_TEXT_H
#define POOLPROBE_REPORT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sites.h"

/* Print report to out, at most top sites (0 = all). */
void pp_report_text(FILE *out, const struct pp_report *report, size_t top);

struct pp_verdict;
/* Cut lines to this many columns (0: never; the default is 79). */
void pp_report_text_set_width(size_t columns);

/* What ok/NO/yes/no mean in the checklist rows: two lines, each after indent, to print once
 * above them. */
void pp_print_checks_legend(FILE *out, const char *indent);

/* The action a verdict recommends, with its numbers ("    free list of 4 x 4.0K B; ..."), one or
 * two indented lines; nothing for no-pool. Shared with the HTML report's cards. */
void pp_print_action(FILE *out, const struct pp_site *site, const struct pp_verdict *v);

/* The checklist rows of a verdict, one per line, indented for a report. */
void pp_print_checks(FILE *out, const struct pp_verdict *v);

#endif
