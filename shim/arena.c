/* arena.c — all of the shim's own memory, taken from mmap and never from the host's malloc.
 *
 * Small objects (stack records, thread states, uthash buckets and handles) come from 1 MiB
 * chunks carved by a bump pointer, with a free list per power-of-two size class so uthash's
 * bucket arrays and exited threads' caches are recycled. Large arrays (the side table) are
 * mapped directly. Everything counts against POOLPROBE_MAX_MEMORY_MB; past it we return NULL
 * and the caller stops tracking. The lock is taken only on these cold paths.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"

#define CHUNK_BYTES (1u << 20)
#define MIN_CLASS 4  /* 16 bytes */
#define MAX_CLASS 19 /* 512 KiB; larger requests are mapped directly */

struct free_block {
    struct free_block *next;
};

static pp_spinlock lock;
static unsigned char *chunk_pos, *chunk_end;
static struct free_block *free_lists[MAX_CLASS + 1];
static atomic_ullong mapped_bytes;

static unsigned size_class(size_t size)
{
    unsigned c = MIN_CLASS;
    while (((size_t)1 << c) < size)
        c++;
    return c;
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
    unsigned c = size_class(size);
    if (c > MAX_CLASS)
        return pp_arena_map(size);
    size_t bytes = (size_t)1 << c;
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
    unsigned c = size_class(size);
    if (c > MAX_CLASS) {
        pp_arena_unmap(p, size);
        return;
    }
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
