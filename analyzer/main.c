/* main.c — the poolprobe-report command line: options, reading the traces, choosing the output,
 * and the exit code. Nothing else decides an exit code or prints an error.
 *
 * Exit codes follow diff(1): 0 success, 1 reserved for the coming regression gate
 * (--baseline), 2 trouble (usage, unreadable or corrupt trace, write error). Errors are one line:
 * "poolprobe-report: error: FILE: what is wrong".
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "report_explain.h"
#include "report_json.h"
#include "report_text.h"
#include "sites.h"
#include "symbolize.h"
#include "trace_format.h"
#include "trace_reader.h"

#define PP_REPORT_VERSION "0.1.0"

enum pp_exit {
    PP_EXIT_OK = 0,
    PP_EXIT_REGRESSION = 1, /* reserved: --baseline found a regression */
    PP_EXIT_TROUBLE = 2,
};

enum output_format { FORMAT_TEXT, FORMAT_JSON };

struct options {
    enum output_format format;
    struct pp_group_options group;
    size_t top;
    char **wrappers; /* owned copies of the --wrappers items */
    size_t nwrappers;
    struct pp_thresholds thresholds;
    const char *site_pattern; /* --site: explain the matching sites in full */
    bool help, version, list_thresholds;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: poolprobe-report [OPTION]... TRACE...\n"
            "Report allocations per site from poolprobe traces (several traces are merged,\n"
            "e.g. a parent process and its children).\n"
            "\n"
            "  -f, --format=FORMAT       text (default) or json\n"
            "  -g, --group-by=WHAT       site (default): by allocating function and line;\n"
            "                            stack: by the full call stack\n"
            "  -n, --top=N               show only the N sites with the most allocations\n"
            "  -s, --site=PATTERN        explain the sites whose key or function matches\n"
            "                            PATTERN ('*' matches any text) in full\n"
            "  -t, --threshold=NAME=VALUE  override a checklist threshold; repeatable\n"
            "      --list-thresholds     list the thresholds, their defaults and reasons\n"
            "  -w, --wrappers=LIST       comma-separated functions that only wrap malloc, to\n"
            "                            skip like malloc ('*' matches any text); repeatable\n"
            "      --no-default-wrappers do not skip the built-in wrappers (xmalloc, g_malloc,\n"
            "                            PyMem_Malloc, CRYPTO_malloc, std::allocator...)\n"
            "  -h, --help                show this help and exit\n"
            "  -V, --version             show the version and exit\n"
            "\n"
            "Exit status: 0 success, 2 trouble (bad usage, unreadable or corrupt trace).\n");
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

/* Fill o from argv; on a usage error print it and return -1. *first_trace is argv's index of
 * the first trace path. */
static int parse_options(int argc, char **argv, struct options *o, int *first_trace)
{
    enum { OPT_NO_DEFAULT_WRAPPERS = 256, OPT_LIST_THRESHOLDS };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"group-by", required_argument, NULL, 'g'},
        {"top", required_argument, NULL, 'n'},
        {"wrappers", required_argument, NULL, 'w'},
        {"no-default-wrappers", no_argument, NULL, OPT_NO_DEFAULT_WRAPPERS},
        {"site", required_argument, NULL, 's'},
        {"threshold", required_argument, NULL, 't'},
        {"list-thresholds", no_argument, NULL, OPT_LIST_THRESHOLDS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:g:n:w:s:t:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "text") == 0) {
                o->format = FORMAT_TEXT;
            } else if (strcmp(optarg, "json") == 0) {
                o->format = FORMAT_JSON;
            } else {
                usage_error("unknown format '%s' (text or json)", optarg);
                return -1;
            }
            break;
        case 'g':
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
    return 0;
}

static void list_thresholds(FILE *out, const struct pp_thresholds *t)
{
    fprintf(out, "Checklist thresholds (override with --threshold NAME=VALUE):\n\n");
    for (size_t i = 0; i < pp_threshold_count; i++) {
        const struct pp_threshold_info *info = &pp_threshold_table[i];
        double v = *(const double *)((const char *)t + info->offset);
        fprintf(out, "  %-20s %-12g %s (default %g)\n      %s\n", info->name, v, info->unit,
                info->default_value, info->why);
    }
}

int main(int argc, char **argv)
{
    enum pp_exit status = PP_EXIT_TROUBLE;
    struct options opt = {.format = FORMAT_TEXT,
                          .group = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true}};
    const struct pp_trace **traces = NULL;
    size_t ntraces = 0;
    struct pp_symbolizer *sym = NULL;
    struct pp_report report = {0};
    char err[512];
    int first;

    pp_thresholds_default(&opt.thresholds);
    if (parse_options(argc, argv, &opt, &first))
        goto cleanup;
    if (opt.list_thresholds) {
        list_thresholds(stdout, &opt.thresholds);
        status = PP_EXIT_OK;
        goto cleanup;
    }
    if (opt.help || opt.version) {
        if (opt.help)
            usage(stdout);
        else
            printf("poolprobe-report %s (reads trace format %d.x, up to %d.%d; writes report "
                   "format %d)\n",
                   PP_REPORT_VERSION, PP_TRACE_MAJOR, PP_TRACE_MAJOR, PP_TRACE_MINOR,
                   PP_REPORT_JSON_VERSION);
        status = PP_EXIT_OK;
        goto cleanup;
    }

    traces = calloc((size_t)(argc - first), sizeof *traces);
    if (!traces) {
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto cleanup;
    }
    for (int i = first; i < argc; i++) {
        struct pp_trace *t = pp_trace_read_file(argv[i], err, sizeof err);
        if (!t) {
            fprintf(stderr, "poolprobe-report: error: %s: %s\n", argv[i], err);
            goto cleanup;
        }
        traces[ntraces++] = t;
    }
    sym = pp_symbolizer_new(stderr);
    if (!sym || pp_report_build(&report, traces, ntraces, sym, &opt.group, err, sizeof err)) {
        fprintf(stderr, "poolprobe-report: error: %s\n", sym ? err : "out of memory");
        goto cleanup;
    }
    if (pp_report_judge(&report, &opt.thresholds)) {
        fputs("poolprobe-report: error: out of memory\n", stderr);
        goto cleanup;
    }
    if (opt.site_pattern) {
        size_t matched = pp_report_explain(stdout, &report, opt.site_pattern);
        if (matched == 0) {
            fprintf(stderr, "poolprobe-report: error: no site matches '%s'\n", opt.site_pattern);
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
    pp_report_free(&report);
    pp_symbolizer_free(sym);
    for (size_t i = 0; i < ntraces; i++)
        pp_trace_free((struct pp_trace *)traces[i]);
    free(traces);
    for (size_t i = 0; i < opt.nwrappers; i++)
        free(opt.wrappers[i]);
    free(opt.wrappers);
    return status;
}
