/* numfmt.h — numbers for people: bytes, counts and durations in at most five characters.
 *
 * Shared by every output (the text report, the checklist's row texts, --site, the gate), so
 * that the checklist does not depend on a report. Pure functions: no allocation, no I/O.
 */
#ifndef POOLPROBE_NUMFMT_H
#define POOLPROBE_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Human units, written into buf (at least 16 bytes), returned for convenience. At most 5
 * characters for values the report shows: 1023, 4.0K, 12K, 1.2M (bytes, powers of 1024);
 * 999, 1.2K, 12M (counts and rates, powers of 1000); 350ns, 12us, 3.4ms, 1.5s, 12m, 2.1h. */
char *pp_human_bytes(char *buf, size_t len, uint64_t bytes);
char *pp_human_count(char *buf, size_t len, double count);
char *pp_human_ns(char *buf, size_t len, uint64_t ns);

#endif
