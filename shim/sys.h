/* sys.h — system calls made without the C library.
 *
 * The C library's wrappers set errno and some are cancellation points; both live in the calling
 * thread's TLS. The watcher (watcher.c) shares the program's memory and runs with the TLS
 * pointer of the thread that started it, so it must touch neither: every call it makes, and
 * every call of the trace writer it runs, goes through these. Each returns what the kernel
 * returned: the result, or -errno (a value in [-4095, -1]). x86-64 only, like the shim.
 */
#ifndef POOLPROBE_SYS_H
#define POOLPROBE_SYS_H

#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

static inline long pp_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline int pp_sys_failed(long r)
{
    return r < 0 && r > -4096;
}

static inline int pp_sys_open(const char *path, int flags, int mode)
{
    return (int)pp_syscall(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0);
}
static inline long pp_sys_read(int fd, void *buf, size_t n)
{
    return pp_syscall(SYS_read, fd, (long)buf, (long)n, 0, 0, 0);
}
static inline long pp_sys_write(int fd, const void *buf, size_t n)
{
    return pp_syscall(SYS_write, fd, (long)buf, (long)n, 0, 0, 0);
}
static inline int pp_sys_close(int fd)
{
    return (int)pp_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
}
static inline int pp_sys_fstat(int fd, struct stat *st)
{
    return (int)pp_syscall(SYS_fstat, fd, (long)st, 0, 0, 0, 0);
}
static inline int pp_sys_lstat(const char *path, struct stat *st)
{
    return (int)pp_syscall(SYS_newfstatat, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW,
                           0, 0);
}
static inline int pp_sys_rename(const char *from, const char *to)
{
    return (int)pp_syscall(SYS_rename, (long)from, (long)to, 0, 0, 0, 0);
}
static inline int pp_sys_unlink(const char *path)
{
    return (int)pp_syscall(SYS_unlink, (long)path, 0, 0, 0, 0, 0);
}
/* Returns the address, or a value pp_sys_failed() says is an error. */
static inline void *pp_sys_mmap(void *addr, size_t len, int prot, int flags)
{
    return (void *)pp_syscall(SYS_mmap, (long)addr, (long)len, prot, flags, -1, 0);
}
static inline void *pp_sys_mremap(void *old, size_t old_len, size_t new_len, int flags)
{
    return (void *)pp_syscall(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, 0, 0);
}
static inline int pp_sys_munmap(void *addr, size_t len)
{
    return (int)pp_syscall(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
}
static inline int pp_sys_getpid(void)
{
    return (int)pp_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0);
}
static inline int pp_sys_getppid(void)
{
    return (int)pp_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0);
}
static inline int pp_sys_kill(int pid, int sig)
{
    return (int)pp_syscall(SYS_kill, pid, sig, 0, 0, 0, 0);
}
static inline int pp_sys_nanosleep(const struct timespec *ts)
{
    return (int)pp_syscall(SYS_nanosleep, (long)ts, 0, 0, 0, 0, 0);
}
/* The kernel's sigset is 64 bits (8 bytes), not glibc's 128-byte sigset_t. */
static inline int pp_sys_sigtimedwait(const unsigned long *set, const struct timespec *timeout)
{
    return (int)pp_syscall(SYS_rt_sigtimedwait, (long)set, 0, (long)timeout, 8, 0, 0);
}
static inline int pp_sys_sigprocmask(int how, const unsigned long *set, unsigned long *old)
{
    return (int)pp_syscall(SYS_rt_sigprocmask, how, (long)set, (long)old, 8, 0, 0);
}
/* Reaps pid, a child of any kind (__WALL); nohang: 0 while it still runs. */
static inline int pp_sys_wait_clone(int pid, int nohang)
{
    return (int)pp_syscall(SYS_wait4, pid, 0, 0x40000000 /* __WALL */ | (nohang ? 1 : 0), 0, 0,
                           0);
}
static inline __attribute__((noreturn)) void pp_sys_exit(int status)
{
    for (;;)
        pp_syscall(SYS_exit, status, 0, 0, 0, 0, 0);
}

#endif
