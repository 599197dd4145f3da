/* seeds.c — the three cases of the seed article "When sync.Pool helps", as C allocation sites.
 *
 * Each request of the fake server makes, at sites with fixed names the tests look up:
 *   render_buf     1 x malloc(4096): a buffer filled with formatted rows, returned to the
 *                  caller, read there and freed (pool wins)
 *   make_event     EVENTS_PER_REQUEST x malloc(sizeof(struct event)) = 16 bytes, freed by the
 *                  caller right after use (pool loses: tiny, allocator fast path)
 *   decode_frame   1 x malloc(len): len from a deterministic PRNG in 1..1024, except request 0
 *                  (1 byte), request 1 (1024 bytes) and every BIG_EVERY-th request
 *                  (i % BIG_EVERY == BIG_EVERY - 1) which carries a 1 MiB frame (depends)
 * so for N requests: render_buf N allocs, make_event 3N, decode_frame N with min size 1,
 * max size 1048576 when N >= BIG_EVERY (else 1024), floor(N / BIG_EVERY) big frames.
 * Every block is freed before the next request starts. Nothing else in this file allocates.
 *
 * Usage: seeds [requests]   (default 100000). Prints one deterministic line with a checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define RENDER_SIZE 4096
#define EVENTS_PER_REQUEST 3
#define BIG_EVERY 1000
#define BIG_FRAME (1u << 20)
#define MAX_FRAME 1024

struct event {
    int64_t id;
    uint8_t kind;
    uint16_t source;
};
_Static_assert(sizeof(struct event) == 16, "make_event is a 16-byte site");

static uint32_t prng_state = 2463534242u;

static unsigned char payload[BIG_FRAME];

/* Case 1: a few KB buffer filled per request and handed back to the caller, who reads it and
 * throws it away (as the seeds' buffer outlives the function that fills it). */
__attribute__((noinline)) char *render_buf(unsigned long req, size_t *out_len)
{
    char *buf = malloc(RENDER_SIZE);
    if (!buf)
        abort();
    escape(buf);
    size_t len = 0;
    for (unsigned row = 0; len + 32 < RENDER_SIZE; row++) {
        /* "row=R val=V\n" without stdio (snprintf could allocate on some libcs) */
        unsigned long v = (req + row) * 7;
        char digits[24];
        int n = 0;
        do
            digits[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        memcpy(buf + len, "row=", 4);
        len += 4;
        buf[len++] = (char)('0' + row % 10);
        memcpy(buf + len, " val=", 5);
        len += 5;
        while (n > 0)
            buf[len++] = digits[--n];
        buf[len++] = '\n';
    }
    escape(buf);
    *out_len = len;
    return buf;
}

/* Case 2: a 16-byte struct per event; the caller frees it right away. */
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

/* Case 3: a frame of variable size, copied and measured. */
__attribute__((noinline)) uint64_t decode_frame(const unsigned char *src, size_t len)
{
    unsigned char *buf = malloc(len);
    if (!buf)
        abort();
    memcpy(buf, src, len);
    escape(buf);
    uint64_t sum = len;
    for (size_t i = 0; i < len; i += 64)
        sum += buf[i];
    free(buf);
    return sum;
}

static size_t frame_len(unsigned long req)
{
    if (req == 0)
        return 1;
    if (req == 1)
        return MAX_FRAME;
    if (req % BIG_EVERY == BIG_EVERY - 1)
        return BIG_FRAME;
    return 1 + xorshift32(&prng_state) % MAX_FRAME;
}

__attribute__((noinline)) uint64_t handle_request(unsigned long req)
{
    size_t len;
    char *page = render_buf(req, &len);
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = sum * 31 + (unsigned char)page[i];
    free(page);
    for (int i = 0; i < EVENTS_PER_REQUEST; i++) {
        struct event *e = make_event((int64_t)(req * EVENTS_PER_REQUEST + (unsigned long)i));
        escape(e);
        sum += (uint64_t)e->id + e->kind + e->source;
        free(e);
    }
    sum += decode_frame(payload, frame_len(req));
    return sum;
}

int main(int argc, char **argv)
{
    unsigned long requests = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 131 + 7);

    uint64_t checksum = 0;
    for (unsigned long req = 0; req < requests; req++)
        checksum = checksum * 1099511628211ull + handle_request(req);

    printf("seeds: requests=%lu render_buf=%lu make_event=%lu decode_frame=%lu big_frames=%lu "
           "checksum=%016llx\n",
           requests, requests, requests * EVENTS_PER_REQUEST, requests, requests / BIG_EVERY,
           (unsigned long long)checksum);
    return 0;
}
