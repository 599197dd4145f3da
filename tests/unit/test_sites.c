/* test_sites.c — grouping into sites with real symbolization: this test program records return
 * addresses of its own functions, describes itself as the traced module, and checks the keys,
 * the allocator/wrapper skipping, --group-by stack, and the pieces (glob, allocator frames,
 * human units) on their own. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "numfmt.h"
#include "report_text.h"
#include "sites.h"
#include "symbolize.h"
#include "trace_reader.h"

#define NOINLINE __attribute__((noinline, noclone))

/* Returns its own return address, like the shim's ip[0]. */
NOINLINE static uint64_t here(void)
{
    uint64_t ip = (uint64_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return ip;
}

static uint64_t ips[8];

NOINLINE void site_a(void);
NOINLINE void site_a(void)
{
    ips[0] = here();
    __asm__ volatile("" ::: "memory");
    ips[1] = here();
    __asm__ volatile("" ::: "memory");
}

/* A wrapper the default list knows, and its caller. */
NOINLINE void *xmalloc(size_t n);
NOINLINE void *xmalloc(size_t n)
{
    ips[2] = here();
    ips[3] = (uint64_t)__builtin_return_address(0); /* in uses_xmalloc */
    __asm__ volatile("" ::: "memory");
    return (void *)n;
}

NOINLINE void uses_xmalloc(void);
NOINLINE void uses_xmalloc(void)
{
    ips[4] = (uint64_t)__builtin_return_address(0); /* in uses_xmalloc_ip */
    void *p = xmalloc(1);
    __asm__ volatile("" : : "r"(p) : "memory");
}

NOINLINE static uint64_t uses_xmalloc_ip(void)
{
    uses_xmalloc();
    __asm__ volatile("" ::: "memory");
    return 0;
}

/* Wrappers found from the stacks: my_alloc (three callers, sizes their own: a wrapper),
 * node_new (three callers, always 48 bytes: a constructor, a site), scratch (three callers with
 * their own sizes, but it frees its blocks itself: a site). Each records [ip inside it, return
 * address in its caller]. */
static uint64_t wrap_ips[9][2];

#define RECORDING_HELPER(name, slot0)                                                            \
    NOINLINE void name(int which);                                                               \
    NOINLINE void name(int which)                                                                \
    {                                                                                            \
        wrap_ips[(slot0) + which][0] = here();                                                   \
        wrap_ips[(slot0) + which][1] = (uint64_t)__builtin_return_address(0);                    \
        __asm__ volatile("" ::: "memory");                                                       \
    }
RECORDING_HELPER(my_alloc, 0)
RECORDING_HELPER(node_new, 3)
RECORDING_HELPER(scratch, 6)

NOINLINE void caller_a(void);
NOINLINE void caller_a(void)
{
    my_alloc(0);
    node_new(0);
    scratch(0);
    __asm__ volatile("" ::: "memory");
}
NOINLINE void caller_b(void);
NOINLINE void caller_b(void)
{
    my_alloc(1);
    node_new(1);
    scratch(1);
    __asm__ volatile("" ::: "memory");
}
NOINLINE void caller_c(void);
NOINLINE void caller_c(void)
{
    my_alloc(2);
    node_new(2);
    scratch(2);
    __asm__ volatile("" ::: "memory");
}

struct self {
    uint64_t bias, lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self *s = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program has an empty name */
    s->bias = info->dlpi_addr;
    s->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo < s->lo)
            s->lo = lo;
        if (hi > s->hi)
            s->hi = hi;
    }
    return 1;
}

/* A trace (built directly in memory) with one module, this program, and the given stacks. */
struct fake {
    struct pp_trace trace;
    struct pp_trace_module module;
    struct pp_trace_stack stacks[16];
    struct pp_trace_stats stats[16];
    char path[4096];
    char *argv[1];
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof *f);
    struct self s = {0};
    dl_iterate_phdr(find_self, &s);
    ssize_t n = readlink("/proc/self/exe", f->path, sizeof f->path - 1);
    f->path[n > 0 ? n : 0] = '\0';
    f->module = (struct pp_trace_module){s.bias, s.lo, s.hi, f->path, (unsigned char *)"", 0};
    f->trace.major = 1;
    f->trace.process.pid = 1;
    f->trace.process.duration_ns = 1000000000;
    f->trace.process.sample_every = 1;
    f->argv[0] = f->path;
    f->trace.process.argc = 1;
    f->trace.process.argv = f->argv;
    f->trace.process.exe = f->path;
    f->trace.nmodules = 1;
    f->trace.modules = &f->module;
    f->trace.stacks = f->stacks;
    f->trace.stats = f->stats;
}

