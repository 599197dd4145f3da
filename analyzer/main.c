/* main.c — the poolprobe-report command line: options, reading the traces, choosing the output,
 * and the exit code. Nothing else decides an exit code or prints an error.
 *
 * Exit codes follow diff(1): 0 success (and, with --baseline, no regression), 1 the regression
 * gate (--baseline) found at least one regression, 2 trouble (usage, unreadable or corrupt
 * trace or baseline, write error). Errors are one line: "poolprobe-report: error: FILE: what is
 * wrong".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline.h"
#include "tried.h"
#include "checklist.h"
#include "gate.h"
#include "numfmt.h"
#include "progress.h"
#include "report_explain.h"
#include "report_gate.h"
#include "report_folded.h"
#include "report_html.h"
#include "report_json.h"
#include "report_pprof.h"
#include "report_text.h"
#include "sites.h"
#include "suppress.h"
#include "symbolize.h"
#include "trace_format.h"
#include "trace_reader.h"


enum pp_exit {
    PP_EXIT_OK = 0,
    PP_EXIT_REGRESSION = 1, /* --baseline found a regression */
    PP_EXIT_TROUBLE = 2,
};

enum output_format {
    FORMAT_TEXT,
    FORMAT_JSON,
    FORMAT_MARKDOWN,
    FORMAT_FOLDED,
    FORMAT_PPROF,
    FORMAT_HTML,
};

struct options {
    enum output_format format;
    struct pp_group_options group;
    size_t top;
    bool top_set;  /* --top given (0 = all) */
    bool wide;     /* --wide: never cut text lines */
    bool group_set; /* --group-by given */
    enum pp_folded_value folded_value; /* --folded-value */
    bool folded_value_set;
    char **wrappers; /* owned copies of the --wrappers items */
    size_t nwrappers;
    struct pp_thresholds thresholds;
    const char *site_pattern; /* --site: explain the matching sites in full */
    const char *tried;        /* --try: poolprobe try's result, shown with each site */
    bool help, version, list_thresholds;
    /* the regression gate */
    const char *baseline;       /* --baseline: compare with this trace or JSON report */
    const char *write_baseline; /* --write-baseline: write the JSON report here */
    const char **suppress;      /* --suppress files (pointers into argv) */
    size_t nsuppress;
    struct pp_gate_thresholds gate;
    bool gate_threshold_set;    /* some --gate-threshold was given */
    bool has_ops;               /* --ops given */
    uint64_t ops;
    bool all;                   /* --all: list runtime sites in the table one by one */
    const char *process;        /* --process: only the traces of matching processes */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: poolprobe-report [OPTION]... TRACE...\n"
            "Report allocations per site from poolprobe traces (several traces are merged,\n"
            "e.g. a parent process and its children).\n"
            "\n"
            "  -f, --format=FORMAT       text (default) or json; with --baseline also\n"
            "                            markdown (for a pull-request comment); by call\n"
            "                            stack: folded (flamegraph.pl, inferno, speedscope)\n"
            "                            or pprof (gzipped profile.proto, for go tool pprof);\n"
            "                            html: one self-contained page with cards, charts\n"
            "                            and a flame graph (with --baseline, the gate too)\n"
            "      --folded-value=WHAT   what folded lines count: allocs (default), bytes,\n"
            "                            or live-bytes (still live when the trace was written)\n"
            "  -g, --group-by=WHAT       site (default): by allocating function and line;\n"
            "                            stack: by the full call stack\n"
            "  -n, --top=N               show only the N sites with the most allocations\n"
            "                            (0: all, the default)\n"
            "      --wide                never cut text lines (default: the terminal's\n"
            "                            width, or 79 columns when not a terminal)\n"
            "  -s, --site=PATTERN        explain the sites whose key or function matches\n"
            "                            PATTERN ('*' matches any text) in full\n"
            "  -t, --threshold=NAME=VALUE  override a checklist threshold; repeatable\n"
            "      --list-thresholds     list the thresholds, their defaults and reasons\n"
            "  -w, --wrappers=LIST       comma-separated functions that only wrap malloc, to\n"
            "                            skip like malloc ('*' matches any text); repeatable\n"
            "      --no-default-wrappers do not skip the built-in wrappers (xmalloc, g_malloc,\n"
            "                            PyMem_Malloc, CRYPTO_malloc...)\n"
            "      --no-auto-wrappers    do not skip the wrappers found in the stacks (a frame\n"
            "                            many callers reach with their own sizes)\n"
            "      --all                 list the C runtime's own sites in the table one by one\n"
            "      --process=PATTERN     only the processes whose pid or command matches\n"
            "                            PATTERN ('*' matches any text)\n"
            "      --try=FILE            show what `poolprobe try --format json` measured\n"
            "                            (FILE) next to each recommendation\n"
            "\n"
            "Regression gate (exit 1 when allocations regressed against BASE):\n"
            "  -b, --baseline=BASE       compare with BASE, a trace or a JSON report\n"
            "      --write-baseline=FILE write the JSON report (all sites) to FILE, the\n"
            "                            baseline to commit; without --baseline, only that\n"
            "      --gate-threshold=NAME=VALUE  override a gate threshold (VALUE or off);\n"
            "                            repeatable; see --list-thresholds\n"
            "      --suppress=FILE       site patterns (one a line, '*' matches any text,\n"
            "                            '#' comments) accepted as they are; repeatable\n"
            "      --ops=N               operations the current run made (default: what the\n"
            "                            program declared, or $POOLPROBE_OPS); with ops on\n"
            "                            both sides, counts are compared per operation\n"
            "  -h, --help                show this help and exit\n"
            "  -V, --version             show the version and exit\n"
            "\n"
            "Exit status: 0 success (no regression), 1 regression (--baseline), 2 trouble\n"
            "(bad usage, unreadable or corrupt trace or baseline).\n");
}

