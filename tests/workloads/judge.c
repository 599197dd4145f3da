/* judge.c — the seeds' cases and exercises, and the shapes of issue 9's table, one per run, each
 * as plain malloc/free code and (with "fixed") with the fix the report recommends applied by hand.
 *
 * Usage: judge CASE [N] [fixed]
 * Every case makes N "requests" (default 200000) through one allocating function whose name the
 * tests look up, touching each block as a real user writes its buffer (one byte per 4 KiB page
 * and the last byte). "fixed" runs the same requests through the fix (a thread-local free list,
 * a capped or tiered one, presizing, a shared list, an arena) so `make bench` can time the pair.
 * The work between allocations is small on purpose: these are the allocation-bound programs on
 * which a pool's saving shows, as in the seeds' benchmarks. Prints one line with a checksum that
 * is the same plain and fixed.
 *
 * Cases (the seed passage each follows is quoted at the case):
 *   buf4k     render_buf: 4 KiB, one in flight                        -> pool (per-thread)
 *   event16   make_event: 16 B struct, one in flight                  -> pool (per-thread)
 *   frames    decode_frame: 1..1023 B, 1 in 1000 at 1 MiB             -> pool-capped, 1 KiB
 *   classes   class_buf: 50% < 1 KiB, 30% 1-16 KiB, 20% 16-256 KiB    -> tiered, 3 tiers
 *   grow      grow_body: 16 B doubled by realloc to 64 KiB            -> presize, then pool
 *   inflight3 big_scratch: 64 KiB, three in flight                    -> pool, capacity 3
 *   threads2  thread_buf: 4 KiB on each of 2 threads                  -> pool (per-thread)
 *   handoff   handoff_buf: 4 KiB made by one thread, freed by another -> shared kind
 *   ex2       process_input: 16..64 KiB, 1 in 1000 at 4 MiB           -> pool-capped, 64 KiB
 *   ex6       decoder_scratch: 4 threads x 4 decoders x 64 KiB        -> pool, memory per thread
 *   ex8       scratch_4k: 4 KiB per request on 2 threads               -> pool (per-thread)
 *   tree      tree_node: 256 nodes of 48 B built, then freed at once  -> arena
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define NOINLINE __attribute__((noinline))
#define KIB 1024u
#define MIB (1024u * 1024u)

static int fixed;
static unsigned long requests = 200000;

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

/* What a user does with a block: write it. */
static uint64_t touch(unsigned char *p, size_t size, unsigned long req)
{
    for (size_t off = 0; off < size; off += 4096)
        p[off] = (unsigned char)(req + off);
    p[size - 1] = (unsigned char)req;
    escape(p);
    return p[0] + p[size - 1];
}

/* ---- the fixes: a thread-local free list of fixed-size blocks ---- */

#define LIST_MAX 8

struct free_list {
    size_t block;   /* bytes per block */
    int n, cap;
    void *items[LIST_MAX];
};

static void *list_get(struct free_list *l)
{
    return l->n ? l->items[--l->n] : must(malloc(l->block));
}

static void list_put(struct free_list *l, void *p)
{
    if (l->n < l->cap)
        l->items[l->n++] = p;
    else
        free(p);
}

/* ---- seeds, case 1: "A buffer that grows to a few KB on every request, gets read once, and
 * is thrown away" -> pool wins. ---- */

static __thread struct free_list buf4k_pool = {4096, 0, 1, {0}};

NOINLINE unsigned char *render_buf(void)
{
    return fixed ? list_get(&buf4k_pool) : must(malloc(4096));
}

static void give_back(struct free_list *l, void *p)
{
    if (fixed)
        list_put(l, p);
    else
        free(p);
}

static uint64_t case_buf4k(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        unsigned char *b = render_buf();
        sum += touch(b, 4096, r);
        give_back(&buf4k_pool, b);
    }
    return sum;
}

/* ---- seeds, case 2: "a struct that is small enough that the allocator handles it on a fast
 * path". In Go the pool loses; in C a thread-local list still beats malloc (issue 9: 0.20x). */

struct event {
    int64_t id;
    uint8_t kind;
    uint16_t source;
};

static __thread struct free_list event_pool = {sizeof(struct event), 0, 1, {0}};

NOINLINE struct event *make_event(int64_t id)
{
    struct event *e = fixed ? list_get(&event_pool) : must(malloc(sizeof *e));
    e->id = id;
    e->kind = 1;
    e->source = 42;
    return e;
}

