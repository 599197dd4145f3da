/* symbolize.c — offline symbolization with elfutils libdwfl.
 *
 * Every distinct module (same path, bias, range and build-id) gets its own Dwfl session holding
 * just that module. That avoids libdwfl refusing overlapping modules, which a trace can
 * legitimately hold (a library dlclose'd and another dlopen'd at the same address), and lets us
 * open only the modules that stack addresses actually fall in. Results are cached per
 * (module, address), and every string is interned in one table owned by the symbolizer.
 */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

/* From libstdc++ (the analyzer links it): the Itanium C++ ABI demangler. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

struct interned {
    char *text;
    bool warned; /* a module path we already warned about */
    UT_hash_handle hh;
};

enum module_state { MODULE_UNOPENED, MODULE_OPEN, MODULE_UNUSABLE };

struct module {
    const char *path; /* interned */
    uint64_t load_bias, lo, hi;
    unsigned char *build_id;
    uint32_t build_id_len;
    enum module_state state;
    Dwfl *dwfl;
    Dwfl_Module *dwfl_module;
};

struct space {
    size_t nmodules;
    size_t *modules; /* indexes into pp_symbolizer.modules, in trace order */
};

struct cache_key {
    size_t module; /* module index + 1; 0 = in no module */
    uint64_t ip;
};

struct cached {
    struct cache_key key;
    size_t nframes;
    struct pp_frame *frames;
    UT_hash_handle hh;
};

struct pp_symbolizer {
    FILE *warnings;
    struct interned *strings;
    struct module *modules;
    size_t nmodules;
    struct space *spaces;
    size_t nspaces;
    struct cached *cache;
    uint32_t nframes; /* frames made so far, for pp_frame.id */
};

static const struct pp_frame unknown_frame = {.function = "??"};

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

/* dpkg lists a package's files in DPKG_INFO/<package>[:arch].list, one path a line. */
#define DPKG_INFO "/var/lib/dpkg/info"

static bool list_has_path(const char *list, const char *path, const char *alias)
{
    FILE *f = fopen(list, "re");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        found = strcmp(line, path) == 0 || (alias && strcmp(line, alias) == 0);
    }
    fclose(f);
    return found;
}

bool pp_debug_package(const char *path, char *buf, size_t len)
{
    /* Merged /usr: the loader may name /lib/x/libc.so.6 what dpkg lists as /usr/lib/x/... */
    char alias[4096];
    const char *other = NULL;
    if (strncmp(path, "/usr/", 5) == 0) {
        other = path + 4;
    } else if (path[0] == '/') {
        snprintf(alias, sizeof alias, "/usr%s", path);
        other = alias;
    }
    DIR *dir = opendir(DPKG_INFO);
    if (!dir)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".list") != 0)
            continue;
        char list[512];
        snprintf(list, sizeof list, "%s/%s", DPKG_INFO, e->d_name);
        if (!list_has_path(list, path, other))
            continue;
        size_t name = strcspn(e->d_name, ":.");
        /* "libjq1:amd64.list" -> "libjq1"; a dot can be part of a name ("libc6.1"), the
         * extension is the last dot. */
        if (e->d_name[name] == '.')
            name = n - 5;
        snprintf(buf, len, "%.*s-dbgsym", (int)name, e->d_name);
        found = true;
    }
    closedir(dir);
    return found;
}

const char *pp_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static struct interned *intern_entry(struct pp_symbolizer *sym, const char *text)
{
    struct interned *e;
    HASH_FIND_STR(sym->strings, text, e);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e || !(e->text = strdup(text))) {
        free(e);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, sym->strings, e->text, strlen(e->text), e);
    return e;
}

static const char *intern(struct pp_symbolizer *sym, const char *text)
{
    if (!text)
        return NULL;
    struct interned *e = intern_entry(sym, text);
    return e ? e->text : NULL;
}

struct pp_symbolizer *pp_symbolizer_new(FILE *warnings)
{
    struct pp_symbolizer *sym = calloc(1, sizeof *sym);
    if (sym)
        sym->warnings = warnings;
    elf_version(EV_CURRENT);
    return sym;
}

void pp_symbolizer_free(struct pp_symbolizer *sym)
{
    if (!sym)
        return;
    struct cached *c, *ctmp;
    HASH_ITER(hh, sym->cache, c, ctmp) {
        HASH_DEL(sym->cache, c);
        free(c->frames);
        free(c);
    }
    for (size_t i = 0; i < sym->nmodules; i++) {
        if (sym->modules[i].dwfl)
            dwfl_end(sym->modules[i].dwfl);
        free(sym->modules[i].build_id);
    }
    free(sym->modules);
    for (size_t i = 0; i < sym->nspaces; i++)
        free(sym->spaces[i].modules);
    free(sym->spaces);
    struct interned *s, *stmp;
    HASH_ITER(hh, sym->strings, s, stmp) {
        HASH_DEL(sym->strings, s);
        free(s->text);
        free(s);
    }
    free(sym);
}

