/* writer.c — writes the trace file described in trace_format.h.
 *
 * The whole trace is first encoded into a private mapping (so record lengths and the checksum
 * are exact even while other threads still allocate), then written to a temporary file in the
 * target directory (O_EXCL, O_NOFOLLOW, mode 0600) and renamed over the target, so a reader
 * never sees half a trace and a symlink at the path is replaced, not followed.
 *
 * Naming: the first traced process writes POOLPROBE_OUT ("trace.bin"; %p = pid). A forked child
 * or a program exec'd by a traced process writes its own file with ".<pid>" inserted before the
 * extension ("trace.<pid>.bin"). A file at the path that is not a poolprobe trace is never
 * overwritten: we write the pid-named file beside it and say so.
 *
 * Every system call goes through sys.h (no errno, no TLS): the watcher (watcher.c) runs the
 * same encoder and publisher, through pp_write_trace_watcher. This file also keeps the snapshot
 * schedule that the hooks and the watcher share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "sys.h"

struct tbuf {
    unsigned char *base;
    size_t len, cap;
    int failed;
};

static int reserve(struct tbuf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 1u << 20;
    while (cap < b->len + n)
        cap *= 2;
    void *p = b->base ? pp_sys_mremap(b->base, b->cap, cap, MREMAP_MAYMOVE)
                      : pp_sys_mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (pp_sys_failed((long)p)) {
        b->failed = 1;
        return 0;
    }
    b->base = p;
    b->cap = cap;
    return 1;
}

static void put_u8(struct tbuf *b, uint8_t v)
{
    if (reserve(b, 1))
        b->len = (size_t)(pp_put_u8(b->base + b->len, v) - b->base);
}
static void put_u16(struct tbuf *b, uint16_t v)
{
    if (reserve(b, 2))
        b->len = (size_t)(pp_put_u16(b->base + b->len, v) - b->base);
}
static void put_u32(struct tbuf *b, uint32_t v)
{
    if (reserve(b, 4))
        b->len = (size_t)(pp_put_u32(b->base + b->len, v) - b->base);
}
static void put_u64(struct tbuf *b, uint64_t v)
{
    if (reserve(b, 8))
        b->len = (size_t)(pp_put_u64(b->base + b->len, v) - b->base);
}
static void put_bytes(struct tbuf *b, const void *p, size_t n)
{
    if (reserve(b, n)) {
        memcpy(b->base + b->len, p, n);
        b->len += n;
    }
}
static void put_str(struct tbuf *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    put_bytes(b, s, n);
}

static size_t begin_record(struct tbuf *b, uint32_t tag)
{
    size_t at = b->len;
    put_u32(b, tag);
    put_u32(b, 0);
    put_u64(b, 0); /* length, patched by end_record */
    return at;
}

static void end_record(struct tbuf *b, size_t at)
{
    if (!b->failed)
        pp_put_u64(b->base + at + 8, b->len - at - PP_RECORD_HEADER_SIZE);
}

static void encode_process(struct tbuf *b)
{
    size_t at = begin_record(b, PP_REC_PROCESS);
    uint64_t now = pp_now_ns();
    put_u32(b, pp_process.pid);
    put_u32(b, pp_process.ppid);
    put_u64(b, pp_process.start_realtime_ns);
    put_u64(b, pp_realtime_ns());
    put_u64(b, now - pp_process.start_mono_ns);
    put_u32(b, pp_thread_count());
    put_u32(b, pp_config.depth);
    put_u32(b, pp_config.sample_every);
    put_u32(b, pp_process.flags);
    put_u64(b, atomic_load(&pp_process.untracked_frees));
    put_u64(b, atomic_load(&pp_process.ops));
    const char *exe = pp_process.exe ? pp_process.exe : "";
    put_str(b, exe, strlen(exe));
    uint32_t argc = 0;
    for (size_t i = 0; i < pp_process.cmdline_len; i++)
        argc += pp_process.cmdline[i] == '\0';
    put_u32(b, argc);
    const char *arg = pp_process.cmdline;
    for (uint32_t i = 0; i < argc; i++) {
        size_t n = strlen(arg);
        put_str(b, arg, n);
        arg += n + 1;
    }
    end_record(b, at);
}