static uint64_t case_event16(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        struct event *e = make_event((int64_t)r);
        escape(e);
        sum += (uint64_t)e->id + e->kind + e->source;
        give_back(&event_pool, e);
    }
    return sum;
}

/* ---- seeds, case 3: "If payload is reliably under 1 KiB, the pool wins ... drop oversized
 * buffers before returning them to the pool" -> pool-capped, cap 1 KiB. ---- */

static __thread struct free_list frame_pool = {1024, 0, 1, {0}};
static uint32_t prng = 2463534242u;

NOINLINE unsigned char *decode_frame(size_t len)
{
    if (fixed && len <= frame_pool.block)
        return list_get(&frame_pool);
    return must(malloc(len));
}

static uint64_t case_frames(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        size_t len = r % 1000 == 999 ? MIB : 1 + xorshift32(&prng) % 1023; /* "under 1 KiB" */
        unsigned char *f = decode_frame(len);
        sum += touch(f, len, r);
        if (fixed && len <= frame_pool.block)
            list_put(&frame_pool, f);
        else
            free(f);
    }
    return sum;
}

/* ---- exercise 11: "~50% are < 1 KB, ~30% are 1-16 KB, ~20% are 16-256 KB ... Build a tiered
 * pool" -> tiered. ---- */

static __thread struct free_list tiers[3] = {{1 * KIB, 0, 1, {0}},
                                             {16 * KIB, 0, 1, {0}},
                                             {256 * KIB, 0, 1, {0}}};

static struct free_list *tier_of(size_t len)
{
    for (int i = 0; i < 3; i++)
        if (len <= tiers[i].block)
            return &tiers[i];
    return NULL;
}

NOINLINE unsigned char *class_buf(size_t len)
{
    struct free_list *t = fixed ? tier_of(len) : NULL;
    return t ? list_get(t) : must(malloc(len));
}

static size_t class_len(void)
{
    uint32_t x = xorshift32(&prng), pick = x % 10;
    x = xorshift32(&prng);
    if (pick < 5)
        return 1 + x % (1 * KIB);
    if (pick < 8)
        return 1 * KIB + 1 + x % (15 * KIB);
    return 16 * KIB + 1 + x % (240 * KIB);
}

static uint64_t case_classes(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        size_t len = class_len();
        unsigned char *b = class_buf(len);
        sum += touch(b, len, r);
        struct free_list *t = fixed ? tier_of(len) : NULL;
        if (t)
            list_put(t, b);
        else
            free(b);
    }
    return sum;
}

/* ---- seeds: "Is there a simpler fix? Pre-sizing a slice with make([]T, 0, n)" -- and the
 * presized block is itself worth pooling (issue 9: presize 0.24x, presize and pool 0.059x). */

#define BODY_FINAL (64 * KIB)
static __thread struct free_list body_pool = {BODY_FINAL, 0, 1, {0}};

NOINLINE unsigned char *grow_body(unsigned long req)
{
    if (fixed) {
        unsigned char *b = list_get(&body_pool);
        for (size_t used = 0; used < BODY_FINAL; used += 512)
            b[used] = (unsigned char)(used + req);
        return b;
    }
    size_t cap = 16;
    unsigned char *b = must(malloc(cap));
    for (size_t used = 0; used < BODY_FINAL; used += 512) {
        while (used + 512 > cap) {
            cap *= 2;
            b = must(realloc(b, cap));
        }
        b[used] = (unsigned char)(used + req);
    }
    return b;
}

static uint64_t case_grow(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        unsigned char *b = grow_body(r);
        sum += b[0] + b[BODY_FINAL - 512];
        give_back(&body_pool, b);
    }
    return sum;
}

/* ---- issue 9: "64 KiB blocks, 3 in flight: glibc trims and refaults" -> pool of 3. ---- */

static __thread struct free_list scratch_pool = {64 * KIB, 0, 3, {0}};

NOINLINE unsigned char *big_scratch(void)
{
    return fixed ? list_get(&scratch_pool) : must(malloc(64 * KIB));
}

static uint64_t case_inflight3(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        unsigned char *b[3];
        for (int k = 0; k < 3; k++)
            sum += touch(b[k] = big_scratch(), 64 * KIB, r + (unsigned long)k);
        for (int k = 0; k < 3; k++)
            give_back(&scratch_pool, b[k]);
    }
    return sum;
}