static bool same_module(const struct module *m, const struct pp_trace_module *t, const char *path)
{
    return m->path == path && m->load_bias == t->load_bias && m->lo == t->lo && m->hi == t->hi &&
           m->build_id_len == t->build_id_len &&
           memcmp(m->build_id, t->build_id, t->build_id_len) == 0;
}

static ssize_t find_or_add_module(struct pp_symbolizer *sym, const struct pp_trace_module *t)
{
    const char *path = intern(sym, t->path);
    if (!path)
        return -1;
    for (size_t i = 0; i < sym->nmodules; i++)
        if (same_module(&sym->modules[i], t, path))
            return (ssize_t)i;
    struct module *mods = realloc(sym->modules, (sym->nmodules + 1) * sizeof *mods);
    if (!mods)
        return -1;
    sym->modules = mods;
    struct module *m = &mods[sym->nmodules];
    *m = (struct module){.path = path, .load_bias = t->load_bias, .lo = t->lo, .hi = t->hi};
    m->build_id = malloc(t->build_id_len ? t->build_id_len : 1);
    if (!m->build_id)
        return -1;
    memcpy(m->build_id, t->build_id, t->build_id_len);
    m->build_id_len = t->build_id_len;
    return (ssize_t)sym->nmodules++;
}

int pp_symbolizer_add_trace(struct pp_symbolizer *sym, const struct pp_trace *trace)
{
    struct space *spaces = realloc(sym->spaces, (sym->nspaces + 1) * sizeof *spaces);
    if (!spaces)
        return -1;
    sym->spaces = spaces;
    struct space *s = &spaces[sym->nspaces];
    s->nmodules = 0;
    s->modules = malloc((trace->nmodules ? trace->nmodules : 1) * sizeof *s->modules);
    if (!s->modules)
        return -1;
    for (uint32_t i = 0; i < trace->nmodules; i++) {
        ssize_t idx = find_or_add_module(sym, &trace->modules[i]);
        if (idx < 0) {
            free(s->modules);
            return -1;
        }
        s->modules[s->nmodules++] = (size_t)idx;
    }
    return (int)sym->nspaces++;
}

__attribute__((format(printf, 3, 4))) static void warn_module(struct pp_symbolizer *sym,
                                                              const char *path, const char *fmt,
                                                              ...)
{
    struct interned *e = intern_entry(sym, path);
    if (!sym->warnings || (e && e->warned))
        return;
    if (e)
        e->warned = true;
    va_list ap;
    va_start(ap, fmt);
    fprintf(sym->warnings, "poolprobe-report: warning: %s: ", path);
    vfprintf(sym->warnings, fmt, ap);
    fprintf(sym->warnings, "; showing module+offset\n");
    va_end(ap);
}

/* Open m's file, check its build-id against the traced one, and report it to a fresh Dwfl. */
static void open_module(struct pp_symbolizer *sym, struct module *m)
{
    m->state = MODULE_UNUSABLE;
    if (m->path[0] == '\0' || m->path[0] == '[') {
        warn_module(sym, m->path[0] ? m->path : "(unnamed module)", "no file to read");
        return;
    }
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        warn_module(sym, m->path, "cannot open: %s", strerror(errno));
        return;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        warn_module(sym, m->path, "not an ELF file");
        if (elf)
            elf_end(elf);
        close(fd);
        return;
    }
    if (m->build_id_len) {
        const void *id = NULL;
        ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
        if (n != (ssize_t)m->build_id_len || memcmp(id, m->build_id, m->build_id_len) != 0) {
            warn_module(sym, m->path, "build-id differs from the traced one (rebuilt or replaced)");
            elf_end(elf);
            close(fd);
            return;
        }
    }
    elf_end(elf);
    close(fd);

    m->dwfl = dwfl_begin(&offline_callbacks);
    if (!m->dwfl) {
        warn_module(sym, m->path, "%s", dwfl_errmsg(-1));
        return;
    }
    dwfl_report_begin(m->dwfl);
    m->dwfl_module = dwfl_report_elf(m->dwfl, pp_basename(m->path), m->path, -1, m->load_bias,
                                     false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (!m->dwfl_module) {
        warn_module(sym, m->path, "%s", dwfl_errmsg(-1));
        return;
    }
    m->state = MODULE_OPEN;
}

