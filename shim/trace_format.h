/* trace_format.h — the poolprobe trace file: the contract between shim and analyzer.
 *
 * The shim (libpoolprobe.so) writes one trace per process; poolprobe-report reads it. This header
 * is the only shim header the analyzer includes. It defines the byte layout, field by field, and
 * small inline helpers to encode and decode it. The helpers never allocate and never call libc
 * beyond memcpy/memset, so the shim can use them inside the host process.
 *
 * Versioning: a reader accepts any file whose major version it knows and ignores record tags and
 * trailing record bytes it does not know (that is what a minor version bump may add). A change of
 * meaning or layout of an existing field needs a new major version. Old majors keep reading: each
 * has a golden trace under tests/golden/.
 *
 * All integers are little-endian and fixed width. A "str" is a u32 byte length followed by that
 * many bytes, no terminator. Addresses are absolute virtual addresses in the traced process.
 *
 * File header (PP_TRACE_HEADER_SIZE = 32 bytes):
 *
 *   offset size  field
 *   0      8     magic "PPTRACE\0"
 *   8      2     major version (PP_TRACE_MAJOR)
 *   10     2     minor version (PP_TRACE_MINOR)
 *   12     4     header size in bytes (32 for v1; a reader skips to this offset)
 *   16     8     flags: PP_TRACE_F_*
 *   24     8     reserved, zero
 *
 * Then a sequence of records, each:
 *
 *   0      4     tag (PP_REC_*)
 *   4      4     reserved, zero
 *   8      8     payload length in bytes
 *   16     n     payload
 *
 * The last record is PP_REC_END; its payload is the u64 FNV-1a hash of every byte of the file
 * before the END record's own header. A file without a valid END is truncated or corrupt.
 * Records appear in this order in v1.0: PROCESS, MODULES, STACKS, STATS, TOTALS, END; v1.1
 * writes STACK_THREADS after STATS, and STACK_SAMPLES (site mode) between STATS and TOTALS.
 *
 * PP_REC_PROCESS payload:
 *   u32 pid, u32 ppid
 *   u64 start_realtime_ns          CLOCK_REALTIME when the shim initialised
 *   u64 end_realtime_ns            CLOCK_REALTIME when this trace was written
 *   u64 duration_ns                CLOCK_MONOTONIC between the two
 *   u32 threads_seen               threads that called an allocation function
 *   u32 depth_limit                POOLPROBE_DEPTH in force
 *   u32 sample_every               1 = every call recorded (exact); N = 1-in-N sampling
 *   u32 flags                      PP_PROC_F_*
 *   u64 untracked_frees            frees/reallocs of pointers the shim did not see allocated
 *   u64 ops                        operations declared by poolprobe_ops() (0 = none declared)
 *   str exe                        /proc/self/exe at start
 *   u32 argc, then argc x str      command line
 *
 * PP_REC_MODULES payload: u32 count, then per module:
 *   u64 load_bias                  dlpi_addr: file vaddr + bias = runtime address
 *   u64 lo, u64 hi                 lowest and one-past-highest runtime address of PT_LOAD segments
 *   str path                       as the loader names it ("" for the main program is replaced
 *                                  by the exe path)
 *   str build_id                   raw bytes of NT_GNU_BUILD_ID, empty when absent
 * Modules unloaded by dlclose stay listed; a module loaded twice at different addresses is listed
 * twice.
 *
 * PP_REC_STACKS payload: u32 count, then per stack (its index is its stack id):
 *   u16 depth, u16 flags (PP_STACK_F_*)
 *   depth x u64 ip                 ip[0] is the return address in the function that called the
 *                                  allocator (the shim's own frames are already removed); every
 *                                  ip is a return address, so look up ip - 1.
 *
 * PP_REC_STATS payload: u32 count, then per stack that made at least one allocation:
 *   u32 stack_id
 *   u64 allocs                     blocks created here (malloc, calloc, realloc(NULL,n), aligned)
 *   u64 frees                      those blocks freed (free, realloc(p,0)), by any thread
 *   u64 alloc_bytes                sum of requested sizes at creation
 *   u64 min_size, u64 max_size     exact, over creations
 *   u64 live_bytes                 bytes of this stack's blocks still live (after reallocs)
 *   u64 peak_live                  most blocks from this stack live at one time
 *   u64 peak_live_bytes            most bytes from this stack live at one time
 *   u64 cross_thread_frees         frees by another thread than the allocating one
 *   u64 realloc_calls              reallocs of blocks created here (chains keep their origin)
 *   u64 realloc_grows              of those, how many asked for more bytes
 *   u64 chains_freed               blocks freed after at least one realloc
 *   u64 lifetime_ns_sum            sum of lifetimes of freed blocks, ns
 *   u8  nfree_callers, then n x (u64 addr, u64 count)
 *                                  most common return addresses of free() for these blocks
 *   u64 other_free_callers         frees from callers not in the list
 *   u8  npool, then n x (u32 capacity, u64 hits)
 *                                  what-if free list of that capacity: allocations it would
 *                                  have served (alloc pops if non-empty; free pushes if not full)
 *   hist size                      requested sizes at creation
 *   hist lifetime_ns               lifetimes of freed blocks
 *   hist lifetime_allocs           allocations by the allocating thread between alloc and free
 *                                  (0 = freed before that thread's next allocation)
 *   hist chain_final_size          final size of freed blocks that were realloc'd
 *
 *   A "hist" is: u8 kind, then
 *     kind PP_HIST_EXACT:   u16 n, n x (u64 value, u64 count)       values ascending
 *     kind PP_HIST_LOGLIN:  u8 sub_bits, u16 n, n x (u16 index, u64 count)  indexes ascending
 *   Log-linear buckets: see pp_hist_index(). Empty histograms are EXACT with n = 0.
 *
 * PP_REC_TOTALS payload:
 *   u64 allocs, u64 frees, u64 alloc_bytes, u64 peak_live_bytes (whole process)
 *   u32 ncalls, then ncalls x u64   calls per entry point, in enum pp_call order
 *
 * PP_REC_END payload: u64 fnv1a64 of the file up to (not including) this record's header.
 *
 * v1.1 adds records 6-11 (a v1.0 reader skips them). PP_REC_STACK_THREADS (7), after STATS:
 * what a per-thread pool needs per stack.
 *   u32 count, then per stack of the STATS record:
 *   u32 stack_id
 *   u32 threads                    threads that allocated here (distinct thread indexes modulo
 *                                  64: exact up to 64 threads)
 *   u64 peak_live_per_thread       most blocks from this stack live at once on one allocating
 *                                  thread (a block counts for the thread that allocated it, until
 *                                  freed by any thread); exact up to 8 threads per stack and
 *                                  lane, an upper bound beyond
 *
 * PP_REC_POOLS (6), v1.1: the program's own pools, counted through include/poolprobe.h's
 * markers (written only when some pool was marked).
 *   u32 count, then per pool: str name, u64 gets, u64 hits, u64 misses, u64 puts
 *
 * PP_REC_SERIES payload (v1.1; optional, before END): allocations over time, one point per
 * trace write (each POOLPROBE_INTERVAL and at exit), at most 64 points (when full, every other
 * older point is dropped), points in time order:
 *   u64 interval_ns                  POOLPROBE_INTERVAL (0 = written only at exit)
 *   u32 npoints, then per point:
 *     u64 t_ns                       since the process started
 *     u64 allocs, u64 live_bytes     summed over every stack with STATS at that moment
 *     u8  nstacks (<= 8), then per stack, most allocations first:
 *       u32 stack_id, u64 allocs, u64 live_bytes   that stack's cumulative counts then
 *
 * PP_REC_STACK_SAMPLES (v1.1; tag 10; written between STATS and TOTALS in site mode, the default,
 * and absent with POOLPROBE_STACKS=full). In site mode the stacks that carry STATS are site
 * prefixes: the first site_depth frames of each call, counted exactly on every call (flag
 * TRUNCATED when the real stack may be deeper). Full stacks are unwound for the first allocation
 * of each prefix and then for about one allocation in stack_sample; each one unwound is in
 * STACKS too (without STATS) and is listed here with its number of samples. A reader estimates a
 * full stack's figures as its prefix's exact figures times samples / (samples of all full
 * stacks of that prefix), and must say that such figures are estimates. A v1.0 reader ignores
 * this record and sees the exact per-prefix figures, which group into the same sites.
 *   u32 stack_sample               about one allocation in this many is unwound in full
 *   u32 site_depth                 frames in a site prefix
 *   u32 count, then per sampled full stack:
 *     u32 full_stack_id            a stack in STACKS (no STATS of its own)
 *     u32 site_stack_id            its site prefix, a stack with STATS
 *     u64 samples                  allocations whose full stack this was, among those unwound
 */