/* ---- sync.Pool is per-P: "Get and Put usually hit a thread-local stack with no contention".
 * The same 4 KiB buffer on two threads -> per-thread pools, 1 block each. ---- */

static __thread struct free_list thread_pool = {4096, 0, 1, {0}};

NOINLINE unsigned char *thread_buf(void)
{
    return fixed ? list_get(&thread_pool) : must(malloc(4096));
}

/* Exercise 8: "100 K RPS, each request needing one 4 KB scratch buffer ... sync.Pool wins for
 * raw speed" -> per-thread pool, not a channel (shared) one. */
static __thread struct free_list scratch4k_pool = {4096, 0, 1, {0}};

NOINLINE unsigned char *scratch_4k(void)
{
    return fixed ? list_get(&scratch4k_pool) : must(malloc(4096));
}

struct worker {
    pthread_t tid;
    int which; /* 0: thread_buf, 1: scratch_4k, 2: decoder_scratch */
    uint64_t sum;
};

#define DECODERS 4
static __thread struct free_list decoder_pool = {64 * KIB, 0, DECODERS, {0}};

/* Exercise 6: "the pool holds ~256 Decoder instances (4 per P x 64 Ps ...), each with a 64 KB
 * scratch" -> what per-thread pools hold in all is reported (and flagged over max_pool_bytes). */
NOINLINE unsigned char *decoder_scratch(void)
{
    return fixed ? list_get(&decoder_pool) : must(malloc(64 * KIB));
}

static void *work(void *arg)
{
    struct worker *w = arg;
    unsigned long n = w->which == 2 ? requests / DECODERS : requests;
    for (unsigned long r = 0; r < n; r++) {
        if (w->which == 0) {
            unsigned char *b = thread_buf();
            w->sum += touch(b, 4096, r);
            give_back(&thread_pool, b);
        } else if (w->which == 1) {
            unsigned char *b = scratch_4k();
            w->sum += touch(b, 4096, r);
            give_back(&scratch4k_pool, b);
        } else {
            unsigned char *d[DECODERS];
            for (int k = 0; k < DECODERS; k++)
                w->sum += touch(d[k] = decoder_scratch(), 64 * KIB, r);
            for (int k = 0; k < DECODERS; k++)
                give_back(&decoder_pool, d[k]);
        }
    }
    return NULL;
}

static uint64_t run_threads(int which, int nthreads)
{
    struct worker w[4];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){0, which, 0};
        if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0)
            abort();
    }
    uint64_t sum = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(w[i].tid, NULL);
        sum += w[i].sum;
    }
    return sum;
}

/* ---- producer/consumer: blocks freed by another thread -> a shared pool (a per-thread list
 * would fill on the consumer and stay empty on the producer). ---- */

#define RING 64
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    void *slot[RING];
    unsigned long head, tail;
    int done;
} ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static struct {
    pthread_mutex_t lock;
    void *items[RING];
    int n;
} shared_pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

NOINLINE unsigned char *handoff_buf(void)
{
    if (fixed) {
        void *p = NULL;
        pthread_mutex_lock(&shared_pool.lock);
        if (shared_pool.n)
            p = shared_pool.items[--shared_pool.n];
        pthread_mutex_unlock(&shared_pool.lock);
        if (p)
            return p;
    }
    return must(malloc(4096));
}

static void handoff_release(void *p)
{
    if (fixed) {
        pthread_mutex_lock(&shared_pool.lock);
        if (shared_pool.n < RING) {
            shared_pool.items[shared_pool.n++] = p;
            p = NULL;
        }
        pthread_mutex_unlock(&shared_pool.lock);
    }
    free(p);
}

static uint64_t consumer_sum;

static void *consume(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&ring.lock);
        while (ring.head == ring.tail && !ring.done)
            pthread_cond_wait(&ring.changed, &ring.lock);
        if (ring.head == ring.tail && ring.done) {
            pthread_mutex_unlock(&ring.lock);
            return NULL;
        }
        unsigned char *b = ring.slot[ring.tail++ % RING];
        pthread_cond_broadcast(&ring.changed);
        pthread_mutex_unlock(&ring.lock);
        consumer_sum += b[0] + b[4095];
        handoff_release(b);
    }
}