__attribute__((format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("poolprobe-report: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'poolprobe-report --help' for more information.\n", stderr);
    va_end(ap);
}

static int add_wrappers(struct options *o, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char **grown = realloc(o->wrappers, (o->nwrappers + 1) * sizeof *grown);
        if (!grown || !(grown[o->nwrappers] = strdup(item))) {
            if (grown)
                o->wrappers = grown;
            free(copy);
            return -1;
        }
        o->wrappers = grown;
        o->nwrappers++;
    }
    free(copy);
    return 0;
}

/* A decimal count (no sign); -1 when text is not one. */
static int parse_count(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || text[0] == '+' || text[0] == ' ')
        return -1;
    *out = n;
    return 0;
}

/* Options that would otherwise be silently ignored in this combination: refuse them, saying
 * why. -1 after printing the error. */
static int check_combinations(const struct options *o)
{
    const char *why = NULL;
    bool by_stack = o->format == FORMAT_FOLDED || o->format == FORMAT_PPROF;
    if (o->folded_value_set && o->format != FORMAT_FOLDED)
        why = "--folded-value is for --format folded";
    else if (by_stack && o->group_set && o->group.group_by != PP_GROUP_BY_STACK)
        why = "folded and pprof profiles are by call stack: drop --group-by site";
    else if (by_stack && (o->baseline || o->write_baseline || o->top_set))
        why = "folded and pprof profiles hold every stack: --baseline, --write-baseline and "
              "--top do not apply";
    else if (o->format == FORMAT_PPROF && isatty(STDOUT_FILENO))
        why = "a pprof profile is binary (gzip): redirect it to a file, e.g. > profile.pb.gz";
    else if (o->format == FORMAT_HTML && isatty(STDOUT_FILENO))
        why = "the HTML report is a page to open in a browser: redirect it to a file, e.g. "
              "> report.html";
    else if (o->format == FORMAT_HTML && o->top_set)
        why = "the HTML report shows every recommendation: --top does not apply";
    else if (o->site_pattern && o->format != FORMAT_TEXT)
        why = "--site explains sites as text only (the JSON report already has every site "
              "in full): drop --format or --site";
    else if (o->site_pattern && o->write_baseline)
        why = "--site and --write-baseline do not go together: a baseline holds every site";
    else if (o->site_pattern && o->top_set)
        why = "--site shows every site that matches: --top does not apply";
    else if (o->baseline && o->top_set)
        why = "--top does not apply to the regression gate: it compares every site";
    else if (o->wide && (o->baseline || o->format != FORMAT_TEXT))
        why = "--wide is for the text report only";
    if (why) {
        usage_error("%s", why);
        return -1;
    }
    return 0;
}

/* Fill o from argv; on a usage error print it and return -1. *first_trace is argv's index of
 * the first trace path. */
