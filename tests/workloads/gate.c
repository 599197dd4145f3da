/* gate.c — the regression gate's workload (tests/t_gate.sh): a few allocation sites with exact
 * counts per operation, everything freed before the next operation (so the peak of live bytes
 * does not grow with the number of operations).
 *
 * Per operation, at sites with fixed names:
 *   parse_header   malloc(64)
 *   encode_body    malloc(256), and every 4th operation a second site in the same function,
 *                  malloc(1024): keys "encode_body" and "encode_body#2"
 *   lookup_entry   calloc(1, 48)
 *   format_reply   malloc(128)
 * Once per run, extra_alloc makes K allocations of 16 bytes (extra=K; default 0: no site).
 *
 * Usage: gate [ops] [double=FUNC] [extra=K] [OPERATIONS]   (default 1000 operations)
 *   ops          declare the operations with POOLPROBE_OPS (allocs/op in the gate)
 *   double=FUNC  call FUNC (parse_header, encode_body, lookup_entry, format_reply) twice per
 *                operation: its sites allocate twice as often, nothing else changes
 * The test also builds a copy of this file with lines inserted above every allocation: the gate
 * must match its sites to these by name.
 */
#include <poolprobe.h>
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

NOINLINE void parse_header(unsigned long op)
{
    char *header = must(malloc(64));
    header[0] = (char)op;
    escape(header);
    free(header);
}

NOINLINE void encode_body(unsigned long op)
{
    char *body = must(malloc(256));
    body[0] = (char)op;
    escape(body);
    if (op % 4 == 0) {
        char *big = must(malloc(1024));
        big[0] = body[0];
        escape(big);
        free(big);
    }
    free(body);
}

NOINLINE void lookup_entry(unsigned long op)
{
    char *entry = must(calloc(1, 48));
    entry[1] = (char)op;
    escape(entry);
    free(entry);
}

NOINLINE void format_reply(unsigned long op)
{
    char *reply = must(malloc(128));
    reply[0] = (char)op;
    escape(reply);
    free(reply);
}

NOINLINE void extra_alloc(unsigned long k)
{
    for (unsigned long i = 0; i < k; i++) {
        char *extra = must(malloc(16));
        escape(extra);
        free(extra);
    }
}

struct step {
    const char *name;
    void (*run)(unsigned long op);
};

int main(int argc, char **argv)
{
    static const struct step steps[] = {
        {"parse_header", parse_header},
        {"encode_body", encode_body},
        {"lookup_entry", lookup_entry},
        {"format_reply", format_reply},
    };
    const size_t nsteps = sizeof steps / sizeof steps[0];
    unsigned long ops = 1000, extra = 0;
    int declare = 0;
    const char *twice = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "ops") == 0)
            declare = 1;
        else if (strncmp(argv[i], "double=", 7) == 0)
            twice = argv[i] + 7;
        else if (strncmp(argv[i], "extra=", 6) == 0)
            extra = strtoul(argv[i] + 6, NULL, 10);
        else
            ops = strtoul(argv[i], NULL, 10);
    }
    for (unsigned long op = 0; op < ops; op++) {
        for (size_t s = 0; s < nsteps; s++) {
            steps[s].run(op);
            if (twice && strcmp(twice, steps[s].name) == 0)
                steps[s].run(op);
        }
    }
    extra_alloc(extra);
    if (declare)
        POOLPROBE_OPS(ops);
    return 0;
}
