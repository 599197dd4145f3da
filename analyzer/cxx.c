/* cxx.c — libstdc++ growth paths recognised from demangled frames (see cxx.h). */
#include "cxx.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

/* One recognisable function: the class template it belongs to and a member name. */
struct growth_rule {
    const char *class_prefix; /* qualified name starts with this */
    const char *member;       /* "::member" follows the class's template arguments */
    enum pp_cxx_kind kind;
};

static const struct growth_rule rules[] = {
    {"std::vector<", "_M_realloc_insert", PP_CXX_VECTOR},
    {"std::vector<", "_M_realloc_append", PP_CXX_VECTOR},
    {"std::vector<", "_M_default_append", PP_CXX_VECTOR},
    {"std::vector<", "_M_fill_insert", PP_CXX_VECTOR},
    {"std::vector<", "_M_range_insert", PP_CXX_VECTOR},
    {"std::vector<", "reserve", PP_CXX_VECTOR},
    {"std::__cxx11::basic_string<", "_M_mutate", PP_CXX_STRING},
    {"std::__cxx11::basic_string<", "_M_create", PP_CXX_STRING},
    {"std::__cxx11::basic_string<", "_M_append", PP_CXX_STRING},
    {"std::__cxx11::basic_string<", "_M_replace", PP_CXX_STRING},
    {"std::__cxx11::basic_string<", "reserve", PP_CXX_STRING},
    {"std::basic_string<", "_M_mutate", PP_CXX_STRING},
    {"std::basic_string<", "reserve", PP_CXX_STRING},
    {"std::deque<", "_M_reallocate_map", PP_CXX_DEQUE},
    {"std::deque<", "_M_push_back_aux", PP_CXX_DEQUE},
    {"std::deque<", "_M_push_front_aux", PP_CXX_DEQUE},
    {"std::_Deque_base<", "_M_allocate_node", PP_CXX_DEQUE},
    {"std::_Deque_base<", "_M_initialize_map", PP_CXX_DEQUE},
    {"std::_Hashtable<", "_M_rehash", PP_CXX_HASH_BUCKETS},
    {"std::_Hashtable<", "_M_allocate_buckets", PP_CXX_HASH_BUCKETS},
    {"std::__detail::_Hashtable_alloc<", "_M_allocate_buckets", PP_CXX_HASH_BUCKETS},
    {"std::__detail::_Hashtable_alloc<", "_M_allocate_node", PP_CXX_NODE},
    {"std::_Rb_tree<", "_M_get_node", PP_CXX_NODE},
    {"std::_Rb_tree<", "_M_create_node", PP_CXX_NODE},
    {"std::__cxx11::_List_base<", "_M_get_node", PP_CXX_NODE},
    {"std::__cxx11::list<", "_M_create_node", PP_CXX_NODE},
    {"std::__cxx11::basic_stringbuf<", "overflow", PP_CXX_STRINGBUF},
    {"std::basic_stringbuf<", "overflow", PP_CXX_STRINGBUF},
    {"std::_Sp_counted_ptr_inplace<", "", PP_CXX_SHARED},
    {"std::__allocated_ptr<", "", PP_CXX_SHARED},
    {"std::__shared_count<", "_Sp_alloc_shared_tag", PP_CXX_SHARED},
};

const char *pp_cxx_kind_name(enum pp_cxx_kind kind)
{
    static const char *const names[] = {
        [PP_CXX_NONE] = "none",       [PP_CXX_VECTOR] = "vector",
        [PP_CXX_STRING] = "string",   [PP_CXX_DEQUE] = "deque",
        [PP_CXX_HASH_BUCKETS] = "hash-buckets", [PP_CXX_NODE] = "node",
        [PP_CXX_STRINGBUF] = "stringbuf", [PP_CXX_SHARED] = "shared",
    };
    return names[kind];
}

/* End of the template argument list that opens at s[open] ('<'): index of its '>'. */
static size_t close_angle(const char *s, size_t open)
{
    int depth = 0;
    for (size_t i = open; s[i]; i++) {
        if (s[i] == '<')
            depth++;
        else if (s[i] == '>' && --depth == 0)
            return i;
    }
    return strlen(s);
}

/* The i-th template argument (0-based) of the list opening at s[open], copied into out. */
static bool template_arg(const char *s, size_t open, unsigned which, char *out, size_t len)
{
    int depth = 0;
    unsigned arg = 0;
    size_t start = open + 1;
    for (size_t i = open; s[i]; i++) {
        char c = s[i];
        if (c == '<' || c == '(') {
            depth++;
        } else if (c == '>' || c == ')') {
            if (--depth == 0 && arg == which)
                goto found;
        } else if (c == ',' && depth == 1) {
            if (arg == which)
                goto found;
            arg++;
            start = i + 2; /* the demangler writes ", " */
        }
        continue;
    found:
        if (i <= start) {
            out[0] = '\0';
            return false;
        }
        size_t n = i - start;
        while (n > 0 && s[start + n - 1] == ' ')
            n--; /* "Foo> >" style */
        snprintf(out, len, "%.*s", (int)n, s + start);
        return true;
    }
    out[0] = '\0';
    return false;
}