static void encode_modules(struct tbuf *b)
{
    size_t at = begin_record(b, PP_REC_MODULES);
    uint32_t n = 0;
    for (struct pp_module *m = pp_modules_list(); m; m = m->next)
        n++;
    put_u32(b, n);
    /* The list is newest first; write oldest first so the main program leads. */
    for (uint32_t i = n; i > 0; i--) {
        struct pp_module *m = pp_modules_list();
        for (uint32_t k = 1; k < i; k++)
            m = m->next;
        put_u64(b, m->bias);
        put_u64(b, m->lo);
        put_u64(b, m->hi);
        put_str(b, m->path, strlen(m->path));
        put_u32(b, m->build_id_len);
        put_bytes(b, m->build_id, m->build_id_len);
    }
    end_record(b, at);
}

static void encode_stack_ips(struct tbuf *b, const struct pp_stack *s)
{
    struct pp_stack_view v;
    pp_stack_view(s, &v);
    put_u16(b, v.depth);
    put_u16(b, v.flags);
    for (unsigned i = 0; i < v.depth; i++)
        put_u64(b, v.ips[i]);
}

static void encode_buckets(struct tbuf *b, const uint64_t *buckets, unsigned n,
                           unsigned sub_bits)
{
    uint16_t nonzero = 0;
    for (unsigned i = 0; i < n; i++)
        nonzero += buckets[i] != 0;
    if (!nonzero) {
        put_u8(b, PP_HIST_EXACT);
        put_u16(b, 0);
        return;
    }
    put_u8(b, PP_HIST_LOGLIN);
    put_u8(b, (uint8_t)sub_bits);
    put_u16(b, nonzero);
    for (unsigned i = 0; i < n; i++)
        if (buckets[i]) {
            put_u16(b, (uint16_t)i);
            put_u64(b, buckets[i]);
        }
}

