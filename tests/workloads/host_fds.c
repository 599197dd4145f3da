/* host_fds.c — the program's file descriptors are the program's (tests/t_host_fds.sh).
 *
 *   host_fds fds [FD...]   allocates from a frame without unwind info (so an unwinder must
 *                          fall back to validating memory), then prints the descriptors it has
 *                          open (0, 1, 2 and the FDs it was given, exactly) and the number its
 *                          first open() returns (the lowest free one). Exit 0 when both are as
 *                          a program without any preload would see them.
 *   host_fds run [FD...]   starts `host_fds fds FD...` as subprocess's pass_fds does: every
 *                          descriptor but 0, 1, 2 and the FDs closed, the FDs open (on
 *                          /dev/null), then exec.
 *   host_fds daemon A B    closes every descriptor above 2 (as daemons do), opens A and B
 *                          (3 and 4), allocates from a frame without unwind info, writes one
 *                          line to each and closes them. Exit 0 when every write and close
 *                          succeeded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

/* A function with no unwind information at all (no CFI, no FDE): an unwinder reaching it must
 * walk the frame-pointer chain and, to do that safely, check that the memory it reads is
 * mapped. */
void *noinfo_alloc(size_t size);
__asm__(".text\n"
        ".globl noinfo_alloc\n"
        ".type noinfo_alloc, @function\n"
        "noinfo_alloc:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    call malloc@PLT\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size noinfo_alloc, .-noinfo_alloc\n");

static void allocate_without_unwind_info(int n)
{
    for (int i = 0; i < n; i++) {
        void *p = noinfo_alloc(32 + (size_t)i);
        escape(p);
        free(p);
    }
}

static int fds_mode(int argc, char **argv)
{
    allocate_without_unwind_info(100);
    int expected[1024] = {[0] = 1, [1] = 1, [2] = 1};
    for (int i = 0; i < argc; i++)
        expected[atoi(argv[i]) & 1023] = 1;
    int open_fds[1024] = {0};
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 2;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != dirfd(d))
            open_fds[fd & 1023] = 1;
    }
    closedir(d);
    printf("open:");
    int exact = 1;
    for (int fd = 0; fd < 1024; fd++) {
        if (open_fds[fd])
            printf(" %d", fd);
        exact &= open_fds[fd] == expected[fd];
    }
    printf("\ninherited exactly: %s\n", exact ? "yes" : "no");
    int lowest = 0;
    while (expected[lowest])
        lowest++;
    int fd = open("/dev/null", O_RDONLY);
    printf("first open: %d (lowest free: %d)\n", fd, lowest);
    return exact && fd == lowest ? 0 : 1;
}

static int daemon_mode(const char *a_path, const char *b_path)
{
    for (int fd = 3; fd < 65536; fd++)
        close(fd);
    int a = open(a_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int b = open(b_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    allocate_without_unwind_info(100);
    int ok = write(a, "to A\n", 5) == 5;
    allocate_without_unwind_info(100);
    ok &= write(b, "to B\n", 5) == 5;
    ok &= close(a) == 0;
    ok &= close(b) == 0;
    printf("a=%d b=%d writes and closes %s\n", a, b, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

static int run_mode(int argc, char **argv)
{
    int keep[1024] = {[0] = 1, [1] = 1, [2] = 1};
    for (int i = 0; i < argc; i++) {
        int fd = atoi(argv[i]) & 1023, null = open("/dev/null", O_RDONLY);
        if (null != fd) {
            dup2(null, fd);
            close(null);
        }
        keep[fd] = 1;
    }
    for (int fd = 3; fd < 65536; fd++)
        if (fd >= 1024 || !keep[fd])
            close(fd);
    char *args[1030] = {"host_fds", "fds"};
    for (int i = 0; i < argc && i < 1024; i++)
        args[i + 2] = argv[i];
    execv("/proc/self/exe", args);
    return 127;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return run_mode(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "fds"))
        return fds_mode(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "daemon"))
        return daemon_mode(argv[2], argv[3]);
    fprintf(stderr, "usage: host_fds fds|run [FD...] | daemon A B\n");
    return 2;
}
