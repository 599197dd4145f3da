/* robust_procs.c — processes under the shim: fork from a threaded process, fork+exec,
 * posix_spawn, system(), vfork+exec, and a daemon that closes every descriptor.
 *
 * robust_procs leaf N
 *     N x malloc(56) at leaf_alloc, all freed. Expected in its own trace: allocs N, frees N.
 * robust_procs fork N
 *     Two threads allocate in a loop (spin_alloc) while the main thread forks; the child
 *     allocates N blocks at child_alloc (72 bytes), frees them, and exits through exit(0).
 *     Expected in the child's trace.<pid>.bin: child_alloc allocs N, frees N; no spin_alloc.
 * robust_procs exec|spawn|system|vfork N
 *     Runs "robust_procs leaf N" (this same executable, from /proc/self/exe's path) through
 *     fork+execv, posix_spawn, system() or vfork+execv, waits for it and prints its status.
 * robust_procs daemon OUT ERR N
 *     Like a daemon: closes every file descriptor (0, 1 and 2 included), chdir("/"), then opens
 *     /dev/null (fd 0), OUT (fd 1) and ERR (fd 2; whatever the shim might say must not land
 *     there), allocates N x 88 bytes at daemon_alloc, frees the first half, prints to OUT and
 *     exits. Expected: daemon_alloc allocs N, frees N/2, live_at_exit N - N/2.
 *
 * Output is deterministic (no pids).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

extern char **environ;

static void *must(void *p)
{
    if (!p) {
        perror("robust_procs: malloc");
        abort();
    }
    return p;
}

__attribute__((noinline)) void *leaf_alloc(unsigned long i)
{
    unsigned char *p = must(malloc(56));
    p[0] = (unsigned char)i;
    return p;
}

static int leaf(unsigned long n)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned char *p = leaf_alloc(i);
        sum += p[0];
        free(p);
    }
    printf("leaf: n=%lu sum=%lu\n", n, sum);
    return 0;
}

/* ---- fork from a threaded process ---- */

static atomic_int stop;

__attribute__((noinline)) void *spin_alloc(unsigned long i)
{
    return malloc(32 + (i % 16) * 16);
}

static void *spinner(void *arg)
{
    (void)arg;
    void *keep[16] = {0};
    for (unsigned long i = 0; !atomic_load(&stop); i++) {
        free(keep[i % 16]);
        keep[i % 16] = spin_alloc(i);
        escape(keep[i % 16]);
    }
    for (int i = 0; i < 16; i++)
        free(keep[i]);
    return NULL;
}

__attribute__((noinline)) void *child_alloc(unsigned long i)
{
    unsigned char *p = must(malloc(72));
    p[0] = (unsigned char)i;
    return p;
}

static int fork_threads(unsigned long n)
{
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, spinner, NULL);
    usleep(20000);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Only this thread exists here; the shim's locks must have been left consistent. */
        static void *blocks[100000];
        if (n > 100000)
            n = 100000;
        for (unsigned long i = 0; i < n; i++)
            blocks[i] = child_alloc(i);
        for (unsigned long i = 0; i < n; i++)
            free(blocks[i]);
        printf("fork child: n=%lu\n", n);
        exit(0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("fork: child status %d\n", status);
    return 0;
}

/* ---- starting the leaf in other processes ---- */

static char self[4096];

static int run_leaf(const char *how, const char *n)
{
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';
    char *argv[] = {self, "leaf", (char *)n, NULL};
    int status = -1;
    fflush(stdout);
    if (!strcmp(how, "exec")) {
        pid_t pid = fork();
        if (pid == 0) {
            execv(self, argv);
            _exit(127);
        }
        waitpid(pid, &status, 0);
    } else if (!strcmp(how, "vfork")) {
        pid_t pid = vfork();
        if (pid == 0) {
            execv(self, argv);
            _exit(127);
        }
        waitpid(pid, &status, 0);
    } else if (!strcmp(how, "spawn")) {
        pid_t pid;
        int rc = posix_spawn(&pid, self, NULL, NULL, argv, environ);
        if (rc != 0) {
            fprintf(stderr, "robust_procs: posix_spawn: %s\n", strerror(rc));
            return 1;
        }
        waitpid(pid, &status, 0);
    } else if (!strcmp(how, "system")) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' leaf %s", self, n);
        status = system(cmd);
    } else {
        return 2;
    }
    printf("%s: leaf status %d\n", how, status);
    return status == 0 ? 0 : 1;
}

/* ---- daemon ---- */

__attribute__((noinline)) void *daemon_alloc(unsigned long i)
{
    unsigned char *p = must(malloc(88));
    p[0] = (unsigned char)i;
    return p;
}

static int daemonish(const char *out, const char *err, unsigned long n)
{
    struct rlimit rl;
    int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    fflush(stdout);
    for (int fd = 0; fd < max; fd++)
        close(fd);
    if (chdir("/") != 0)
        return 3;
    if (open("/dev/null", O_RDONLY) != 0 || open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 1 ||
        open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 2)
        return 4;
    static void *blocks[100000];
    if (n > 100000)
        n = 100000;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++)
        blocks[i] = daemon_alloc(i);
    for (unsigned long i = 0; i < n / 2; i++) {
        sum += ((unsigned char *)blocks[i])[0];
        free(blocks[i]);
    }
    char cwd[64];
    printf("daemon: n=%lu sum=%lu cwd=%s\n", n, sum, getcwd(cwd, sizeof cwd) ? cwd : "?");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "leaf"))
        return leaf(strtoul(argv[2], NULL, 10));
    if (argc >= 3 && !strcmp(argv[1], "fork"))
        return fork_threads(strtoul(argv[2], NULL, 10));
    if (argc >= 5 && !strcmp(argv[1], "daemon"))
        return daemonish(argv[2], argv[3], strtoul(argv[4], NULL, 10));
    if (argc >= 3)
        return run_leaf(argv[1], argv[2]);
    fprintf(stderr, "usage: robust_procs leaf|fork|exec|spawn|system|vfork N | daemon OUT ERR N\n");
    return 2;
}
