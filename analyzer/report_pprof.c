/* report_pprof.c — the pprof output (see report_pprof.h).
 *
 * The message is built with the protobuf-c code generated from profile.proto (pprof's field
 * numbers), packed, and gzipped with zlib. pprof refers to everything by id: strings by their
 * index in string_table (0 is ""), functions by (name, mangled name, file), mappings by module
 * path, locations by return address. Our sites already carry the symbolized frames of one stack,
 * innermost first, an inlined frame followed by the frames it was inlined into; pprof wants one
 * Location per return address whose Lines list the inlined functions first and the
 * out-of-line one last, so each run of inlined frames is folded into the location of the frame
 * that ends it. Addresses are the frame's offset in its module's file, with each mapping
 * starting at 0, so that address - memory_start + file_offset is that offset.
 */
#include "report_pprof.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <uthash.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* An interned key (a string, or the identity of a function, mapping or location) and its id. */
struct interned {
    char *key;
    uint64_t id;
    UT_hash_handle hh;
};

struct builder {
    Profile profile;
    struct interned *strings, *functions, *mappings, *locations;
    bool failed; /* out of memory somewhere: the profile is incomplete and must not be written */
};

/* Append one pointer to a protobuf-c repeated field (n, items). */
static void push(struct builder *b, size_t *n, void ***items, void *item)
{
    void **grown = item ? realloc(*items, (*n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        b->failed = true;
        free(item);
        return;
    }
    grown[(*n)++] = item;
    *items = grown;
}

/* The id of key in table; *fresh tells whether it was just added (with id next_id). 0 when out
 * of memory. */
static uint64_t intern(struct builder *b, struct interned **table, const char *key,
                       uint64_t next_id, bool *fresh)
{
    struct interned *e;
    *fresh = false;
    HASH_FIND_STR(*table, key, e);
    if (e)
        return e->id;
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        b->failed = true;
        return 0;
    }
    e->id = next_id;
    HASH_ADD_KEYPTR(hh, *table, e->key, strlen(e->key), e);
    *fresh = true;
    return e->id;
}

static void free_table(struct interned **table)
{
    struct interned *e, *tmp;
    HASH_ITER(hh, *table, e, tmp) {
        HASH_DEL(*table, e);
        free(e->key);
        free(e);
    }
}

/* The string_table index of s (NULL = ""). */
static int64_t string_id(struct builder *b, const char *s)
{
    bool fresh;
    Profile *p = &b->profile;
    uint64_t id = intern(b, &b->strings, s ? s : "", p->n_string_table, &fresh);
    if (fresh) {
        char *copy = strdup(s ? s : "");
        push(b, &p->n_string_table, (void ***)&p->string_table, copy);
    }
    return (int64_t)id;
}

