/* cxx.h — C++ containers: which libstdc++ growth path an allocation came through, and the advice
 * that fits it.
 *
 * The site finder skips the leading standard-library frames of a stack (runtime.h), so the site
 * is the user's function that owns the container. Those skipped frames still say what happened:
 * "std::vector<Point>::_M_realloc_insert" is a vector growing one push_back at a time, and the
 * fix is reserve(N), not a pool. pp_cxx_recognise reads the frames; pp_cxx_advice turns the kind
 * and the site's sizes into the C++ advice with its number.
 *
 * Recognised (libstdc++ names, GCC 9-14): vector growth (_M_realloc_insert, _M_realloc_append,
 * _M_default_append, _M_fill_insert, _M_range_insert), basic_string growth (_M_mutate,
 * _M_create, _M_append, _M_replace), deque (_M_reallocate_map, _M_push_back_aux,
 * _M_push_front_aux), unordered containers (_Hashtable _M_rehash for buckets, node allocation),
 * map/set/list nodes, basic_stringbuf::overflow (ostringstream growth), and make_shared /
 * allocate_shared (_Sp_counted_ptr_inplace, __allocated_ptr).
 */
#ifndef POOLPROBE_CXX_H
#define POOLPROBE_CXX_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

enum pp_cxx_kind {
    PP_CXX_NONE,
    PP_CXX_VECTOR,     /* element buffer regrown */
    PP_CXX_STRING,     /* character buffer regrown */
    PP_CXX_DEQUE,      /* map or chunk of a deque */
    PP_CXX_HASH_BUCKETS, /* unordered_map/set rehash */
    PP_CXX_NODE,       /* a node of a map, set, list or unordered container */
    PP_CXX_STRINGBUF,  /* ostringstream's buffer regrown */
    PP_CXX_SHARED,     /* make_shared / allocate_shared control block and object */
};

struct pp_cxx_container {
    enum pp_cxx_kind kind;
    char container[160]; /* "std::vector<Point>", allocator arguments dropped; "" if unknown */
    char element[120];   /* "Point"; "" if unknown */
};

/* The growth path among frames[0..n) (the frames skipped before the site, innermost first), or
 * kind PP_CXX_NONE. No allocation. */
void pp_cxx_recognise(const struct pp_frame *frames, size_t n, struct pp_cxx_container *out);

/* "vector", "string", ... */
const char *pp_cxx_kind_name(enum pp_cxx_kind kind);

/* The advice for a container site, one or two lines in buf, with N computed from the sizes:
 * element_bytes is the size of one element as the sizes show it (their greatest common divisor
 * for vectors, 1 for strings), max_bytes the largest block. Returns the N it recommends (0 when
 * the advice has no count). */
uint64_t pp_cxx_advice(const struct pp_cxx_container *c, uint64_t element_bytes,
                       uint64_t max_bytes, char *buf, size_t len);

#endif
