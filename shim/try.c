/* try.c — apply a verdict inside the host: serve the chosen sites from an emulated pool.
 *
 * `poolprobe try` runs a program twice per pair, both times with this library in try mode
 * (POOLPROBE_TRY=FILE, recording off): once with every target only observed, once with the
 * targets served as their verdict says. Everything but the pooling is the same in both arms
 * (interposition, the site match, the counting), so the difference in time is the pool's.
 *
 * Targets. FILE names each site by the return addresses that make it up, as module build-id +
 * offset ("chains": the allocation frame's call into malloc, and when the analyzer skipped
 * wrappers or operator new, the calls through them). Chains are resolved against the modules
 * mapped at start, and while some are unresolved, against modules loaded later (checked every
 * 256th unmatched allocation; a module unloaded and loaded again at another address keeps its
 * first); the count of chains never resolved is reported. They go into a small open-addressed
 * hash keyed by the first return address, so an allocation from anywhere else costs one probe. Chains deeper than one frame need the
 * caller's callers: those are unwound (libunwind) only when the first address matched.
 *
 * Pools. Pooled blocks are carved from one region mapped for the pool (MAP_NORESERVE), so free()
 * recognizes them by address range. Each block has a 16-byte header (site, size class) and
 * 16-byte alignment like malloc's. A site's pool has 1..4 size classes (tiers; a plain pool is
 * one class of object_bytes); a request above the largest class goes to the real malloc and
 * counts as a drop. Kinds: per-thread (the freeing thread's list, no lock) or shared (one list
 * per class behind a spinlock). A free that finds its list at capacity counts as an overflow;
 * the block goes to a shared reserve that later misses take before carving new memory (a
 * hand-written pool would free() it and malloc() again: the emulation is cheaper there, which is
 * why overflows are reported). `presize` makes the site's allocations the recommended size;
 * `stack` is a per-thread pool of one block of the site's largest size (it approximates a local
 * array: a real one also saves the free() call and is never handed to another function).
 *
 * What the program computes does not change: pooled blocks are 16-aligned, calloc zeroes the
 * requested bytes, realloc keeps the contents (in place when it fits the block's class, else
 * moved to a real block, and the pooled block leaves), malloc_usable_size is the class size,
 * errno is touched only where the real allocator would touch it, and a failure is the real
 * allocator's. Blocks from memalign and friends are never pooled.
 *
 * Counts (per site: matched, hits, misses, drops, overflows) are kept per thread and summed at
 * exit into POOLPROBE_TRY_OUT.<pid> (text, see write_counts), which the runner reads.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "try.h"

#define TLS __attribute__((tls_model("initial-exec")))

#define TRY_MAX_SITES 64
#define TRY_MAX_TIERS 4
#define TRY_MAX_DEPTH 16     /* frames per chain: C++ containers reach malloc through ~10 */
#define TRY_OWN_FRAMES 8     /* ours on top of the stack when unwinding */
#define TRY_MAX_CHAINS 4096
#define TRY_MAX_MODULES 64
#define TRY_HASH_SLOTS 8192  /* power of two, > 2 x chains: probes stay short */
#define TRY_HEADER 16
#define TRY_FILE_MAX (1u << 20)

enum try_mode { TRY_OBSERVE, TRY_POOL, TRY_PRESIZE };
enum try_kind { TRY_PER_THREAD, TRY_SHARED };

struct try_block { struct try_block *next; }; /* the user area of a free block */

struct free_list {
    struct try_block *head;
    uint64_t count;
};

struct try_site {
    enum try_mode mode;
    enum try_kind kind;
    uint64_t capacity;             /* blocks per free list (per thread, or shared) */
    unsigned ntiers;
    uint64_t tier_bytes[TRY_MAX_TIERS]; /* ascending multiples of 16 */
    uint64_t presize_bytes;
    pp_spinlock lock;              /* shared lists and reserve */
    struct free_list shared[TRY_MAX_TIERS];
    struct free_list reserve[TRY_MAX_TIERS];
};

struct try_counts {
    uint64_t matched, hits, misses, drops, overflows;
};

