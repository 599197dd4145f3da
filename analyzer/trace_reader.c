/* trace_reader.c — parse and validate a trace file into struct pp_trace.
 *
 * Two passes over the bytes. The first walks the record frames only: it proves every record
 * fits in the file, finds END and verifies the checksum, so most damage is reported as
 * "truncated" or "checksum mismatch" before any payload is looked at. The second parses the
 * payloads of the records it knows, still fully bounds-checked, because a checksum can match
 * a file that was written wrong. Every failure ends in fail(): one message, no partial trace.
 */
#include "trace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hist.h"

/* Smallest encoded size of the repeated items, for validating counts before allocating. */
#define MODULE_MIN_BYTES (3 * 8 + 4 + 4)
#define STACK_MIN_BYTES 4
#define HIST_MIN_BYTES 3
#define STATS_MIN_BYTES (4 + 13 * 8 + 1 + 8 + 1 + PP_STATS_HIST_COUNT * HIST_MIN_BYTES)

struct parse {
    const unsigned char *base;
    size_t len;
    char *err;
    size_t errlen;
    const char *record; /* name of the record being parsed, for messages */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static size_t offset_of(const struct parse *p, const struct pp_cursor *c)
{
    return (size_t)(c->p - p->base);
}

static size_t remaining(const struct pp_cursor *c)
{
    return (size_t)(c->end - c->p);
}

/* The cursor ran out inside a record whose frame fit the file: the payload is inconsistent. */
static int fail_short(struct parse *p, const struct pp_cursor *c)
{
    return fail(p, "corrupt: %s record ends inside its contents at offset %zu", p->record,
                offset_of(p, c));
}

/* Check that count items of at least item_bytes each can still follow; call before allocating. */
static int check_count(struct parse *p, const struct pp_cursor *c, uint64_t count,
                       size_t item_bytes, const char *what)
{
    if (!c->ok)
        return fail_short(p, c);
    if (count > remaining(c) / item_bytes)
        return fail(p, "corrupt: %s record claims %" PRIu64 " %s at offset %zu, but only %zu bytes follow",
                    p->record, count, what, offset_of(p, c), remaining(c));
    return 0;
}

/* A "str": u32 length, then bytes. The copy gets a NUL after them (an embedded NUL only cuts a
 * displayed name short). */
static int get_blob(struct parse *p, struct pp_cursor *c, char **out, uint32_t *len)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, 1, "string bytes"))
        return -1;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return fail(p, "out of memory");
    pp_get_bytes(c, s, n);
    s[n] = '\0';
    *out = s;
    if (len)
        *len = n;
    return 0;
}

static int get_str(struct parse *p, struct pp_cursor *c, char **out)
{
    return get_blob(p, c, out, NULL);
}

const char *pp_trace_tag_name(uint32_t tag)
{
    switch (tag) {
    case PP_REC_PROCESS: return "PROCESS";
    case PP_REC_MODULES: return "MODULES";
    case PP_REC_STACKS: return "STACKS";
    case PP_REC_STATS: return "STATS";
    case PP_REC_TOTALS: return "TOTALS";
    case PP_REC_STACK_SAMPLES: return "STACK_SAMPLES";
    case PP_REC_END: return "END";
    }
    return NULL;
}

static int parse_process(struct parse *p, struct pp_cursor *c, struct pp_trace_process *proc)
{
    proc->pid = pp_get_u32(c);
    proc->ppid = pp_get_u32(c);
    proc->start_realtime_ns = pp_get_u64(c);
    proc->end_realtime_ns = pp_get_u64(c);
    proc->duration_ns = pp_get_u64(c);
    proc->threads_seen = pp_get_u32(c);
    proc->depth_limit = pp_get_u32(c);
    proc->sample_every = pp_get_u32(c);
    proc->flags = pp_get_u32(c);
    proc->untracked_frees = pp_get_u64(c);
    proc->ops = pp_get_u64(c);
    if (!c->ok)
        return fail_short(p, c);
    if (get_str(p, c, &proc->exe))
        return -1;
    uint32_t argc = pp_get_u32(c);
    if (check_count(p, c, argc, 4, "arguments"))
        return -1;
    proc->argv = calloc((size_t)argc + 1, sizeof *proc->argv);
    if (!proc->argv)
        return fail(p, "out of memory");
    for (uint32_t i = 0; i < argc; i++) {
        if (get_str(p, c, &proc->argv[i]))
            return -1;
        proc->argc = i + 1;
    }
    return 0;
}

