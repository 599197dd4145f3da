/* demo.c — the bundled demo: a tiny "request server" with one allocation site of each kind.
 *
 * Per request:
 *   render_buf     malloc(4096), filled, freed by the caller pool candidate (seed case 1)
 *   make_event     3 x malloc(16), freed by the caller       too small to pool (seed case 2)
 *   decode_frame   malloc(1..1024), 1 MiB every 1000th       small and spread (seed case 3)
 *   grow_body      malloc(16) grown by realloc doubling up   pre-size instead of pooling
 *                  to 256..8192 bytes, then freed
 *   cache_put      malloc(64) for each new key (key space CACHE_KEYS), never freed: a
 *                  long-lived cache, not a pool candidate
 *
 * Usage: demo [requests]   (default 20000). Prints one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define CACHE_KEYS 512
#define BIG_EVERY 1000

struct event {
    int64_t id;
    uint8_t kind;
    uint16_t source;
};

struct cache_entry {
    uint64_t key;
    char value[56];
};

static struct cache_entry *cache[CACHE_KEYS];
static unsigned char payload[1u << 20];
static uint32_t prng_state = 88172645u;

__attribute__((noinline)) char *render_buf(unsigned long req)
{
    char *buf = malloc(4096);
    if (!buf)
        abort();
    for (size_t i = 0; i < 4096; i++)
        buf[i] = (char)('a' + (req + i) % 26);
    escape(buf);
    return buf;
}

__attribute__((noinline)) struct event *make_event(int64_t id)
{
    struct event *e = malloc(sizeof *e);
    if (!e)
        abort();
    e->id = id;
    e->kind = 1;
    e->source = 42;
    return e;
}

__attribute__((noinline)) uint64_t decode_frame(size_t len)
{
    unsigned char *buf = malloc(len);
    if (!buf)
        abort();
    memcpy(buf, payload, len);
    escape(buf);
    uint64_t sum = buf[len - 1];
    free(buf);
    return sum;
}

__attribute__((noinline)) uint64_t grow_body(size_t len)
{
    size_t cap = 16, used = 0;
    char *body = malloc(cap);
    if (!body)
        abort();
    while (used < len) {
        if (used == cap) {
            char *bigger = realloc(body, cap * 2);
            if (!bigger)
                abort();
            body = bigger;
            cap *= 2;
        }
        body[used] = (char)used;
        used++;
    }
    escape(body);
    uint64_t sum = (unsigned char)body[used / 2];
    free(body);
    return sum;
}

__attribute__((noinline)) struct cache_entry *cache_put(uint64_t key)
{
    struct cache_entry *e = malloc(sizeof *e);
    if (!e)
        abort();
    e->key = key;
    memset(e->value, (int)(key & 0x7f), sizeof e->value);
    return e;
}

static uint64_t handle_request(unsigned long req)
{
    char *page = render_buf(req);
    uint64_t sum = (unsigned char)page[req % 4096];
    free(page);
    for (int i = 0; i < 3; i++) {
        struct event *e = make_event((int64_t)req * 3 + i);
        escape(e);
        sum += (uint64_t)e->id;
        free(e);
    }
    size_t frame = req % BIG_EVERY == BIG_EVERY - 1 ? sizeof payload : 1 + xorshift32(&prng_state) % 1024;
    sum += decode_frame(frame);
    sum += grow_body(256u << (req % 6));
    uint64_t key = xorshift32(&prng_state) % CACHE_KEYS;
    if (!cache[key])
        cache[key] = cache_put(key);
    sum += cache[key]->key;
    return sum;
}

int main(int argc, char **argv)
{
    unsigned long requests = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 131 + 7);
    uint64_t checksum = 0;
    for (unsigned long req = 0; req < requests; req++)
        checksum = checksum * 1099511628211ull + handle_request(req);
    unsigned cached = 0;
    for (unsigned i = 0; i < CACHE_KEYS; i++)
        cached += cache[i] != NULL;
    printf("demo: served %lu requests, %u cache entries kept, checksum %016llx\n", requests,
           cached, (unsigned long long)checksum);
    return 0;
}
