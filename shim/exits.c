/* exits.c — the ends of an image that run no destructor: exec, _exit, _Exit, abort.
 *
 * exit() and a return from main run our destructor, which writes the final trace. These do
 * not, so each is interposed to write it first (lifecycle.c, pp_image_ends), then calls the
 * real function. What is safe in each:
 *   - exec*: may run in a forked child of a threaded program, where only async-signal-safe
 *     calls are allowed: the write uses only our arena (its locks were reset in the child),
 *     mmap and plain file system calls, and skips the module rescan (dl_iterate_phdr takes the
 *     loader's lock, which another thread may have held at fork). If the exec fails, tracking
 *     goes on and the next write replaces this one. An image that recorded nothing writes
 *     nothing here (a shell's fork-then-exec leaves no empty file).
 *   - _exit, _Exit: may be called from a signal handler; if that handler interrupted the shim
 *     itself on this thread (its busy flag is set), nothing is written: the locks the
 *     interrupted frame holds would never be released. Tracking stops first.
 *   - abort: the heap may be corrupt (glibc aborts on a bad free): the write touches only our
 *     own memory. A program whose SIGABRT handler returns into it goes on being tracked.
 * In a vfork child (its pid differs from the one we started in, and it shares its parent's
 * memory) nothing is written and nothing of ours is touched: the parent's tables are live.
 * glibc's own callers (system, posix_spawn, assert's abort) call its internal entry points, not
 * these: their children are new processes and write their own files.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define PP_EXPORT __attribute__((visibility("default")))

static struct {
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    void (*exit_now)(int);
    void (*abort)(void);
} real;

/* At start, never in a vfork child: dlsym may allocate and take the loader's lock. */
void pp_exits_init(void)
{
    *(void **)&real.execve = dlsym(RTLD_NEXT, "execve");
    *(void **)&real.execv = dlsym(RTLD_NEXT, "execv");
    *(void **)&real.execvp = dlsym(RTLD_NEXT, "execvp");
    *(void **)&real.execvpe = dlsym(RTLD_NEXT, "execvpe");
    *(void **)&real.fexecve = dlsym(RTLD_NEXT, "fexecve");
    *(void **)&real.execveat = dlsym(RTLD_NEXT, "execveat");
    *(void **)&real.exit_now = dlsym(RTLD_NEXT, "_exit");
    *(void **)&real.abort = dlsym(RTLD_NEXT, "abort");
}

PP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    pp_image_ends(0);
    if (!real.execve)
        return (int)syscall(SYS_execve, path, argv, envp);
    return real.execve(path, argv, envp);
}

PP_EXPORT int execv(const char *path, char *const argv[])
{
    pp_image_ends(0);
    if (!real.execv)
        return (int)syscall(SYS_execve, path, argv, environ);
    return real.execv(path, argv);
}

PP_EXPORT int execvp(const char *file, char *const argv[])
{
    pp_image_ends(0);
    if (!real.execvp) {
        errno = ENOSYS;
        return -1;
    }
    return real.execvp(file, argv);
}

PP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    pp_image_ends(0);
    if (!real.execvpe) {
        errno = ENOSYS;
        return -1;
    }
    return real.execvpe(file, argv, envp);
}

PP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    pp_image_ends(0);
    if (!real.fexecve) {
        errno = ENOSYS;
        return -1;
    }
    return real.fexecve(fd, argv, envp);
}

PP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
    pp_image_ends(0);
    if (!real.execveat)
        return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
    return real.execveat(dirfd, path, argv, envp, flags);
}

/* execl, execlp, execle: the list made an argv, as the C library does, then the v form. */
#define ARGV_FROM_LIST(first, ap, argv)                                                        \
    size_t n_ = 1;                                                                             \
    va_start(ap, first);                                                                       \
    while (va_arg(ap, char *))                                                                 \
        n_++;                                                                                  \
    va_end(ap);                                                                                \
    char *argv[n_ + 1];                                                                        \
    va_start(ap, first);                                                                       \
    argv[0] = (char *)first;                                                                   \
    for (size_t i_ = 1; i_ <= n_; i_++)                                                        \
        argv[i_] = va_arg(ap, char *);

PP_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    ARGV_FROM_LIST(arg, ap, argv)
    va_end(ap);
    return execv(path, argv);
}

PP_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    ARGV_FROM_LIST(arg, ap, argv)
    va_end(ap);
    return execvp(file, argv);
}

PP_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    ARGV_FROM_LIST(arg, ap, argv)
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

PP_EXPORT void _exit(int status)
{
    pp_image_ends(1);
    if (real.exit_now)
        real.exit_now(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

PP_EXPORT void _Exit(int status)
{
    _exit(status);
}

PP_EXPORT void abort(void)
{
    pp_image_ends(0);
    if (real.abort)
        real.abort();
    for (;;)
        raise(SIGKILL);
}