static int parse_options(int argc, char **argv, struct options *o, int *first_trace)
{
    enum {
        OPT_NO_DEFAULT_WRAPPERS = 256,
        OPT_LIST_THRESHOLDS,
        OPT_WRITE_BASELINE,
        OPT_GATE_THRESHOLD,
        OPT_SUPPRESS,
        OPT_OPS,
        OPT_NO_AUTO_WRAPPERS,
        OPT_ALL,
        OPT_PROCESS,
        OPT_WIDE,
        OPT_FOLDED_VALUE,
        OPT_TRY,
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"group-by", required_argument, NULL, 'g'},
        {"top", required_argument, NULL, 'n'},
        {"wrappers", required_argument, NULL, 'w'},
        {"no-default-wrappers", no_argument, NULL, OPT_NO_DEFAULT_WRAPPERS},
        {"site", required_argument, NULL, 's'},
        {"threshold", required_argument, NULL, 't'},
        {"list-thresholds", no_argument, NULL, OPT_LIST_THRESHOLDS},
        {"baseline", required_argument, NULL, 'b'},
        {"write-baseline", required_argument, NULL, OPT_WRITE_BASELINE},
        {"gate-threshold", required_argument, NULL, OPT_GATE_THRESHOLD},
        {"suppress", required_argument, NULL, OPT_SUPPRESS},
        {"ops", required_argument, NULL, OPT_OPS},
        {"no-auto-wrappers", no_argument, NULL, OPT_NO_AUTO_WRAPPERS},
        {"all", no_argument, NULL, OPT_ALL},
        {"process", required_argument, NULL, OPT_PROCESS},
        {"wide", no_argument, NULL, OPT_WIDE},
        {"folded-value", required_argument, NULL, OPT_FOLDED_VALUE},
        {"try", required_argument, NULL, OPT_TRY},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:g:n:w:s:t:b:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "text") == 0) {
                o->format = FORMAT_TEXT;
            } else if (strcmp(optarg, "json") == 0) {
                o->format = FORMAT_JSON;
            } else if (strcmp(optarg, "markdown") == 0) {
                o->format = FORMAT_MARKDOWN;
            } else if (strcmp(optarg, "folded") == 0) {
                o->format = FORMAT_FOLDED;
            } else if (strcmp(optarg, "pprof") == 0) {
                o->format = FORMAT_PPROF;
            } else if (strcmp(optarg, "html") == 0) {
                o->format = FORMAT_HTML;
            } else {
                usage_error("unknown format '%s' (text, json, markdown, folded, pprof or html)", optarg);
                return -1;
            }
            break;
        case 'g':
            o->group_set = true;
            if (strcmp(optarg, "site") == 0) {
                o->group.group_by = PP_GROUP_BY_SITE;
            } else if (strcmp(optarg, "stack") == 0) {
                o->group.group_by = PP_GROUP_BY_STACK;
            } else {
                usage_error("unknown grouping '%s' (site or stack)", optarg);
                return -1;
            }
            break;
        case 'n': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                usage_error("--top needs a number, not '%s'", optarg);
                return -1;
            }
            o->top = n > SIZE_MAX ? SIZE_MAX : (size_t)n;
            o->top_set = true;
            break;
        }
        case 'w':
            if (add_wrappers(o, optarg)) {
                fputs("poolprobe-report: error: out of memory\n", stderr);
                return -1;
            }
            break;
        case OPT_NO_DEFAULT_WRAPPERS:
            o->group.default_wrappers = false;
            break;
        case OPT_NO_AUTO_WRAPPERS:
            o->group.no_auto_wrappers = true;
            break;
        case OPT_ALL:
            o->all = true;
            break;
        case OPT_PROCESS:
            o->process = optarg;
            break;
        case 's':
            o->site_pattern = optarg;
            break;
        case 't': {
            char err[256];
            if (pp_thresholds_set(&o->thresholds, optarg, err, sizeof err)) {
                usage_error("%s", err);
                return -1;
            }
            break;
        }
        case OPT_LIST_THRESHOLDS:
            o->list_thresholds = true;
            break;
        case 'b':
            o->baseline = optarg;
            break;
        case OPT_WRITE_BASELINE:
            o->write_baseline = optarg;
            break;
        case OPT_TRY:
            o->tried = optarg;
            break;
        case OPT_GATE_THRESHOLD: {
            char err[256];
            if (pp_gate_thresholds_set(&o->gate, optarg, err, sizeof err)) {
                usage_error("%s", err);
                return -1;
            }
            o->gate_threshold_set = true;
            break;
        }
        case OPT_SUPPRESS: {
            const char **grown = realloc(o->suppress, (o->nsuppress + 1) * sizeof *grown);
            if (!grown) {
                fputs("poolprobe-report: error: out of memory\n", stderr);
                return -1;
            }
            o->suppress = grown;
            o->suppress[o->nsuppress++] = optarg;
            break;
        }
        case OPT_OPS:
            if (parse_count(optarg, &o->ops)) {
                usage_error("--ops needs a number of operations, not '%s'", optarg);
                return -1;
            }
            o->has_ops = true;
            break;
        case OPT_WIDE:
            o->wide = true;
            break;
        case OPT_FOLDED_VALUE:
            if (strcmp(optarg, "allocs") == 0) {
                o->folded_value = PP_FOLDED_ALLOCS;
            } else if (strcmp(optarg, "bytes") == 0) {
                o->folded_value = PP_FOLDED_BYTES;
            } else if (strcmp(optarg, "live-bytes") == 0) {
                o->folded_value = PP_FOLDED_LIVE_BYTES;
            } else {
                usage_error("unknown --folded-value '%s' (allocs, bytes or live-bytes)", optarg);
                return -1;
            }
            o->folded_value_set = true;
            break;
        case 'h':
            o->help = true;
            break;
        case 'V':
            o->version = true;
            break;
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
            return -1;
        default:
            usage_error("unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    o->group.wrappers = (const char *const *)o->wrappers;
    o->group.nwrappers = o->nwrappers;
    *first_trace = optind;
    if (!o->help && !o->version && !o->list_thresholds && optind >= argc) {
        usage_error("no trace given");
        return -1;
    }
    if (!o->baseline) {
        const char *gate_only = o->format == FORMAT_MARKDOWN ? "--format markdown"
                                : o->nsuppress           ? "--suppress"
                                : o->gate_threshold_set  ? "--gate-threshold"
                                                         : NULL;
        if (gate_only) {
            usage_error("%s is for the regression gate: give --baseline BASE", gate_only);
            return -1;
        }
    } else if (o->site_pattern) {
        usage_error("--site and --baseline do not go together");
        return -1;
    }
    return check_combinations(o);
}

