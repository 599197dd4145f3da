/* trace_builder.h — write synthetic v1 traces in memory with the trace_format.h encoders, for
 * the reader and report tests. tb_valid_trace() writes a complete, valid trace whose every
 * field has a distinct known value (the constants below). */
#ifndef POOLPROBE_TEST_TRACE_BUILDER_H
#define POOLPROBE_TEST_TRACE_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "trace_format.h"

struct tb {
    unsigned char *buf;
    size_t len, cap;
};

static inline unsigned char *tb_room(struct tb *t, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 256;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf)
            abort();
    }
    unsigned char *p = t->buf + t->len;
    t->len += n;
    return p;
}

static inline void tb_u8(struct tb *t, uint8_t v) { pp_put_u8(tb_room(t, 1), v); }
static inline void tb_u16(struct tb *t, uint16_t v) { pp_put_u16(tb_room(t, 2), v); }
static inline void tb_u32(struct tb *t, uint32_t v) { pp_put_u32(tb_room(t, 4), v); }
static inline void tb_u64(struct tb *t, uint64_t v) { pp_put_u64(tb_room(t, 8), v); }
static inline void tb_str(struct tb *t, const char *s)
{
    size_t n = strlen(s);
    tb_u32(t, (uint32_t)n);
    memcpy(tb_room(t, n), s, n);
}

static inline void tb_header(struct tb *t, uint16_t major, uint16_t minor)
{
    memcpy(tb_room(t, 8), PP_TRACE_MAGIC, 8);
    tb_u16(t, major);
    tb_u16(t, minor);
    tb_u32(t, PP_TRACE_HEADER_SIZE);
    tb_u64(t, 0);
    tb_u64(t, 0);
}

/* Start a record; returns the offset to pass to tb_end_record. */
static inline size_t tb_begin_record(struct tb *t, uint32_t tag)
{
    size_t at = t->len;
    tb_u32(t, tag);
    tb_u32(t, 0);
    tb_u64(t, 0); /* length, patched by tb_end_record */
    return at;
}

static inline void tb_end_record(struct tb *t, size_t at)
{
    pp_put_u64(t->buf + at + 8, (uint64_t)(t->len - at - PP_RECORD_HEADER_SIZE));
}

/* Append the END record with the checksum of everything before it. */
static inline void tb_end(struct tb *t)
{
    uint64_t h = pp_fnv1a(PP_FNV_INIT, t->buf, t->len);
    size_t at = tb_begin_record(t, PP_REC_END);
    tb_u64(t, h);
    tb_end_record(t, at);
}

/* Recompute the END checksum of a trace whose END record is the last 24 bytes. */
static inline void tb_resign(unsigned char *buf, size_t len)
{
    if (len < PP_TRACE_HEADER_SIZE + 24)
        return;
    pp_put_u64(buf + len - 8, pp_fnv1a(PP_FNV_INIT, buf, len - 24));
}

/* Known values of the valid trace. */
#define TB_PID 4242
#define TB_PPID 4000
#define TB_DURATION 2000000000ull
#define TB_APP_BIAS 0x555555554000ull
#define TB_APP_LO 0x555555554000ull
#define TB_APP_HI 0x555555560000ull
#define TB_LIB_BIAS 0x7f0000000000ull
#define TB_IP0 (TB_APP_LO + 0x1235)
#define TB_IP1 (TB_APP_LO + 0x2001)
#define TB_IP2 (TB_LIB_BIAS + 0x801)

static inline void tb_process(struct tb *t)
{
    size_t at = tb_begin_record(t, PP_REC_PROCESS);
    tb_u32(t, TB_PID);
    tb_u32(t, TB_PPID);
    tb_u64(t, 1000);              /* start_realtime_ns */
    tb_u64(t, 1000 + TB_DURATION); /* end_realtime_ns */
    tb_u64(t, TB_DURATION);
    tb_u32(t, 3);  /* threads_seen */
    tb_u32(t, 64); /* depth_limit */
    tb_u32(t, 1);  /* sample_every */
    tb_u32(t, PP_PROC_F_FORKED_CHILD);
    tb_u64(t, 7); /* untracked_frees */
    tb_u64(t, 0); /* ops */
    tb_str(t, "/nonexistent/bin/app");
    tb_u32(t, 2);
    tb_str(t, "app");
    tb_str(t, "--flag");
    tb_end_record(t, at);
}

