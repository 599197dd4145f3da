/* verdicts.c — one allocation site per verdict of the checklist, each argued from the seeds.
 *
 * Per request (N requests, argv[1], default 20000), at sites with fixed names:
 *   frame_buf    malloc(2048..4095), every 1000th request malloc(1 MiB), freed by the caller.
 *                Consistent, big enough, short-lived; one rare outlier 256x the rest: the seeds'
 *                case 3 with its 64 KiB cap, in C terms -> pool-capped, cap 4096 B, 0.1% above.
 *   class_buf    malloc of 2 KiB (5 in 10 requests), 16 KiB (3 in 10) or 128 KiB (2 in 10),
 *                freed by the caller: exercise 11's three size classes -> tiered
 *                (<= 2048, <= 16384, <= 131072 B at 50%, 30%, 20%).
 *   grow_buf     malloc(16) grown by realloc doubling to 4096 B (8 growing reallocs), freed
 *                by the caller -> presize 4096 B, 8 reallocs saved per request.
 *   scratch_buf  malloc(2048) used and freed in the same function -> stack.
 *   keep_entry   malloc(2048) for a table kept until exit, one per request -> no-pool
 *                (retained).
 *   rare_buf     malloc(8192) every 1000th request, freed by the caller -> no-pool (too rare).
 * Every block but keep_entry's is freed before the next request. Nothing else allocates.
 *
 * Counts for N requests: frame_buf N, class_buf N, grow_buf N allocations and 8N reallocs,
 * scratch_buf N, keep_entry N (all live at exit), rare_buf floor(N / 1000).
 * Usage: verdicts [requests]. Prints one deterministic line with a checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

#define NOINLINE __attribute__((noinline))

static uint32_t prng_state = 2463534242u;

NOINLINE unsigned char *frame_buf(unsigned long req, size_t *len)
{
    *len = req % 1000 == 999 ? (size_t)1 << 20 : 2048 + xorshift32(&prng_state) % 2048;
    unsigned char *frame = must(malloc(*len));
    memset(frame, (int)(req & 0xff), *len < 256 ? *len : 256);
    return frame;
}

NOINLINE unsigned char *class_buf(unsigned long req, size_t *len)
{
    static const size_t classes[10] = {2048, 2048, 2048, 2048, 2048,
                                       16384, 16384, 16384, 131072, 131072};
    *len = classes[req % 10];
    unsigned char *buf = must(malloc(*len));
    buf[0] = (unsigned char)req;
    buf[*len - 1] = 1;
    return buf;
}

NOINLINE char *grow_buf(unsigned long req)
{
    size_t cap = 16, used = 0;
    char *body = must(malloc(cap));
    while (used < 4096) {
        if (used == cap) {
            cap *= 2;
            body = must(realloc(body, cap));
        }
        body[used] = (char)(used + req);
        used++;
    }
    return body;
}

NOINLINE uint64_t scratch_buf(unsigned long req)
{
    char *scratch = must(malloc(2048));
    for (size_t i = 0; i < 2048; i++)
        scratch[i] = (char)(i ^ req);
    escape(scratch);
    uint64_t sum = (unsigned char)scratch[req % 2048];
    free(scratch);
    return sum;
}

static void **table;

NOINLINE void *keep_entry(unsigned long req)
{
    char *entry = must(malloc(2048));
    entry[0] = (char)req;
    return entry;
}

NOINLINE unsigned char *rare_buf(unsigned long req)
{
    unsigned char *buf = must(malloc(8192));
    buf[0] = (unsigned char)req;
    return buf;
}

NOINLINE uint64_t handle_request(unsigned long req)
{
    size_t len;
    unsigned char *frame = frame_buf(req, &len);
    uint64_t sum = frame[0] + len;
    free(frame);

    unsigned char *buf = class_buf(req, &len);
    sum += buf[len - 1] + len;
    free(buf);

    char *body = grow_buf(req);
    sum += (unsigned char)body[4095];
    free(body);

    sum += scratch_buf(req);
    table[req] = keep_entry(req);

    if (req % 1000 == 999) {
        unsigned char *rare = rare_buf(req);
        sum += rare[0];
        free(rare);
    }
    return sum;
}

int main(int argc, char **argv)
{
    unsigned long requests = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    table = calloc(requests ? requests : 1, sizeof *table);
    if (!table)
        return 1;
    uint64_t checksum = 0;
    for (unsigned long req = 0; req < requests; req++)
        checksum = checksum * 1099511628211ull + handle_request(req);
    printf("verdicts: requests=%lu checksum=%016llx\n", requests, (unsigned long long)checksum);
    return 0;
}
