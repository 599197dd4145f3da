/* suppress.c — read suppressions files and match sites against them (see suppress.h). */
#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"

int pp_suppressions_add(struct pp_suppressions *s, const char *pattern)
{
    char **grown = realloc(s->patterns, (s->npatterns + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->patterns = grown;
    if (!(s->patterns[s->npatterns] = strdup(pattern)))
        return -1;
    s->npatterns++;
    return 0;
}

int pp_suppressions_load(struct pp_suppressions *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        char *start = line, *end = line + len;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        *end = '\0';
        if (*start == '\0' || *start == '#')
            continue;
        if (pp_suppressions_add(s, start)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

bool pp_suppressions_match(const struct pp_suppressions *s, const char *key,
                           const char *function)
{
    if (!s)
        return false;
    for (size_t i = 0; i < s->npatterns; i++)
        if (pp_site_matches(s->patterns[i], key, function))
            return true;
    return false;
}

void pp_suppressions_free(struct pp_suppressions *s)
{
    for (size_t i = 0; i < s->npatterns; i++)
        free(s->patterns[i]);
    free(s->patterns);
    s->patterns = NULL;
    s->npatterns = 0;
}