struct try_thread {
    struct free_list lists[TRY_MAX_SITES][TRY_MAX_TIERS];
    struct try_counts counts[TRY_MAX_SITES];
    struct try_thread *next;       /* all thread states, for the sums at exit */
};

struct try_module {
    unsigned char build_id[64];
    uint32_t build_id_len;
};

struct try_chain {
    uint32_t site, depth;
    atomic_int known;              /* slot[1..known-1] are learned; starts at 1 (none) */
    int32_t slot[TRY_MAX_DEPTH];   /* where ip[d] lies, relative to the hook's CFA */
    uint32_t next;                 /* next chain with the same first address, index + 1 */
    int resolved;
    uint32_t module[TRY_MAX_DEPTH];
    uint64_t offset[TRY_MAX_DEPTH];
    uintptr_t ip[TRY_MAX_DEPTH];
};

struct hash_slot {
    _Atomic uintptr_t ret;
    uint32_t chain;                /* first chain with this address, index + 1 */
};

int pp_try_on;
static struct try_site sites[TRY_MAX_SITES];
static unsigned nsites;
static struct try_chain *chains;   /* mapped, TRY_MAX_CHAINS */
static unsigned nchains, unresolved, too_many;
static struct try_module modules[TRY_MAX_MODULES];
static unsigned nmodules;
static struct hash_slot *hash;     /* mapped, TRY_HASH_SLOTS */
static unsigned deep_chains;       /* the deepest chain, when deeper than 1: unwind that far */

static char *region;               /* the pool's memory */
static size_t region_size;
static atomic_size_t region_used;

static _Atomic(struct try_thread *) all_threads;
static const char *out_prefix;
static size_t (*real_usable_size)(void *);

static __thread struct try_thread *self TLS;
static __thread int inside TLS;    /* in try.c already (libunwind may allocate) */
static __thread unsigned since_resolve TLS;

/* ---- parsing the targets file (no stdio: we may be before libc is ready) ---- */

struct reader {
    const char *p, *end;
    int ok;
};

static void skip_blanks(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
        r->p++;
}

static size_t word(struct reader *r, const char **w)
{
    skip_blanks(r);
    *w = r->p;
    while (r->p < r->end && *r->p != ' ' && *r->p != '\t' && *r->p != '\n')
        r->p++;
    if (r->p == *w)
        r->ok = 0;
    return (size_t)(r->p - *w);
}

static uint64_t number(struct reader *r, int base)
{
    const char *w;
    size_t n = word(r, &w);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = w[i] >= '0' && w[i] <= '9'   ? w[i] - '0'
                : w[i] >= 'a' && w[i] <= 'f' ? w[i] - 'a' + 10
                                             : 99;
        if (d >= base) {
            r->ok = 0;
            return 0;
        }
        v = v * (uint64_t)base + (uint64_t)d;
    }
    return v;
}

static int word_is(const char *w, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(w, s, n);
}

static void next_line(struct reader *r)
{
    while (r->p < r->end && *r->p != '\n')
        r->p++;
    if (r->p < r->end)
        r->p++;
}

/* "b:HEX" -> index into modules[], adding it. */
static uint32_t module_id(struct reader *r)
{
    const char *w;
    size_t n = word(r, &w);
    struct try_module m = {0};
    if (n < 4 || w[0] != 'b' || w[1] != ':' || (n - 2) % 2 || (n - 2) / 2 > sizeof m.build_id) {
        r->ok = 0;
        return 0;
    }
    for (size_t i = 2; i < n; i += 2) {
        struct reader hex = {w + i, w + i + 2, 1};
        m.build_id[m.build_id_len++] = (unsigned char)number(&hex, 16);
        if (!hex.ok)
            r->ok = 0;
    }
    for (uint32_t i = 0; i < nmodules; i++)
        if (modules[i].build_id_len == m.build_id_len &&
            !memcmp(modules[i].build_id, m.build_id, m.build_id_len))
            return i;
    if (nmodules == TRY_MAX_MODULES) {
        r->ok = 0;
        return 0;
    }
    modules[nmodules] = m;
    return nmodules++;
}

