/* fuzz_trace.c — libFuzzer target for the trace reader and everything that reads its output.
 *
 * Each input is read twice: as it is (exercising the checks before the checksum, which reject
 * almost every mutation) and with its END checksum recomputed (tests/unit/trace_builder.h's
 * tb_resign), so mutations reach the record parsers. Whatever parses is then grouped into
 * sites, judged by the checklist and written as JSON, so odd but well-formed traces exercise
 * the analyzer too. Symbolization is pointed at no real file (modules in fuzzed traces name
 * whatever paths they like; libdwfl reports them missing).
 *
 * Run by `make fuzz` (FUZZ_SECONDS, default 60) over a corpus seeded from real traces; a crash
 * found becomes a file in tests/fuzz/crashes/, replayed by tests/t_fuzz_regressions.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "report_json.h"
#include "sites.h"
#include "symbolize.h"
#include "trace_builder.h"
#include "trace_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;
static struct pp_symbolizer *sym;

static void analyze(const struct pp_trace *trace)
{
    struct pp_group_options group = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_report report = {0};
    struct pp_thresholds t;
    char err[256];
    pp_thresholds_default(&t);
    const struct pp_trace *traces[1] = {trace};
    if (pp_report_build(&report, traces, 1, sym, &group, err, sizeof err) == 0 &&
        pp_report_judge(&report, &t) == 0)
        pp_report_json(sink, &report, 0);
    pp_report_free(&report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!sink) {
        sink = fopen("/dev/null", "w");
        sym = pp_symbolizer_new(sink);
        if (!sink || !sym)
            abort();
    }
    struct pp_trace *trace = pp_trace_read_buffer(data, size, err, sizeof err);
    if (trace) {
        analyze(trace);
        pp_trace_free(trace);
    }
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    tb_resign(copy, size);
    trace = pp_trace_read_buffer(copy, size, err, sizeof err);
    if (trace) {
        analyze(trace);
        pp_trace_free(trace);
    }
    free(copy);
    return 0;
}
