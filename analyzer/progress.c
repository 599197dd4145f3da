/* progress.c — "still working" on stderr while a long report is built.
 *
 * Symbolizing a large trace takes seconds, and a command that is silent for ten seconds looks
 * hung. When stderr is a terminal and the work has taken longer than a second, one status line
 * ("poolprobe-report: symbolizing 41234 stacks... 3s") is drawn and redrawn in place, and erased
 * when the work is done, so it never mixes with the report on stdout or with a captured stderr.
 * A phase change draws at once (from the caller); a helper thread redraws the elapsed seconds
 * during a long phase. POOLPROBE_PROGRESS_AFTER_MS changes the one-second delay (0: from the
 * start), which the tests use to see the line without a slow trace.
 */
#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct {
    bool on;            /* stderr is a terminal and the thread runs */
    bool stop;
    bool drawn;         /* a status line is on the screen */
    double start, after; /* seconds (monotonic), delay before the first line */
    char phase[160];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
} progress = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* With the lock held: draw the line when the delay has passed. */
static void draw_locked(void)
{
    double elapsed = now_seconds() - progress.start;
    if (elapsed < progress.after || !progress.phase[0])
        return;
    fprintf(stderr, "\rpoolprobe-report: %s... %.0fs\033[K", progress.phase, elapsed);
    fflush(stderr);
    progress.drawn = true;
}

static void *ticker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&progress.lock);
    while (!progress.stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&progress.wake, &progress.lock, &until);
        if (!progress.stop)
            draw_locked();
    }
    pthread_mutex_unlock(&progress.lock);
    return NULL;
}

void pp_progress_start(void)
{
    if (!isatty(STDERR_FILENO))
        return;
    const char *after = getenv("POOLPROBE_PROGRESS_AFTER_MS");
    progress.after = after && *after ? atof(after) / 1000 : 1.0;
    progress.start = now_seconds();
    progress.on = pthread_create(&progress.thread, NULL, ticker, NULL) == 0;
}

void pp_progress_phase(const char *fmt, ...)
{
    if (!progress.on)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&progress.lock);
    vsnprintf(progress.phase, sizeof progress.phase, fmt, ap);
    draw_locked();
    pthread_mutex_unlock(&progress.lock);
    va_end(ap);
}

void pp_progress_stop(void)
{
    if (!progress.on)
        return;
    pthread_mutex_lock(&progress.lock);
    progress.stop = true;
    pthread_cond_signal(&progress.wake);
    pthread_mutex_unlock(&progress.lock);
    pthread_join(progress.thread, NULL);
    progress.on = false;
    if (progress.drawn) {
        fputs("\r\033[K", stderr); /* erase it: what follows starts on a clean line */
        fflush(stderr);
    }
}