static void fake_add(struct fake *f, uint64_t *frames, uint16_t depth, uint64_t allocs,
                     uint64_t size)
{
    uint32_t id = f->trace.nstacks++;
    f->stacks[id] = (struct pp_trace_stack){depth, 0, frames};
    struct pp_trace_stats *s = &f->stats[f->trace.nstats++];
    memset(s, 0, sizeof *s);
    s->stack_id = id;
    s->allocs = allocs;
    s->frees = allocs;
    s->alloc_bytes = allocs * size;
    s->min_size = s->max_size = size;
    s->peak_live = 1;
    f->trace.totals.allocs += allocs;
}

static const struct pp_site *find_site(const struct pp_report *r, const char *key)
{
    for (size_t i = 0; i < r->nsites; i++)
        if (strcmp(r->sites[i].key, key) == 0)
            return &r->sites[i];
    return NULL;
}

static void test_grouping(void)
{
    site_a();
    uses_xmalloc_ip();
    struct fake f;
    fake_init(&f);
    uint64_t s0[] = {ips[0]}, s1[] = {ips[1]}, s2[] = {ips[2], ips[3], ips[4]}, s3[] = {ips[1]};
    fake_add(&f, s0, 1, 10, 32);
    fake_add(&f, s1, 1, 20, 64);
    fake_add(&f, s2, 3, 5, 1);
    /* s3: a second stack with the same allocation frame as s1 (same ip) merges into it. */
    fake_add(&f, s3, 1, 1, 64);

    struct pp_symbolizer *sym = pp_symbolizer_new(stderr);
    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_report r;
    const struct pp_trace *traces[1] = {&f.trace};
    char err[256];
    CHECK(pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err) == 0, "report builds");
    CHECK_U64(r.nsites, 3, "three sites: two lines of site_a, and xmalloc's caller");
    const struct pp_site *a1 = find_site(&r, "site_a"), *a2 = find_site(&r, "site_a#2");
    CHECK(a1 && a2, "one function, two lines: keys site_a and site_a#2");
    if (a1 && a2) {
        CHECK(a1->frames[0].line < a2->frames[0].line,
              "ordinals follow line order (%u < %u)", a1->frames[0].line, a2->frames[0].line);
        CHECK(a1->allocs == 10 && a2->allocs == 21 && a2->nstacks == 2,
              "stacks with the same allocation frame merge (21 allocs from 2 stacks)");
        CHECK(strstr(a1->frames[0].file, "test_sites.c") != NULL, "file from DWARF (%s)",
              a1->frames[0].file);
    }
    CHECK(r.nsites > 0 && strcmp(r.sites[0].key, "site_a#2") == 0, "sorted by allocs");
    const struct pp_site *x = find_site(&r, "uses_xmalloc");
    CHECK(x && x->allocs == 5, "xmalloc skipped: the site is its caller uses_xmalloc");
    pp_report_free(&r);

    opt.default_wrappers = false;
    pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err);
    CHECK(find_site(&r, "xmalloc") != NULL, "--no-default-wrappers: xmalloc is a site");
    pp_report_free(&r);

    const char *extra[] = {"uses_*"};
    opt.wrappers = extra;
    opt.nwrappers = 1;
    pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err);
    CHECK(find_site(&r, "xmalloc") != NULL,
          "a wrapper pattern only skips a leading run of frames");
    pp_report_free(&r);

    opt = (struct pp_group_options){.group_by = PP_GROUP_BY_STACK, .default_wrappers = true};
    pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err);
    const struct pp_site *chain = NULL;
    for (size_t i = 0; i < r.nsites; i++)
        if (strncmp(r.sites[i].key, "uses_xmalloc<", 13) == 0)
            chain = &r.sites[i];
    CHECK(chain != NULL, "--group-by stack: key is the function chain (%s)",
          chain ? chain->key : "none");
    /* One-frame stacks: the same two keys as by site, ordinals in line order, and the two
     * stacks with one return address one group (groups are found by their frames' ids). */
    a1 = find_site(&r, "site_a");
    a2 = find_site(&r, "site_a#2");
    CHECK(a1 && a2 && a1->frames[0].line < a2->frames[0].line,
          "--group-by stack: site_a and site_a#2 in line order");
    CHECK(a2 && a2->allocs == 21 && a2->nstacks == 2,
          "--group-by stack: two stacks of one return address are one group");
    CHECK(a1 && a2 && a1->frames[0].id && a2->frames[0].id &&
              a1->frames[0].id != a2->frames[0].id,
          "two return addresses, two frame ids");
    pp_report_free(&r);

    const struct pp_frame *first, *again;
    pp_symbolize(sym, 0, ips[0], &first);
    uint32_t id = first->id;
    pp_symbolize(sym, 0, ips[0], &again);
    CHECK(id != 0 && again->id == id, "one address, one frame id (%u, %u)", id, again->id);
    pp_symbolizer_free(sym);
}

