/* allocbench.c — the allocation-heavy microbenchmark behind `make bench`.
 *
 * The seeds' three cases, each called at a stack depth of about 16 frames, per "request":
 *   render_buf   — a 4 KiB buffer, written, freed (case 1: the pool's good case);
 *   make_event   — a 16-byte struct, freed by the caller (case 2: too small to pool);
 *   decode_frame — a 1 B..1 KiB frame with a 1 MiB one every 1000th request (case 3).
 * Usage: allocbench [requests-per-thread (default 2000000)] [threads (default 1)]
 * Three malloc/free pairs per request: the default is 6 M pairs on one thread. Prints a
 * checksum so the work cannot be optimized away and output can be compared under a profiler.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define DEPTH 16

struct event {
    int64_t id;
    uint8_t kind;
    uint16_t source;
};

static NOINLINE char *render_buf(long i)
{
    char *buf = malloc(4096);
    int n = snprintf(buf, 4096, "row=%ld val=%ld\n", i, i * 7);
    buf[n] = 0;
    return buf;
}

static NOINLINE struct event *make_event(long id)
{
    struct event *e = malloc(sizeof *e);
    e->id = id;
    e->kind = 1;
    e->source = 42;
    return e;
}

static NOINLINE size_t decode_frame(uint32_t *rng, long i)
{
    *rng = *rng * 1103515245u + 12345u;
    size_t len = i % 1000 == 999 ? (1u << 20) : 1 + (*rng >> 16) % 1024;
    unsigned char *frame = malloc(len);
    memset(frame, (int)(len & 0xff), len < 64 ? len : 64);
    size_t sum = frame[0] + len;
    free(frame);
    return sum;
}

static NOINLINE uint64_t request(uint32_t *rng, long i)
{
    char *buf = render_buf(i);
    uint64_t sum = (unsigned char)buf[4];
    free(buf);
    struct event *e = make_event(i);
    sum += (uint64_t)e->id;
    free(e);
    return sum + decode_frame(rng, i);
}

/* Recurse to DEPTH frames before doing the work, so every allocation has a realistic stack. */
static NOINLINE uint64_t descend(int depth, uint32_t *rng, long i)
{
    if (depth == 0)
        return request(rng, i);
    return descend(depth - 1, rng, i) + 1;
}

struct job {
    long requests;
    uint32_t seed;
    uint64_t sum;
};

static void *run(void *arg)
{
    struct job *job = arg;
    uint32_t rng = job->seed;
    for (long i = 0; i < job->requests; i++)
        job->sum += descend(DEPTH - 4, &rng, i);
    return NULL;
}

int main(int argc, char **argv)
{
    long requests = argc > 1 ? atol(argv[1]) : 2000000;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (requests < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: allocbench [requests-per-thread] [threads 1..64]\n");
        return 2;
    }
    struct job jobs[64];
    pthread_t tids[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){requests, 12345u + (uint32_t)t, 0};
        if (threads == 1)
            run(&jobs[t]);
        else
            pthread_create(&tids[t], NULL, run, &jobs[t]);
    }
    uint64_t total = 0;
    for (int t = 0; t < threads; t++) {
        if (threads > 1)
            pthread_join(tids[t], NULL);
        total += jobs[t].sum;
    }
    printf("allocbench: %ld requests x %d threads, checksum %llu\n", requests, threads,
           (unsigned long long)total);
    return 0;
}