/* The class template's arguments as the user wrote them: container and element. */
static void name_container(const char *q, const struct growth_rule *r, struct pp_cxx_container *c)
{
    size_t open = strlen(r->class_prefix) - 1;
    char first[120] = "", second[160] = "";
    template_arg(q, open, 0, first, sizeof first);
    template_arg(q, open, 1, second, sizeof second);
    const char *cls = r->class_prefix;
    switch (r->kind) {
    case PP_CXX_VECTOR:
    case PP_CXX_DEQUE:
        snprintf(c->element, sizeof c->element, "%s", first);
        snprintf(c->container, sizeof c->container, "std::%s<%s>",
                 r->kind == PP_CXX_VECTOR ? "vector" : "deque", first);
        break;
    case PP_CXX_STRING:
    case PP_CXX_STRINGBUF:
        snprintf(c->element, sizeof c->element, "%s", first);
        if (r->kind == PP_CXX_STRINGBUF)
            snprintf(c->container, sizeof c->container, "std::%sostringstream",
                     strcmp(first, "wchar_t") == 0 ? "w" : "");
        else if (strcmp(first, "char") == 0 || strcmp(first, "wchar_t") == 0)
            snprintf(c->container, sizeof c->container, "std::%sstring",
                     first[0] == 'w' ? "w" : "");
        else
            snprintf(c->container, sizeof c->container, "std::basic_string<%s>", first);
        break;
    case PP_CXX_HASH_BUCKETS:
    case PP_CXX_NODE:
        if (strncmp(cls, "std::_Hashtable<", 16) == 0 || strncmp(cls, "std::_Rb_tree<", 14) == 0) {
            const char *family = cls[6] == 'H' ? "unordered_" : "";
            if (strncmp(second, "std::pair<", 10) == 0) {
                char mapped[120];
                template_arg(second, 9, 1, mapped, sizeof mapped);
                snprintf(c->container, sizeof c->container, "std::%smap<%s, %s>", family, first,
                         mapped);
            } else {
                snprintf(c->container, sizeof c->container, "std::%sset<%s>", family, first);
            }
            snprintf(c->element, sizeof c->element, "%s", first);
        } else if (strstr(cls, "_List_base<") || strstr(cls, "list<")) {
            snprintf(c->container, sizeof c->container, "std::list<%s>", first);
            snprintf(c->element, sizeof c->element, "%s", first);
        }
        break;
    case PP_CXX_SHARED:
        if (strncmp(cls, "std::__shared_count<", 20) != 0) {
            const char *t = first;
            char inner[120];
            /* __allocated_ptr<std::allocator<std::_Sp_counted_ptr_inplace<T, ...> > > */
            const char *sp = strstr(q, "_Sp_counted_ptr_inplace<");
            if (cls[7] == '_' && sp &&
                template_arg(sp, strlen("_Sp_counted_ptr_inplace<") - 1, 0, inner, sizeof inner))
                t = inner;
            snprintf(c->element, sizeof c->element, "%s", t);
            snprintf(c->container, sizeof c->container, "std::shared_ptr<%s>", t);
        }
        break;
    case PP_CXX_NONE:
        break;
    }
}

/* Classes that name an associative container in frames outside its allocating one. */
static const struct {
    const char *class_prefix;
    const char *family; /* "unordered_" or "" */
    bool pair_value;    /* the second argument is pair<const Key, Mapped> (map) or Key (set) */
} namers[] = {
    {"std::_Hashtable<", "unordered_", true},
    {"std::__detail::_Map_base<", "unordered_", true},
    {"std::__detail::_Insert_base<", "unordered_", true},
    {"std::unordered_map<", "unordered_", false},
    {"std::unordered_set<", "unordered_", false},
    {"std::_Rb_tree<", "", true},
    {"std::map<", "", false},
    {"std::set<", "", false},
};

/* Name the container of a node or bucket allocation from an outer frame, if it says it. */
static void name_from_outer(const char *q, struct pp_cxx_container *c)
{
    for (size_t i = 0; i < sizeof namers / sizeof namers[0]; i++) {
        size_t plen = strlen(namers[i].class_prefix);
        if (strncmp(q, namers[i].class_prefix, plen) != 0)
            continue;
        char key[120] = "", second[160] = "", mapped[120] = "";
        template_arg(q, plen - 1, 0, key, sizeof key);
        template_arg(q, plen - 1, 1, second, sizeof second);
        bool is_map;
        if (namers[i].pair_value) {
            is_map = strncmp(second, "std::pair<", 10) == 0;
            if (is_map)
                template_arg(second, 9, 1, mapped, sizeof mapped);
        } else {
            is_map = strstr(namers[i].class_prefix, "map<") != NULL;
            snprintf(mapped, sizeof mapped, "%s", second);
        }
        if (is_map)
            snprintf(c->container, sizeof c->container, "std::%smap<%s, %s>", namers[i].family,
                     key, mapped);
        else
            snprintf(c->container, sizeof c->container, "std::%sset<%s>", namers[i].family, key);
        snprintf(c->element, sizeof c->element, "%s", key);
        return;
    }
}

