/* config.c — the shim's settings, read once from the environment at start.
 *
 * getenv() neither allocates nor locks, so this is safe from the first malloc call. Bad values
 * are reported with one poolprobe: line and replaced by the default; they never stop the host.
 */
#include <stdlib.h>

#include "shim.h"

struct pp_config pp_config = {
    .out = "trace.bin",
    .depth = 64,
    .max_memory = 4096ull << 20,
    .quiet = 0,
};

/* Parses a decimal in [lo, hi]; returns 0 when s is not one. */
static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    unsigned long long v = 0;
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (hi - (unsigned)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v < lo)
        return 0;
    *out = v;
    return 1;
}

static void load_uint(const char *name, unsigned long long lo, unsigned long long hi,
                      unsigned long long *value)
{
    const char *s = getenv(name);
    unsigned long long v;
    if (!s)
        return;
    if (parse_uint(s, lo, hi, &v))
        *value = v;
    else
        pp_log("%s=%s is not a number in %llu..%llu; using %llu", name, s, lo, hi, *value);
}

void pp_config_load(void)
{
    const char *out = getenv("POOLPROBE_OUT");
    if (out && *out)
        pp_config.out = out;

    unsigned long long v = pp_config.depth;
    load_uint("POOLPROBE_DEPTH", 1, PP_MAX_DEPTH, &v);
    pp_config.depth = (unsigned)v;

    v = pp_config.max_memory >> 20;
    load_uint("POOLPROBE_MAX_MEMORY_MB", 1, 1ull << 30, &v);
    pp_config.max_memory = v << 20;

    v = 0;
    load_uint("POOLPROBE_QUIET", 0, 1, &v);
    pp_config.quiet = (int)v;
}