/* A threshold's value as it is given: exact, never "1e+09", with the unit the reports print
 * beside it for bytes and nanoseconds (which --threshold accepts too). */
static char *threshold_text(char *buf, size_t len, const char *unit, double v)
{
    char human[16];
    int n = snprintf(buf, len, "%.15g", v);
    if (n > 0 && (size_t)n < len && v >= 1000 && v < 1.8e19) {
        if (strcmp(unit, "bytes") == 0)
            snprintf(buf + n, len - (size_t)n, " (%s)", pp_human_bytes(human, sizeof human, (uint64_t)v));
        else if (strcmp(unit, "ns") == 0)
            snprintf(buf + n, len - (size_t)n, " (%s)", pp_human_ns(human, sizeof human, (uint64_t)v));
    }
    return buf;
}

static void print_threshold_table(FILE *out, const struct pp_threshold_info *table, size_t n,
                                  const void *values)
{
    for (size_t i = 0; i < n; i++) {
        char value[48], def[48];
        fprintf(out, "  %-20s %-18s %s (default %s)\n      %s\n", table[i].name,
                threshold_text(value, sizeof value, table[i].unit,
                               pp_threshold_value(&table[i], values)),
                table[i].unit,
                threshold_text(def, sizeof def, table[i].unit, table[i].default_value),
                table[i].why);
    }
}

static void list_thresholds(FILE *out, const struct pp_thresholds *t)
{
    fprintf(out, "Checklist thresholds (override with --threshold NAME=VALUE; bytes may be given\n"
                 "as 4K or 1.5M, nanoseconds as 250ms or 1s, shares as 0.02 or 2%%):\n\n");
    print_threshold_table(out, pp_threshold_table, pp_threshold_count, t);
}

static void list_gate_thresholds(FILE *out, const struct pp_gate_thresholds *t)
{
    fprintf(out, "\nRegression gate thresholds (--baseline; override with --gate-threshold\n"
                 "NAME=VALUE or NAME=off; growth 0.05 = +5%%, share 0.01 = 1%% of all "
                 "allocations):\n\n");
    print_threshold_table(out, pp_gate_threshold_table, pp_gate_threshold_count, t);
}

/* Refuse, before reading anything, what would give a wrong report without a word: an empty file
 * (which the reader would call "bad magic") and the same trace given twice (every count
 * doubled). -1 after printing the error. */