/* Exact values go out sorted by value, as the format asks. */
static void encode_value_hist(struct tbuf *b, const struct pp_value_hist *h)
{
    if (h->buckets) {
        encode_buckets(b, h->buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS);
        return;
    }
    unsigned order[PP_EXACT_VALUES];
    for (unsigned i = 0; i < h->nexact; i++) {
        unsigned j = i;
        while (j > 0 && h->value[order[j - 1]] > h->value[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    put_u8(b, PP_HIST_EXACT);
    put_u16(b, h->nexact);
    for (unsigned i = 0; i < h->nexact; i++) {
        put_u64(b, h->value[order[i]]);
        put_u64(b, h->count[order[i]]);
    }
}

/* One STATS entry, from the plain copy stackstats.c handed us. */
static void encode_stack_stats(struct tbuf *b, uint32_t id, const struct pp_stats_snapshot *d)
{
    const struct pp_aggregate *a = &d->agg;
    put_u32(b, id);
    put_u64(b, a->allocs);
    put_u64(b, a->frees);
    put_u64(b, a->alloc_bytes);
    put_u64(b, a->allocs ? a->min_size : 0);
    put_u64(b, a->max_size);
    put_u64(b, a->live_bytes);
    put_u64(b, a->peak_live);
    put_u64(b, a->peak_live_bytes);
    put_u64(b, a->cross_thread_frees);
    put_u64(b, a->realloc_calls);
    put_u64(b, a->realloc_grows);
    put_u64(b, a->chains_freed);
    put_u64(b, a->lifetime_ns_sum);
    uint8_t ncallers = 0;
    while (ncallers < PP_FREE_CALLERS && a->free_callers[ncallers].count)
        ncallers++;
    put_u8(b, ncallers);
    for (unsigned i = 0; i < ncallers; i++) {
        put_u64(b, a->free_callers[i].addr);
        put_u64(b, a->free_callers[i].count);
    }
    put_u64(b, a->other_free_callers);
    put_u8(b, PP_POOL_LEVELS);
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++) {
        put_u32(b, 1u << k);
        put_u64(b, a->pool_hits[k]);
    }
    encode_value_hist(b, &d->size);
    encode_buckets(b, a->lifetime_ns, PP_LIFETIME_NS_BUCKETS, PP_LIFETIME_NS_SUB_BITS);
    encode_buckets(b, a->lifetime_allocs, PP_LIFETIME_ALLOCS_BUCKETS,
                   PP_LIFETIME_ALLOCS_SUB_BITS);
    encode_value_hist(b, &d->chain_final);
}

/* Allocations and frees in the last trace encoded, and when it was encoded (pp_now_ns): the
 * watcher compares them with the program's counters to see whether the file is behind. */
static atomic_ullong events_encoded, encoded_at_ns;

uint64_t pp_writer_last_write(uint64_t *at_ns)
{
    *at_ns = atomic_load_explicit(&encoded_at_ns, memory_order_relaxed);
    return atomic_load_explicit(&events_encoded, memory_order_relaxed);
}

static void encode_totals(struct tbuf *b)
{
    uint64_t calls[PP_CALL_COUNT] = {0}, allocs = 0, frees = 0, bytes = 0;
    uint32_t n = pp_thread_count();
    if (n > PP_MAX_THREADS)
        n = PP_MAX_THREADS;
    for (uint32_t i = 0; i < n; i++) {
        struct pp_thread *t = pp_thread_at(i);
        if (!t)
            continue;
        for (int c = 0; c < PP_CALL_COUNT; c++)
            calls[c] += t->calls[c];
        allocs += t->allocs;
        frees += t->frees;
        bytes += t->alloc_bytes;
    }
    atomic_store_explicit(&events_encoded, allocs + frees, memory_order_relaxed);
    size_t at = begin_record(b, PP_REC_TOTALS);
    put_u64(b, allocs);
    put_u64(b, frees);
    put_u64(b, bytes);
    long long peak = atomic_load(&pp_process.peak_live_bytes);
    put_u64(b, peak > 0 ? (uint64_t)peak : 0);
    put_u32(b, PP_CALL_COUNT);
    for (int c = 0; c < PP_CALL_COUNT; c++)
        put_u64(b, calls[c]);
    end_record(b, at);
}

/* The SERIES record (trace_format.h): the points series.c kept, this write's included. */
static void encode_series(struct tbuf *b, const struct pp_series *s)
{
    size_t at = begin_record(b, PP_REC_SERIES);
    put_u64(b, pp_config.interval_ns);
    put_u32(b, s->npoints);
    for (unsigned i = 0; i < s->npoints; i++) {
        const struct pp_series_point *p = &s->points[i];
        put_u64(b, p->t_ns);
        put_u64(b, p->allocs);
        put_u64(b, p->live_bytes);
        put_u8(b, (uint8_t)p->nstacks);
        for (unsigned k = 0; k < p->nstacks; k++) {
            put_u32(b, p->stacks[k].id);
            put_u64(b, p->stacks[k].allocs);
            put_u64(b, p->stacks[k].live_bytes);
        }
    }
    end_record(b, at);
}

/* The program's own pools (PP_REC_POOLS), when it marked any. */
static struct pp_pool_counts pools_copy[PP_MAX_POOLS];

static void encode_pools(struct tbuf *b)
{
    uint32_t n = pp_pools_snapshot(pools_copy, PP_MAX_POOLS);
    if (n == 0)
        return;
    size_t at = begin_record(b, PP_REC_POOLS);
    put_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        put_str(b, pools_copy[i].name, strlen(pools_copy[i].name));
        put_u64(b, pools_copy[i].gets);
        put_u64(b, pools_copy[i].hits);
        put_u64(b, pools_copy[i].misses);
        put_u64(b, pools_copy[i].puts);
    }
    end_record(b, at);
}

/* STACK_SAMPLES (site mode): the full stacks sampled, each under its site prefix. */
struct samples_out {
    struct tbuf *b;
    uint32_t nstacks, n;
};

static void put_sample(void *ctx, uint32_t full, uint32_t site, uint64_t count)
{
    struct samples_out *o = ctx;
    if (full >= o->nstacks || site >= o->nstacks)
        return; /* interned after the STACKS record was written */
    put_u32(o->b, full);
    put_u32(o->b, site);
    put_u64(o->b, count);
    o->n++;
}

static void encode_stack_samples(struct tbuf *b, uint32_t nstacks)
{
    size_t at = begin_record(b, PP_REC_STACK_SAMPLES);
    put_u32(b, pp_config.stack_sample);
    put_u32(b, pp_config.site_depth);
    size_t count_at = b->len;
    put_u32(b, 0);
    struct samples_out o = {b, nstacks, 0};
    pp_stacksample_each(put_sample, &o);
    if (!b->failed)
        pp_put_u32(b->base + count_at, o.n);
    end_record(b, at);
}

struct used_stacks {
    unsigned char *bits;
    uint32_t nstacks;
};

static void mark_used(struct used_stacks *u, uint32_t id)
{
    if (id < u->nstacks)
        u->bits[id / 8] |= (unsigned char)(1u << (id % 8));
}

static void mark_sampled(void *ctx, uint32_t full, uint32_t site, uint64_t count)
{
    (void)count;
    mark_used(ctx, full);
    mark_used(ctx, site);
}

/* A bitmap of the stacks this process used: those with statistics, and the sampled ones. NULL
 * when it cannot be mapped (every stack is then written in full). */
static unsigned char *mark_used_stacks(uint32_t nstacks, size_t bytes)
{
    unsigned char *used = pp_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS);
    if (pp_sys_failed((long)used))
        return NULL;
    struct used_stacks u = {used, nstacks};
    for (uint32_t id = 0; id < nstacks; id++)
        if (pp_stats_active(id))
            mark_used(&u, id);
    pp_stacksample_each(mark_sampled, &u);
    return used;
}

