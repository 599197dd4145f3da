/* check.h — the unit tests' tiny harness: each CHECK prints "ok - ..." or "FAIL - ...", counts
 * it, and check_summary() prints "N passed, N failed" and gives main its return value. */
#ifndef POOLPROBE_TEST_CHECK_H
#define POOLPROBE_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>

static int check_passed, check_failed;

/* CHECK(condition, printf-style description) */
#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        int check_ok_ = (cond) ? 1 : 0; /* evaluated once */                                    \
        if (check_ok_)                                                                          \
            check_passed++;                                                                     \
        else                                                                                    \
            check_failed++;                                                                     \
        printf("%s - ", check_ok_ ? "ok" : "FAIL");                                             \
        printf(__VA_ARGS__);                                                                    \
        if (!check_ok_)                                                                         \
            printf("  [%s:%d: %s]", __FILE__, __LINE__, #cond);                                 \
        printf("\n");                                                                           \
    } while (0)

/* CHECK_U64(actual, expected, description...) shows both values on failure. */
#define CHECK_U64(actual, expected, ...)                                                        \
    do {                                                                                        \
        uint64_t check_a_ = (uint64_t)(actual), check_e_ = (uint64_t)(expected);               \
        CHECK(check_a_ == check_e_, __VA_ARGS__);                                               \
        if (check_a_ != check_e_)                                                               \
            printf("    got %" PRIu64 ", expected %" PRIu64 "\n", check_a_, check_e_);          \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    fflush(stdout);
    return check_failed != 0;
}

#endif