/* site I MODE KIND CAPACITY PRESIZE NTIERS TIER... */
static void parse_site(struct reader *r)
{
    uint64_t i = number(r, 10);
    if (!r->ok || i != nsites || nsites == TRY_MAX_SITES) {
        r->ok = 0;
        return;
    }
    struct try_site *s = &sites[nsites];
    const char *w;
    size_t n = word(r, &w);
    s->mode = word_is(w, n, "pool") ? TRY_POOL : word_is(w, n, "presize") ? TRY_PRESIZE
                                                                          : TRY_OBSERVE;
    if (s->mode == TRY_OBSERVE && !word_is(w, n, "observe"))
        r->ok = 0;
    n = word(r, &w);
    s->kind = word_is(w, n, "shared") ? TRY_SHARED : TRY_PER_THREAD;
    s->capacity = number(r, 10);
    s->presize_bytes = number(r, 10);
    s->ntiers = (unsigned)number(r, 10);
    if (s->ntiers > TRY_MAX_TIERS || (s->mode == TRY_POOL && s->ntiers == 0))
        r->ok = 0;
    for (unsigned t = 0; t < s->ntiers && r->ok; t++) {
        s->tier_bytes[t] = (number(r, 10) + 15) & ~(uint64_t)15;
        if (s->tier_bytes[t] == 0 || s->tier_bytes[t] > (1ull << 32) ||
            (t && s->tier_bytes[t] <= s->tier_bytes[t - 1]))
            r->ok = 0;
    }
    if (r->ok)
        nsites++;
}

/* chain SITE DEPTH MODULE OFFSET [MODULE OFFSET]... */
static void parse_chain(struct reader *r)
{
    if (nchains == TRY_MAX_CHAINS) { /* not tried; reported with the unresolved */
        too_many++;
        return;
    }
    struct try_chain *c = &chains[nchains];
    c->site = (uint32_t)number(r, 10);
    c->depth = (uint32_t)number(r, 10);
    atomic_init(&c->known, 1);
    if (c->site >= nsites || c->depth == 0 || c->depth > TRY_MAX_DEPTH) {
        r->ok = 0;
        return;
    }
    for (uint32_t d = 0; d < c->depth && r->ok; d++) {
        c->module[d] = module_id(r);
        c->offset[d] = number(r, 16);
    }
    if (c->depth > 1 && c->depth > deep_chains)
        deep_chains = c->depth;
    if (r->ok)
        nchains++;
}

static int parse_targets(const char *buf, size_t len)
{
    struct reader r = {buf, buf + len, 1};
    const char *w;
    size_t n = word(&r, &w);
    if (!word_is(w, n, "poolprobe-try-targets") || number(&r, 10) != 1)
        return 0;
    next_line(&r);
    while (r.ok && r.p < r.end) {
        n = word(&r, &w);
        if (word_is(w, n, "site"))
            parse_site(&r);
        else if (word_is(w, n, "chain"))
            parse_chain(&r);
        else
            r.ok = 0;
        next_line(&r);
    }
    return r.ok;
}

/* ---- resolving chains against the mapped modules ---- */

static uint32_t hash_index(uintptr_t ret)
{
    return (uint32_t)((ret * 0x9e3779b97f4a7c15ull) >> 40) & (TRY_HASH_SLOTS - 1);
}

static void hash_insert(uint32_t ci)
{
    uintptr_t ret = chains[ci].ip[0];
    for (uint32_t h = hash_index(ret);; h = (h + 1) & (TRY_HASH_SLOTS - 1)) {
        uintptr_t cur = atomic_load_explicit(&hash[h].ret, memory_order_relaxed);
        if (cur == ret) {
            chains[ci].next = hash[h].chain;
            hash[h].chain = ci + 1;
            return;
        }
        if (cur == 0) {
            hash[h].chain = ci + 1;
            atomic_store_explicit(&hash[h].ret, ret, memory_order_release);
            return;
        }
    }
}