/* A stack's statistics, copied out of its lanes (two bucket arrays: too big for the stack of a
 * hook that may run deep in the host's stack). Static: there is one writer at a time. */
static struct pp_stats_snapshot stats_copy;

static void encode_trace(struct tbuf *b, int snapshot)
{
    atomic_store_explicit(&encoded_at_ns, pp_now_ns(), memory_order_relaxed);
    put_bytes(b, PP_TRACE_MAGIC, PP_TRACE_MAGIC_LEN);
    put_u16(b, PP_TRACE_MAJOR);
    put_u16(b, PP_TRACE_MINOR);
    put_u32(b, PP_TRACE_HEADER_SIZE);
    put_u64(b, snapshot ? PP_TRACE_F_SNAPSHOT : 0);
    put_u64(b, 0);
    encode_process(b);
    encode_modules(b);

    uint32_t nstacks = pp_stack_count();
    size_t used_bytes = nstacks / 8 + 1;
    unsigned char *used = mark_used_stacks(nstacks, used_bytes);
    size_t at = begin_record(b, PP_REC_STACKS);
    put_u32(b, nstacks);
    /* Stacks interned while we encode get ids >= nstacks: iterate exactly the first nstacks.
     * A stack this process did not use (a forked child inherits all of its parent's) is
     * written without frames: ids stay as they are, and the child's trace stays small. */
    for (uint32_t id = 0; id < nstacks; id++) {
        if (used && !(used[id / 8] >> (id % 8) & 1)) {
            put_u16(b, 0);
            put_u16(b, 0);
        } else {
            encode_stack_ips(b, pp_stack_by_id(id));
        }
    }
    end_record(b, at);
    if (used)
        pp_sys_munmap(used, used_bytes);

    at = begin_record(b, PP_REC_STATS);
    size_t count_at = b->len;
    put_u32(b, 0);
    uint32_t with_stats = 0;
    pp_series_begin(pp_now_ns() - pp_process.start_mono_ns);
    for (uint32_t id = 0; id < nstacks; id++)
        if (pp_stats_snapshot(id, &stats_copy)) {
            encode_stack_stats(b, id, &stats_copy);
            pp_series_stack(id, stats_copy.agg.allocs, stats_copy.agg.live_bytes);
            with_stats++;
        }
    if (!b->failed)
        pp_put_u32(b->base + count_at, with_stats);
    end_record(b, at);

    /* Per-thread facts of the same stacks (a second copy: counts may have moved on, which a
     * snapshot of a running process allows). */
    at = begin_record(b, PP_REC_STACK_THREADS);
    count_at = b->len;
    put_u32(b, 0);
    with_stats = 0;
    for (uint32_t id = 0; id < nstacks; id++)
        if (pp_stats_snapshot(id, &stats_copy)) {
            put_u32(b, id);
            put_u32(b, (uint32_t)__builtin_popcountll(stats_copy.agg.thread_mask));
            put_u64(b, stats_copy.agg.peak_live_per_thread);
            with_stats++;
        }
    if (!b->failed)
        pp_put_u32(b->base + count_at, with_stats);
    end_record(b, at);

    encode_pools(b);
    if (pp_config.site_depth)
        encode_stack_samples(b, nstacks);
    encode_totals(b);
    encode_series(b, pp_series_end());

    uint64_t hash = b->failed ? 0 : pp_fnv1a(PP_FNV_INIT, b->base, b->len);
    at = begin_record(b, PP_REC_END);
    put_u64(b, hash);
    end_record(b, at);
}