static int parse_modules(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, MODULE_MIN_BYTES, "modules"))
        return -1;
    t->modules = calloc(n ? n : 1, sizeof *t->modules);
    if (!t->modules)
        return fail(p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct pp_trace_module *m = &t->modules[i];
        t->nmodules = i + 1;
        m->load_bias = pp_get_u64(c);
        m->lo = pp_get_u64(c);
        m->hi = pp_get_u64(c);
        if (get_str(p, c, &m->path))
            return -1;
        char *build_id;
        if (get_blob(p, c, &build_id, &m->build_id_len))
            return -1;
        m->build_id = (unsigned char *)build_id;
    }
    return 0;
}

static int parse_stacks(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, STACK_MIN_BYTES, "stacks"))
        return -1;
    t->stacks = calloc(n ? n : 1, sizeof *t->stacks);
    if (!t->stacks)
        return fail(p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct pp_trace_stack *s = &t->stacks[i];
        t->nstacks = i + 1;
        s->depth = pp_get_u16(c);
        s->flags = pp_get_u16(c);
        if (check_count(p, c, s->depth, 8, "frames"))
            return -1;
        s->ips = malloc(s->depth ? s->depth * sizeof *s->ips : 1);
        if (!s->ips)
            return fail(p, "out of memory");
        for (unsigned d = 0; d < s->depth; d++)
            s->ips[d] = pp_get_u64(c);
    }
    return 0;
}

static int parse_hist(struct parse *p, struct pp_cursor *c, struct pp_trace_hist *h)
{
    size_t at = offset_of(p, c);
    h->kind = pp_get_u8(c);
    if (h->kind == PP_HIST_LOGLIN)
        h->sub_bits = pp_get_u8(c);
    h->n = pp_get_u16(c);
    if (!c->ok)
        return fail_short(p, c);
    if (h->kind != PP_HIST_EXACT && h->kind != PP_HIST_LOGLIN)
        return fail(p, "corrupt: unknown histogram kind %u at offset %zu", h->kind, at);
    if (h->kind == PP_HIST_LOGLIN && h->sub_bits > PP_HIST_MAX_SUB_BITS)
        return fail(p, "corrupt: histogram at offset %zu has %u sub-bucket bits (at most %u)", at,
                    h->sub_bits, PP_HIST_MAX_SUB_BITS);
    size_t entry_bytes = h->kind == PP_HIST_EXACT ? 16 : 10;
    if (check_count(p, c, h->n, entry_bytes, "histogram entries"))
        return -1;
    h->entries = malloc(h->n ? h->n * sizeof *h->entries : 1);
    if (!h->entries)
        return fail(p, "out of memory");
    unsigned nbuckets = pp_hist_nbuckets(h->sub_bits);
    for (unsigned i = 0; i < h->n; i++) {
        struct pp_trace_hist_entry *e = &h->entries[i];
        e->key = h->kind == PP_HIST_EXACT ? pp_get_u64(c) : pp_get_u16(c);
        e->count = pp_get_u64(c);
        if (h->kind == PP_HIST_LOGLIN && e->key >= nbuckets)
            return fail(p, "corrupt: histogram at offset %zu has bucket %" PRIu64
                        " but %u sub-bucket bits allow only %u buckets",
                        at, e->key, h->sub_bits, nbuckets);
        if (i > 0 && e->key <= e[-1].key)
            return fail(p, "corrupt: histogram at offset %zu is not in ascending order", at);
    }
    return c->ok ? 0 : fail_short(p, c);
}