static int same_build_id(const struct dl_phdr_info *info, const struct try_module *m)
{
    uint32_t len;
    const unsigned char *id = pp_modules_build_id(info, &len);
    return id && len == m->build_id_len && !memcmp(id, m->build_id, len);
}

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    for (uint32_t mi = 0; mi < nmodules; mi++) {
        if (!same_build_id(info, &modules[mi]))
            continue;
        for (uint32_t ci = 0; ci < nchains; ci++)
            for (uint32_t d = 0; d < chains[ci].depth; d++)
                if (chains[ci].module[d] == mi && !chains[ci].ip[d])
                    chains[ci].ip[d] = (uintptr_t)info->dlpi_addr + chains[ci].offset[d];
    }
    return 0;
}

static pp_spinlock resolve_lock;
static _Atomic unsigned long long seen_adds; /* dlpi_adds when chains were last resolved */

static int read_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        *(unsigned long long *)arg = info->dlpi_adds;
    return 1; /* the count is the same in every entry: one is enough */
}

/* Called with resolve_lock held, or before any other thread can match. */
static void resolve(void)
{
    unsigned long long adds = 0;
    dl_iterate_phdr(read_adds, &adds);
    atomic_store(&seen_adds, adds);
    dl_iterate_phdr(on_object, NULL);
    unresolved = 0;
    for (uint32_t ci = 0; ci < nchains; ci++) {
        struct try_chain *c = &chains[ci];
        if (c->resolved)
            continue;
        int all = 1;
        for (uint32_t d = 0; d < c->depth; d++)
            all &= c->ip[d] != 0;
        if (all) {
            c->resolved = 1;
            hash_insert(ci);
        } else {
            unresolved++;
        }
    }
}

/* Some chains are not resolved yet and a module may have been loaded since (dlopen): resolve
 * them against it. The loader's lock is recursive, so this is safe even from a malloc that
 * dlopen itself makes. */
static void resolve_new_modules(void)
{
    unsigned long long adds = 0;
    dl_iterate_phdr(read_adds, &adds);
    if (adds == atomic_load_explicit(&seen_adds, memory_order_relaxed))
        return;
    pp_spin_lock(&resolve_lock);
    if (adds != atomic_load(&seen_adds))
        resolve();
    pp_spin_unlock(&resolve_lock);
}

/* ---- counts at exit ---- */

static void write_counts(void)
{
    char path[4096];
    if (pp_format(path, sizeof path, "%s.%u", out_prefix, (unsigned)getpid()) >= sizeof path - 1)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        pp_log("try: cannot write %s", path);
        return;
    }
    char line[256];
    size_t n = pp_format(line, sizeof line, "poolprobe-try-counts 1\nunresolved %u\n",
                         unresolved + too_many);
    ssize_t w = write(fd, line, n);
    for (unsigned i = 0; i < nsites && w >= 0; i++) {
        struct try_counts sum = {0};
        for (struct try_thread *t = atomic_load(&all_threads); t; t = t->next) {
            sum.matched += t->counts[i].matched;
            sum.hits += t->counts[i].hits;
            sum.misses += t->counts[i].misses;
            sum.drops += t->counts[i].drops;
            sum.overflows += t->counts[i].overflows;
        }
        n = pp_format(line, sizeof line, "site %u %llu %llu %llu %llu %llu\n", i,
                      (unsigned long long)sum.matched, (unsigned long long)sum.hits,
                      (unsigned long long)sum.misses, (unsigned long long)sum.drops,
                      (unsigned long long)sum.overflows);
        w = write(fd, line, n);
    }
    close(fd);
}

__attribute__((destructor)) static void on_exit_write(void)
{
    if (pp_try_on && out_prefix) {
        inside++;
        write_counts();
        inside--;
    }
}

/* No site lock may be held across fork (the child would wait for it forever). */
static void on_fork_prepare(void)
{
    for (unsigned i = 0; i < nsites; i++)
        pp_spin_lock(&sites[i].lock);
}

static void on_fork_parent(void)
{
    for (unsigned i = 0; i < nsites; i++)
        pp_spin_unlock(&sites[i].lock);
}

/* A forked child starts counting from zero (its parent reports what came before). */
static void on_fork_child(void)
{
    on_fork_parent();
    for (struct try_thread *t = atomic_load(&all_threads); t; t = t->next)
        memset(t->counts, 0, sizeof t->counts);
}

/* Modules mapped after the first malloc but before main (the rest of the preload and DT_NEEDED
 * set) get their chains resolved here. */