static int check_trace_files(char *const *paths, size_t n)
{
    struct stat *seen = calloc(n, sizeof *seen);
    int rc = seen ? 0 : -1;
    if (!seen)
        fputs("poolprobe-report: error: out of memory\n", stderr);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (stat(paths[i], &seen[i]) != 0)
            continue; /* the reader says why it cannot open it */
        if (S_ISREG(seen[i].st_mode) && seen[i].st_size == 0) {
            fprintf(stderr, "poolprobe-report: error: %s: empty file, not a trace yet: the shim "
                            "writes the trace when the program exits and at each snapshot "
                            "(POOLPROBE_INTERVAL, 1 s by default); the program is still "
                            "running, or ended before its first snapshot was written\n",
                    paths[i]);
            rc = -1;
        }
        for (size_t k = 0; k < i && rc == 0; k++) {
            if (seen[k].st_ino == seen[i].st_ino && seen[k].st_dev == seen[i].st_dev &&
                seen[k].st_mode != 0) {
                fprintf(stderr, "poolprobe-report: error: %s: given twice (as %s too): merging a "
                                "trace with itself would double every count\n",
                        paths[i], paths[k]);
                rc = -1;
            }
        }
    }
    free(seen);
    return rc;
}

/* Columns of the text report: unlimited with --wide, the terminal's width when stdout is one,
 * else 79 (for a file, a pipe, or an 80-column terminal). */
static size_t text_width(const struct options *o)
{
    struct winsize ws;
    if (o->wide)
        return 0;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return (size_t)ws.ws_col - 1;
    return 79;
}

/* Operations of the current run: --ops, else $POOLPROBE_OPS, else what the programs declared.
 * -1 with a message when POOLPROBE_OPS is not a number. */
static int current_ops(const struct options *o, const struct pp_report *report, uint64_t *ops)
{
    const char *env = getenv("POOLPROBE_OPS");
    *ops = report->ops;
    if (o->has_ops) {
        *ops = o->ops;
    } else if (env && *env) {
        if (parse_count(env, ops)) {
            fprintf(stderr, "poolprobe-report: error: POOLPROBE_OPS must be a number of "
                            "operations, not '%s'\n", env);
            return -1;
        }
    }
    return 0;
}

/* The regression gate: compare report with the baseline, print the result in the chosen
 * format (and GitHub annotations on stderr when GITHUB_ACTIONS=true). Returns the exit code. */
static enum pp_exit run_gate(const struct options *o, const struct pp_report *report,
                             const char *current_source, char **gate_json)
{
    enum pp_exit status = PP_EXIT_TROUBLE;
    struct pp_summary base = {0}, cur = {0};
    struct pp_suppressions sup = {0};
    struct pp_gate_result result = {0};
    char err[512];

    if (pp_summary_load(&base, o->baseline, &o->group, stderr, err, sizeof err)) {
        fprintf(stderr, "poolprobe-report: error: %s: %s\n", o->baseline, err);
        goto done;
    }
    for (size_t i = 0; i < o->nsuppress; i++) {
        if (pp_suppressions_load(&sup, o->suppress[i], err, sizeof err)) {
            fprintf(stderr, "poolprobe-report: error: %s: %s\n", o->suppress[i], err);
            goto done;
        }
    }
    if (pp_summary_from_report(&cur, report, current_source, err, sizeof err) ||
        pp_gate_compare(&base, &cur, &o->gate, &sup, &result)) {
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto done;
    }
    if (o->format == FORMAT_HTML) {
        /* The page shows the gate's JSON document; main writes the page. */
        size_t len = 0;
        FILE *mem = open_memstream(gate_json, &len);
        int failed = !mem || pp_gate_json(mem, &result, &base, &cur, &o->gate);
        if (mem)
            fclose(mem);
        if (failed) {
            fputs("poolprobe-report: error: out of memory while writing the gate's JSON\n", stderr);
            goto done;
        }
    } else if (o->format == FORMAT_JSON) {
        if (pp_gate_json(stdout, &result, &base, &cur, &o->gate)) {
            fputs("poolprobe-report: error: out of memory while writing JSON\n", stderr);
            goto done;
        }
    } else if (o->format == FORMAT_MARKDOWN) {
        pp_gate_markdown(stdout, &result, &base, &cur);
    } else {
        pp_gate_text(stdout, &result, &base, &cur);
    }
    const char *actions = getenv("GITHUB_ACTIONS");
    if (actions && strcmp(actions, "true") == 0) {
        /* stderr: the runner reads workflow commands from both streams, and stdout stays a
         * clean document (JSON, markdown) for whatever consumes it. */
        fflush(stdout);
        pp_gate_annotations(stderr, &result, getenv("GITHUB_WORKSPACE"));
    }
    status = result.passed ? PP_EXIT_OK : PP_EXIT_REGRESSION;
done:
    pp_gate_result_free(&result);
    pp_suppressions_free(&sup);
    pp_summary_free(&cur);
    pp_summary_free(&base);
    return status;
}

