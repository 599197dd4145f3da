/* tried.c — read the JSON result of `poolprobe try` (format "poolprobe-try", version 1) for
 * poolprobe-report --try. A file that is not one is refused with what is wrong, so a user who
 * passes the wrong file hears it rather than seeing no measurements.
 */
#include "tried.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pp_tried_site *sites;
static size_t nsites;

static double real_of(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static uint64_t count_of(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int ratio_of(json_t *site, const char *name, struct pp_ratio *r)
{
    json_t *o = json_object_get(site, name);
    if (!json_is_object(o))
        return -1;
    r->median = real_of(o, "median");
    r->min = real_of(o, "min");
    r->max = real_of(o, "max");
    return 0;
}

int pp_tried_load(const char *path, char *err, size_t errlen)
{
    pp_tried_free();
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "not JSON (%s, line %d)", jerr.text, jerr.line);
        return -1;
    }
    const char *format = json_string_value(json_object_get(root, "format"));
    json_t *version = json_object_get(root, "version");
    json_t *list = json_object_get(root, "sites");
    int rc = -1;
    if (!format || strcmp(format, "poolprobe-try")) {
        snprintf(err, errlen, "not a poolprobe try result (format is not \"poolprobe-try\")");
    } else if (!json_is_integer(version) || json_integer_value(version) != 1) {
        snprintf(err, errlen, "poolprobe try result version %lld; this report reads version 1",
                 json_is_integer(version) ? (long long)json_integer_value(version) : -1LL);
    } else if (!json_is_array(list)) {
        snprintf(err, errlen, "poolprobe try result without \"sites\"");
    } else if (!(sites = calloc(json_array_size(list) + 1, sizeof *sites))) {
        snprintf(err, errlen, "out of memory");
    } else {
        rc = 0;
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s) {
            const char *key = json_string_value(json_object_get(s, "key"));
            const char *verdict = json_string_value(json_object_get(s, "verdict"));
            struct pp_tried_site *t = &sites[nsites];
            if (!key || !verdict || ratio_of(s, "cpu_ratio", &t->cpu) ||
                ratio_of(s, "wall_ratio", &t->wall)) {
                snprintf(err, errlen, "site %zu of the poolprobe try result lacks key, verdict "
                         "or ratios", i);
                rc = -1;
                break;
            }
            t->key = strdup(key);
            t->verdict = strdup(verdict);
            nsites++;
            if (!t->key || !t->verdict) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            t->matched = count_of(s, "matched");
            t->hits = count_of(s, "hits");
            t->misses = count_of(s, "misses");
            t->drops = count_of(s, "drops");
            t->confirmed = json_is_true(json_object_get(s, "confirmed"));
            t->alone = json_is_true(json_object_get(s, "measured_alone"));
        }
    }
    json_decref(root);
    if (rc)
        pp_tried_free();
    return rc;
}

const struct pp_tried_site *pp_tried_find(const char *key)
{
    for (size_t i = 0; i < nsites; i++)
        if (!strcmp(sites[i].key, key))
            return &sites[i];
    return NULL;
}

void pp_tried_free(void)
{
    for (size_t i = 0; i < nsites; i++) {
        free(sites[i].key);
        free(sites[i].verdict);
    }
    free(sites);
    sites = NULL;
    nsites = 0;
}