static int parse_one_stats(struct parse *p, struct pp_cursor *c, struct pp_trace_stats *s)
{
    s->stack_id = pp_get_u32(c);
    s->allocs = pp_get_u64(c);
    s->frees = pp_get_u64(c);
    s->alloc_bytes = pp_get_u64(c);
    s->min_size = pp_get_u64(c);
    s->max_size = pp_get_u64(c);
    s->live_bytes = pp_get_u64(c);
    s->peak_live = pp_get_u64(c);
    s->peak_live_bytes = pp_get_u64(c);
    s->cross_thread_frees = pp_get_u64(c);
    s->realloc_calls = pp_get_u64(c);
    s->realloc_grows = pp_get_u64(c);
    s->chains_freed = pp_get_u64(c);
    s->lifetime_ns_sum = pp_get_u64(c);
    s->nfree_callers = pp_get_u8(c);
    if (check_count(p, c, s->nfree_callers, 16, "free callers"))
        return -1;
    s->free_callers = calloc(s->nfree_callers ? s->nfree_callers : 1, sizeof *s->free_callers);
    if (!s->free_callers)
        return fail(p, "out of memory");
    for (unsigned i = 0; i < s->nfree_callers; i++) {
        s->free_callers[i].addr = pp_get_u64(c);
        s->free_callers[i].count = pp_get_u64(c);
    }
    s->other_free_callers = pp_get_u64(c);
    s->npool = pp_get_u8(c);
    if (check_count(p, c, s->npool, 12, "pool sizes"))
        return -1;
    s->pools = calloc(s->npool ? s->npool : 1, sizeof *s->pools);
    if (!s->pools)
        return fail(p, "out of memory");
    for (unsigned i = 0; i < s->npool; i++) {
        s->pools[i].capacity = pp_get_u32(c);
        s->pools[i].hits = pp_get_u64(c);
    }
    for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
        if (parse_hist(p, c, &s->hists[h]))
            return -1;
    return 0;
}

static int parse_stats(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, STATS_MIN_BYTES, "stats entries"))
        return -1;
    t->stats = calloc(n ? n : 1, sizeof *t->stats);
    if (!t->stats)
        return fail(p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        t->nstats = i + 1;
        if (parse_one_stats(p, c, &t->stats[i]))
            return -1;
    }
    return 0;
}

/* v1.1 STACK_THREADS: per-thread facts of the STATS entries (read after STATS; an entry for a
 * stack without STATS is ignored, as is the whole record before STATS). */
static int parse_stack_threads(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, 16, "STACK_THREADS entries"))
        return -1;
    /* Both lists ascend by stack id as the shim writes them: one walk. An entry out of order or
     * without a STATS entry is ignored. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && c->ok; i++) {
        uint32_t id = pp_get_u32(c);
        uint32_t threads = pp_get_u32(c);
        uint64_t peak = pp_get_u64(c);
        while (k < t->nstats && t->stats[k].stack_id < id)
            k++;
        if (k < t->nstats && t->stats[k].stack_id == id) {
            t->stats[k].threads = threads;
            t->stats[k].peak_live_per_thread = peak;
        }
    }
    return 0;
}

/* v1.1 POOLS: the program's own pools. */
static int parse_own_pools(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, 36, "pools"))
        return -1;
    t->own_pools = n ? calloc(n, sizeof *t->own_pools) : NULL;
    if (n && !t->own_pools)
        return fail(p, "out of memory");
    for (uint32_t i = 0; i < n && c->ok; i++) {
        struct pp_trace_own_pool *o = &t->own_pools[i];
        if (get_str(p, c, &o->name))
            return -1;
        t->nown_pools = i + 1;
        o->gets = pp_get_u64(c);
        o->hits = pp_get_u64(c);
        o->misses = pp_get_u64(c);
        o->puts = pp_get_u64(c);
    }
    return 0;
}

