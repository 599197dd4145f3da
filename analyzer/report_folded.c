/* report_folded.c — the folded-stacks format (see report_folded.h).
 *
 * The format is Brendan Gregg's: frames from the outermost (_start, main) to the innermost (the
 * allocating function), separated by ';', then a space and an integer. Tools split the value
 * off at the last space, so C++ names with spaces stay whole; a ';' inside a name would split
 * a frame, so it is replaced. Inlined frames are frames of their own, as in the text report.
 */
#include "report_folded.h"

#include <inttypes.h>
#include <string.h>

char *pp_folded_frame_name(char *buf, size_t len, const struct pp_frame *f)
{
    if (f->function)
        snprintf(buf, len, "%s", f->function);
    else if (f->module)
        snprintf(buf, len, "%s+0x%" PRIx64, pp_basename(f->module), f->offset);
    else
        snprintf(buf, len, "0x%" PRIx64, f->offset);
    for (char *p = buf; (p = strchr(p, ';')) != NULL;)
        *p = ':';
    return buf;
}

static uint64_t site_value(const struct pp_site *s, enum pp_folded_value value)
{
    switch (value) {
    case PP_FOLDED_BYTES:
        return s->bytes;
    case PP_FOLDED_LIVE_BYTES:
        return s->live_bytes;
    case PP_FOLDED_ALLOCS:
        break;
    }
    return s->allocs;
}

void pp_report_folded(FILE *out, const struct pp_report *r, enum pp_folded_value value)
{
    char name[1024];
    for (size_t i = 0; i < r->nsites; i++) {
        const struct pp_site *s = &r->sites[i];
        uint64_t v = site_value(s, value);
        if (v == 0)
            continue;
        for (size_t k = s->nframes; k-- > 0;)
            fprintf(out, "%s%s", pp_folded_frame_name(name, sizeof name, &s->frames[k]),
                    k ? ";" : "");
        if (s->nframes == 0)
            fputs("[unknown]", out);
        fprintf(out, " %" PRIu64 "\n", v);
    }
}
