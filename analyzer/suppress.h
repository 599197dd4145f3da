/* suppress.h — the gate's suppressions: sites whose allocations a team accepts as they are.
 *
 * A suppressions file has one pattern per line, matched against a site's key ("parse#2") and
 * against its function name; '*' matches any run of characters (pp_glob_match). Lines starting
 * with '#' (after leading blanks) are comments; blank lines are ignored; leading and trailing
 * blanks are not part of a pattern. A key such as "parse#2" is a pattern, not a comment, since
 * its '#' is not the first character.
 */
#ifndef POOLPROBE_SUPPRESS_H
#define POOLPROBE_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

struct pp_suppressions {
    size_t npatterns;
    char **patterns; /* owned */
};

/* Add the patterns of the file at path to s (s starts zeroed; several files may be added).
 * Never prints: returns -1 with one line in err (without the file name). Allocates. */
int pp_suppressions_load(struct pp_suppressions *s, const char *path, char *err, size_t errlen);

/* Add one pattern (copied). -1 on out of memory. */
int pp_suppressions_add(struct pp_suppressions *s, const char *pattern);

/* Does a pattern match the key or the function (function may be NULL)? s may be NULL. */
bool pp_suppressions_match(const struct pp_suppressions *s, const char *key,
                           const char *function);

void pp_suppressions_free(struct pp_suppressions *s);

#endif