static ValueType *value_type(struct builder *b, const char *type, const char *unit)
{
    ValueType *vt = malloc(sizeof *vt);
    if (!vt) {
        b->failed = true;
        return NULL;
    }
    *vt = (ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    vt->type = string_id(b, type);
    vt->unit = string_id(b, unit);
    return vt;
}

static uint64_t function_id(struct builder *b, const struct pp_frame *f, const char *name)
{
    char key[2048];
    bool fresh;
    Profile *p = &b->profile;
    snprintf(key, sizeof key, "%s|%s|%s", name, f->symbol ? f->symbol : "",
             f->file ? f->file : "");
    uint64_t id = intern(b, &b->functions, key, p->n_function + 1, &fresh);
    if (fresh) {
        Function *fn = malloc(sizeof *fn);
        if (fn) {
            *fn = (Function)PERFTOOLS__PROFILES__FUNCTION__INIT;
            fn->id = id;
            fn->name = string_id(b, name);
            fn->system_name = string_id(b, f->symbol ? f->symbol : name);
            fn->filename = string_id(b, f->file);
        }
        push(b, &p->n_function, (void ***)&p->function, fn);
    }
    return id;
}

/* The build-id of the module at path in any of the traces, as hex ("" when none is known). */
static void build_id_hex(const struct pp_report *r, const char *path, char *hex, size_t len)
{
    hex[0] = 0;
    for (size_t t = 0; t < r->ntraces; t++) {
        const struct pp_trace *tr = r->traces[t];
        for (uint32_t m = 0; m < tr->nmodules; m++) {
            const struct pp_trace_module *mod = &tr->modules[m];
            if (!mod->path || strcmp(mod->path, path) != 0 || mod->build_id_len == 0)
                continue;
            for (uint32_t i = 0; i < mod->build_id_len && 2 * i + 2 < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", mod->build_id[i]);
            return;
        }
    }
}

static uint64_t mapping_id(struct builder *b, const struct pp_report *r, const char *module,
                           uint64_t offset)
{
    bool fresh;
    Profile *p = &b->profile;
    uint64_t id = intern(b, &b->mappings, module, p->n_mapping + 1, &fresh);
    if (fresh) {
        char hex[2 * 64 + 1];
        Mapping *m = malloc(sizeof *m);
        if (m) {
            *m = (Mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
            m->id = id;
            m->filename = string_id(b, module);
            build_id_hex(r, module, hex, sizeof hex);
            m->build_id = string_id(b, hex);
            m->has_functions = m->has_filenames = m->has_line_numbers = true;
            m->has_inline_frames = true;
        }
        push(b, &p->n_mapping, (void ***)&p->mapping, m);
    }
    /* The mapping covers every address we give in it. */
    if (id && id <= p->n_mapping && p->mapping[id - 1]->memory_limit <= offset)
        p->mapping[id - 1]->memory_limit = offset + 1;
    return id;
}

/* The location of frames[0..n), n-1 inlined frames then the out-of-line one. */
static uint64_t location_id(struct builder *b, const struct pp_report *r,
                            const struct pp_frame *frames, size_t n)
{
    const struct pp_frame *outer = &frames[n - 1];
    char key[4096], name[1024];
    size_t used = (size_t)snprintf(key, sizeof key, "%s|%" PRIx64, outer->module ? outer->module : "",
                                   outer->offset);
    for (size_t i = 0; i < n && used < sizeof key; i++)
        used += (size_t)snprintf(key + used, sizeof key - used, "|%s:%u",
                                 frames[i].function ? frames[i].function : "", frames[i].line);
    bool fresh;
    Profile *p = &b->profile;
    uint64_t id = intern(b, &b->locations, key, p->n_location + 1, &fresh);
    if (!fresh)
        return id;
    Location *loc = malloc(sizeof *loc);
    if (!loc) {
        b->failed = true;
        return 0;
    }
    *loc = (Location)PERFTOOLS__PROFILES__LOCATION__INIT;
    loc->id = id;
    loc->address = outer->offset;
    if (outer->module)
        loc->mapping_id = mapping_id(b, r, outer->module, outer->offset);
    for (size_t i = 0; i < n; i++) {
        Line *line = malloc(sizeof *line);
        if (line) {
            *line = (Line)PERFTOOLS__PROFILES__LINE__INIT;
            if (frames[i].function)
                snprintf(name, sizeof name, "%s", frames[i].function);
            else if (frames[i].module)
                snprintf(name, sizeof name, "%s+0x%" PRIx64, pp_basename(frames[i].module),
                         frames[i].offset);
            else
                snprintf(name, sizeof name, "0x%" PRIx64, frames[i].offset);
            line->function_id = function_id(b, &frames[i], name);
            line->line = frames[i].line;
        }
        push(b, &loc->n_line, (void ***)&loc->line, line);
    }
    push(b, &p->n_location, (void ***)&p->location, loc);
    return id;
}

static void add_sample(struct builder *b, const struct pp_report *r, const struct pp_site *s)
{
    Sample *sample = malloc(sizeof *sample);
    int64_t *values = malloc(4 * sizeof *values);
    uint64_t *ids = malloc((s->nframes ? s->nframes : 1) * sizeof *ids);
    if (!sample || !values || !ids) {
        free(sample), free(values), free(ids);
        b->failed = true;
        return;
    }
    *sample = (Sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
    values[0] = (int64_t)s->allocs;
    values[1] = (int64_t)s->bytes;
    values[2] = (int64_t)pp_site_live_at_exit(s);
    values[3] = (int64_t)s->live_bytes;
    sample->value = values;
    sample->n_value = 4;
    sample->location_id = ids;
    for (size_t start = 0, i = 0; i < s->nframes; i++) {
        if (s->frames[i].inlined && i + 1 < s->nframes)
            continue; /* part of the location of the frame it was inlined into */
        ids[sample->n_location_id++] = location_id(b, r, s->frames + start, i + 1 - start);
        start = i + 1;
    }
    push(b, &b->profile.n_sample, (void ***)&b->profile.sample, sample);
}

static void free_profile(Profile *p)
{
    for (size_t i = 0; i < p->n_sample_type; i++)
        free(p->sample_type[i]);
    free(p->sample_type);
    free(p->period_type);
    for (size_t i = 0; i < p->n_sample; i++) {
        free(p->sample[i]->location_id);
        free(p->sample[i]->value);
        free(p->sample[i]);
    }
    free(p->sample);
    for (size_t i = 0; i < p->n_mapping; i++)
        free(p->mapping[i]);
    free(p->mapping);
    for (size_t i = 0; i < p->n_location; i++) {
        for (size_t k = 0; k < p->location[i]->n_line; k++)
            free(p->location[i]->line[k]);
        free(p->location[i]->line);
        free(p->location[i]);
    }
    free(p->location);
    for (size_t i = 0; i < p->n_function; i++)
        free(p->function[i]);
    free(p->function);
    for (size_t i = 0; i < p->n_string_table; i++)
        free(p->string_table[i]);
    free(p->string_table);
    free(p->comment);
}

/* gzip (not zlib: pprof readers expect a gzip member) buf into out. */
static int write_gzip(FILE *out, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    z_stream z = {0};
    unsigned char chunk[1 << 16];
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        snprintf(err, errlen, "cannot start gzip compression");
        return -1;
    }
    z.next_in = (unsigned char *)buf;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, Z_FINISH);
        fwrite(chunk, 1, sizeof chunk - z.avail_out, out);
    } while (rc == Z_OK);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        snprintf(err, errlen, "gzip compression failed (zlib error %d)", rc);
        return -1;
    }
    return 0;
}