static int parse_totals(struct parse *p, struct pp_cursor *c, struct pp_trace_totals *tot)
{
    tot->allocs = pp_get_u64(c);
    tot->frees = pp_get_u64(c);
    tot->alloc_bytes = pp_get_u64(c);
    tot->peak_live_bytes = pp_get_u64(c);
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, 8, "call counters"))
        return -1;
    tot->calls = calloc(n ? n : 1, sizeof *tot->calls);
    if (!tot->calls)
        return fail(p, "out of memory");
    tot->ncalls = n;
    for (uint32_t i = 0; i < n; i++)
        tot->calls[i] = pp_get_u64(c);
    return c->ok ? 0 : fail_short(p, c);
}

/* First pass: check the header and every record frame, verify the END checksum. On success
 * *records_end is the offset of the END record's header. */
static int check_frames(struct parse *p, size_t *first_record, size_t *records_end,
                        struct pp_trace *t)
{
    const unsigned char *b = p->base;
    size_t len = p->len;
    size_t magic_have = len < PP_TRACE_MAGIC_LEN ? len : PP_TRACE_MAGIC_LEN;
    if (memcmp(b, PP_TRACE_MAGIC, magic_have) != 0 || len == 0)
        return fail(p, "bad magic (not a poolprobe trace)");
    if (len < PP_TRACE_HEADER_SIZE)
        return fail(p, "truncated: file header needs %d bytes, file has %zu",
                    PP_TRACE_HEADER_SIZE, len);
    struct pp_cursor c = {b + PP_TRACE_MAGIC_LEN, b + len, 1};
    t->major = pp_get_u16(&c);
    t->minor = pp_get_u16(&c);
    uint32_t header_size = pp_get_u32(&c);
    t->flags = pp_get_u64(&c);
    if (t->major > PP_TRACE_MAJOR)
        return fail(p, "trace format version %u.%u is newer than this poolprobe-report reads (%d.x)",
                    t->major, t->minor, PP_TRACE_MAJOR);
    if (t->major < 1)
        return fail(p, "trace format version %u.%u is not one this poolprobe-report reads (%d.x)",
                    t->major, t->minor, PP_TRACE_MAJOR);
    if (header_size < PP_TRACE_HEADER_SIZE)
        return fail(p, "corrupt: header size %" PRIu32 " is less than %d", header_size,
                    PP_TRACE_HEADER_SIZE);
    if (header_size > len)
        return fail(p, "truncated: file header needs %" PRIu32 " bytes, file has %zu",
                    header_size, len);
    *first_record = header_size;

    size_t off = header_size;
    for (;;) {
        size_t left = len - off;
        if (left == 0)
            return fail(p, "truncated: no END record (file ends at offset %zu)", off);
        if (left < PP_RECORD_HEADER_SIZE)
            return fail(p, "truncated: record header needs %d bytes at offset %zu, file has %zu",
                        PP_RECORD_HEADER_SIZE, off, left);
        struct pp_cursor rc = {b + off, b + len, 1};
        uint32_t tag = pp_get_u32(&rc);
        pp_get_u32(&rc); /* reserved */
        uint64_t plen = pp_get_u64(&rc);
        const char *name = pp_trace_tag_name(tag);
        char unknown[32];
        if (!name) {
            snprintf(unknown, sizeof unknown, "tag 0x%" PRIx32, tag);
            name = unknown;
        }
        left -= PP_RECORD_HEADER_SIZE;
        if (plen > left)
            return fail(p, "truncated: record %s needs %" PRIu64 " bytes at offset %zu, file has %zu",
                        name, plen, off + PP_RECORD_HEADER_SIZE, left);
        if (tag == PP_REC_END) {
            if (plen < 8)
                return fail(p, "corrupt: END record has %" PRIu64 " bytes, needs 8", plen);
            uint64_t want = pp_get_u64(&rc);
            uint64_t have = pp_fnv1a(PP_FNV_INIT, b, off);
            if (want != have)
                return fail(p, "checksum mismatch (END says %016" PRIx64 ", contents hash to %016" PRIx64 ")",
                            want, have);
            *records_end = off;
            return 0;
        }
        off += PP_RECORD_HEADER_SIZE + (size_t)plen;
    }
}

