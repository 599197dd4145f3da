/* test_reader.c — the trace reader on synthetic traces: every field round-trips; every
 * truncation and every single-bit flip (raw, and re-signed so the payload parser sees it) fails
 * cleanly or succeeds, never crashes (this runs under ASan/UBSan); versions, magic, unknown
 * records, bad counts, bad stack ids and bad bucket indexes are handled as documented.
 * Re-signed flips that parse are also pushed through grouping and both report formats. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "report_json.h"
#include "report_text.h"
#include "sites.h"
#include "symbolize.h"
#include "trace_builder.h"
#include "trace_reader.h"

static char err[512];

static struct pp_trace *read_buf(const unsigned char *buf, size_t len)
{
    err[0] = '\0';
    return pp_trace_read_buffer(buf, len, err, sizeof err);
}

static void test_round_trip(void)
{
    struct tb t = {0};
    tb_valid_trace(&t);
    struct pp_trace *tr = read_buf(t.buf, t.len);
    CHECK(tr != NULL, "valid trace reads (%s)", err);
    if (!tr) {
        free(t.buf);
        return;
    }
    CHECK(tr->major == PP_TRACE_MAJOR && tr->minor == PP_TRACE_MINOR, "version");
    const struct pp_trace_process *p = &tr->process;
    CHECK(p->pid == TB_PID && p->ppid == TB_PPID, "pid and ppid");
    CHECK(p->start_realtime_ns == 1000 && p->end_realtime_ns == 1000 + TB_DURATION &&
              p->duration_ns == TB_DURATION,
          "process times");
    CHECK(p->threads_seen == 3 && p->depth_limit == 64 && p->sample_every == 1 &&
              p->flags == PP_PROC_F_FORKED_CHILD && p->untracked_frees == 7 && p->ops == 0,
          "process counters and flags");
    CHECK(strcmp(p->exe, "/nonexistent/bin/app") == 0, "exe");
    CHECK(p->argc == 2 && strcmp(p->argv[0], "app") == 0 && strcmp(p->argv[1], "--flag") == 0,
          "argv");

    CHECK(tr->nmodules == 2, "two modules");
    const struct pp_trace_module *m = &tr->modules[0];
    CHECK(m->load_bias == TB_APP_BIAS && m->lo == TB_APP_LO && m->hi == TB_APP_HI &&
              strcmp(m->path, "/nonexistent/bin/app") == 0,
          "module 0 fields");
    CHECK(m->build_id_len == 4 && memcmp(m->build_id, "\x01\x02\x03\x04", 4) == 0,
          "module 0 build-id");
    CHECK(tr->modules[1].build_id_len == 0 && strcmp(tr->modules[1].path, "/nonexistent/lib/libx.so") == 0,
          "module 1 without build-id");

    CHECK(tr->nstacks == 3, "three stacks");
    CHECK(tr->stacks[0].depth == 2 && tr->stacks[0].ips[0] == TB_IP0 &&
              tr->stacks[0].ips[1] == TB_IP1 && tr->stacks[0].flags == 0,
          "stack 0");
    CHECK(tr->stacks[1].depth == 1 && tr->stacks[1].ips[0] == TB_IP2 &&
              tr->stacks[1].flags == PP_STACK_F_TRUNCATED,
          "stack 1 truncated flag");
    CHECK(tr->stacks[2].depth == 0, "stack 2 empty");

    CHECK(tr->nstats == 2, "two stats entries");
    for (uint32_t i = 0; i < tr->nstats && i < 2; i++) {
        const struct pp_trace_stats *s = &tr->stats[i];
        uint64_t base = i ? 1000 : 0;
        CHECK(s->stack_id == (i ? 2u : 0u), "stats %u: stack id", i);
        CHECK(s->allocs == base + 100 && s->frees == base + 90 &&
                  s->alloc_bytes == (base + 100) * 48 && s->min_size == 48 && s->max_size == 48 &&
                  s->live_bytes == 480,
              "stats %u: counts, bytes, sizes", i);
        CHECK(s->peak_live == base + 12 && s->peak_live_bytes == (base + 12) * 48 &&
                  s->cross_thread_frees == base + 5,
              "stats %u: peaks and cross-thread frees", i);
        CHECK(s->realloc_calls == base + 4 && s->realloc_grows == base + 3 &&
                  s->chains_freed == base + 2 && s->lifetime_ns_sum == base + 999,
              "stats %u: realloc fields and lifetime sum", i);
        CHECK(s->nfree_callers == 2 && s->free_callers[0].addr == TB_IP0 &&
                  s->free_callers[0].count == base + 80 && s->free_callers[1].addr == TB_IP2 &&
                  s->free_callers[1].count == 9 && s->other_free_callers == 1,
              "stats %u: free callers", i);
        CHECK(s->npool == 2 && s->pools[0].capacity == 4 && s->pools[0].hits == base + 50 &&
                  s->pools[1].capacity == 16 && s->pools[1].hits == base + 70,
              "stats %u: pool simulation", i);
        const struct pp_trace_hist *h = s->hists;
        CHECK(h[0].kind == PP_HIST_EXACT && h[0].n == 1 && h[0].entries[0].key == 48 &&
                  h[0].entries[0].count == base + 100,
              "stats %u: size histogram", i);
        CHECK(h[1].kind == PP_HIST_LOGLIN && h[1].sub_bits == 1 && h[1].n == 2 &&
                  h[1].entries[0].key == 20 && h[1].entries[0].count == base + 60 &&
                  h[1].entries[1].key == 30 && h[1].entries[1].count == 30,
              "stats %u: lifetime histogram", i);
        CHECK(h[2].kind == PP_HIST_EXACT && h[2].n == 0, "stats %u: empty histogram", i);
        CHECK(h[3].kind == PP_HIST_LOGLIN && h[3].sub_bits == 2 && h[3].n == 1 &&
                  h[3].entries[0].key == 40 && h[3].entries[0].count == base + 2,
              "stats %u: chain final size histogram", i);
    }
    CHECK(tr->totals.allocs == 1200 && tr->totals.frees == 1180 &&
              tr->totals.alloc_bytes == 1200 * 48 && tr->totals.peak_live_bytes == 4096,
          "totals");
    CHECK(tr->totals.ncalls == PP_CALL_COUNT && tr->totals.calls[PP_CALL_FREE] == PP_CALL_FREE * 11,
          "per-entry-point call counts");
    pp_trace_free(tr);

    /* Through a file as well. */
    char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/pp-test-reader.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    bool wrote = fd >= 0 && write(fd, t.buf, t.len) == (ssize_t)t.len;
    if (fd >= 0)
        close(fd);
    tr = wrote ? pp_trace_read_file(path, err, sizeof err) : NULL;
    CHECK(tr && tr->nstats == 2, "valid trace reads from a file");
    pp_trace_free(tr);
    if (fd >= 0)
        unlink(path);
    tr = pp_trace_read_file("/nonexistent/trace.bin", err, sizeof err);
    CHECK(!tr && strncmp(err, "cannot open:", 12) == 0, "missing file: \"%s\"", err);
    tr = pp_trace_read_file("/", err, sizeof err);
    CHECK(!tr && strncmp(err, "cannot read:", 12) == 0, "a directory: \"%s\"", err);
    free(t.buf);
}