/* Does the process of trace t match --process PATTERN: its pid, its command line, or the
 * basename of its executable? */
static bool process_matches(const struct pp_trace *t, const char *pattern)
{
    const struct pp_trace_process *p = &t->process;
    char pid[16], command[1024] = "";
    snprintf(pid, sizeof pid, "%" PRIu32, p->pid);
    size_t used = 0;
    for (uint32_t i = 0; i < p->argc && used + 1 < sizeof command; i++)
        used += (size_t)snprintf(command + used, sizeof command - used, "%s%s", i ? " " : "",
                                 p->argv[i]);
    return strcmp(pattern, pid) == 0 || pp_glob_match(pattern, command) ||
           (p->exe && (pp_glob_match(pattern, p->exe) ||
                       pp_glob_match(pattern, pp_basename(p->exe)))) ||
           (p->argc && pp_glob_match(pattern, pp_basename(p->argv[0])));
}

/* Keep the traces whose process matches pattern; returns how many are left. */
static size_t select_processes(const struct pp_trace **traces, size_t n, const char *pattern)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (process_matches(traces[i], pattern))
            traces[kept++] = traces[i];
        else
            pp_trace_free((struct pp_trace *)traces[i]);
    }
    return kept;
}

/* 1 when the user started p: no traced process started it (not a descendant or forked child),
 * or it is a later image of such a process (same pid: a wrapper that ended in exec "$@"). */
static int user_started(const struct pp_trace **traces, size_t n,
                        const struct pp_trace_process *p)
{
    const uint32_t started = PP_PROC_F_DESCENDANT | PP_PROC_F_FORKED_CHILD;
    if (!(p->flags & started))
        return 1;
    for (size_t i = 0; i < n; i++)
        if (traces[i]->process.pid == p->pid && !(traces[i]->process.flags & started))
            return 1;
    return 0;
}

/* x before y in the report: what the user started first, and of its images the last (the
 * program a wrapper stood for); then the others by start time (a shell glob puts
 * trace.<pid>.bin before trace.bin). */
static int process_before(const struct pp_trace_process *x, int x_user,
                          const struct pp_trace_process *y, int y_user)
{
    if (x_user != y_user)
        return x_user;
    if (x_user && x->pid == y->pid)
        return x->start_realtime_ns > y->start_realtime_ns;
    return x->start_realtime_ns < y->start_realtime_ns;
}

/* Sorts traces in report order (an insertion sort: a run has a few processes, not millions,
 * and whether the user started one depends on the others, so that is decided first). Returns
 * 0, or -1 when out of memory. */
static int order_processes(const struct pp_trace **traces, size_t n)
{
    int *user = malloc(n * sizeof *user + 1);
    if (!user)
        return -1;
    for (size_t i = 0; i < n; i++)
        user[i] = user_started(traces, n, &traces[i]->process);
    for (size_t i = 1; i < n; i++) {
        const struct pp_trace *t = traces[i];
        int t_user = user[i];
        size_t j = i;
        while (j > 0 && process_before(&t->process, t_user, &traces[j - 1]->process,
                                       user[j - 1])) {
            traces[j] = traces[j - 1];
            user[j] = user[j - 1];
            j--;
        }
        traces[j] = t;
        user[j] = t_user;
    }
    free(user);
    return 0;
}

/* A --wrappers pattern that skipped nothing is most likely a typo or a name the report does
 * not print: say so instead of silently changing nothing. */
static void warn_unmatched_wrappers(const struct options *o, const struct pp_report *report)
{
    for (size_t i = 0; i < o->nwrappers; i++)
        if (!report->pattern_matched[i])
            fprintf(stderr, "poolprobe-report: warning: --wrappers '%s' matched no frame\n",
                    o->wrappers[i]);
}

/* The HTML page: the report by site, and the same traces by call stack for the flame graph.
 * Returns PP_EXIT_OK or PP_EXIT_TROUBLE (after printing the error). */
