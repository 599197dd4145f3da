/* runtime.c — the runtime's frames told apart from the user's (see runtime.h for the why). */
#include "runtime.h"

#include <string.h>

/* Module file-name prefixes of the C and C++ runtimes: code no user of this report changes. */
static const char *const runtime_modules[] = {
    "libc.so", "libc-", "ld-linux", "ld64.so", "ld.so", "libpthread", "libdl.so", "librt.so",
    "libm.so", "libnss_", "libresolv", "libstdc++", "libgcc_s", "libanl", "libutil.so",
    NULL,
};

/* Runtime functions that allocate what they return to their caller (or store in the caller's
 * pointer): the caller decides how often they run, so the caller is the site. Functions that
 * allocate for the runtime's own state (fopen's FILE and buffer, setlocale, getpwnam's NSS
 * tables) are not here: those are the runtime's memory. */
static const char *const returns_to_caller[] = {
    "getline", "getdelim", "__getdelim", "asprintf", "__asprintf", "___asprintf", "vasprintf",
    "__vasprintf", "__vasprintf_internal", "__asprintf_chk", "__vasprintf_chk",
    "open_memstream", "open_wmemstream", "realpath", "__realpath", "canonicalize_file_name",
    "scandir", "scandir64", "scandirat", "get_current_dir_name", "tempnam", "backtrace_symbols",
    "strdupa", "argz_create", "argz_add", "envz_add", "__cxa_allocate_exception",
    "__cxa_allocate_dependent_exception",
    NULL,
};

bool pp_name_in_list(const char *const *list, const char *name)
{
    if (!name)
        return false;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

bool pp_runtime_module(const struct pp_frame *f)
{
    if (!f->module)
        return false;
    const char *base = pp_basename(f->module);
    for (size_t i = 0; runtime_modules[i]; i++)
        if (strncmp(base, runtime_modules[i], strlen(runtime_modules[i])) == 0)
            return true;
    return false;
}

bool pp_runtime_returns_to_caller(const struct pp_frame *f)
{
    return pp_name_in_list(returns_to_caller, f->function) ||
           pp_name_in_list(returns_to_caller, f->symbol);
}

const char *pp_cxx_qualified_name(const char *name)
{
    /* The return type ends at the last space outside <...> and (...) before the name's own
     * parameter list; names without templates have no return type in the demangler's output. */
    const char *start = name;
    int depth = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '<' || *p == '(') {
            /* "operator<" and "operator()" are names, not brackets. */
            if (p - name >= 8 && strncmp(p - 8, "operator", 8) == 0)
                continue;
            if (*p == '(' && depth == 0)
                break; /* the parameter list: the name is complete */
            depth++;
        } else if (*p == '>' || *p == ')') {
            if (depth > 0)
                depth--;
        } else if (*p == ' ' && depth == 0) {
            start = p + 1;
        }
    }
    return start;
}

bool pp_cxx_library_frame(const struct pp_frame *f)
{
    if (!f->function)
        return false;
    const char *q = pp_cxx_qualified_name(f->function);
    return strncmp(q, "std::", 5) == 0 || strncmp(q, "__gnu_cxx::", 11) == 0;
}

static const struct pp_pooling_runtime pymalloc = {
    "CPython's pymalloc",
    "objects up to 512 B come from pymalloc's arenas, not malloc; run with PYTHONMALLOC=malloc "
    "to see them (slower)",
};
static const struct pp_pooling_runtime gslice = {
    "GLib's slice allocator",
    "g_slice blocks come from GLib's magazines; G_SLICE=always-malloc routes them to malloc "
    "(GLib >= 2.76 always uses malloc)",
};
static const struct pp_pooling_runtime perl = {
    "Perl's arenas",
    "scalars and their bodies are carved from arenas Perl takes from malloc in big blocks "
    "(only a perl built with -DPURIFY allocates each with malloc)",
};

/* Functions that exist only in a pooling allocator: seeing one in a stack means the pool is
 * in use (a big object passes through it to malloc), not merely that the runtime is loaded. */
static const char *const pymalloc_functions[] = {
    "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_alloc",
    "pymalloc_realloc", "new_arena", NULL,
};
static const char *const gslice_functions[] = {
    "g_slice_alloc", "g_slice_alloc0", "g_slice_copy", "magazine_cache_pop_magazine", NULL,
};
static const char *const perl_functions[] = {
    "Perl_more_bodies", "S_more_sv", "Perl_more_sv", NULL,
};

const struct pp_pooling_runtime *pp_pooling_runtime_of(const struct pp_frame *f)
{
    const char *fn = f->function ? f->function : f->symbol;
    if (pp_name_in_list(pymalloc_functions, fn))
        return &pymalloc;
    if (pp_name_in_list(gslice_functions, fn))
        return &gslice;
    if (pp_name_in_list(perl_functions, fn))
        return &perl;
    return NULL;
}