__attribute__((constructor)) static void on_load_resolve(void)
{
    if (pp_try_on && unresolved) {
        inside++;
        pp_spin_lock(&resolve_lock);
        resolve();
        pp_spin_unlock(&resolve_lock);
        inside--;
    }
}

int pp_try_init(void)
{
    /* malloc_usable_size is exported in every mode: it must know the real one. */
    real_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    const char *file = getenv("POOLPROBE_TRY");
    if (!file || !*file)
        return 0;
    out_prefix = getenv("POOLPROBE_TRY_OUT");
    inside++;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    char *buf = fd >= 0 ? pp_arena_map(TRY_FILE_MAX) : NULL;
    ssize_t len = 0, n = 0;
    while (buf && len < (ssize_t)TRY_FILE_MAX &&
           (n = read(fd, buf + len, TRY_FILE_MAX - (size_t)len)) > 0)
        len += n;
    if (fd >= 0)
        close(fd);
    chains = pp_arena_map(TRY_MAX_CHAINS * sizeof *chains);
    hash = pp_arena_map(TRY_HASH_SLOTS * sizeof *hash);
    if (!buf || n < 0 || !chains || !hash || !parse_targets(buf, (size_t)len)) {
        pp_log("try: POOLPROBE_TRY=%s is not a readable targets file; trying nothing", file);
        nsites = nchains = 0;
    }
    if (buf)
        pp_arena_unmap(buf, TRY_FILE_MAX);
    /* Reserve address space for the pool; only what is carved gets memory. */
    for (region_size = 64ull << 30; region_size >= (64ull << 20); region_size /= 4) {
        region = mmap(NULL, region_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region != MAP_FAILED)
            break;
    }
    if (region == MAP_FAILED) {
        region = NULL;
        region_size = 0;
    }
    if (deep_chains)
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    resolve();
    pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
    inside--;
    pp_try_on = 1;
    return 1;
}

/* ---- the hot path ---- */

static struct try_thread *thread_state(void)
{
    struct try_thread *t = self;
    if (PP_LIKELY(t))
        return t;
    t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return NULL;
    struct try_thread *head = atomic_load(&all_threads);
    do
        t->next = head;
    while (!atomic_compare_exchange_weak(&all_threads, &head, t));
    return self = t;
}

/* The caller's frames, unwound: return address and stack pointer of each (libunwind). */
struct unwound {
    int n, at; /* at: index of the frame whose return address is the hook's (-1: not found) */
    uintptr_t ip[TRY_MAX_DEPTH + TRY_OWN_FRAMES], sp[TRY_MAX_DEPTH + TRY_OWN_FRAMES];
};

static void unwind_caller(struct unwound *u, uintptr_t ret)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    u->n = 0;
    u->at = -1;
    if (unw_getcontext(&ctx) || unw_init_local(&cur, &ctx))
        return;
    int limit = (int)deep_chains + TRY_OWN_FRAMES;
    do {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        if (u->at < 0 && ip == ret)
            u->at = u->n;
        u->ip[u->n] = ip;
        u->sp[u->n] = sp;
        u->n++;
    } while (u->n < limit && unw_step(&cur) > 0);
}

/* Does the unwound stack continue as chain c? Learn on the way where c's return addresses lie:
 * on x86-64 frame d's return address is just below the stack pointer of the frame it returns
 * to, at a fixed distance from the hook's CFA as long as the frames below have a fixed size at
 * those call sites. So the slot of level d is known once levels 1..d-1 matched once, and a
 * call that differs at a known level is rejected by one load, without unwinding. Each learned
 * slot is checked against the stack before it is kept. */
