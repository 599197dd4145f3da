/* tried.h — what `poolprobe try` measured (its JSON result), for poolprobe-report --try FILE.
 *
 * The report shows each measured site's ratios next to its recommendation (text) and carries
 * them as "measured" in the site's JSON. One result file per run of poolprobe-report: the
 * loaded result is module state, set by main before the report is printed and read by the
 * output formats; nothing is loaded unless --try was given. Not thread-safe.
 */
#ifndef POOLPROBE_TRIED_H
#define POOLPROBE_TRIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_ratio {
    double median, min, max;
};

struct pp_tried_site {
    char *key;
    char *verdict;        /* the verdict applied */
    struct pp_ratio cpu, wall; /* with / without */
    uint64_t matched, hits, misses, drops;
    bool confirmed;
    bool alone;           /* measured alone (--each); else together with the other sites */
};

/* Load a poolprobe-try JSON result; -1 with a message in err ("not a poolprobe try result",
 * ...). Replaces what was loaded before. Allocates. */
int pp_tried_load(const char *path, char *err, size_t errlen);
/* The measured site with this key, or NULL (also when nothing is loaded). */
const struct pp_tried_site *pp_tried_find(const char *key);
void pp_tried_free(void);

#endif