/* ---- the snapshot schedule ---- */

atomic_ullong pp_snapshot_last_ns;

int pp_snapshot_claim(uint64_t now_ns)
{
    uint64_t last = atomic_load_explicit(&pp_snapshot_last_ns, memory_order_relaxed);
    if (!pp_snapshot_due(now_ns))
        return 0;
    /* One caller wins the interval; the others go on at once. Once the exit-time write has
     * begun (state no longer TRACKING), a snapshot must not start that it would wait for. */
    return atomic_load_explicit(&pp_state, memory_order_relaxed) == PP_STATE_TRACKING &&
           atomic_compare_exchange_strong(&pp_snapshot_last_ns, &last, now_ns);
}

void pp_snapshot_written(uint64_t began_ns)
{
    /* A snapshot costs time in proportion to the trace (cppcheck: 2.5 MB rewritten every
     * second). Keep snapshots under 5% of the run: the next one waits at least 20 times as
     * long as this one took. */
    uint64_t end = pp_now_ns(); /* may read a hair behind began_ns on another CPU */
    uint64_t took = end > began_ns ? end - began_ns : 0;
    if (took < 3600000000000ull && took * 20 > pp_config.interval_ns)
        atomic_store_explicit(&pp_snapshot_last_ns, began_ns + took * 20 - pp_config.interval_ns,
                              memory_order_relaxed);
}

/* ---- choosing the file name ---- */

static size_t append(char *dst, size_t at, size_t cap, const char *s)
{
    while (*s && at + 1 < cap)
        dst[at++] = *s++;
    dst[at < cap ? at : cap - 1] = '\0';
    return at;
}

/* Expands %p, then inserts before the extension: ".<pid>" with insert_pid (unless %p already
 * put the pid in), and ".<image>" when image >= 0 (it implies the pid). */
