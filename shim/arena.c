/* arena.c — all of the shim's own memory, taken from mmap and never from the host's malloc.
 *
 * Small objects (stack records, thread states, uthash buckets and handles) come from 1 MiB
 * chunks carved by a bump pointer, with a free list per size class so uthash's bucket arrays
 * and exited threads' caches are recycled. Size classes are powers of two up to 256 bytes,
 * then four per power of two (320, 384, 448, 512, 640 ...): a block wastes under a fifth of
 * itself instead of up to half, which matters for what is made once per stack (a stack of 40
 * ips takes 384 bytes, not 512). Large arrays (the side table) are mapped directly.
 * Everything counts against POOLPROBE_MAX_MEMORY_MB; past it we return NULL and the caller
 * stops tracking. The lock is taken only on these cold paths.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"

#define CHUNK_BYTES (1u << 20)
#define MIN_SHIFT 4     /* the smallest block: 16 bytes */
#define QUARTER_SHIFT 8 /* from 256 bytes up, four classes per power of two */
#define MAX_SHIFT 19    /* 512 KiB; larger requests are mapped directly */
#define MAX_BYTES (1u << MAX_SHIFT)
#define NCLASSES (QUARTER_SHIFT - MIN_SHIFT + 1 + 4 * (MAX_SHIFT - QUARTER_SHIFT))

struct free_block {
    struct free_block *next;
};

static pp_spinlock lock;
static unsigned char *chunk_pos, *chunk_end;
static struct free_block *free_lists[NCLASSES];
static atomic_ullong mapped_bytes;

/* The class of a request of size bytes (1 .. MAX_BYTES), and the bytes of its blocks. */
static unsigned size_class(size_t size)
{
    if (size <= (1u << QUARTER_SHIFT)) {
        unsigned c = 0;
        while (((size_t)1 << (c + MIN_SHIFT)) < size)
            c++;
        return c;
    }
    /* 2^e < size <= 2^(e+1): the quarter of 2^e that holds it, 1 .. 4 */
    unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)size - 1);
    size_t quarter = (size_t)1 << (e - 2);
    unsigned q = (unsigned)((size - ((size_t)1 << e) + quarter - 1) / quarter);
    return QUARTER_SHIFT - MIN_SHIFT + 4 * (e - QUARTER_SHIFT) + q;
}

static size_t class_bytes(unsigned c)
{
    if (c <= QUARTER_SHIFT - MIN_SHIFT)
        return (size_t)1 << (c + MIN_SHIFT);
    unsigned e = (c - (QUARTER_SHIFT - MIN_SHIFT) - 1) / 4 + QUARTER_SHIFT;
    unsigned q = (c - (QUARTER_SHIFT - MIN_SHIFT) - 1) % 4 + 1;
    return ((size_t)1 << e) + q * ((size_t)1 << (e - 2));
}

static void *map_pages(size_t size)
{
    if (atomic_load_explicit(&mapped_bytes, memory_order_relaxed) + size > pp_config.max_memory)
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    atomic_fetch_add_explicit(&mapped_bytes, size, memory_order_relaxed);
    return p;
}

static size_t page_round(size_t size)
{
    return (size + 4095) & ~(size_t)4095;
}

void *pp_arena_map(size_t size)
{
    return map_pages(page_round(size));
}

void pp_arena_unmap(void *p, size_t size)
{
    size = page_round(size);
    munmap(p, size);
    atomic_fetch_sub_explicit(&mapped_bytes, size, memory_order_relaxed);
}

void *pp_arena_alloc(size_t size)
{
    if (size == 0)
        size = 1;
    if (size > MAX_BYTES)
        return pp_arena_map(size);
    unsigned c = size_class(size);
    size_t bytes = class_bytes(c);
    void *p = NULL;
    int recycled = 0;
    pp_spin_lock(&lock);
    if (free_lists[c]) {
        struct free_block *b = free_lists[c];
        free_lists[c] = b->next;
        p = b;
        recycled = 1;
    } else {
        if ((size_t)(chunk_end - chunk_pos) < bytes) {
            unsigned char *chunk = map_pages(CHUNK_BYTES);
            if (chunk) {
                /* The tail of the old chunk is lost; at most one size class of waste. */
                chunk_pos = chunk;
                chunk_end = chunk + CHUNK_BYTES;
            }
        }
        /* Blocks of 64 bytes or more start on a cache line, so two threads' states (or
         * stacks) never share one: false sharing cost 2x on allocbench with 2 threads. */
        if (bytes >= 64)
            chunk_pos = (unsigned char *)(((uintptr_t)chunk_pos + 63) & ~(uintptr_t)63);
        if (chunk_pos <= chunk_end && (size_t)(chunk_end - chunk_pos) >= bytes) {
            p = chunk_pos;
            chunk_pos += bytes;
        }
    }
    pp_spin_unlock(&lock);
    /* Fresh chunk memory is already zero (mmap): writing it would only fault its pages in. */
    if (p && recycled)
        memset(p, 0, bytes);
    return p;
}

void pp_arena_free(void *p, size_t size)
{
    if (!p)
        return;
    if (size == 0)
        size = 1;
    if (size > MAX_BYTES) {
        pp_arena_unmap(p, size);
        return;
    }
    unsigned c = size_class(size);
    struct free_block *b = p;
    pp_spin_lock(&lock);
    b->next = free_lists[c];
    free_lists[c] = b;
    pp_spin_unlock(&lock);
}

void pp_arena_lock_for_fork(void)
{
    pp_spin_lock(&lock);
}

void pp_arena_unlock_after_fork(void)
{
    pp_spin_unlock(&lock);
}
