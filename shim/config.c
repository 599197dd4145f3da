/* config.c — the shim's settings, read once from the environment at start.
 *
 * getenv() neither allocates nor locks, so this is safe from the first malloc call. Bad values
 * are reported with one poolprobe: line and replaced by the default; they never stop the host.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct pp_config pp_config = {
    .out = "trace.bin",
    .depth = 64,
    .max_memory = 4096ull << 20,
    .interval_ns = 1000000000ull,
    .sample_every = 1,
    .site_depth = 4,
    .stack_sample = 256,
    .watcher = 1,
    .solo = 1,
};

static char out_path[4096];

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

/* "1", "0.25", "30": seconds with an optional fraction, at most a day. */
static int parse_seconds(const char *s, uint64_t *ns)
{
    uint64_t whole = 0, frac = 0, scale = 1000000000ull;
    const char *p = s;
    if (!*p)
        return 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((whole = whole * 10 + (uint64_t)(*p - '0')) > 86400)
            return 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
    if (*p)
        return 0;
    *ns = whole * 1000000000ull + frac;
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

    v = pp_config.sample_every;
    load_uint("POOLPROBE_SAMPLE", 1, 1000000, &v);
    pp_config.sample_every = (uint32_t)v;
    v = 0;
    load_uint("POOLPROBE_SAMPLE_SEED", 0, UINT64_MAX, &v);
    pp_config.sample_seed = v;

    /* Site mode unless asked for full stacks: see sitewalk.c and stacksample.c. */
    const char *stacks = getenv("POOLPROBE_STACKS");
    if (stacks && !strcmp(stacks, "full"))
        pp_config.site_depth = 0;
    else if (stacks && strcmp(stacks, "site"))
        pp_log("POOLPROBE_STACKS=%s is neither site nor full; using site", stacks);
    if (pp_config.site_depth) {
        v = pp_config.site_depth;
        load_uint("POOLPROBE_SITE_DEPTH", 1, PP_SITE_DEPTH_MAX, &v);
        pp_config.site_depth = (unsigned)(v < pp_config.depth ? v : pp_config.depth);
    }
    v = pp_config.stack_sample;
    load_uint("POOLPROBE_STACK_SAMPLE", 1, 1000000, &v);
    pp_config.stack_sample = (uint32_t)v;

    const char *interval = getenv("POOLPROBE_INTERVAL");
    if (interval && !parse_seconds(interval, &pp_config.interval_ns))
        pp_log("POOLPROBE_INTERVAL=%s is not a number of seconds; using 1", interval);
    v = pp_config.watcher;
    load_uint("POOLPROBE_WATCHER", 0, 1, &v);
    pp_config.watcher = (int)v;
    v = pp_config.solo;
    load_uint("POOLPROBE_SOLO", 0, 1, &v);
    pp_config.solo = (int)v;

    /* Resolve a relative output path now: daemons chdir("/") before they exit. */
    if (pp_config.out[0] != '/' && getcwd(out_path, sizeof out_path - 1)) {
        size_t n = strlen(out_path);
        if (n + 1 + strlen(pp_config.out) < sizeof out_path) {
            out_path[n] = '/';
            strcpy(out_path + n + 1, pp_config.out);
            pp_config.out = out_path;
        }
    }
}
