/* try_main.c — poolprobe-try: apply the report's verdicts inside the shim and time the program
 * with and without them (`poolprobe try`, see README "Try a verdict before you write it").
 *
 * Order of runs: one plain run (no shim; its output and exit status are the reference), one
 * recording run when no --trace is given, then for each configuration (all sites together, and
 * each alone with --each) one warm-up of each arm and --runs pairs, the order within a pair
 * alternating (without-with, with-without, ...) so a trend in the machine's load falls on both
 * arms. Both arms run libpoolprobe.so in try mode with the same targets; in the arm "without"
 * every target is only matched and counted, in the arm "with" the configuration's targets are
 * served by the emulated pool.
 *
 * Exit status: 0 measured; 2 when the program fails or its output differs in any run, or
 * poolprobe try itself cannot run (bad options, unreadable trace, no site to try).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "try.h"

enum { EXIT_MEASURED = 0, EXIT_TROUBLE = 2 };

static const char *usage_text =
    "usage: poolprobe try [OPTION]... -- PROGRAM [ARG]...\n"
    "  --trace FILE        sites and verdicts from this trace (default: record one first)\n"
    "  --site PATTERN      only sites whose key or function matches (repeatable)\n"
    "  --as VERDICT        apply pool, pool-capped, tiered, presize, stack or none instead\n"
    "  --capacity N        blocks per free list      --object-bytes N  block (or presize) size\n"
    "  --cap-bytes N       pool-capped: larger blocks are not pooled\n"
    "  --kind per-thread|shared\n"
    "  -t, --threshold NAME=VALUE  judge with this threshold (as poolprobe-report -t)\n"
    "  --runs N            paired runs per arm (default 5; `confirmed` needs >= 5)\n"
    "  --each              also measure each site alone\n"
    "  --format text|json\n";

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "poolprobe try: error: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_TROUBLE);
}

static uint64_t parse_count(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || s[0] == '-')
        die("%s needs a positive number", opt);
    return v;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char scratch[1024]; /* short: file names are appended to it */
static void cleanup(void)
{
    /* POOLPROBE_TRY_KEEP=1 keeps the runs' outputs and targets files, to see why a run
     * differed. */
    const char *keep = getenv("POOLPROBE_TRY_KEEP");
    if (keep && !strcmp(keep, "1"))
        fprintf(stderr, "poolprobe try: kept %s\n", scratch);
    else if (scratch[0])
        remove_tree(scratch);
}

/* The shim: $POOLPROBE_LIB (the launcher sets it), else next to this program. */
static const char *find_shim(void)
{
    const char *env = getenv("POOLPROBE_LIB");
    if (env && *env)
        return env;
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return NULL;
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, "libpoolprobe.so");
    return access(path, R_OK) == 0 ? path : NULL;
}

/* stdin is replayed to every run: copy it once (a pipe can be read only once). */
static const char *save_stdin(void)
{
    static char path[4096];
    if (isatty(0))
        return NULL;
    snprintf(path, sizeof path, "%s/stdin", scratch);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, f);
    fclose(f);
    return path;
}

/* The run failed or differs from the plain run: say how, and stop. */
static void check_run(const struct try_run *r, const char *what, size_t index)
{
    char buf[128];
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 && r->same)
        return;
    if (!r->same && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
        fprintf(stderr, "poolprobe try: error: %s (run %zu): the program's output differs from "
                "its plain run; the times would compare different work\n", what, index);
    else
        fprintf(stderr, "poolprobe try: error: %s (run %zu): the program failed: %s\n", what,
                index, try_describe_status(r->status, buf, sizeof buf));
    exit(EXIT_TROUBLE);
}

struct config {
    const char *name; /* for messages */
    char targets_path[4096];
};

