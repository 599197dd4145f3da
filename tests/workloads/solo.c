/* solo.c — the end of solo (shim/solo.c): a single-threaded process starts a second thread that
 * frees the first one's blocks while the first keeps allocating at full speed.
 *
 * While a process has one thread the shim updates its tables without locks; the first event of
 * a second thread must end that before touching them. Here the main thread allocates N blocks
 * at keep_block (48 bytes) in a tight loop, freeing each at drop_block 16 allocations later
 * (each call alone, no lock held); halfway it starts a helper thread, whose very first events
 * are frees of main's blocks handed over through a mutex-protected slot (every 8th block), then
 * allocations of its own at helper_block (80 bytes, freed at once). The handed-over blocks live
 * in the same side-table shards and the same stack lane main is updating. Each child of a fork
 * is single-threaded again, solo again, and does the same, so one run ends solo CHILDREN + 1
 * times.
 *
 * Expected, summed over the processes (CHILDREN + 1 of them): keep_block allocs = frees =
 * N per process, bytes 48 N; of its frees, the handed-over ones are cross-thread; helper_block
 * allocs = frees = N / 2; nothing live at exit. A lost update in a table (solo not ended, or
 * ended while main was inside a bare section) shows as a wrong count or an untracked free.
 *
 * Usage: solo N CHILDREN [single]   Prints one deterministic line per process, parent last.
 * With "single" no helper thread starts: every process stays single-threaded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEEP 16
#define HAND_EVERY 8

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static void *slot;          /* a block main handed over, or NULL */
static volatile int done;   /* main has finished allocating */
static int single;          /* start no helper */
static unsigned long handed, helper_n;

__attribute__((noinline)) void *keep_block(void)
{
    void *p = malloc(48);
    if (!p)
        abort();
    return p;
}

__attribute__((noinline)) void drop_block(void *p)
{
    free(p);
}

__attribute__((noinline)) void helper_block(void)
{
    void *p = malloc(80);
    if (!p)
        abort();
    *(volatile char *)p = 1;
    free(p);
}

static void *helper(void *unused)
{
    (void)unused;
    unsigned long made = 0;
    for (;;) {
        pthread_mutex_lock(&slot_lock);
        void *p = slot;
        slot = NULL;
        pthread_mutex_unlock(&slot_lock);
        if (p)
            drop_block(p);
        else if (done)
            break;
        if (made < helper_n)
            helper_block(), made++;
    }
    while (made < helper_n)
        helper_block(), made++;
    return NULL;
}

static void run(unsigned long n)
{
    void *ring[KEEP] = {0};
    pthread_t t;
    int started = 0;
    handed = 0;
    helper_n = single ? 0 : n / 2;
    done = 0;
    for (unsigned long i = 0; i < n; i++) {
        if (i == n / 2 && !single) {
            if (pthread_create(&t, NULL, helper, NULL))
                abort();
            started = 1;
        }
        void *old = ring[i % KEEP];
        ring[i % KEEP] = keep_block();
        if (!old)
            continue;
        /* Hand every 8th over once the helper runs, when the slot is free; else drop here. */
        if (started && i % HAND_EVERY == 0) {
            pthread_mutex_lock(&slot_lock);
            int free_slot = slot == NULL;
            if (free_slot) {
                slot = old;
                handed++;
            }
            pthread_mutex_unlock(&slot_lock);
            if (free_slot)
                continue;
        }
        drop_block(old);
    }
    for (unsigned i = 0; i < KEEP; i++)
        if (ring[i])
            drop_block(ring[i]);
    done = 1;
    if (started)
        pthread_join(t, NULL);
    if (slot) /* handed over after the helper last looked */
        drop_block(slot), slot = NULL;
    printf("%lu blocks, helper made %lu\n", n, helper_n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int children = argc > 2 ? atoi(argv[2]) : 0;
    single = argc > 3 && argv[3][0] == 's';
    for (int c = 0; c < children; c++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            abort();
        if (pid == 0) {
            run(n);
            exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
            return 1;
    }
    run(n);
    return 0;
}