static const struct growth_rule *match_rule(const char *q)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct growth_rule *r = &rules[i];
        size_t plen = strlen(r->class_prefix);
        if (strncmp(q, r->class_prefix, plen) != 0)
            continue;
        size_t end = close_angle(q, plen - 1);
        if (!q[end])
            continue;
        if (r->member[0] == '\0')
            return r;
        if (strncmp(q + end + 1, "::", 2) == 0 &&
            strncmp(q + end + 3, r->member, strlen(r->member)) == 0)
            return r;
        /* make_shared's control block: the tag appears in the constructor's parameters. */
        if (r->kind == PP_CXX_SHARED && strstr(q + end, r->member))
            return r;
    }
    return NULL;
}

void pp_cxx_recognise(const struct pp_frame *frames, size_t n, struct pp_cxx_container *out)
{
    memset(out, 0, sizeof *out);
    /* The innermost recognised frame says what allocated, except that a string growing inside
     * a stringbuf, or any allocation inside make_shared, is best described by the outer one. */
    for (size_t i = 0; i < n; i++) {
        if (!frames[i].function)
            continue;
        const char *q = pp_cxx_qualified_name(frames[i].function);
        const struct growth_rule *r = match_rule(q);
        if (!r)
            continue;
        bool outer_wins = r->kind == PP_CXX_STRINGBUF || r->kind == PP_CXX_SHARED;
        if (out->kind != PP_CXX_NONE && !outer_wins)
            continue;
        if (out->kind == PP_CXX_SHARED)
            continue;
        out->kind = r->kind;
        out->container[0] = out->element[0] = '\0';
        name_container(q, r, out);
    }
    if (out->kind == PP_CXX_NONE)
        return;
    for (size_t i = 0; i < n && !out->container[0]; i++) {
        if (!frames[i].function)
            continue;
        const char *q = pp_cxx_qualified_name(frames[i].function);
        if (out->kind == PP_CXX_NODE || out->kind == PP_CXX_HASH_BUCKETS) {
            name_from_outer(q, out);
        } else if (out->kind == PP_CXX_SHARED) {
            /* The control block's type names the object: _Sp_counted_ptr_inplace<T, ...>. */
            const char *sp = strstr(q, "_Sp_counted_ptr_inplace<");
            if (sp && template_arg(sp, strlen("_Sp_counted_ptr_inplace<") - 1, 0, out->element,
                                   sizeof out->element))
                snprintf(out->container, sizeof out->container, "std::shared_ptr<%s>",
                         out->element);
        }
    }
}

uint64_t pp_cxx_advice(const struct pp_cxx_container *c, uint64_t element_bytes,
                       uint64_t max_bytes, char *buf, size_t len)
{
    const char *what = c->container[0] ? c->container : "the container";
    uint64_t n = 0;
    switch (c->kind) {
    case PP_CXX_VECTOR:
        n = element_bytes ? max_bytes / element_bytes : 0;
        snprintf(buf, len,
                 "%s grows one reallocation at a time: reserve(%" PRIu64 ") before filling it "
                 "(the largest final size seen, %" PRIu64 " B per element)",
                 what, n, element_bytes);
        break;
    case PP_CXX_STRING:
        n = max_bytes > 1 ? max_bytes - 1 : max_bytes; /* the block holds a terminating NUL */
        snprintf(buf, len,
                 "%s grows as it is appended to: reserve(%" PRIu64 ") before building it (the "
                 "largest final size seen)",
                 what, n);
        break;
    case PP_CXX_STRINGBUF:
        n = max_bytes > 1 ? max_bytes - 1 : max_bytes;
        snprintf(buf, len,
                 "%s's buffer grows as it is written: reuse one stream (str(\"\") between uses) "
                 "or build into a std::string with reserve(%" PRIu64 ")",
                 what, n);
        break;
    case PP_CXX_HASH_BUCKETS:
        n = max_bytes / sizeof(void *); /* one pointer per bucket; about one bucket per element */
        snprintf(buf, len,
                 "%s rehashes as it grows: reserve(%" PRIu64 ") (or rehash) before inserting "
                 "(from the largest bucket array seen)",
                 what, n);
        break;
    case PP_CXX_NODE:
        snprintf(buf, len,
                 "%s allocates one node per element: give it a pool, e.g. the std::pmr:: "
                 "container with a std::pmr::unsynchronized_pool_resource (or an arena)",
                 what);
        break;
    case PP_CXX_DEQUE:
        snprintf(buf, len,
                 "%s allocates a chunk per few elements and regrows its map: a std::pmr pool "
                 "resource for it, or a std::vector with reserve() if it is only appended to",
                 what);
        break;
    case PP_CXX_SHARED:
        snprintf(buf, len,
                 "make_shared of %s in a loop: reuse the objects, or allocate_shared with a "
                 "std::pmr::polymorphic_allocator over an unsynchronized_pool_resource",
                 c->element[0] ? c->element : "an object");
        break;
    case PP_CXX_NONE:
        buf[0] = '\0';
        break;
    }
    return n;
}
