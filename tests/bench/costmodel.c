/* costmodel.c — what a pool saves over malloc+free on this machine: poolprobe's cost model.
 *
 * The checklist's "worth it" row predicts the time a fix saves from a table of costs per size
 * and per number of blocks in flight (analyzer/costmodel.c). This program measures that table.
 * For each size and in-flight count N, one cell times, per object, the loop a program runs:
 * take N blocks, touch each (one byte per 4 KiB page and the last byte: a real user writes its
 * buffer, and a page glibc gave back must fault in again), give the N back. Four ways:
 *   malloc   — malloc(size) ... free: the allocator as the program uses it today;
 *   tls      — a thread-local free list of N blocks (the per-thread pool, sync.Pool's per-P);
 *   shared1  — one free list behind a mutex, one thread;
 *   shared2  — the same list shared by two threads doing the same loop (contention).
 * Every cell runs in a fresh child process (fork), because glibc's thresholds move as a process
 * runs: freeing a mapped chunk raises the mmap threshold to its size and the trim threshold to
 * twice that, so a cell must not inherit the state the previous cell left. The in-flight counts
 * straddle glibc's trim threshold (M_TRIM_THRESHOLD, 128 KiB by default): with 4 x 64 KiB in
 * flight, each round's frees hand the top of the heap back to the kernel and the next round
 * faults it in again, the cliff the checklist must see.
 *
 * Usage: costmodel [--save] [--scale X]
 *   prints the table as the TSV the analyzer reads (header lines start with '#');
 *   --save also writes it to $XDG_CACHE_HOME/poolprobe/costmodel-ALLOCATOR.tsv (default
 *   ~/.cache), where poolprobe-report looks before using its built-in table. ALLOCATOR is the
 *   allocator this process runs on: jemalloc, tcmalloc or mimalloc when one is preloaded
 *   (LD_PRELOAD=libjemalloc.so.2 costmodel --save), else glibc.
 *   --scale X multiplies the time spent per cell (default 1: about 15 ms, ~8 s in all).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_IN_FLIGHT 64

static const size_t sizes[] = {16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
static const int in_flights[] = {1, 4, 32};

static double cell_ns = 15e6; /* time budget per measurement */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void touch(volatile char *p, size_t size)
{
    for (size_t off = 0; off < size; off += 4096)
        p[off] = (char)off;
    p[size - 1] = 1;
}

/* ---- the four ways to get and give back a block ---- */

enum way { WAY_MALLOC, WAY_TLS, WAY_SHARED1, WAY_SHARED2, WAY_COUNT };
static const char *const way_names[] = {"malloc_ns", "tls_ns", "shared1_ns", "shared2_ns"};

struct shared_list {
    pthread_mutex_t lock;
    void *items[2 * MAX_IN_FLIGHT];
    int n;
};
static struct shared_list shared = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static __thread void *tls_items[MAX_IN_FLIGHT];
static __thread int tls_n;

static void *get(enum way w, size_t size)
{
    void *p = NULL;
    switch (w) {
    case WAY_MALLOC:
        break;
    case WAY_TLS:
        p = tls_n ? tls_items[--tls_n] : NULL;
        break;
    case WAY_SHARED1:
    case WAY_SHARED2:
        pthread_mutex_lock(&shared.lock);
        p = shared.n ? shared.items[--shared.n] : NULL;
        pthread_mutex_unlock(&shared.lock);
        break;
    case WAY_COUNT:
        break;
    }
    return p ? p : malloc(size);
}

static void put(enum way w, void *p)
{
    switch (w) {
    case WAY_MALLOC:
        break;
    case WAY_TLS:
        if (tls_n < MAX_IN_FLIGHT) {
            tls_items[tls_n++] = p;
            p = NULL;
        }
        break;
    case WAY_SHARED1:
    case WAY_SHARED2:
        pthread_mutex_lock(&shared.lock);
        if (shared.n < 2 * MAX_IN_FLIGHT) {
            shared.items[shared.n++] = p;
            p = NULL;
        }
        pthread_mutex_unlock(&shared.lock);
        break;
    case WAY_COUNT:
        break;
    }
    free(p);
}

struct job {
    enum way way;
    size_t size;
    int in_flight;
    double ns_per_object; /* out */
};

/* One thread's loop: warm up, then rounds of take N / touch / give back N until the budget is
 * spent. The first rounds fill the pools and move glibc's thresholds to where they settle. */