static int unwound_is(struct try_chain *c, const struct unwound *u, uintptr_t cfa)
{
    if (u->at < 0)
        return 0;
    int known = atomic_load_explicit(&c->known, memory_order_acquire);
    int learn = u->sp[u->at] == cfa;
    uint32_t d = 1;
    for (; d < c->depth && u->at + (int)d < u->n; d++) {
        if (learn && (int)d >= known) {
            intptr_t off = (intptr_t)(u->sp[u->at + (int)d] - 8 - cfa);
            if (off <= 0 || off >= (1 << 20) ||
                *(const uintptr_t *)(cfa + (uintptr_t)off) != u->ip[u->at + (int)d]) {
                learn = 0;
            } else {
                c->slot[d] = (int32_t)off;
                int want = (int)d + 1;
                while (known < want && !atomic_compare_exchange_weak_explicit(
                                           &c->known, &known, want, memory_order_release,
                                           memory_order_acquire))
                    ;
            }
        }
        if (u->ip[u->at + (int)d] != c->ip[d])
            return 0;
    }
    return d == c->depth;
}

/* The chains of hash slot h: which one this call is. Out of line: its stack (the unwinding
 * state) stays off the path of allocations that are no target's. */
__attribute__((noinline)) static int match_chains(uint32_t h, uintptr_t ret, uintptr_t cfa)
{
    struct unwound u;
    u.n = -1;
    for (uint32_t ci = hash[h].chain; ci; ci = chains[ci - 1].next) {
        struct try_chain *c = &chains[ci - 1];
        if (c->depth == 1)
            return (int)c->site;
        /* Compare the levels whose slots are known; unwind only past them. Each slot is read
         * only once the levels below it matched, so it lies in a frame that exists. */
        int known = atomic_load_explicit(&c->known, memory_order_acquire);
        uint32_t d = 1;
        while ((int)d < known && d < c->depth &&
               *(const uintptr_t *)(cfa + (uintptr_t)c->slot[d]) == c->ip[d])
            d++;
        if (d == c->depth)
            return (int)c->site;
        if ((int)d < known)
            continue; /* another call path. (Or a frame below of variable size, alloca: then
                         the call is not matched, in both arms alike; rare between malloc and
                         a site, and visible in the counts.) */
        if (u.n < 0)
            unwind_caller(&u, ret);
        if (unwound_is(c, &u, cfa))
            return (int)c->site;
    }
    return -1;
}

/* The site the allocation at ret (hook CFA cfa) belongs to, or -1. One hash probe when ret is
 * no target's; a few loads for a chain deeper than one frame once its slots are learned. */
static int match(uintptr_t ret, uintptr_t cfa)
{
    uint32_t h = hash_index(ret);
    uintptr_t cur;
    while ((cur = atomic_load_explicit(&hash[h].ret, memory_order_acquire)) != ret) {
        if (PP_LIKELY(cur == 0))
            return -1;
        h = (h + 1) & (TRY_HASH_SLOTS - 1);
    }
    return match_chains(h, ret, cfa);
}

static int pooled(const void *p)
{
    return (uintptr_t)p - (uintptr_t)region < region_size;
}

static unsigned char *header_of(const void *p)
{
    return (unsigned char *)p - TRY_HEADER;
}

static void push(struct free_list *l, void *user)
{
    struct try_block *b = user;
    b->next = l->head;
    l->head = b;
    l->count++;
}

static void *pop(struct free_list *l)
{
    struct try_block *b = l->head;
    if (b) {
        l->head = b->next;
        l->count--;
    }
    return b;
}

/* A new block of class tier for site si: from the reserve, else carved. NULL when the region
 * is used up. */
static void *new_block(struct try_site *s, uint32_t si, uint32_t tier)
{
    pp_spin_lock(&s->lock);
    void *user = pop(&s->reserve[tier]);
    pp_spin_unlock(&s->lock);
    if (!user) {
        size_t need = TRY_HEADER + s->tier_bytes[tier];
        size_t at = atomic_fetch_add_explicit(&region_used, need, memory_order_relaxed);
        if (at + need > region_size)
            return NULL;
        user = region + at + TRY_HEADER;
    }
    uint32_t tag[2] = {si, tier};
    memcpy(header_of(user), tag, sizeof tag);
    return user;
}

/* Serve size bytes at pool site si; NULL when the real allocator must (above the largest
 * class, or no memory left for the pool). */