static void output_path(char *dst, size_t cap, int insert_pid, int image)
{
    char pid[24];
    pp_format(pid, sizeof pid, "%u", pp_process.pid);
    const char *src = pp_config.out;
    size_t at = 0;
    int had_pid = 0;
    for (const char *s = src; *s; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            at = append(dst, at, cap, pid);
            had_pid = 1;
            s++;
        } else if (at + 1 < cap) {
            dst[at++] = *s;
        }
    }
    dst[at] = '\0';
    char tag[48];
    size_t tl = 0;
    tag[0] = '\0';
    if ((insert_pid || image >= 0) && !had_pid)
        tl = pp_format(tag, sizeof tag, ".%s", pid);
    if (image >= 0)
        pp_format(tag + tl, sizeof tag - tl, ".%u", (unsigned)image);
    if (!tag[0])
        return;
    const char *slash = strrchr(dst, '/');
    char *dot = strrchr(dst, '.');
    if (!dot || (slash && dot < slash) || dot == dst || (slash && dot == slash + 1)) {
        append(dst, at, cap, tag);
        return;
    }
    char ext[256];
    append(ext, 0, sizeof ext, dot);
    at = (size_t)(dot - dst);
    at = append(dst, at, cap, tag);
    append(dst, at, cap, ext);
}

/* Who wrote the trace at path, if it names our pid: an earlier image of this very process (an
 * image that exec'd: written since the process began), or an earlier process that had the same
 * pid (written before we began). */
enum { NOT_OUR_PID, EARLIER_IMAGE, EARLIER_PROCESS };
static int written_with_our_pid(const char *path)
{
    int fd = pp_sys_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0)
        return 0;
    struct stat st;
    unsigned char head[PP_TRACE_HEADER_SIZE + PP_RECORD_HEADER_SIZE + 4];
    int ours = pp_sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
               pp_sys_read(fd, head, sizeof head) == (long)sizeof head;
    pp_sys_close(fd);
    if (!ours || memcmp(head, PP_TRACE_MAGIC, PP_TRACE_MAGIC_LEN) != 0)
        return NOT_OUR_PID;
    struct pp_cursor c = {head + PP_TRACE_HEADER_SIZE, head + sizeof head, 1};
    uint32_t tag = pp_get_u32(&c);
    pp_get_u32(&c);
    pp_get_u64(&c);
    uint32_t pid = pp_get_u32(&c);
    uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
    if (!c.ok || tag != PP_REC_PROCESS || pid != pp_process.pid)
        return NOT_OUR_PID;
    /* The kernel's start time has clock-tick (10 ms) resolution. */
    return mtime + 20000000ull >= pp_process.process_start_realtime_ns ? EARLIER_IMAGE
                                                                       : EARLIER_PROCESS;
}

static atomic_int writing; /* a write is in progress (take_writer) */

/* The file this image writes, chosen once (at start, and again in a forked child). */
static char out_path[4096];

/* The last image of a process holds the plain name, so `env X=1 prog`, `nice prog` and
 * wrappers ending in exec "$@" leave prog's trace where a direct run would. Images before an
 * exec are moved aside, in order: <name>.<pid>.0.bin, <name>.<pid>.1.bin, ... Nothing is ever
 * replaced: a name already taken is skipped. A pid-named file (a forked child's, a traced
 * program's child's, or with %p) left by an earlier process with the same pid moves aside the same way:
 * with many processes the kernel reuses pids (git's test suite wraps pid_max several times),
 * and the earlier process's trace is as much the user's as ours. The plain name of the first
 * process is replaced as before: running the program again replaces its trace. */
void pp_writer_choose_path(void)
{
    /* In a forked child: a snapshot another parent thread was writing at the fork does not go
     * on here, so the writer is free (else the child's final write would wait for it). */
    atomic_store(&writing, 0);
    int descendant = (pp_process.flags & (PP_PROC_F_FORKED_CHILD | PP_PROC_F_DESCENDANT)) != 0;
    output_path(out_path, sizeof out_path, descendant, -1);
    int earlier = written_with_our_pid(out_path);
    int pid_named = descendant || strstr(pp_config.out, "%p") != NULL;
    if (earlier == NOT_OUR_PID || (earlier == EARLIER_PROCESS && !pid_named))
        return;
    static char aside[sizeof out_path];
    struct stat st;
    for (int image = 0; image < 100000; image++) {
        output_path(aside, sizeof aside, 1, image);
        if (pp_sys_lstat(aside, &st) == -ENOENT) {
            pp_sys_rename(out_path, aside);
            break;
        }
    }
}