static const struct pp_wrapper *find_wrapper(const struct pp_report *r, const char *name)
{
    for (size_t i = 0; i < r->wrappers.n; i++)
        if (strcmp(r->wrappers.items[i].name, name) == 0)
            return &r->wrappers.items[i];
    return NULL;
}

static void test_auto_wrappers(void)
{
    caller_a();
    caller_b();
    caller_c();
    struct fake f;
    fake_init(&f);
    static const uint64_t sizes[3] = {16, 200, 4096};
    static struct pp_trace_free_caller self_free[3];
    for (int i = 0; i < 9; i++) {
        fake_add(&f, wrap_ips[i], 2, 10 + (uint64_t)i, i < 3 || i >= 6 ? sizes[i % 3] : 48);
        if (i >= 6) { /* scratch frees its own blocks */
            self_free[i - 6] = (struct pp_trace_free_caller){wrap_ips[i][0], 10 + (uint64_t)i};
            f.stats[i].nfree_callers = 1;
            f.stats[i].free_callers = &self_free[i - 6];
        }
    }
    struct pp_symbolizer *sym = pp_symbolizer_new(stderr);
    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_report r;
    const struct pp_trace *traces[1] = {&f.trace};
    char err[256];
    CHECK(pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err) == 0, "report builds");
    CHECK(find_site(&r, "my_alloc") == NULL, "my_alloc (3 callers, their own sizes) is no site");
    const struct pp_wrapper *w = find_wrapper(&r, "my_alloc");
    CHECK(w && w->origin == PP_WRAPPER_AUTO && w->callers == 3 && w->allocs == 10 + 11 + 12,
          "my_alloc listed as an auto wrapper: 3 call sites, 33 allocations");
    /* caller_a's site holds my_alloc's 10 allocations; its node_new and scratch are elsewhere */
    const struct pp_site *a = find_site(&r, "caller_a");
    CHECK(a && a->allocs == 10 && a->min_size == 16, "caller_a is the site of its my_alloc call");
    const struct pp_site *c = find_site(&r, "caller_c");
    CHECK(c && c->allocs == 12 && c->max_size == 4096, "caller_c likewise (12 x 4096 B)");
    const struct pp_site *node = find_site(&r, "node_new");
    CHECK(node && node->allocs == 13 + 14 + 15, "node_new (always 48 B) stays one site of 42");
    const struct pp_site *scr = find_site(&r, "scratch");
    CHECK(scr && scr->allocs == 16 + 17 + 18, "scratch (frees its own blocks) stays a site");
    CHECK(r.wrappers.n == 1, "one wrapper found (%zu)", r.wrappers.n);
    pp_report_free(&r);

    opt.no_auto_wrappers = true;
    pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err);
    CHECK(find_site(&r, "my_alloc") && r.wrappers.n == 0,
          "--no-auto-wrappers: my_alloc is a site and no wrapper is listed");
    pp_report_free(&r);

    const char *given[] = {"node_*", "no_such_function"};
    opt.wrappers = given;
    opt.nwrappers = 2;
    pp_report_build(&r, traces, 1, sym, &opt, err, sizeof err);
    CHECK(find_site(&r, "node_new") == NULL && find_site(&r, "caller_b"),
          "-w node_*: node_new's callers are the sites");
    CHECK(r.pattern_matched[0] && !r.pattern_matched[1],
          "the pattern that matched is told from the one that did not");
    w = find_wrapper(&r, "node_new");
    CHECK(w && w->origin == PP_WRAPPER_GIVEN && w->allocs == 42, "node_new listed as given");
    pp_report_free(&r);
    pp_symbolizer_free(sym);
}