static void measure(const struct try_program *prog, const char *base_path,
                    const struct config *cfg, struct try_result *res, size_t runs, size_t n)
{
    char err[512];
    struct try_counts *scratch_counts = calloc(n ? n : 1, sizeof *scratch_counts);
    res->nruns = runs;
    res->without = calloc(runs, sizeof *res->without);
    res->with = calloc(runs, sizeof *res->with);
    res->site_counts = calloc(n ? n : 1, sizeof *res->site_counts);
    if (!scratch_counts || !res->without || !res->with || !res->site_counts)
        die("%s", "out of memory");
    char what[160];
    for (size_t i = 0; i <= runs; i++) {
        /* i == 0 is the warm-up pair, then pairs alternate their order. */
        bool with_first = i > 0 && i % 2 == 0;
        for (int half = 0; half < 2; half++) {
            bool with = (half == 0) == with_first;
            struct try_run warm, *r = i == 0 ? &warm : with ? &res->with[i - 1]
                                                            : &res->without[i - 1];
            if (try_run_arm(prog, with ? cfg->targets_path : base_path, r,
                            with ? res->site_counts : scratch_counts, n, err, sizeof err))
                die("%s", err);
            snprintf(what, sizeof what, "%s, %s the pool%s", cfg->name,
                     with ? "with" : "without", i == 0 ? ", warm-up" : "");
            check_run(r, what, i);
        }
    }
    memset(&res->counts, 0, sizeof res->counts);
    for (size_t s = 0; s < n; s++) {
        if (res->key && s != res->target)
            continue;
        res->counts.matched += res->site_counts[s].matched;
        res->counts.hits += res->site_counts[s].hits;
        res->counts.misses += res->site_counts[s].misses;
        res->counts.drops += res->site_counts[s].drops;
        res->counts.overflows += res->site_counts[s].overflows;
    }
    free(scratch_counts);
}