static void test_truncations(void)
{
    struct tb t = {0};
    tb_valid_trace(&t);
    size_t bad = 0, first_bad = 0;
    for (size_t len = 0; len < t.len; len++) {
        unsigned char *copy = malloc(len ? len : 1); /* exact size: ASan catches overreads */
        memcpy(copy, t.buf, len);
        struct pp_trace *tr = read_buf(copy, len);
        bool ok = !tr && err[0] != '\0' &&
                  (len == 0 ? strstr(err, "bad magic") != NULL
                            : strncmp(err, "truncated", 9) == 0);
        if (!ok && bad++ == 0)
            first_bad = len;
        pp_trace_free(tr);
        free(copy);
    }
    CHECK(bad == 0, "all %zu truncations fail with \"truncated...\" (first bad length %zu)", t.len,
          first_bad);
    struct pp_trace *tr = read_buf(t.buf, t.len - 1);
    printf("#   e.g. one byte short: %s\n", err);
    pp_trace_free(tr);
    free(t.buf);
}

/* Run a parsed trace through grouping and both outputs, to /dev/null. */
static void exercise_report(const struct pp_trace *tr, FILE *sink)
{
    struct pp_symbolizer *sym = pp_symbolizer_new(NULL);
    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_report r;
    const struct pp_trace *one[1] = {tr};
    if (pp_report_build(&r, one, 1, sym, &opt, err, sizeof err) == 0) {
        pp_report_text(sink, &r, 0);
        pp_report_json(sink, &r, 0);
        pp_report_free(&r);
    }
    opt.group_by = PP_GROUP_BY_STACK;
    if (pp_report_build(&r, one, 1, sym, &opt, err, sizeof err) == 0) {
        pp_report_text(sink, &r, 0);
        pp_report_free(&r);
    }
    pp_symbolizer_free(sym);
}