/* What is at the output path: nothing or an old trace (ours to replace), a regular file that
 * is not a trace (write beside it), or something else (a device, a directory, a symlink:
 * refuse, the user pointed us somewhere we must not touch). */
enum { PATH_OURS, PATH_FOREIGN_FILE, PATH_SYMLINK, PATH_NOT_FILE };

static int path_kind(const char *path)
{
    struct stat st;
    if (pp_sys_lstat(path, &st) != 0)
        return PATH_OURS;
    if (S_ISLNK(st.st_mode))
        return PATH_SYMLINK; /* someone's link: neither followed nor replaced */
    if (!S_ISREG(st.st_mode))
        return PATH_NOT_FILE;
    if (st.st_size == 0)
        return PATH_OURS; /* an empty file is no one's data (e.g. a previous run cut short) */
    int fd = pp_sys_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0)
        return PATH_FOREIGN_FILE;
    char magic[PP_TRACE_MAGIC_LEN];
    long n = pp_sys_read(fd, magic, sizeof magic);
    pp_sys_close(fd);
    int trace = n == (long)sizeof magic && !memcmp(magic, PP_TRACE_MAGIC, sizeof magic);
    return trace ? PATH_OURS : PATH_FOREIGN_FILE;
}

static const char *error_name(int e)
{
    switch (e) {
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case ENOENT: return "no such directory";
    case ENOSPC: return "no space left on device";
    case EDQUOT: return "disk quota exceeded";
    case EROFS: return "read-only file system";
    case EEXIST: return "file exists";
    case ELOOP: return "is a symbolic link";
    case EISDIR: return "is a directory";
    case ENOTDIR: return "not a directory";
    case EIO: return "input/output error";
    case EFBIG: return "file too large";
    case ENAMETOOLONG: return "file name too long";
    default: return "system error";
    }
}

/* 0 or the errno of the failure. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        long w = pp_sys_write(fd, p, n);
        if (w == -EINTR)
            continue;
        if (w <= 0)
            return w == 0 ? EIO : (int)-w;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes b to tmp (created, never followed) and renames it over path; 0 or the errno of the
 * step that failed, with tmp removed. */
static int publish(const char *tmp, const char *path, const struct tbuf *b)
{
    int fd = pp_sys_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -fd;
    int e = write_all(fd, b->base, b->len);
    int c = pp_sys_close(fd);
    if (c && !e)
        e = -c;
    if (!e && (c = pp_sys_rename(tmp, path)) != 0)
        e = -c;
    if (e)
        pp_sys_unlink(tmp);
    return e;
}

/* This thread is inside pp_write_trace (a signal handler that calls exit() may interrupt it). */
static __thread int writing_here __attribute__((tls_model("initial-exec")));
static int warned_foreign;
static int quiet; /* the watcher is writing: it has no stderr and must not touch errno */
static char last_failure[600]; /* the last failure said ("" = none yet), to say each once */

/* Takes the writer. A snapshot gives way to any write in progress. The final write (exit) must
 * not: if it returned while another thread is in the middle of a snapshot, exit_group would
 * kill that thread before its rename, leaving the previous snapshot (or no trace at all) and a
 * stray temporary file. So it waits for the snapshot to finish, for at most about 5 seconds,
 * and never for its own thread (an exit() from a signal handler that interrupted a snapshot). */
static int take_writer(int snapshot)
{
    for (int waited_ms = 0;; waited_ms++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&writing, &expected, 1))
            return 1;
        if (snapshot || writing_here || waited_ms >= 5000)
            return 0;
        struct timespec ms = {0, 1000000};
        pp_sys_nanosleep(&ms);
    }
}

/* A snapshot that cannot be written is said once. The final write says its failure only when
 * it differs from the one already said: a program that runs past the first snapshot with an
 * unwritable POOLPROBE_OUT gets one "poolprobe:" line, not one per attempt. */