static void test_missing_module(void)
{
    struct fake f;
    fake_init(&f);
    f.module.path = "/nonexistent/app";
    uint64_t s0[] = {f.module.lo + 0x101};
    fake_add(&f, s0, 1, 3, 8);
    FILE *warnings = tmpfile();
    struct pp_symbolizer *sym = pp_symbolizer_new(warnings);
    struct pp_group_options opt = {.group_by = PP_GROUP_BY_SITE, .default_wrappers = true};
    struct pp_report r;
    const struct pp_trace *traces[2] = {&f.trace, &f.trace};
    char err[256], expect[64], text[512] = "";
    pp_report_build(&r, traces, 2, sym, &opt, err, sizeof err);
    snprintf(expect, sizeof expect, "app+0x%" PRIx64, f.module.lo + 0x100 - f.module.load_bias);
    CHECK(r.nsites == 1 && strcmp(r.sites[0].key, expect) == 0,
          "missing module: key %s; two traces merge into one site", expect);
    CHECK(r.nsites == 1 && r.sites[0].allocs == 6 && r.sites[0].peak_live == 2,
          "merged counts add; peak_live is the sum of peaks");
    rewind(warnings);
    size_t n = fread(text, 1, sizeof text - 1, warnings);
    text[n] = '\0';
    const char *first = strstr(text, "warning: /nonexistent/app: cannot open");
    CHECK(first && !strstr(first + 1, "warning:"), "exactly one warning for the missing module: %.*s",
          (int)(n ? n - 1 : 0), text);
    fclose(warnings);
    pp_report_free(&r);
    pp_symbolizer_free(sym);
}

static void test_pieces(void)
{
    CHECK(pp_glob_match("g_*", "g_malloc") && !pp_glob_match("g_*", "xg_malloc") &&
              pp_glob_match("*alloc*", "my_alloc_fn") && pp_glob_match("a*b*c", "aXbYbc") &&
              !pp_glob_match("abc", "ab") && pp_glob_match("*", ""),
          "glob matching");
    struct pp_group_options opt = {.default_wrappers = true};
    struct pp_frame f = {.function = "operator new(unsigned long)", .symbol = "_Znwm"};
    CHECK(pp_is_allocator_frame(&f, &opt), "operator new is the allocator");
    f = (struct pp_frame){.symbol = "_ZnwmSt11align_val_tRKSt9nothrow_t"};
    CHECK(pp_is_allocator_frame(&f, &opt), "aligned nothrow operator new is the allocator");
    f = (struct pp_frame){.function = "__strdup", .symbol = "strdup"};
    CHECK(pp_is_allocator_frame(&f, &opt), "strdup is skipped");
    f = (struct pp_frame){.function = "std::__new_allocator<int>::allocate(unsigned long, void const*)"};
    CHECK(pp_is_allocator_frame(&f, &opt), "std::__new_allocator<T>::allocate(...) is skipped");
    f = (struct pp_frame){.function = "render_buf"};
    CHECK(!pp_is_allocator_frame(&f, &opt), "render_buf is a site");
    f = (struct pp_frame){.function = "fopen"};
    CHECK(!pp_is_allocator_frame(&f, &opt), "fopen is a site (documented judgment)");
    f = (struct pp_frame){.module = "/usr/lib/libpoolprobe.so", .function = "anything"};
    CHECK(pp_is_allocator_frame(&f, &opt), "the shim's own frames are skipped");
    f = (struct pp_frame){.function = "void std::vector<int, std::allocator<int> >::"
                                      "_M_realloc_insert<int const&>(int const&)"};
    CHECK(pp_is_allocator_frame(&f, &opt), "std:: code (behind a return type) is skipped");
    const char *stripped[] = {"libsqlite3.so.0+0xa7503"};
    opt.wrappers = stripped;
    opt.nwrappers = 1;
    f = (struct pp_frame){.module = "/usr/lib/libsqlite3.so.0", .offset = 0xa7503};
    CHECK(pp_is_allocator_frame(&f, &opt), "-w takes module+0xoffset as the report prints it");
    f.offset = 0xa7504;
    CHECK(!pp_is_allocator_frame(&f, &opt), "... and only that address");
    opt.nwrappers = 0;

    f = (struct pp_frame){.module = "/lib/x86_64-linux-gnu/libc.so.6", .function = "_IO_file_doallocate"};
    CHECK(pp_runtime_module(&f) && !pp_runtime_returns_to_caller(&f), "stdio's buffer: runtime");
    f.function = "getdelim";
    CHECK(pp_runtime_returns_to_caller(&f), "getdelim allocates for its caller");
    f = (struct pp_frame){.module = "/usr/bin/jq", .function = "main"};
    CHECK(!pp_runtime_module(&f), "a program's own module is not runtime");
    f = (struct pp_frame){.module = "/usr/bin/python3.11", .function = "_PyObject_Malloc"};
    CHECK(pp_pooling_runtime_of(&f) && strstr(pp_pooling_runtime_of(&f)->how, "PYTHONMALLOC=malloc"),
          "pymalloc recognised, with the variable that routes objects to malloc");

    char b[16];
    CHECK(strcmp(pp_human_bytes(b, sizeof b, 4096), "4.0K") == 0, "4096 bytes: 4.0K");
    CHECK(strcmp(pp_human_bytes(b, sizeof b, 1023), "1023") == 0, "1023 bytes: 1023");
    CHECK(strcmp(pp_human_bytes(b, sizeof b, 1258291), "1.2M") == 0, "1.2M");
    CHECK(strcmp(pp_human_bytes(b, sizeof b, 50 * 1024), "50K") == 0, "50K");
    CHECK(strcmp(pp_human_ns(b, sizeof b, 350), "350ns") == 0, "350ns");
    CHECK(strcmp(pp_human_ns(b, sizeof b, 12000), "12us") == 0, "12us");
    CHECK(strcmp(pp_human_ns(b, sizeof b, 3400000), "3.4ms") == 0, "3.4ms");
    CHECK(strcmp(pp_human_count(b, sizeof b, 1234), "1.2K") == 0, "1234/s: 1.2K");
}