static enum pp_exit write_html(const struct options *o, const struct pp_report *report,
                               const struct pp_trace **traces, size_t ntraces,
                               struct pp_symbolizer *sym, const char *gate_json,
                               char *const *paths)
{
    struct pp_report stacks = {0};
    struct pp_series series = {0};
    struct pp_group_options by_stack = o->group;
    char err[512], title[512];
    enum pp_exit status = PP_EXIT_TROUBLE;

    by_stack.group_by = PP_GROUP_BY_STACK;
    if (pp_report_build(&stacks, traces, ntraces, sym, &by_stack, err, sizeof err)) {
        fprintf(stderr, "poolprobe-report: error: %s\n", err);
        goto done;
    }
    const struct pp_trace_process *p = &traces[0]->process;
    const char *program = p->argc ? pp_basename(p->argv[0]) : p->exe ? pp_basename(p->exe) : paths[0];
    if (ntraces > 1)
        snprintf(title, sizeof title, "%s and %zu more traces", program, ntraces - 1);
    else
        snprintf(title, sizeof title, "%s", program);
    /* Over time: the trace with the longest series (a parent, usually). */
    for (size_t i = 0; i < ntraces; i++) {
        struct pp_series s;
        if (pp_series_load(&s, paths[i], traces[i], sym, &o->group, err, sizeof err)) {
            fprintf(stderr, "poolprobe-report: error: %s: %s\n", paths[i], err);
            goto done;
        }
        if (s.npoints > series.npoints) {
            pp_series_free(&series);
            series = s;
        } else {
            pp_series_free(&s);
        }
    }
    struct pp_html_input in = {.report = report, .stacks = &stacks, .gate_json = gate_json,
                               .title = title, .series = &series};
    if (pp_report_html(stdout, &in, err, sizeof err)) {
        fprintf(stderr, "poolprobe-report: error: %s\n", err);
        goto done;
    }
    status = PP_EXIT_OK;
done:
    pp_series_free(&series);
    pp_report_free(&stacks);
    return status;
}