static void write_failed(int snapshot, const char *msg)
{
    if (quiet || (snapshot ? last_failure[0] != '\0' : !strcmp(msg, last_failure)))
        return;
    pp_log("%s", msg);
    size_t n = strlen(msg);
    if (n >= sizeof last_failure)
        n = sizeof last_failure - 1;
    memcpy(last_failure, msg, n);
    last_failure[n] = '\0';
}
/* The reason comes before the path in every message: a long path is cut, never the reason. */
#define WRITE_FAILED(...)                                                                      \
    do {                                                                                       \
        static char msg_[sizeof last_failure];                                                 \
        pp_format(msg_, sizeof msg_, __VA_ARGS__);                                             \
        write_failed(snapshot, msg_);                                                          \
    } while (0)

/* Static: a writer may run deep in a small stack, and there is one writer at a time. */
static char path[sizeof out_path], tmp[sizeof out_path + 32], other[sizeof out_path];

/* The temporary file this process's writes go through. */
static void temporary_path(void)
{
    pp_format(tmp, sizeof tmp, "%s.tmp.%u", path, pp_process.pid);
}

/* Encodes and publishes the trace; the caller holds the writer. Uses no TLS and sets no errno
 * (sys.h), so the watcher can run it too. */
static void encode_and_publish(int snapshot)
{
    struct tbuf b = {0};
    encode_trace(&b, snapshot);
    if (b.failed) {
        WRITE_FAILED("cannot write the trace: out of memory encoding it");
        goto out;
    }

    memcpy(path, out_path, sizeof path);
    int kind = path_kind(path);
    if (kind == PATH_NOT_FILE) {
        WRITE_FAILED("not writing the trace (not a regular file): %s", path);
        goto out;
    }
    if (kind == PATH_FOREIGN_FILE || kind == PATH_SYMLINK) {
        const char *what = kind == PATH_SYMLINK ? "is a symbolic link"
                                                : "exists and is not a poolprobe trace";
        output_path(other, sizeof other, 1, -1);
        if (!strcmp(other, path) || path_kind(other) != PATH_OURS) {
            WRITE_FAILED("not writing the trace (%s): %s", what, path);
            goto out;
        }
        /* Said once: by the program's first write (the watcher cannot speak). */
        if (!warned_foreign && !quiet) {
            pp_log("%s %s; writing %s instead", path, what, other);
            warned_foreign = 1;
        }
        memcpy(path, other, sizeof path);
    }
    temporary_path();
    int e = publish(tmp, path, &b);
    if (e)
        WRITE_FAILED("cannot write the trace (%s): %s", error_name(e), path);
out:
    if (b.base)
        pp_sys_munmap(b.base, b.cap);
}

void pp_write_trace(int snapshot, int rescan_modules)
{
    pp_solo_enter_foreign(); /* exit() on a thread that never allocated reads the tables too */
    if (!take_writer(snapshot))
        return;
    writing_here = 1;
    int saved_errno = errno; /* pp_modules_scan and pp_log may set it */
    if (rescan_modules)
        pp_modules_scan();
    encode_and_publish(snapshot);
    errno = saved_errno;
    writing_here = 0;
    atomic_store(&writing, 0);
}

int pp_write_trace_watcher(int after_death)
{
    pp_solo_end(); /* the watcher reads the tables beside the program */
    if (after_death) {
        /* Every thread of the program is gone: a write one of them had begun never ends, so
         * the writer is ours, and its temporary file a leftover. */
        atomic_store(&writing, 1);
        memcpy(path, out_path, sizeof path);
        temporary_path();
        pp_sys_unlink(tmp);
    } else if (!take_writer(1)) {
        return 0;
    } else if (atomic_load(&pp_state) != PP_STATE_TRACKING) {
        atomic_store(&writing, 0); /* the final write came first: a snapshot must not follow */
        return 0;
    }
    quiet = 1;
    encode_and_publish(!after_death);
    quiet = 0;
    atomic_store(&writing, 0);
    return 1;
}
