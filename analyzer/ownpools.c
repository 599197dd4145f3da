/* ownpools.c — keep, resize or remove a pool of the program's own (see ownpools.h). */
#include "ownpools.h"

#include <stdio.h>
#include <string.h>

#include "numfmt.h"

void pp_judge_own_pool(const struct pp_trace_own_pool *p, uint64_t duration_ns,
                       const struct pp_thresholds *t, struct pp_own_pool_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->name = p->name;
    v->gets = p->gets;
    v->hits = p->hits;
    v->misses = p->misses;
    v->puts = p->puts;
    double seconds = (double)duration_ns / 1e9;
    v->gets_per_s = seconds > 0 ? (double)p->gets / seconds : 0;
    if (p->gets) {
        /* Hits when they were marked; else every get that did not miss. */
        uint64_t hits = p->hits ? p->hits : p->misses <= p->gets ? p->gets - p->misses : 0;
        v->hit_rate = (double)hits / (double)p->gets;
        if (v->hit_rate > 1)
            v->hit_rate = 1;
    }
    v->hits_per_s = v->gets_per_s * v->hit_rate;
    char a[16], b[16];
    if (v->hits_per_s < t->min_rate) {
        v->verdict = "remove";
        snprintf(v->why, sizeof v->why, "saves %s allocs/s, < %s/s",
                 pp_human_count(a, sizeof a, v->hits_per_s),
                 pp_human_count(b, sizeof b, t->min_rate));
    } else if (v->hit_rate >= t->min_hit_rate) {
        v->verdict = "keep";
        snprintf(v->why, sizeof v->why, "hit >= %.0f%%", t->min_hit_rate * 100);
        (void)a;
    } else {
        v->verdict = "resize";
        snprintf(v->why, sizeof v->why, "hit < %.0f%%: more room or classes",
                 t->min_hit_rate * 100);
    }
}