static int parse_stack_samples(struct parse *p, struct pp_cursor *c, struct pp_trace *t)
{
    t->site_mode = 1;
    t->stack_sample = pp_get_u32(c);
    t->site_depth = pp_get_u32(c);
    uint32_t n = pp_get_u32(c);
    if (check_count(p, c, n, 16, "stack samples"))
        return -1;
    t->samples = calloc(n ? n : 1, sizeof *t->samples);
    if (!t->samples)
        return fail(p, "out of memory");
    t->nsamples = n;
    for (uint32_t i = 0; i < n; i++) {
        t->samples[i].full_id = pp_get_u32(c);
        t->samples[i].site_id = pp_get_u32(c);
        t->samples[i].count = pp_get_u64(c);
    }
    return c->ok ? 0 : fail_short(p, c);
}

struct pp_trace *pp_trace_read_buffer(const void *buf, size_t len, char *err, size_t errlen)
{
    struct parse p = {buf, len, err, errlen, ""};
    struct pp_trace *t = calloc(1, sizeof *t);
    if (!t) {
        fail(&p, "out of memory");
        return NULL;
    }
    size_t off = 0, end = 0;
    if (check_frames(&p, &off, &end, t))
        goto bad;
    bool seen[PP_REC_TOTALS + 1] = {false};
    while (off < end) {
        struct pp_cursor c = {p.base + off, p.base + end, 1};
        uint32_t tag = pp_get_u32(&c);
        pp_get_u32(&c);
        uint64_t plen = pp_get_u64(&c); /* fits: check_frames proved it */
        size_t payload = off + PP_RECORD_HEADER_SIZE;
        off = payload + (size_t)plen;
        c.end = p.base + off;
        if (tag == PP_REC_POOLS && !t->own_pools) {
            p.record = "POOLS";
            if (parse_own_pools(&p, &c, t) || (!c.ok && fail_short(&p, &c)))
                goto bad;
            continue;
        }
        if (tag == PP_REC_STACK_THREADS && seen[PP_REC_STATS]) {
            p.record = "STACK_THREADS";
            if (parse_stack_threads(&p, &c, t) || (!c.ok && fail_short(&p, &c)))
                goto bad;
            continue;
        }
        if (tag == PP_REC_STACK_SAMPLES) {
            p.record = pp_trace_tag_name(tag);
            if (t->site_mode) {
                fail(&p, "corrupt: second %s record at offset %zu", p.record,
                     payload - PP_RECORD_HEADER_SIZE);
                goto bad;
            }
            if (parse_stack_samples(&p, &c, t))
                goto bad;
            continue;
        }
        if (tag < PP_REC_PROCESS || tag > PP_REC_TOTALS)
            continue; /* a newer minor's record */
        p.record = pp_trace_tag_name(tag);
        if (seen[tag]) {
            fail(&p, "corrupt: second %s record at offset %zu", p.record,
                 payload - PP_RECORD_HEADER_SIZE);
            goto bad;
        }
        seen[tag] = true;
        int rc = 0;
        switch (tag) {
        case PP_REC_PROCESS: rc = parse_process(&p, &c, &t->process); break;
        case PP_REC_MODULES: rc = parse_modules(&p, &c, t); break;
        case PP_REC_STACKS: rc = parse_stacks(&p, &c, t); break;
        case PP_REC_STATS: rc = parse_stats(&p, &c, t); break;
        case PP_REC_TOTALS: rc = parse_totals(&p, &c, &t->totals); break;
        }
        if (rc == 0 && !c.ok)
            rc = fail_short(&p, &c);
        if (rc)
            goto bad;
    }
    for (uint32_t tag = PP_REC_PROCESS; tag <= PP_REC_TOTALS; tag++) {
        if (!seen[tag]) {
            fail(&p, "corrupt: no %s record", pp_trace_tag_name(tag));
            goto bad;
        }
    }
    for (uint32_t i = 0; i < t->nsamples; i++)
        if (t->samples[i].full_id >= t->nstacks || t->samples[i].site_id >= t->nstacks) {
            p.record = "STACK_SAMPLES";
            fail(&p, "corrupt: sample %" PRIu32 " names stack id %" PRIu32 " (trace has %" PRIu32
                 " stacks)", i, t->samples[i].full_id >= t->nstacks ? t->samples[i].full_id
                                                                    : t->samples[i].site_id,
                 t->nstacks);
            goto bad;
        }
    /* Stack ids: in range and unique, so a site never counts one stack twice. */
    if (t->nstats) {
        unsigned char *used = calloc(t->nstacks / 8 + 1, 1);
        if (!used) {
            fail(&p, "out of memory");
            goto bad;
        }
        for (uint32_t i = 0; i < t->nstats; i++) {
            uint32_t id = t->stats[i].stack_id;
            const char *problem = id >= t->nstacks ? "unknown" : (used[id / 8] >> (id % 8)) & 1 ? "repeated" : NULL;
            if (problem) {
                fail(&p, "corrupt: STATS entry %" PRIu32 " names %s stack id %" PRIu32
                     " (trace has %" PRIu32 " stacks)", i, problem, id, t->nstacks);
                free(used);
                goto bad;
            }
            used[id / 8] |= (unsigned char)(1u << (id % 8));
        }
        free(used);
    }
    return t;
bad:
    pp_trace_free(t);
    return NULL;
}