#ifndef POOLPROBE_TRACE_FORMAT_H
#define POOLPROBE_TRACE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define PP_TRACE_MAGIC "PPTRACE\0"
#define PP_TRACE_MAGIC_LEN 8
#define PP_TRACE_MAJOR 1
#define PP_TRACE_MINOR 1 /* v1.1 adds records 6-11 */
#define PP_TRACE_HEADER_SIZE 32
#define PP_RECORD_HEADER_SIZE 16

/* File header flags. */
#define PP_TRACE_F_SNAPSHOT 0x1u /* written while the process still ran (not at exit) */

/* Process flags. */
#define PP_PROC_F_FORKED_CHILD 0x1u   /* counts start at fork(); inherited blocks untracked */
#define PP_PROC_F_DESCENDANT 0x2u     /* exec'd by a process that was itself traced */
#define PP_PROC_F_TRACKING_LOST 0x4u  /* shim ran out of memory; counts stop early */
#define PP_PROC_F_EXECED 0x8u         /* v1.1: this image ended in exec; the same pid's next
                                         image wrote its own trace (README, "Which file a
                                         process writes"). Older readers ignore the bit. */
#define PP_PROC_F_DIED 0x10u          /* v1.1: the process died without exit (a signal); the
                                         watcher wrote this trace after its death, complete up
                                         to it. Older readers ignore the bit. */

/* Stack flags. */
#define PP_STACK_F_TRUNCATED 0x1u /* deeper than depth_limit */

enum pp_record_tag {
    PP_REC_PROCESS = 1,
    PP_REC_MODULES = 2,
    PP_REC_STACKS = 3,
    PP_REC_STATS = 4,
    PP_REC_TOTALS = 5,
    PP_REC_POOLS = 6,         /* v1.1 */
    PP_REC_STACK_THREADS = 7, /* v1.1 */
    PP_REC_SERIES = 8, /* v1.1: allocations over time (see above) */
    PP_REC_STACK_SAMPLES = 10, /* v1.1: site mode's sampled full stacks (see above) */
    PP_REC_END = 0x454e44, /* "END" */
};

enum pp_hist_kind { PP_HIST_EXACT = 0, PP_HIST_LOGLIN = 1 };

/* Entry points counted in TOTALS, in this order. */
enum pp_call {
    PP_CALL_MALLOC,
    PP_CALL_CALLOC,
    PP_CALL_REALLOC,
    PP_CALL_REALLOCARRAY,
    PP_CALL_POSIX_MEMALIGN,
    PP_CALL_ALIGNED_ALLOC,
    PP_CALL_MEMALIGN,
    PP_CALL_VALLOC,
    PP_CALL_PVALLOC,
    PP_CALL_FREE,
    PP_CALL_COUNT
};

/* Bucket layout of each log-linear histogram the v1 shim writes. */
#define PP_SIZE_SUB_BITS 2          /* 4 buckets per power of two: <= 25% relative width */
#define PP_SIZE_BUCKETS 188         /* covers sizes up to 2^48 */
#define PP_LIFETIME_NS_SUB_BITS 1   /* 2 per power of two: lifetimes vary over decades */
#define PP_LIFETIME_NS_BUCKETS 92   /* up to 2^46 ns, ~19.5 hours */
#define PP_LIFETIME_ALLOCS_SUB_BITS 1
#define PP_LIFETIME_ALLOCS_BUCKETS 80 /* up to 2^40 allocations */

/* Log-linear bucketing with 2^sub_bits buckets per power of two. Values below 2 << sub_bits get
 * a bucket each (exact); above, a bucket spans 1/2^sub_bits of its power of two. */
static inline unsigned pp_hist_index(uint64_t v, unsigned sub_bits)
{
    uint64_t s = 1ull << sub_bits;
    if (v < 2 * s)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    return (unsigned)(2 * s + (e - sub_bits - 1) * s + ((v >> (e - sub_bits)) - s));
}

/* Smallest value that falls in bucket idx (inverse of pp_hist_index). */
static inline uint64_t pp_hist_lower(unsigned idx, unsigned sub_bits)
{
    uint64_t s = 1ull << sub_bits;
    if (idx < 2 * s)
        return idx;
    uint64_t k = idx - 2 * s;
    unsigned e = (unsigned)(k / s) + sub_bits + 1;
    return (s + k % s) << (e - sub_bits);
}

/* One past the largest value in bucket idx. */
static inline uint64_t pp_hist_upper(unsigned idx, unsigned sub_bits)
{
    return pp_hist_lower(idx + 1, sub_bits);
}

/* FNV-1a, 64 bit, continued from h (start with PP_FNV_INIT). */
#define PP_FNV_INIT 0xcbf29ce484222325ull
static inline uint64_t pp_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Little-endian encoders: write into p, return p advanced. The caller guarantees room. */
static inline unsigned char *pp_put_u8(unsigned char *p, uint8_t v)
{
    *p = v;
    return p + 1;
}
static inline unsigned char *pp_put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}
static inline unsigned char *pp_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}
static inline unsigned char *pp_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

/* Bounded decoder. Every get fails (returns 0 and sets ok = 0) instead of reading past end;
 * once failed, a cursor stays failed, so a parser can check ok once after a group of gets. */
struct pp_cursor {
    const unsigned char *p;
    const unsigned char *end;
    int ok;
};

static inline int pp_get_bytes(struct pp_cursor *c, void *out, size_t n)
{
    if (!c->ok || (size_t)(c->end - c->p) < n) {
        c->ok = 0;
        if (out)
            memset(out, 0, n);
        return 0;
    }
    if (out)
        memcpy(out, c->p, n);
    c->p += n;
    return 1;
}
static inline uint8_t pp_get_u8(struct pp_cursor *c)
{
    unsigned char b[1];
    pp_get_bytes(c, b, 1);
    return b[0];
}
static inline uint16_t pp_get_u16(struct pp_cursor *c)
{
    unsigned char b[2];
    pp_get_bytes(c, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t pp_get_u32(struct pp_cursor *c)
{
    unsigned char b[4];
    pp_get_bytes(c, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t pp_get_u64(struct pp_cursor *c)
{
    unsigned char b[8];
    pp_get_bytes(c, b, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

#endif