int pp_report_pprof(FILE *out, const struct pp_report *r, char *err, size_t errlen)
{
    struct builder b = {.profile = PERFTOOLS__PROFILES__PROFILE__INIT};
    Profile *p = &b.profile;
    int rc = -1;
    uint8_t *packed = NULL;

    string_id(&b, ""); /* index 0 is the empty string, by pprof's rule */
    static const char *const types[4][2] = {{"alloc_objects", "count"},
                                            {"alloc_space", "bytes"},
                                            {"inuse_objects", "count"},
                                            {"inuse_space", "bytes"}};
    for (size_t i = 0; i < 4; i++)
        push(&b, &p->n_sample_type, (void ***)&p->sample_type,
             value_type(&b, types[i][0], types[i][1]));
    p->period_type = value_type(&b, "space", "bytes");
    p->period = 1; /* every allocation counted (a sampled trace is already scaled back) */
    p->default_sample_type = string_id(&b, "alloc_objects");
    uint64_t start = UINT64_MAX;
    for (size_t t = 0; t < r->ntraces; t++)
        if (r->traces[t]->process.start_realtime_ns < start)
            start = r->traces[t]->process.start_realtime_ns;
    p->time_nanos = r->ntraces ? (int64_t)start : 0;
    p->duration_nanos = (int64_t)r->duration_ns;
    for (size_t i = 0; i < r->nsites && !b.failed; i++)
        add_sample(&b, r, &r->sites[i]);

    if (b.failed) {
        snprintf(err, errlen, "out of memory while building the pprof profile");
        goto done;
    }
    size_t len = perftools__profiles__profile__get_packed_size(p);
    packed = malloc(len ? len : 1);
    if (!packed) {
        snprintf(err, errlen, "out of memory while packing the pprof profile");
        goto done;
    }
    perftools__profiles__profile__pack(p, packed);
    rc = write_gzip(out, packed, len, err, errlen);
done:
    free(packed);
    free_profile(p);
    free_table(&b.strings);
    free_table(&b.functions);
    free_table(&b.mappings);
    free_table(&b.locations);
    return rc;
}