static void test_bit_flips(void)
{
    struct tb t = {0};
    tb_valid_trace(&t);
    FILE *sink = fopen("/dev/null", "w");
    size_t raw_ok = 0, raw_fail = 0, raw_silent = 0, raw_ok_outside_reserved = 0;
    size_t signed_ok = 0, signed_fail = 0, signed_silent = 0;
    unsigned char *copy = malloc(t.len);
    for (size_t bit = 0; bit < t.len * 8; bit++) {
        memcpy(copy, t.buf, t.len);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        struct pp_trace *tr = read_buf(copy, t.len);
        tr ? raw_ok++ : err[0] ? raw_fail++ : raw_silent++;
        if (tr && (bit / 8 < t.len - 20 || bit / 8 >= t.len - 16))
            raw_ok_outside_reserved++;
        pp_trace_free(tr);

        tb_resign(copy, t.len);
        tr = read_buf(copy, t.len);
        tr ? signed_ok++ : err[0] ? signed_fail++ : signed_silent++;
        if (tr)
            exercise_report(tr, sink);
        pp_trace_free(tr);
    }
    free(copy);
    fclose(sink);
    CHECK(raw_silent == 0, "%zu single-bit flips: %zu refused with a message, %zu accepted",
          t.len * 8, raw_fail, raw_ok);
    /* The checksum covers every byte before the END record's header, and the END header's tag
     * and length are checked: the only bits a raw flip can change unnoticed are the 32 of the
     * END header's reserved u32 (offset len - 20), which the reader ignores. */
    CHECK_U64(raw_ok, 32, "raw flips accepted: exactly the END header's 32 reserved bits");
    CHECK_U64(raw_ok_outside_reserved, 0, "no accepted raw flip outside those 4 bytes");
    CHECK(signed_silent == 0,
          "re-signed flips: %zu refused with a message, %zu accepted and reported", signed_fail,
          signed_ok);
    free(t.buf);
}

static void test_versions_and_magic(void)
{
    struct tb t = {0};
    tb_header(&t, 2, 3);
    tb_process(&t);
    tb_end(&t);
    struct pp_trace *tr = read_buf(t.buf, t.len);
    CHECK(!tr && strstr(err, "2.3") && strstr(err, "1.x") && strstr(err, "newer"),
          "newer major refused naming both versions: \"%s\"", err);
    free(t.buf);

    t = (struct tb){0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR + 5); /* a newer minor is fine */
    tb_process(&t);
    tb_modules(&t);
    tb_stacks(&t);
    tb_stats(&t);
    tb_totals(&t);
    tb_end(&t);
    tr = read_buf(t.buf, t.len);
    CHECK(tr && tr->minor == PP_TRACE_MINOR + 5, "newer minor accepted (%s)", err);
    pp_trace_free(tr);
    free(t.buf);

    static const unsigned char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                       "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    tr = read_buf(elf, sizeof elf);
    CHECK(!tr && strcmp(err, "bad magic (not a poolprobe trace)") == 0, "bad magic: \"%s\"", err);
    tr = read_buf((const unsigned char *)"PPTRACE", 7);
    CHECK(!tr && strncmp(err, "truncated", 9) == 0, "magic prefix only: \"%s\"", err);
}