int main(int argc, char **argv)
{
    enum pp_exit status = PP_EXIT_TROUBLE;
    struct options opt = {.format = FORMAT_TEXT,
                          .group = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true}};
    const struct pp_trace **traces = NULL;
    size_t ntraces = 0;
    char **trace_paths = NULL; /* the file of each of traces[] */
    size_t npaths = 0;
    struct pp_symbolizer *sym = NULL;
    struct pp_report report = {0};
    char *gate_json = NULL; /* --format html --baseline: the gate's JSON for the page */
    char err[512];
    int first;

    pp_thresholds_default(&opt.thresholds);
    pp_gate_thresholds_default(&opt.gate);
    if (parse_options(argc, argv, &opt, &first))
        goto cleanup;
    if (opt.format == FORMAT_FOLDED || opt.format == FORMAT_PPROF)
        opt.group.group_by = PP_GROUP_BY_STACK; /* a flame graph needs each stack whole */
    if (opt.list_thresholds) {
        list_thresholds(stdout, &opt.thresholds);
        list_gate_thresholds(stdout, &opt.gate);
        status = PP_EXIT_OK;
        goto cleanup;
    }
    if (opt.help || opt.version) {
        if (opt.help)
            usage(stdout);
        else
            printf("poolprobe-report %s (reads trace format %d.x, up to %d.%d; writes report "
                   "format %d)\n",
                   PP_VERSION, PP_TRACE_MAJOR, PP_TRACE_MAJOR, PP_TRACE_MINOR,
                   PP_REPORT_JSON_VERSION);
        status = PP_EXIT_OK;
        goto cleanup;
    }

    traces = calloc((size_t)(argc - first), sizeof *traces);
    trace_paths = calloc((size_t)(argc - first), sizeof *trace_paths);
    if (!traces || !trace_paths) {
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto cleanup;
    }
    if (check_trace_files(argv + first, (size_t)(argc - first)))
        goto cleanup;
    pp_progress_start();
    for (int i = first; i < argc; i++) {
        pp_progress_phase("reading trace %d of %d (%s)", i - first + 1, argc - first, argv[i]);
        struct pp_trace *t = pp_trace_read_file(argv[i], err, sizeof err);
        if (!t) {
            pp_progress_stop();
            fprintf(stderr, "poolprobe-report: error: %s: %s\n", argv[i], err);
            goto cleanup;
        }
        traces[ntraces++] = t;
    }
    /* The file of each trace kept (the HTML report reads its time series again). */
    for (size_t i = 0; i < ntraces; i++)
        if (!opt.process || process_matches(traces[i], opt.process))
            trace_paths[npaths++] = argv[first + (int)i];
    if (opt.process && (ntraces = select_processes(traces, ntraces, opt.process)) == 0) {
        pp_progress_stop();
        fprintf(stderr, "poolprobe-report: error: no process matches '%s'\n", opt.process);
        goto cleanup;
    }
    if (order_processes(traces, ntraces)) {
        pp_progress_stop();
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto cleanup;
    }
    pp_progress_phase("symbolizing and grouping the stacks of %zu trace%s", ntraces,
                      ntraces == 1 ? "" : "s");
    if (opt.tried && pp_tried_load(opt.tried, err, sizeof err)) {
        pp_progress_stop();
        fprintf(stderr, "poolprobe-report: error: %s: %s\n", opt.tried, err);
        goto cleanup;
    }
    sym = pp_symbolizer_new(stderr);
    if (!sym || pp_report_build(&report, traces, ntraces, sym, &opt.group, err, sizeof err)) {
        pp_progress_stop();
        fprintf(stderr, "poolprobe-report: error: %s\n", sym ? err : "out of memory");
        goto cleanup;
    }
    pp_progress_phase("judging %zu sites", report.nsites);
    report.list_runtime = opt.all;
    int judged = pp_report_judge(&report, &opt.thresholds);
    pp_progress_stop();
    warn_unmatched_wrappers(&opt, &report);
    if (judged) {
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto cleanup;
    }
    pp_report_text_set_width(text_width(&opt));
    if (current_ops(&opt, &report, &report.ops))
        goto cleanup;
    if (opt.baseline) {
        char source[512];
        if (ntraces > 1)
            snprintf(source, sizeof source, "%s and %zu more", argv[first], ntraces - 1);
        else
            snprintf(source, sizeof source, "%s", argv[first]);
        status = run_gate(&opt, &report, source, &gate_json);
        if (status == PP_EXIT_TROUBLE)
            goto cleanup;
    }
    /* After the gate has read the baseline, so that one file can be compared and updated. */
    if (opt.write_baseline && pp_baseline_write(opt.write_baseline, &report, err, sizeof err)) {
        fprintf(stderr, "poolprobe-report: error: %s: %s\n", opt.write_baseline, err);
        status = PP_EXIT_TROUBLE;
        goto cleanup;
    }
    if (opt.baseline && opt.format != FORMAT_HTML)
        goto cleanup;
    if (opt.format == FORMAT_HTML) {
        enum pp_exit html = write_html(&opt, &report, traces, ntraces, sym, gate_json,
                                       trace_paths);
        if (html != PP_EXIT_OK)
            status = html;
        else if (!opt.baseline)
            status = PP_EXIT_OK;
        goto cleanup;
    } else if (opt.write_baseline) {
        printf("wrote baseline %s: %zu sites, %llu allocations, %llu ops\n", opt.write_baseline,
               report.nsites, (unsigned long long)report.allocs,
               (unsigned long long)report.ops);
    } else if (opt.site_pattern) {
        size_t matched = pp_report_explain(stdout, &report, opt.site_pattern);
        if (matched == 0) {
            fprintf(stderr, "poolprobe-report: error: no site matches '%s'\n", opt.site_pattern);
            goto cleanup;
        }
    } else if (opt.format == FORMAT_FOLDED) {
        pp_report_folded(stdout, &report, opt.folded_value);
    } else if (opt.format == FORMAT_PPROF) {
        if (pp_report_pprof(stdout, &report, err, sizeof err)) {
            fprintf(stderr, "poolprobe-report: error: %s\n", err);
            goto cleanup;
        }
    } else if (opt.format == FORMAT_JSON) {
        if (pp_report_json(stdout, &report, opt.top)) {
            fputs("poolprobe-report: error: out of memory while writing JSON\n", stderr);
            goto cleanup;
        }
    } else {
        pp_report_text(stdout, &report, opt.top);
    }
    status = PP_EXIT_OK;

cleanup:
    /* A report that could not be written completely is a failure, like any other. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (status == PP_EXIT_OK)
            fprintf(stderr, "poolprobe-report: error: stdout: write error: %s\n",
                    strerror(errno));
        status = PP_EXIT_TROUBLE;
    }
    free(gate_json);
    pp_report_free(&report);
    pp_tried_free();
    pp_symbolizer_free(sym);
    for (size_t i = 0; i < ntraces; i++)
        pp_trace_free((struct pp_trace *)traces[i]);
    free(traces);
    free(trace_paths);
    for (size_t i = 0; i < opt.nwrappers; i++)
        free(opt.wrappers[i]);
    free(opt.wrappers);
    free(opt.suppress);
    return status;
}