static void test_cxx(void)
{
    struct pp_frame frames[3] = {
        {.function = "std::__new_allocator<Point>::allocate(unsigned long, void const*)"},
        {.function = "void std::vector<Point, std::allocator<Point> >::_M_realloc_insert<Point>("
                     "__gnu_cxx::__normal_iterator<Point*, std::vector<Point, "
                     "std::allocator<Point> > >, Point&&)"},
        {.function = "fill_points(unsigned int)"},
    };
    struct pp_cxx_container c;
    pp_cxx_recognise(frames, 2, &c);
    CHECK(c.kind == PP_CXX_VECTOR && strcmp(c.container, "std::vector<Point>") == 0 &&
              strcmp(c.element, "Point") == 0,
          "vector growth: %s of %s", c.container, c.element);
    char advice[512];
    CHECK(pp_cxx_advice(&c, 16, 16, 16384, advice, sizeof advice) == 1024 &&
              strstr(advice, "reserve(1024)"),
          "reserve(N) with N = largest block / element size: %s", advice);
    struct pp_cxx_container ptrs = {PP_CXX_VECTOR, "std::vector<Token const*>", "Token const*"};
    CHECK(pp_cxx_advice(&ptrs, 16, 16, 256, advice, sizeof advice) == 32,
          "a vector of pointers has 8-byte elements whatever the sizes' divisor: %s", advice);
    CHECK(pp_cxx_advice(&c, 8, 8, 8, advice, sizeof advice) == 0 &&
              strstr(advice, "does not grow: reuse one"),
          "one size only: no growth, reuse the vector: %s", advice);
    frames[1].function = "std::__detail::_Hashtable_alloc<std::allocator<std::__detail::_Hash_node<"
                         "std::pair<int const, long>, false> > >::_M_allocate_node<>()";
    frames[2].function = "std::__detail::_Map_base<int, std::pair<int const, long>, "
                         "std::allocator<std::pair<int const, long> > >::operator[](int&&)";
    pp_cxx_recognise(frames, 3, &c);
    CHECK(c.kind == PP_CXX_NODE && strcmp(c.container, "std::unordered_map<int, long>") == 0,
          "unordered_map node, named from an outer frame: %s", c.container);
    frames[1].function = "std::__cxx11::basic_string<char, std::char_traits<char>, "
                         "std::allocator<char> >::_M_mutate(unsigned long, unsigned long, char "
                         "const*, unsigned long)";
    pp_cxx_recognise(frames, 2, &c);
    CHECK(c.kind == PP_CXX_STRING && strcmp(c.container, "std::string") == 0, "string growth");
    frames[1].function = "std::__cxx11::basic_string<char, std::char_traits<char>, "
                         "std::allocator<char> >::_M_create(unsigned long&, unsigned long)";
    frames[2].function = "void std::__cxx11::basic_string<char, std::char_traits<char>, "
                         "std::allocator<char> >::_M_construct<char const*>(char const*, char "
                         "const*, std::forward_iterator_tag)";
    pp_cxx_recognise(frames, 3, &c);
    CHECK(c.kind == PP_CXX_NONE, "a string constructed (_M_create from _M_construct) is no growth");
    frames[1].function = "operator new(unsigned long)";
    pp_cxx_recognise(frames, 2, &c);
    CHECK(c.kind == PP_CXX_NONE, "plain new: no container");
}

int main(void)
{
    test_grouping();
    test_auto_wrappers();
    test_cxx();
    test_missing_module();
    test_pieces();
    return check_summary();
}
