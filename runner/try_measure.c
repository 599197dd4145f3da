/* try_measure.c — run the program for `poolprobe try`: plainly, to record, or in an arm.
 *
 * Every run is a fork/exec waited with wait4(), which gives the child's CPU time (user + system,
 * its waited-for descendants included) and peak RSS; wall time is CLOCK_MONOTONIC around it.
 * stdout and stderr go to files in the scratch directory, stdin comes from the same file (or
 * /dev/null) from its start each time, so every run sees the same input. The plain run, without
 * the shim, is the reference: each later run's stdout, stderr and exit status must be the same
 * bytes and status, or the try is void (the pool changed what the program computes, or the
 * program is not deterministic, and either way its times compare nothing).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "try.h"

enum run_kind { RUN_PLAIN, RUN_RECORD, RUN_ARM };

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void child_env(const struct try_program *p, enum run_kind kind, const char *arg,
                      const char *counts_prefix)
{
    unsetenv("POOLPROBE_TRY");
    unsetenv("POOLPROBE_TRY_OUT");
    if (kind == RUN_PLAIN)
        return;
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", p->shim, old && *old ? ":" : "", old ? old : "") < 0)
        _exit(127);
    setenv("LD_PRELOAD", preload, 1);
    if (kind == RUN_RECORD) {
        setenv("POOLPROBE_OUT", arg, 1);
        setenv("POOLPROBE_INTERVAL", "0", 1);
    } else {
        setenv("POOLPROBE_TRY", arg, 1);
        setenv("POOLPROBE_TRY_OUT", counts_prefix, 1);
    }
}

static int redirect(int fd, const char *path, int flags)
{
    int f = open(path, flags | O_CLOEXEC, 0600);
    if (f < 0 || dup2(f, fd) < 0)
        return -1;
    close(f);
    return 0;
}

static int spawn(const struct try_program *p, enum run_kind kind, const char *arg,
                 const char *out_name, struct try_run *r, char *err, size_t errlen)
{
    char out_path[4096], err_path[4096], counts_prefix[4096];
    snprintf(out_path, sizeof out_path, "%s/%s.out", p->dir, out_name);
    snprintf(err_path, sizeof err_path, "%s/%s.err", p->dir, out_name);
    snprintf(counts_prefix, sizeof counts_prefix, "%s/counts/c", p->dir);
    fflush(NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (redirect(0, p->stdin_path ? p->stdin_path : "/dev/null", O_RDONLY) ||
            redirect(1, out_path, O_WRONLY | O_CREAT | O_TRUNC) ||
            redirect(2, err_path, O_WRONLY | O_CREAT | O_TRUNC))
            _exit(127);
        child_env(p, kind, arg, counts_prefix);
        execvp(p->argv[0], p->argv);
        dprintf(2, "poolprobe try: cannot run %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    struct rusage ru;
    int status;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "wait4: %s", strerror(errno));
            return -1;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    r->cpu_s = seconds(ru.ru_utime) + seconds(ru.ru_stime);
    r->maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024;
    r->status = status;
    r->same = true;
    return 0;
}

/* The whole file at path (NUL-terminated), its length in *len; NULL when unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 + 1 > cap) {
            cap = (*len + 65536 + 1) * 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static bool same_file(const char *dir, const char *a, const char *b)
{
    char pa[4096], pb[4096];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    size_t la, lb;
    char *x = slurp(pa, &la), *y = slurp(pb, &lb);
    bool same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static int plain_status = -1;

int try_run_plain(const struct try_program *p, struct try_run *r, char *err, size_t errlen)
{
    if (spawn(p, RUN_PLAIN, NULL, "plain", r, err, errlen))
        return -1;
    plain_status = r->status;
    return 0;
}

int try_run_record(const struct try_program *p, const char *trace_path, struct try_run *r,
                   char *err, size_t errlen)
{
    if (spawn(p, RUN_RECORD, trace_path, "record", r, err, errlen))
        return -1;
    r->same = r->status == plain_status && same_file(p->dir, "record.out", "plain.out") &&
              same_file(p->dir, "record.err", "plain.err");
    return 0;
}

/* Sum the counts files the run's processes wrote (counts/c.<pid>), removing them. */
static void read_counts(const char *dir, struct try_counts *counts, size_t n, unsigned *unresolved)
{
    memset(counts, 0, n * sizeof *counts);
    *unresolved = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/counts", dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "c.", 2))
            continue;
        snprintf(path, sizeof path, "%s/counts/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            size_t i;
            struct try_counts c;
            unsigned u;
            if (sscanf(line, "unresolved %u", &u) == 1 && u > *unresolved)
                *unresolved = u;
            if (sscanf(line, "site %zu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
                       &i, &c.matched, &c.hits, &c.misses, &c.drops, &c.overflows) == 6 &&
                i < n) {
                counts[i].matched += c.matched;
                counts[i].hits += c.hits;
                counts[i].misses += c.misses;
                counts[i].drops += c.drops;
                counts[i].overflows += c.overflows;
            }
        }
        if (f)
            fclose(f);
        unlink(path);
    }
    closedir(d);
}

int try_run_arm(const struct try_program *p, const char *targets_path, struct try_run *r,
                struct try_counts *counts, size_t n, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/counts", p->dir);
    mkdir(path, 0700);
    read_counts(p->dir, counts, n, &r->unresolved); /* clears what an earlier run left */
    if (spawn(p, RUN_ARM, targets_path, "arm", r, err, errlen))
        return -1;
    read_counts(p->dir, counts, n, &r->unresolved);
    r->same = r->status == plain_status && same_file(p->dir, "arm.out", "plain.out") &&
              same_file(p->dir, "arm.err", "plain.err");
    return 0;
}

const char *try_describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "wait status %d", status);
    return buf;
}
