/* host_idle.c — a program that allocates, then goes quiet or dies, for t_host_idle.sh.
 *
 *   host_idle idle N KEEP SECONDS  N allocations at idle_alloc (KEEP of them left live), then
 *                                  what it sees of its own process (below), "ready", stdout
 *                                  closed, and SECONDS of sleep without an allocation
 *   host_idle crash N              N allocations at crash_alloc, "ready", then SIGSEGV
 *                                  with no handler
 *   host_idle busy THREADS         THREADS threads allocating and freeing at busy_alloc
 *                                  without end; "ready" once each has done 10000
 *   host_idle wall                 forks a child that exits after 100 ms, then waits for every
 *                                  child with __WALL, as strace and gdb do, until none is left
 *   host_idle reaper PROG ARG...   a child subreaper (as systemd and tini are): runs PROG,
 *                                  waits for it, then for 300 ms reaps whatever else it
 *                                  inherits, and prints "adopted N" (a watcher that outlived
 *                                  its program would be one); not itself a program to trace
 *
 * What it sees of itself must not change under the shim (the watcher is none of these): its
 * threads in /proc/self/task, waitpid(-1) (no child), its pending signals, the descriptor its
 * first open() gets, its process group.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void *idle_alloc(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *crash_alloc(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *busy_alloc(size_t n) { return malloc(n); }

static void say(const char *line)
{
    fputs(line, stdout);
    fflush(stdout);
}

static void describe_self(void)
{
    int tasks = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));)
        tasks += e->d_name[0] != '.';
    if (d)
        closedir(d);
    errno = 0;
    int w = waitpid(-1, NULL, WNOHANG);
    const char *werr = strerror(errno);
    sigset_t pending;
    sigpending(&pending);
    int npending = 0;
    for (int s = 1; s < 65; s++)
        npending += sigismember(&pending, s) == 1;
    int fd = open("/dev/null", O_RDONLY);
    printf("threads %d; waitpid(-1) %d (%s); %d signals pending; open() gives %d; "
           "own process group %d\n",
           tasks, w, werr, npending, fd, getpgrp() == getpid());
    close(fd);
}

static void pause_for(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static atomic_int busy_ready;
static int busy_threads;

static void *busy_loop(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        free(busy_alloc(64 + (size_t)(i % 4) * 64));
        if (i == 10000 && atomic_fetch_add(&busy_ready, 1) + 1 == busy_threads)
            say("ready\n");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "idle")) {
        long n = atol(argv[2]), keep = atol(argv[3]);
        for (long i = 0; i < n; i++) {
            void *p = idle_alloc(100);
            if (i >= keep)
                free(p);
        }
        describe_self();
        say("ready\n");
        /* A reader of our stdout sees its end now, however long we sleep. */
        fclose(stdout);
        close(1);
        pause_for(atof(argv[4]));
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "crash")) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            free(crash_alloc(200));
        describe_self();
        say("ready\n");
        raise(SIGSEGV); /* no handler: the default action, as a bad pointer would have */
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "busy")) {
        busy_threads = atoi(argv[2]);
        for (int i = 1; i < busy_threads; i++) {
            pthread_t t;
            pthread_create(&t, NULL, busy_loop, NULL);
        }
        busy_loop(NULL);
    }
    if (argc == 2 && !strcmp(argv[1], "wall")) {
        free(idle_alloc(10));
        if (fork() == 0) {
            pause_for(0.1);
            _exit(0);
        }
        int status;
        while (waitpid(-1, &status, __WALL) > 0)
            ;
        say("every child reaped\n");
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "reaper")) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
            perror("host_idle: PR_SET_CHILD_SUBREAPER");
            return 2;
        }
        pid_t prog = fork();
        if (prog == 0) {
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        int status, adopted = 0;
        if (prog < 0 || waitpid(prog, &status, 0) != prog)
            return 2;
        for (int ms = 0; ms < 300; ms++) {
            while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
                adopted++;
            pause_for(0.001);
        }
        printf("adopted %d\n", adopted);
        return 0;
    }
    fprintf(stderr, "usage: host_idle idle N KEEP SECONDS | crash N | busy THREADS | wall | "
                    "reaper PROG ARG...\n");
    return 2;
}
