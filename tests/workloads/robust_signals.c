/* robust_signals.c — signals landing inside allocation calls.
 *
 * robust_signals altstack S M
 *     A SIGUSR1 handler running on an alternate signal stack (sigaltstack, SA_ONSTACK) that
 *     allocates and frees (handler_alloc, 200 bytes). A second thread sends S signals to the
 *     main thread, one at a time (it waits for each to be handled), while the main thread
 *     allocates and frees in a loop (main_alloc, 48 bytes) at least M times and until the S
 *     signals are handled. Sizes differ and the main thread warms up first, so natively the
 *     handler and the interrupted code only ever touch different glibc tcache bins: the program
 *     is valid without the shim. Prints S and the checksum.
 *     Expected: handler_alloc allocs == frees, at most S (a handler that interrupts the shim
 *     itself is forwarded untracked); main_alloc allocs == frees >= M.
 *
 * robust_signals prof M
 *     ITIMER_PROF every 100 us (no SA_RESTART) with a handler that only counts, while the main
 *     thread and one more thread each run M rounds of malloc/realloc/free at prof_alloc.
 *     Expected: prof_alloc allocs 2M, frees 2M. Prints the checksum (not the tick count).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "workload.h"

/* ---- altstack ---- */

static atomic_ulong handled;
static sem_t handled_sem; /* posted by the handler (async-signal-safe), awaited by the sender */
static atomic_int sender_done;
static pthread_t main_thread;
static unsigned long signals_to_send;

__attribute__((noinline)) void *handler_alloc(void)
{
    return malloc(200);
}

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    unsigned char *p = handler_alloc();
    if (p) {
        p[0] = 1;
        escape(p);
        free(p);
    }
    atomic_fetch_add(&handled, 1);
    sem_post(&handled_sem);
    errno = saved;
}

static void *sender(void *arg)
{
    (void)arg;
    for (unsigned long i = 0; i < signals_to_send; i++) {
        pthread_kill(main_thread, SIGUSR1);
        /* Block until it is handled (a spin would starve the main thread on one CPU). */
        while (atomic_load(&handled) <= i)
            sem_wait(&handled_sem);
    }
    atomic_store(&sender_done, 1);
    return NULL;
}

__attribute__((noinline)) void *main_alloc(unsigned long i)
{
    unsigned char *p = malloc(48);
    if (p)
        p[0] = (unsigned char)i;
    return p;
}

static int run_altstack(unsigned long s, unsigned long m)
{
    static unsigned char altstack[256 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        perror("robust_signals: sigaltstack");
        return 1;
    }
    /* Warm up both tcache bins before any signal can arrive. */
    for (int i = 0; i < 16; i++) {
        free(main_alloc((unsigned long)i));
        free(handler_alloc());
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    sem_init(&handled_sem, 0, 0);
    main_thread = pthread_self();
    signals_to_send = s;
    pthread_t th;
    if (pthread_create(&th, NULL, sender, NULL) != 0)
        return 1;
    unsigned long sum = 0, i;
    for (i = 0; i < m || !atomic_load(&sender_done); i++) {
        unsigned char *p = main_alloc(i);
        if (!p)
            return 1;
        sum += p[0];
        free(p);
    }
    pthread_join(th, NULL);
    printf("altstack: signals=%lu handled=%lu at_least=%lu\n", s, atomic_load(&handled), m);
    return 0;
}

/* ---- SIGPROF ---- */

static atomic_ulong ticks;

static void on_prof(int sig)
{
    (void)sig;
    atomic_fetch_add(&ticks, 1);
}

__attribute__((noinline)) void *prof_alloc(unsigned long i)
{
    return malloc(16 + (i % 200) * 24);
}

static unsigned long rounds;

static void *prof_worker(void *arg)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        unsigned char *p = prof_alloc(i);
        if (!p)
            abort();
        p[0] = (unsigned char)i;
        unsigned char *q = realloc(p, 64 + (i % 50) * 100);
        if (!q)
            abort();
        sum += q[0];
        free(q);
    }
    *(unsigned long *)arg = sum;
    return NULL;
}

static int run_prof(unsigned long m)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prof;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPROF, &sa, NULL); /* no SA_RESTART: interrupted calls see EINTR */
    struct itimerval it = {{0, 100}, {0, 100}};
    setitimer(ITIMER_PROF, &it, NULL);
    rounds = m;
    unsigned long s1 = 0, s2 = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, prof_worker, &s2) != 0)
        return 1;
    prof_worker(&s1);
    pthread_join(th, NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    printf("prof: rounds=%lu sum=%lu ticked=%s\n", m, s1 + s2, atomic_load(&ticks) ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "altstack"))
        return run_altstack(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
    if (argc >= 3 && !strcmp(argv[1], "prof"))
        return run_prof(strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: robust_signals altstack S M | prof M\n");
    return 2;
}
