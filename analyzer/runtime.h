/* runtime.h — which frames belong to a language runtime rather than to code the user can change.
 *
 * Three questions the site finder asks of a symbolized frame:
 *   - is it in the C runtime (libc, the loader, libstdc++, libgcc, libm, NSS modules)? A site
 *     whose allocating frame is there is the runtime's own memory (stdio buffers, locale, NSS,
 *     thread TLS, the exception pool): grouped as "runtime", kept out of the advice;
 *   - is it a runtime function that allocates memory it hands to its caller (getline, asprintf,
 *     realpath, __cxa_allocate_exception...)? Then the caller is the site, as for strdup;
 *   - is it C++ standard library code (std::, __gnu_cxx::)? Its leading run is skipped so that
 *     the site is the user's function that owns the container.
 * And one question of a whole report: did a runtime that pools objects below malloc (CPython's
 * pymalloc, GLib's slices, Perl's allocator) run, so that malloc saw little of the program?
 *
 * Pure functions on frames; no allocation, no I/O.
 */
#ifndef POOLPROBE_RUNTIME_H
#define POOLPROBE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "symbolize.h"

/* 1 when name (may be NULL) is one of list's names (NULL-terminated). */
bool pp_name_in_list(const char *const *list, const char *name);

/* The frame's code is in a C or C++ runtime module (judged by the module's file name). */
bool pp_runtime_module(const struct pp_frame *frame);

/* The frame is a runtime function that returns the memory it allocates to its caller. */
bool pp_runtime_returns_to_caller(const struct pp_frame *frame);

/* The frame is C++ standard library code (its qualified name starts with std:: or
 * __gnu_cxx::, a leading return type ignored). */
bool pp_cxx_library_frame(const struct pp_frame *frame);

/* Where the qualified name starts in a demangled C++ name, past a template function's return
 * type: "void std::vector<int>::push_back(int const&)" -> "std::vector<int>::push_back(...)". */
const char *pp_cxx_qualified_name(const char *demangled);

/* A runtime that pools objects below malloc, recognised from a frame or a module. */
struct pp_pooling_runtime {
    const char *name; /* "CPython's pymalloc" */
    const char *how;  /* what routes its objects to malloc, one line */
};

/* The pooling runtime this frame belongs to, or NULL. */
const struct pp_pooling_runtime *pp_pooling_runtime_of(const struct pp_frame *frame);

#endif