static inline void tb_modules(struct tb *t)
{
    size_t at = tb_begin_record(t, PP_REC_MODULES);
    tb_u32(t, 2);
    tb_u64(t, TB_APP_BIAS);
    tb_u64(t, TB_APP_LO);
    tb_u64(t, TB_APP_HI);
    tb_str(t, "/nonexistent/bin/app");
    tb_str(t, "\x01\x02\x03\x04");
    tb_u64(t, TB_LIB_BIAS);
    tb_u64(t, TB_LIB_BIAS);
    tb_u64(t, TB_LIB_BIAS + 0x10000);
    tb_str(t, "/nonexistent/lib/libx.so");
    tb_str(t, "");
    tb_end_record(t, at);
}

static inline void tb_stacks(struct tb *t)
{
    size_t at = tb_begin_record(t, PP_REC_STACKS);
    tb_u32(t, 3);
    tb_u16(t, 2); /* stack 0: app, app */
    tb_u16(t, 0);
    tb_u64(t, TB_IP0);
    tb_u64(t, TB_IP1);
    tb_u16(t, 1); /* stack 1: lib */
    tb_u16(t, PP_STACK_F_TRUNCATED);
    tb_u64(t, TB_IP2);
    tb_u16(t, 0); /* stack 2: empty */
    tb_u16(t, 0);
    tb_end_record(t, at);
}

/* One STATS entry; values derive from base so entries differ. */
static inline void tb_stats_entry(struct tb *t, uint32_t stack_id, uint64_t base)
{
    tb_u32(t, stack_id);
    tb_u64(t, base + 100); /* allocs */
    tb_u64(t, base + 90);  /* frees */
    tb_u64(t, (base + 100) * 48); /* alloc_bytes */
    tb_u64(t, 48);         /* min_size */
    tb_u64(t, 48);         /* max_size */
    tb_u64(t, 480);        /* live_bytes */
    tb_u64(t, base + 12);  /* peak_live */
    tb_u64(t, (base + 12) * 48);
    tb_u64(t, base + 5);   /* cross_thread_frees */
    tb_u64(t, base + 4);   /* realloc_calls */
    tb_u64(t, base + 3);   /* realloc_grows */
    tb_u64(t, base + 2);   /* chains_freed */
    tb_u64(t, base + 999); /* lifetime_ns_sum */
    tb_u8(t, 2);           /* free callers */
    tb_u64(t, TB_IP0);
    tb_u64(t, base + 80);
    tb_u64(t, TB_IP2);
    tb_u64(t, 9);
    tb_u64(t, 1);          /* other_free_callers */
    tb_u8(t, 2);           /* pool sims */
    tb_u32(t, 4);
    tb_u64(t, base + 50);
    tb_u32(t, 16);
    tb_u64(t, base + 70);
    /* size: EXACT, one value */
    tb_u8(t, PP_HIST_EXACT);
    tb_u16(t, 1);
    tb_u64(t, 48);
    tb_u64(t, base + 100);
    /* lifetime_ns: LOGLIN sub_bits 1, two buckets */
    tb_u8(t, PP_HIST_LOGLIN);
    tb_u8(t, PP_LIFETIME_NS_SUB_BITS);
    tb_u16(t, 2);
    tb_u16(t, 20);
    tb_u64(t, base + 60);
    tb_u16(t, 30);
    tb_u64(t, 30);
    /* lifetime_allocs: empty */
    tb_u8(t, PP_HIST_EXACT);
    tb_u16(t, 0);
    /* chain_final_size: LOGLIN sub_bits 2 */
    tb_u8(t, PP_HIST_LOGLIN);
    tb_u8(t, PP_SIZE_SUB_BITS);
    tb_u16(t, 1);
    tb_u16(t, 40);
    tb_u64(t, base + 2);
}

static inline void tb_stats(struct tb *t)
{
    size_t at = tb_begin_record(t, PP_REC_STATS);
    tb_u32(t, 2);
    tb_stats_entry(t, 0, 0);
    tb_stats_entry(t, 2, 1000);
    tb_end_record(t, at);
}

static inline void tb_totals(struct tb *t)
{
    size_t at = tb_begin_record(t, PP_REC_TOTALS);
    tb_u64(t, 1200); /* allocs: stats sum to 100 + 1100 */
    tb_u64(t, 1180);
    tb_u64(t, 1200 * 48);
    tb_u64(t, 4096);
    tb_u32(t, PP_CALL_COUNT);
    for (int i = 0; i < PP_CALL_COUNT; i++)
        tb_u64(t, (uint64_t)i * 11);
    tb_end_record(t, at);
}

/* A complete valid trace. Free t->buf when done. */
static inline void tb_valid_trace(struct tb *t)
{
    tb_header(t, PP_TRACE_MAJOR, PP_TRACE_MINOR);
    tb_process(t);
    tb_modules(t);
    tb_stacks(t);
    tb_stats(t);
    tb_totals(t);
    tb_end(t);
}

#endif