int main(int argc, char **argv)
{
    const char *trace = NULL, *format = "text";
    const char **patterns = calloc((size_t)argc, sizeof *patterns);
    const char **thresholds = calloc((size_t)argc, sizeof *thresholds);
    size_t npatterns = 0, runs = 5;
    bool each = false;
    struct try_override ov = {0};
    static const struct option longopts[] = {
        {"trace", required_argument, 0, 'F'},    {"site", required_argument, 0, 's'},
        {"as", required_argument, 0, 'a'},       {"capacity", required_argument, 0, 'c'},
        {"object-bytes", required_argument, 0, 'o'}, {"cap-bytes", required_argument, 0, 'C'},
        {"kind", required_argument, 0, 'k'},     {"runs", required_argument, 0, 'r'},
        {"each", no_argument, 0, 'e'},           {"format", required_argument, 0, 'f'},
        {"threshold", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+ht:", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': trace = optarg; break;
        case 's': patterns[npatterns++] = optarg; break;
        case 'a':
            if (strcmp(optarg, "pool") && strcmp(optarg, "pool-capped") &&
                strcmp(optarg, "tiered") && strcmp(optarg, "presize") &&
                strcmp(optarg, "stack") && strcmp(optarg, "none"))
                die("--as %s: not one of pool, pool-capped, tiered, presize, stack, none",
                    optarg);
            ov.verdict = optarg;
            break;
        case 'c': ov.capacity = parse_count("--capacity", optarg); break;
        case 'o': ov.object_bytes = parse_count("--object-bytes", optarg); break;
        case 'C': ov.cap_bytes = parse_count("--cap-bytes", optarg); break;
        case 'k':
            if (strcmp(optarg, "per-thread") && strcmp(optarg, "shared"))
                die("--kind %s: not per-thread or shared", optarg);
            ov.kind = optarg;
            break;
        case 'r': runs = parse_count("--runs", optarg); break;
        case 't': /* -t as poolprobe-report's */
        case 'T':
            thresholds[ov.nthresholds++] = optarg; break;
        case 'e': each = true; break;
        case 'f':
            if (strcmp(optarg, "text") && strcmp(optarg, "json"))
                die("--format %s: not text or json", optarg);
            format = optarg;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return EXIT_TROUBLE;
        }
    }
    ov.thresholds = thresholds;
    if (optind >= argc)
        die("%s", "no program given (usage: poolprobe try [OPTION]... -- PROGRAM [ARG]...)");
    if (runs > 1000)
        die("%s", "--runs: at most 1000");

    struct try_program prog = {.argv = argv + optind};
    if (!(prog.shim = find_shim()))
        die("%s", "cannot find libpoolprobe.so (set POOLPROBE_LIB)");
    const char *tmp = getenv("TMPDIR");
    if (snprintf(scratch, sizeof scratch, "%s/poolprobe-try.XXXXXX", tmp && *tmp ? tmp : "/tmp")
        >= (int)sizeof scratch)
        die("%s", "TMPDIR is too long");
    if (!mkdtemp(scratch)) {
        scratch[0] = '\0';
        die("cannot make a scratch directory: %s", strerror(errno));
    }
    atexit(cleanup);
    prog.dir = scratch;
    prog.stdin_path = save_stdin();

    char err[1024], what[64];
    struct try_run plain;
    if (try_run_plain(&prog, &plain, err, sizeof err))
        die("%s", err);
    if (!WIFEXITED(plain.status) || WEXITSTATUS(plain.status) != 0)
        die("the program fails without the shim: %s; poolprobe try measures programs that "
            "succeed", try_describe_status(plain.status, what, sizeof what));

    char trace_note[4200], trace_path[4096];
    if (trace) {
        snprintf(trace_note, sizeof trace_note, "sites and verdicts from %s", trace);
    } else {
        struct try_run rec;
        snprintf(trace_path, sizeof trace_path, "%s/trace.bin", scratch);
        if (try_run_record(&prog, trace_path, &rec, err, sizeof err))
            die("%s", err);
        check_run(&rec, "recording", 0);
        trace = trace_path;
        snprintf(trace_note, sizeof trace_note,
                 "no --trace: recorded one first (a run under the shim) and judged it");
    }

    struct try_target *targets;
    long n = try_targets_load(trace, patterns, npatterns, &ov, &targets, err, sizeof err);
    if (n < 0)
        die("%s", err);
    if (n == 0)
        die("%s", npatterns ? "no site matches --site" :
                              "no site has a verdict to try (name one with --site and --as)");
    long loaded = n;
    if (n > 64) /* the shim's table; the report orders sites by allocations */
        n = 64;

    size_t nconfigs = 1 + (each ? (size_t)n : 0);
    struct config *configs = calloc(nconfigs, sizeof *configs);
    struct try_result *results = calloc(nconfigs, sizeof *results);
    bool *apply = calloc((size_t)n, sizeof *apply);
    char base_path[4096];
    if (!configs || !results || !apply)
        die("%s", "out of memory");
    snprintf(base_path, sizeof base_path, "%s/targets.none", scratch);
    if (try_targets_write(base_path, targets, (size_t)n, apply))
        die("cannot write %s", base_path);
    for (size_t k = 0; k < nconfigs; k++) {
        for (long i = 0; i < n; i++)
            apply[i] = k == 0 || (size_t)i == k - 1;
        snprintf(configs[k].targets_path, sizeof configs[k].targets_path, "%s/targets.%zu",
                 scratch, k);
        configs[k].name = k == 0 ? "all sites" : targets[k - 1].key;
        if (try_targets_write(configs[k].targets_path, targets, (size_t)n, apply))
            die("cannot write %s", configs[k].targets_path);
        results[k].key = k == 0 ? NULL : targets[k - 1].key;
        results[k].target = k == 0 ? 0 : k - 1;
        measure(&prog, base_path, &configs[k], &results[k], runs, (size_t)n);
        if (k == 0 && results[0].counts.matched == 0)
            die("no allocation of the sites tried was made at them in this run: is %s from "
                "this build of the program, and does it run the same code?", trace);
    }

    int rc;
    if (!strcmp(format, "json")) {
        rc = try_print_json(stdout, prog.argv, &plain, targets, (size_t)n, results, nconfigs, runs);
    } else {
        try_print_text(stdout, prog.argv, trace_note, &plain, targets, (size_t)n, results, nconfigs,
                       runs);
        rc = 0;
    }
    if (rc || fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "poolprobe try: error: cannot write the result\n");
        return EXIT_TROUBLE;
    }
    for (size_t k = 0; k < nconfigs; k++) {
        free(results[k].without);
        free(results[k].with);
        free(results[k].site_counts);
    }
    free(results);
    free(configs);
    free(apply);
    free(patterns);
    free(thresholds);
    try_targets_free(targets, (size_t)loaded);
    return EXIT_MEASURED;
}