static uint64_t case_handoff(void)
{
    pthread_t consumer;
    if (pthread_create(&consumer, NULL, consume, NULL) != 0)
        abort();
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        unsigned char *b = handoff_buf();
        sum += touch(b, 4096, r);
        pthread_mutex_lock(&ring.lock);
        while (ring.head - ring.tail == RING)
            pthread_cond_wait(&ring.changed, &ring.lock);
        ring.slot[ring.head++ % RING] = b;
        pthread_cond_broadcast(&ring.changed);
        pthread_mutex_unlock(&ring.lock);
    }
    pthread_mutex_lock(&ring.lock);
    ring.done = 1;
    pthread_cond_broadcast(&ring.changed);
    pthread_mutex_unlock(&ring.lock);
    pthread_join(consumer, NULL);
    return sum + consumer_sum;
}

/* ---- exercise 2: "Under traffic with occasional 50 MB input, RSS grows ... Drop buffers
 * larger than 1 MB before Put" (4 MiB here, to keep the test light) -> pool-capped. ---- */

static __thread struct free_list input_pool = {64 * KIB, 0, 1, {0}};

NOINLINE unsigned char *process_input(size_t len)
{
    if (fixed && len <= input_pool.block)
        return list_get(&input_pool);
    return must(malloc(len));
}

static uint64_t case_ex2(void)
{
    uint64_t sum = 0;
    for (unsigned long r = 0; r < requests; r++) {
        size_t len = r % 1000 == 999 ? 4 * MIB : 16 * KIB + xorshift32(&prng) % (48 * KIB);
        unsigned char *b = process_input(len);
        sum += touch(b, len, r);
        if (fixed && len <= input_pool.block)
            list_put(&input_pool, b);
        else
            free(b);
    }
    return sum;
}

/* ---- an arena: a parse tree of small nodes built per request and freed all at once ---- */

#define NODES 256
struct node {
    struct node *left, *right;
    uint64_t key, value[3];
};

static unsigned char *arena;
static size_t arena_used;

NOINLINE struct node *tree_node(uint64_t key)
{
    struct node *n;
    if (fixed) {
        n = (struct node *)(arena + arena_used);
        arena_used += sizeof *n;
    } else {
        n = must(malloc(sizeof *n));
    }
    n->left = n->right = NULL;
    n->key = key;
    return n;
}

static uint64_t case_tree(void)
{
    if (fixed)
        arena = must(malloc(NODES * sizeof(struct node)));
    uint64_t sum = 0;
    unsigned long rounds = requests / NODES;
    for (unsigned long r = 0; r < rounds; r++) {
        struct node *all[NODES];
        for (int i = 0; i < NODES; i++) {
            all[i] = tree_node(r * NODES + (uint64_t)i);
            if (i)
                all[(i - 1) / 2]->left = all[i];
        }
        for (int i = 0; i < NODES; i++)
            sum += all[i]->key;
        if (fixed)
            arena_used = 0; /* the whole tree at once */
        else
            for (int i = 0; i < NODES; i++)
                free(all[i]);
    }
    free(arena);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: judge CASE [N] [fixed]\n");
        return 2;
    }
    const char *name = argv[1];
    if (argc > 2)
        requests = strtoul(argv[2], NULL, 10);
    fixed = argc > 3 && strcmp(argv[3], "fixed") == 0;
    uint64_t sum;
    if (strcmp(name, "buf4k") == 0)
        sum = case_buf4k();
    else if (strcmp(name, "event16") == 0)
        sum = case_event16();
    else if (strcmp(name, "frames") == 0)
        sum = case_frames();
    else if (strcmp(name, "classes") == 0)
        sum = case_classes();
    else if (strcmp(name, "grow") == 0)
        sum = case_grow();
    else if (strcmp(name, "inflight3") == 0)
        sum = case_inflight3();
    else if (strcmp(name, "threads2") == 0)
        sum = run_threads(0, 2);
    else if (strcmp(name, "handoff") == 0)
        sum = case_handoff();
    else if (strcmp(name, "ex2") == 0)
        sum = case_ex2();
    else if (strcmp(name, "ex6") == 0)
        sum = run_threads(2, 4);
    else if (strcmp(name, "ex8") == 0)
        sum = run_threads(1, 2);
    else if (strcmp(name, "tree") == 0)
        sum = case_tree();
    else {
        fprintf(stderr, "judge: no case %s\n", name);
        return 2;
    }
    printf("judge: %s requests=%lu checksum=%016llx\n", name, requests, (unsigned long long)sum);
    return 0;
}