static void *run_job(void *arg)
{
    struct job *j = arg;
    void *live[MAX_IN_FLIGHT];
    for (int warm = 0; warm < 4; warm++) {
        for (int k = 0; k < j->in_flight; k++)
            touch(live[k] = get(j->way, j->size), j->size);
        for (int k = 0; k < j->in_flight; k++)
            put(j->way, live[k]);
    }
    long objects = 0;
    double t0 = now_ns(), t;
    do {
        for (int round = 0; round < 8; round++) {
            for (int k = 0; k < j->in_flight; k++)
                touch(live[k] = get(j->way, j->size), j->size);
            for (int k = 0; k < j->in_flight; k++)
                put(j->way, live[k]);
            objects += j->in_flight;
        }
        t = now_ns() - t0;
    } while (t < cell_ns);
    j->ns_per_object = t / (double)objects;
    return NULL;
}

/* One cell, in this process (the caller forks). */
static double measure(enum way w, size_t size, int in_flight)
{
    struct job a = {w, size, in_flight, 0}, b = a;
    if (w != WAY_SHARED2) {
        run_job(&a);
        return a.ns_per_object;
    }
    pthread_t other;
    if (pthread_create(&other, NULL, run_job, &b) != 0)
        return -1;
    run_job(&a);
    pthread_join(other, NULL);
    /* The time each thread sees per object: what a get+put costs under contention. */
    return (a.ns_per_object + b.ns_per_object) / 2;
}

/* measure() in a fresh child process; the median of three children. */
static double measure_fresh(enum way w, size_t size, int in_flight)
{
    double *slot = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slot == MAP_FAILED)
        return -1;
    double r[3];
    for (int i = 0; i < 3; i++) {
        *slot = -1;
        pid_t pid = fork();
        if (pid == 0) {
            *slot = measure(w, size, in_flight);
            _exit(0);
        }
        if (pid > 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        r[i] = *slot;
    }
    munmap(slot, 4096);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2 - i; k++)
            if (r[k] > r[k + 1]) {
                double t = r[k];
                r[k] = r[k + 1];
                r[k + 1] = t;
            }
    return r[1];
}

/* ---- which allocator, which machine ---- */

static char allocator[32] = "glibc";

static int find_allocator(struct dl_phdr_info *info, size_t len, void *data)
{
    (void)len;
    (void)data;
    static const char *const known[] = {"jemalloc", "tcmalloc", "mimalloc"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (info->dlpi_name && strstr(info->dlpi_name, known[i])) {
            snprintf(allocator, sizeof allocator, "%s", known[i]);
            return 1;
        }
    return 0;
}

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown cpu");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            snprintf(buf, len, "%s", v);
            break;
        }
    fclose(f);
}

static FILE *open_cache(char *path, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[512];
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/poolprobe", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/poolprobe", home);
    else
        return NULL;
    char parent[512];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(dir, '/') - dir), dir);
    mkdir(parent, 0700);
    mkdir(dir, 0700);
    snprintf(path, len, "%s/costmodel-%s.tsv", dir, allocator);
    return fopen(path, "w");
}

int main(int argc, char **argv)
{
    int save = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--save") == 0) {
            save = 1;
        } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            cell_ns *= atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: costmodel [--save] [--scale X]\n");
            return 2;
        }
    }
    dl_iterate_phdr(find_allocator, NULL);
    char cpu[160], when[32];
    cpu_model(cpu, sizeof cpu);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d", gmtime(&now));

    char table[16384];
    size_t used = 0;
#define ADD(...) used += (size_t)snprintf(table + used, sizeof table - used, __VA_ARGS__)
    ADD("# poolprobe cost model 1\n");
    ADD("# allocator\t%s%s%s\n", allocator, strcmp(allocator, "glibc") ? "" : " ",
        strcmp(allocator, "glibc") ? "" : gnu_get_libc_version());
    ADD("# machine\t%s, %ld cpus, measured %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN), when);
    ADD("size\tin_flight");
    for (int w = 0; w < WAY_COUNT; w++)
        ADD("\t%s", way_names[w]);
    ADD("\n");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t f = 0; f < sizeof in_flights / sizeof *in_flights; f++) {
            ADD("%zu\t%d", sizes[s], in_flights[f]);
            for (int w = 0; w < WAY_COUNT; w++)
                ADD("\t%.1f", measure_fresh((enum way)w, sizes[s], in_flights[f]));
            ADD("\n");
            fprintf(stderr, "costmodel: %zu B x %d done\n", sizes[s], in_flights[f]);
        }
    fputs(table, stdout);
    if (save) {
        char path[600];
        FILE *out = open_cache(path, sizeof path);
        if (!out || fputs(table, out) == EOF || fclose(out) != 0) {
            fprintf(stderr, "costmodel: error: cannot write the cache file\n");
            return 1;
        }
        fprintf(stderr, "costmodel: saved %s\n", path);
    }
    return 0;
}