/* A valid trace with something inserted before TOTALS by extra(). */
static struct tb trace_with(void (*extra)(struct tb *))
{
    struct tb t = {0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    tb_process(&t);
    tb_modules(&t);
    tb_stacks(&t);
    tb_stats(&t);
    extra(&t);
    tb_totals(&t);
    tb_end(&t);
    return t;
}

static void unknown_record(struct tb *t)
{
    size_t at = tb_begin_record(t, 0x77);
    tb_u64(t, 0xdeadbeef);
    tb_str(t, "future data");
    tb_end_record(t, at);
}

static void second_stats(struct tb *t)
{
    tb_stats(t);
}

static void nothing(struct tb *t)
{
    (void)t;
}

static void test_records(void)
{
    struct tb t = trace_with(unknown_record);
    struct pp_trace *tr = read_buf(t.buf, t.len);
    CHECK(tr && tr->nstats == 2 && tr->totals.allocs == 1200, "unknown record tag skipped (%s)",
          err);
    pp_trace_free(tr);
    free(t.buf);

    t = trace_with(second_stats);
    tr = read_buf(t.buf, t.len);
    CHECK(!tr && strstr(err, "second STATS"), "duplicate record refused: \"%s\"", err);
    free(t.buf);

    /* Trailing bytes inside a known record: a newer minor's fields, ignored. */
    t = (struct tb){0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    size_t at = t.len;
    tb_process(&t);
    tb_u64(&t, 12345);
    tb_end_record(&t, at);
    tb_modules(&t);
    tb_stacks(&t);
    tb_stats(&t);
    tb_totals(&t);
    tb_end(&t);
    tr = read_buf(t.buf, t.len);
    CHECK(tr && tr->process.argc == 2, "trailing bytes in a known record ignored (%s)", err);
    pp_trace_free(tr);
    free(t.buf);

    /* No END record. */
    t = (struct tb){0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    tb_process(&t);
    tr = read_buf(t.buf, t.len);
    CHECK(!tr && strncmp(err, "truncated: no END", 17) == 0, "missing END: \"%s\"", err);
    free(t.buf);

    /* Missing a required record. */
    t = (struct tb){0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    tb_process(&t);
    tb_end(&t);
    tr = read_buf(t.buf, t.len);
    CHECK(!tr && strstr(err, "no MODULES record"), "missing record: \"%s\"", err);
    free(t.buf);

    /* Checksum. */
    t = trace_with(nothing);
    t.buf[PP_TRACE_HEADER_SIZE + 20] ^= 1;
    tr = read_buf(t.buf, t.len);
    CHECK(!tr && strncmp(err, "checksum mismatch", 17) == 0, "checksum: \"%s\"", err);
    free(t.buf);
}

/* Patch the valid trace at the offset of a known field, re-sign, and expect failure. */
static void expect_corrupt(const char *what, size_t offset, const unsigned char *bytes, size_t n,
                           const char *needle)
{
    struct tb t = {0};
    tb_valid_trace(&t);
    memcpy(t.buf + offset, bytes, n);
    tb_resign(t.buf, t.len);
    struct pp_trace *tr = read_buf(t.buf, t.len);
    CHECK(!tr && strstr(err, needle), "%s: \"%s\"", what, err);
    pp_trace_free(tr);
    free(t.buf);
}

/* Offset of the payload of the first record with this tag. */
static size_t payload_of(uint32_t tag)
{
    struct tb t = {0};
    tb_valid_trace(&t);
    size_t off = PP_TRACE_HEADER_SIZE;
    while (off + PP_RECORD_HEADER_SIZE <= t.len) {
        struct pp_cursor c = {t.buf + off, t.buf + t.len, 1};
        uint32_t got = pp_get_u32(&c);
        pp_get_u32(&c);
        uint64_t len = pp_get_u64(&c);
        if (got == tag)
            break;
        off += PP_RECORD_HEADER_SIZE + len;
    }
    free(t.buf);
    return off + PP_RECORD_HEADER_SIZE;
}

/* A valid trace whose record tag carries pad zero bytes after its items (what a newer minor
 * may add, and the reader skips). */
static struct tb padded_trace(uint32_t tag, size_t pad)
{
    static void (*const records[])(struct tb *) = {tb_process, tb_modules, tb_stacks, tb_stats,
                                                   tb_totals};
    struct tb t = {0};
    tb_header(&t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    for (uint32_t r = PP_REC_PROCESS; r <= PP_REC_TOTALS; r++) {
        size_t at = t.len;
        records[r - PP_REC_PROCESS](&t);
        if (r == tag) {
            memset(tb_room(&t, pad), 0, pad);
            tb_end_record(&t, at);
        }
    }
    tb_end(&t);
    return t;
}

/* The counts of MODULES, STACKS and STATS are checked against the bytes left before anything
 * is allocated, using each item's smallest encoding (trace_reader.c: 32, 4 and 130 bytes). The
 * bound must be exact: one item more than the bytes can hold is refused up front ("claims"),
 * and exactly as many as they could hold is let through to the parser (which then finds the
 * items short). A smaller minimum would allocate for counts no file can hold; a larger one
 * would refuse valid files. Padding puts the bytes left one short of k items (where a minimum
 * one too small lets k through) and at exactly k items (where one too large refuses k). */
static void tight_count(uint32_t tag, size_t min_bytes, const char *what)
{
    struct tb plain = {0};
    tb_valid_trace(&plain);
    struct pp_cursor c = {plain.buf + payload_of(tag) - 8, plain.buf + plain.len, 1};
    size_t natural = (size_t)pp_get_u64(&c) - 4; /* bytes after the u32 count */
    free(plain.buf);
    size_t k = natural / min_bytes + 1;
    for (size_t left = k * min_bytes - 1; left <= k * min_bytes; left++) {
        for (int more = 0; more <= 1; more++) {
            struct tb t = padded_trace(tag, left - natural);
            uint32_t count = (uint32_t)(left / min_bytes) + (uint32_t)more;
            pp_put_u32(t.buf + payload_of(tag), count);
            tb_resign(t.buf, t.len);
            struct pp_trace *tr = read_buf(t.buf, t.len);
            char needle[64];
            snprintf(needle, sizeof needle, "claims %u %s", count, what);
            if (more)
                CHECK(!tr && strstr(err, needle), "%u %s in %zu bytes (%zu each): refused up "
                      "front: \"%s\"", count, what, left, min_bytes, err);
            else
                CHECK(!tr && !strstr(err, needle), "%u %s in %zu bytes (%zu each): past the "
                      "count check: \"%s\"", count, what, left, min_bytes, err);
            pp_trace_free(tr);
            free(t.buf);
        }
    }
}

static void test_bad_fields(void)
{
    tight_count(PP_REC_MODULES, 3 * 8 + 4 + 4, "modules");
    tight_count(PP_REC_STACKS, 4, "stacks");
    tight_count(PP_REC_STATS, 4 + 13 * 8 + 1 + 8 + 1 + 4 * 3, "stats entries");
    static const unsigned char huge[4] = {0xff, 0xff, 0xff, 0xff};
    size_t stats = payload_of(PP_REC_STATS);
    expect_corrupt("huge STATS count, no huge allocation", stats, huge, 4, "claims 4294967295");
    expect_corrupt("huge STACKS count", payload_of(PP_REC_STACKS), huge, 4, "claims");
    expect_corrupt("huge MODULES count", payload_of(PP_REC_MODULES), huge, 4, "claims");
    static const unsigned char id9[4] = {9, 0, 0, 0};
    expect_corrupt("stack id out of range", stats + 4, id9, 4, "unknown stack id 9");
    static const unsigned char id0[4] = {0, 0, 0, 0};
    /* The second entry starts after the first: find it by size of one entry. */
    struct tb one = {0};
    tb_stats_entry(&one, 0, 0);
    expect_corrupt("stack id repeated", stats + 4 + one.len, id0, 4, "repeated stack id 0");
    /* lifetime histogram's first bucket index: u8 kind, u8 sub_bits, u16 n, then u16 index */
    /* Entry: stack id 4, 13 u64 = 104, free callers 1 + 2 * 16, other 8, pools 1 + 2 * 12,
     * size histogram 1 + 2 + 16: the lifetime histogram starts 193 bytes in. */
    size_t lifetime_hist = stats + 4 + 4 + 104 + 33 + 8 + 25 + 19;
    static const unsigned char big_index[2] = {0xff, 0x7f};
    expect_corrupt("bucket index beyond what sub_bits allow", lifetime_hist + 4, big_index, 2,
                   "bucket 32767");
    static const unsigned char kind9[1] = {9};
    expect_corrupt("unknown histogram kind", lifetime_hist, kind9, 1, "kind 9");
    static const unsigned char sub40[1] = {40};
    expect_corrupt("absurd sub_bits", lifetime_hist + 1, sub40, 1, "sub-bucket bits");
    /* Keys must be strictly ascending: the lifetime histogram's second bucket (index 30, one
     * 10-byte entry after the first) made equal to the first (20), then smaller. A repeated key
     * would count one bucket twice in every percentile. */
    static const unsigned char same_key[2] = {20, 0}, lower_key[2] = {19, 0};
    expect_corrupt("a repeated histogram key", lifetime_hist + 4 + 10, same_key, 2,
                   "not in ascending order");
    expect_corrupt("a descending histogram key", lifetime_hist + 4 + 10, lower_key, 2,
                   "not in ascending order");
    static const unsigned char next_key[2] = {21, 0};
    struct tb ok = {0};
    tb_valid_trace(&ok);
    memcpy(ok.buf + lifetime_hist + 4 + 10, next_key, 2);
    tb_resign(ok.buf, ok.len);
    struct pp_trace *tr = read_buf(ok.buf, ok.len);
    CHECK(tr && tr->stats[0].hists[PP_STATS_HIST_LIFETIME_NS].entries[1].key == 21,
          "keys 20, 21 (adjacent, ascending) are accepted (%s)", err);
    pp_trace_free(tr);
    free(ok.buf);
    free(one.buf);
}

int main(void)
{
    test_round_trip();
    test_truncations();
    test_bit_flips();
    test_versions_and_magic();
    test_records();
    test_bad_fields();
    return check_summary();
}