struct pp_trace *pp_trace_read_file(const char *path, char *err, size_t errlen)
{
    struct parse p = {NULL, 0, err, errlen, ""};
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(&p, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size > PP_TRACE_MAX_BYTES) {
        fail(&p, "%llu MiB, over the %llu MiB limit for a trace",
             (unsigned long long)st.st_size >> 20, PP_TRACE_MAX_BYTES >> 20);
        fclose(f);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fail(&p, "out of memory");
            fclose(f);
            return NULL;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        if (len > PP_TRACE_MAX_BYTES) { /* a pipe or a device: no size to ask for */
            fail(&p, "over the %llu MiB limit for a trace", PP_TRACE_MAX_BYTES >> 20);
            fclose(f);
            free(buf);
            return NULL;
        }
        unsigned char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f)) {
        fail(&p, "cannot read: %s", strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    struct pp_trace *t = pp_trace_read_buffer(buf, len, err, errlen);
    free(buf);
    return t;
}

static void free_hist(struct pp_trace_hist *h)
{
    free(h->entries);
}

void pp_trace_free(struct pp_trace *t)
{
    if (!t)
        return;
    free(t->process.exe);
    if (t->process.argv)
        for (uint32_t i = 0; i < t->process.argc; i++)
            free(t->process.argv[i]);
    free(t->process.argv);
    for (uint32_t i = 0; i < t->nmodules; i++) {
        free(t->modules[i].path);
        free(t->modules[i].build_id);
    }
    free(t->modules);
    for (uint32_t i = 0; i < t->nown_pools; i++)
        free(t->own_pools[i].name);
    free(t->own_pools);
    for (uint32_t i = 0; i < t->nstacks; i++)
        free(t->stacks[i].ips);
    free(t->stacks);
    for (uint32_t i = 0; i < t->nstats; i++) {
        free(t->stats[i].free_callers);
        free(t->stats[i].pools);
        for (int h = 0; h < PP_STATS_HIST_COUNT; h++)
            free_hist(&t->stats[i].hists[h]);
    }
    free(t->stats);
    free(t->totals.calls);
    free(t->samples);
    free(t);
}