/* Make a symbol table name stable across builds: drop a symbol version ("fclose@@GLIBC_2.2.5"),
 * GCC's clone suffixes ("f.constprop.0", "f.isra.0", "f.part.1", "f.cold") and glibc's
 * internal-alias prefix ("__GI_setlocale" is setlocale). */
static const char *strip_clone_suffix(struct pp_symbolizer *sym, const char *name)
{
    if (strncmp(name, "__GI_", 5) == 0 && name[5])
        name += 5;
    size_t len = strcspn(name, "@");
    const char *dot = memchr(name, '.', len);
    if (dot && dot != name)
        len = (size_t)(dot - name);
    if (len == 0 || name[len] == '\0')
        return intern(sym, name);
    char *copy = strndup(name, len);
    const char *r = copy ? intern(sym, copy) : NULL;
    free(copy);
    return r;
}

static const char *demangle(struct pp_symbolizer *sym, const char *name)
{
    if (!name)
        return NULL;
    const char *base = strip_clone_suffix(sym, name);
    if (!base || strncmp(base, "_Z", 2) != 0)
        return base;
    int status = 0;
    char *d = __cxa_demangle(base, NULL, NULL, &status);
    const char *r = (status == 0 && d) ? intern(sym, d) : base;
    free(d);
    return r;
}

/* A DIE's linkage (mangled) name, following abstract origins and specifications. */
static const char *die_linkage_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        return dwarf_formstring(&attr);
    return NULL;
}

/* C++ functions are named by their demangled linkage name (it has the class and namespace);
 * other linkage names are asm labels (glibc's "__GI_setlocale"), so C uses DW_AT_name. */
static const char *die_function_name(struct pp_symbolizer *sym, Dwarf_Die *die)
{
    const char *linkage = die_linkage_name(die);
    if (linkage && strncmp(linkage, "_Z", 2) == 0)
        return demangle(sym, linkage);
    return intern(sym, dwarf_diename(die));
}

/* Append a frame to a growing array; false on out of memory. */
static bool push_frame(struct pp_frame **frames, size_t *n, const struct pp_frame *f)
{
    struct pp_frame *grown = realloc(*frames, (*n + 1) * sizeof *grown);
    if (!grown)
        return false;
    grown[(*n)++] = *f;
    *frames = grown;
    return true;
}

/* The inline chain at addr from DWARF scopes: innermost inlined function first, the containing
 * out-of-line function last. Each frame's file:line is where control is in that function: for
 * the innermost the line table's answer, for the others the call site of the frame inside. */
static size_t inline_chain(struct pp_symbolizer *sym, struct module *m, Dwarf_Addr addr,
                           const struct pp_frame *innermost, struct pp_frame **out)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(m->dwfl_module, addr, &bias);
    if (!cudie)
        return 0;
    /* dwarf_getscopes continues past an inlined instance into its abstract definition's
     * parents, not into the function it was inlined into; so take the innermost function-like
     * scope and ask for the concrete scopes that contain that DIE instead. */
    Dwarf_Die *found = NULL;
    int nfound = dwarf_getscopes(cudie, addr - bias, &found);
    int innermost_fn = -1;
    for (int i = 0; i < nfound && innermost_fn < 0; i++)
        if (dwarf_tag(&found[i]) == DW_TAG_inlined_subroutine ||
            dwarf_tag(&found[i]) == DW_TAG_subprogram)
            innermost_fn = i;
    Dwarf_Die *scopes = NULL;
    int nscopes = 0;
    if (innermost_fn >= 0 && dwarf_tag(&found[innermost_fn]) == DW_TAG_subprogram) {
        /* Not inlined: the function is the whole chain. dwarf_getscopes_die would walk the
         * unit's DIEs again only to return it first. */
        if ((scopes = malloc(sizeof *scopes))) {
            scopes[0] = found[innermost_fn];
            nscopes = 1;
        }
    } else if (innermost_fn >= 0) {
        nscopes = dwarf_getscopes_die(&found[innermost_fn], &scopes);
    }
    free(found);
    if (nscopes <= 0)
        return 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
        files = NULL;

    struct pp_frame *frames = NULL;
    size_t n = 0;
    struct pp_frame cur = *innermost;
    bool done = false;
    for (int i = 0; i < nscopes && !done; i++) {
        Dwarf_Die *scope = &scopes[i];
        int tag = dwarf_tag(scope);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        cur.function = die_function_name(sym, scope);
        cur.inlined = tag == DW_TAG_inlined_subroutine;
        if (!cur.function)
            cur.function = innermost->function;
        if (!push_frame(&frames, &n, &cur))
            break;
        if (tag == DW_TAG_subprogram) {
            done = true;
            break;
        }
        /* The caller's position is this inlined call's site. */
        Dwarf_Attribute attr;
        Dwarf_Word word;
        cur.file = NULL;
        cur.line = 0;
        if (files && dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr), &word) == 0 &&
            word < nfiles)
            cur.file = intern(sym, dwarf_filesrc(files, word, NULL, NULL));
        if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr), &word) == 0)
            cur.line = (unsigned)word;
    }
    free(scopes);
    if (!done) {
        /* No enclosing subprogram found: keep what we have only if the symbol table agrees. */
        free(frames);
        return 0;
    }
    /* The symbol table names the out-of-line function exactly as linked; keep DWARF's name for
     * display (it has no clone suffix) but the raw symbol for wrapper matching. */
    frames[n - 1].symbol = innermost->symbol;
    *out = frames;
    return n;
}

