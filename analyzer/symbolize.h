/* symbolize.h — turn recorded return addresses into source frames, offline.
 *
 * Each trace brings its own module map (path, load bias, address range, build-id). The
 * symbolizer opens a module's file lazily with elfutils libdwfl at its recorded bias, and gives
 * for an address the chain of frames it stands for: inlined functions first, then the function
 * that holds the code (with DWARF), or the ELF symbol table's name (stripped binaries). C++ names
 * are demangled. A module whose file is missing, unreadable or has another build-id than the
 * traced one is shown as "module+0xoffset", with one warning per module path on the warnings
 * stream. It never fails on bad addresses: every address gets at least one frame.
 *
 * Not thread-safe. Strings and frames it returns stay valid until pp_symbolizer_free().
 */
#ifndef POOLPROBE_SYMBOLIZE_H
#define POOLPROBE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_reader.h"

struct pp_frame {
    const char *function; /* demangled name, compiler clone suffixes removed; NULL if unknown */
    const char *symbol;   /* the name as the binary spells it (mangled); NULL if unknown */
    const char *file;     /* source file as the compiler recorded it; NULL if unknown */
    unsigned line;        /* 0 if unknown */
    const char *module;   /* module path from the trace; NULL if the address is in no module */
    uint64_t offset;      /* address within the module's file (ip - 1 - load bias), or the
                             runtime address when module is NULL */
    bool inlined;         /* inlined into the frame that follows it */
    uint32_t id;          /* which distinct frame this is: 1, 2, ... in the order the symbolizer
                             made them (copies keep it, so callers can remember what they
                             derived from a frame by id); 0 for a frame not made by it */
};

struct pp_symbolizer;

/* A symbolizer that writes its warnings to warnings ("poolprobe-report: warning: ..." lines), or
 * nowhere when it is NULL. Returns NULL on out of memory. */
struct pp_symbolizer *pp_symbolizer_new(FILE *warnings);
void pp_symbolizer_free(struct pp_symbolizer *sym);

/* Register the module map of trace; returns the address-space handle to pass to pp_symbolize,
 * or -1 on out of memory. The trace may be freed afterwards (its modules are copied). Modules
 * that are identical in several traces (a parent and its forked children) are opened once. */
int pp_symbolizer_add_trace(struct pp_symbolizer *sym, const struct pp_trace *trace);

/* Frames for return address ip in address space `space`, innermost first, the last one being
 * the out-of-line function. Sets *frames and returns how many (always >= 1). On out of memory
 * returns a single static "??" frame. */
size_t pp_symbolize(struct pp_symbolizer *sym, int space, uint64_t ip,
                    const struct pp_frame **frames);

/* A frame's address as reports print it when it has no name: "basename+0xoffset", or
 * "0xaddress" outside any module. No allocation. */
void pp_frame_address(const struct pp_frame *frame, char *buf, size_t len);

/* A short name for a frame that always exists: its function, else "basename+0xoffset", else
 * "0xaddress". Interned: valid until pp_symbolizer_free(). */
const char *pp_frame_name(struct pp_symbolizer *sym, const struct pp_frame *frame);

/* The symbolizer's one copy of text: equal texts give equal pointers. Valid until
 * pp_symbolizer_free(); NULL on out of memory. */
const char *pp_symbolizer_intern(struct pp_symbolizer *sym, const char *text);

/* Was the module at path (as a frame's module gives it) opened and read? False when its file
 * was missing, unreadable or another build (a warning said so). */
bool pp_symbolizer_module_read(const struct pp_symbolizer *sym, const char *path);

/* The Debian package that ships the debug symbols of the module at path ("libjq1-dbgsym"),
 * found from the package that owns the file in dpkg's database, into buf. False when no
 * package owns it (or dpkg is not there). Reads dpkg's file lists: call it once per module. */
bool pp_debug_package(const char *path, char *buf, size_t len);

/* The last path component of path (no allocation). */
const char *pp_basename(const char *path);

#endif