static void *pool_alloc(struct try_thread *t, uint32_t si, size_t size)
{
    struct try_site *s = &sites[si];
    uint32_t tier = 0;
    while (tier < s->ntiers && s->tier_bytes[tier] < size)
        tier++;
    if (tier == s->ntiers) {
        t->counts[si].drops++;
        return NULL;
    }
    void *user;
    if (s->kind == TRY_PER_THREAD) {
        user = pop(&t->lists[si][tier]);
    } else {
        pp_spin_lock(&s->lock);
        user = pop(&s->shared[tier]);
        pp_spin_unlock(&s->lock);
    }
    if (user) {
        t->counts[si].hits++;
        return user;
    }
    t->counts[si].misses++;
    return new_block(s, si, tier);
}

/* What the hooks' malloc and calloc share: the site's block, or NULL for the real allocator. */
static void *served(size_t size, uintptr_t ret, uintptr_t cfa, size_t *presize)
{
    *presize = 0;
    if (inside || nchains == 0)
        return NULL;
    inside++;
    void *user = NULL;
    int si = match(ret, cfa);
    /* Every 256th allocation from elsewhere, while some chains wait for their module. */
    if (si < 0 && PP_UNLIKELY(unresolved) && (++since_resolve & 255) == 0)
        resolve_new_modules();
    struct try_thread *t = si >= 0 ? thread_state() : NULL;
    if (t) {
        t->counts[si].matched++;
        const struct try_site *s = &sites[si];
        if (s->mode == TRY_POOL && size) {
            user = pool_alloc(t, (uint32_t)si, size);
        } else if (s->mode == TRY_PRESIZE) {
            if (size < s->presize_bytes) {
                t->counts[si].hits++;
                *presize = s->presize_bytes;
            } else {
                t->counts[si].misses++;
            }
        }
    }
    inside--;
    return user;
}

void *pp_try_malloc(size_t size, uintptr_t ret, uintptr_t cfa)
{
    size_t presize;
    void *user = served(size, ret, cfa, &presize);
    if (user)
        return user;
    return pp_real.malloc(presize ? presize : size);
}

void *pp_try_calloc(size_t n, size_t size, uintptr_t ret, uintptr_t cfa)
{
    size_t total, presize;
    if (__builtin_mul_overflow(n, size, &total))
        return pp_real.calloc(n, size); /* fails as the real calloc does */
    void *user = served(total, ret, cfa, &presize);
    if (user)
        return memset(user, 0, total);
    return presize ? pp_real.calloc(1, presize) : pp_real.calloc(n, size);
}

int pp_try_free(void *p)
{
    if (PP_LIKELY(!pooled(p)))
        return 0;
    uint32_t tag[2];
    memcpy(tag, header_of(p), sizeof tag);
    struct try_site *s = &sites[tag[0]];
    uint32_t tier = tag[1];
    struct try_thread *t = thread_state();
    if (t && s->kind == TRY_PER_THREAD && t->lists[tag[0]][tier].count < s->capacity) {
        push(&t->lists[tag[0]][tier], p);
        return 1;
    }
    pp_spin_lock(&s->lock);
    if (s->kind == TRY_SHARED && s->shared[tier].count < s->capacity) {
        push(&s->shared[tier], p);
    } else {
        push(&s->reserve[tier], p);
        if (t)
            t->counts[tag[0]].overflows++;
    }
    pp_spin_unlock(&s->lock);
    return 1;
}

size_t pp_try_usable_size(const void *p)
{
    if (!pooled(p))
        return real_usable_size ? real_usable_size((void *)p) : 0;
    uint32_t tag[2];
    memcpy(tag, header_of(p), sizeof tag);
    return sites[tag[0]].tier_bytes[tag[1]];
}

void *pp_try_realloc(void *p, size_t size, uintptr_t ret, uintptr_t cfa)
{
    if (!p)
        return pp_try_malloc(size, ret, cfa);
    if (!pooled(p))
        return pp_real.realloc(p, size);
    if (size == 0) { /* glibc frees and returns NULL */
        pp_try_free(p);
        return NULL;
    }
    size_t room = pp_try_usable_size(p);
    if (size <= room)
        return p;
    void *q = pp_real.malloc(size); /* sets errno as the real realloc would */
    if (!q)
        return NULL;
    memcpy(q, p, room);
    pp_try_free(p);
    return q;
}