static size_t symbolize_in_module(struct pp_symbolizer *sym, struct module *m, uint64_t addr,
                                  struct pp_frame **out)
{
    struct pp_frame f = {.module = m->path, .offset = addr - m->load_bias};
    if (m->state == MODULE_UNOPENED)
        open_module(sym, m);
    if (m->state != MODULE_OPEN)
        goto single;
    GElf_Off off;
    GElf_Sym elfsym;
    const char *name = dwfl_module_addrinfo(m->dwfl_module, addr, &off, &elfsym, NULL, NULL, NULL);
    f.symbol = intern(sym, name);
    f.function = demangle(sym, name);
    Dwfl_Line *line = dwfl_module_getsrc(m->dwfl_module, addr);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        f.file = intern(sym, file);
        f.line = lineno > 0 ? (unsigned)lineno : 0;
    }
    size_t n = inline_chain(sym, m, addr, &f, out);
    if (n)
        return n;
single:
    *out = malloc(sizeof **out);
    if (!*out)
        return 0;
    **out = f;
    return 1;
}

size_t pp_symbolize(struct pp_symbolizer *sym, int space, uint64_t ip,
                    const struct pp_frame **frames)
{
    *frames = &unknown_frame;
    if (space < 0 || (size_t)space >= sym->nspaces)
        return 1;
    /* A return address points after the call; the call itself is at ip - 1. */
    uint64_t addr = ip ? ip - 1 : 0;
    const struct space *s = &sym->spaces[space];
    size_t module = 0;
    /* Later entries win: a module mapped where an unloaded one used to be is listed after it. */
    for (size_t i = s->nmodules; i-- > 0;) {
        const struct module *m = &sym->modules[s->modules[i]];
        if (addr >= m->lo && addr < m->hi) {
            module = s->modules[i] + 1;
            break;
        }
    }
    struct cache_key key = {module, addr};
    struct cached *c;
    HASH_FIND(hh, sym->cache, &key, sizeof key, c);
    if (c) {
        *frames = c->frames;
        return c->nframes;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->key = key;
    if (module) {
        c->nframes = symbolize_in_module(sym, &sym->modules[module - 1], addr, &c->frames);
    } else {
        c->frames = malloc(sizeof *c->frames);
        if (c->frames) {
            c->frames[0] = (struct pp_frame){.offset = addr};
            c->nframes = 1;
        }
    }
    if (c->nframes == 0) {
        free(c->frames);
        free(c);
        return 1;
    }
    for (size_t i = 0; i < c->nframes; i++)
        c->frames[i].id = ++sym->nframes;
    HASH_ADD(hh, sym->cache, key, sizeof key, c);
    *frames = c->frames;
    return c->nframes;
}

const char *pp_symbolizer_intern(struct pp_symbolizer *sym, const char *text)
{
    return intern(sym, text);
}

bool pp_symbolizer_module_read(const struct pp_symbolizer *sym, const char *path)
{
    for (size_t i = 0; i < sym->nmodules; i++)
        if (sym->modules[i].path == path && sym->modules[i].state == MODULE_OPEN)
            return true;
    return false;
}

void pp_frame_address(const struct pp_frame *frame, char *buf, size_t len)
{
    if (frame->module)
        snprintf(buf, len, "%s+0x%" PRIx64, pp_basename(frame->module), frame->offset);
    else
        snprintf(buf, len, "0x%" PRIx64, frame->offset);
}

const char *pp_frame_name(struct pp_symbolizer *sym, const struct pp_frame *frame)
{
    if (frame->function)
        return frame->function;
    char buf[512];
    pp_frame_address(frame, buf, sizeof buf);
    const char *r = intern(sym, buf);
    return r ? r : "??";
}
