/* progress.h — a status line on stderr while poolprobe-report works (see progress.c).
 *
 * Only when stderr is a terminal; otherwise every call does nothing. Not for use from more than
 * one thread of the caller; may allocate (one thread).
 */
#ifndef POOLPROBE_PROGRESS_H
#define POOLPROBE_PROGRESS_H

/* Start timing; the line appears once the work has taken a second. */
void pp_progress_start(void);

/* What is being done now, e.g. "reading trace 2 of 5 (big.bin)"; printf-style. */
__attribute__((format(printf, 1, 2))) void pp_progress_phase(const char *fmt, ...);

/* Erase the line and stop; call before writing errors or the report. */
void pp_progress_stop(void);

#endif
