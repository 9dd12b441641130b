/*
 * test_value.h — the value scaffolding the spec runner (tests/spec) and the
 * differential driver (tests/diff) share: the bit patterns of floats (both
 * print and compare floats by their bits, never by value, so NaN payloads
 * and -0 survive) and the split of a runtime signature string ("iI:F",
 * runtime.h) into parameters and results.  How each instantiates its
 * modules is its own business; files are read with ut_read_file
 * (src/util).
 */
#ifndef WEDGE_TEST_VALUE_H
#define WEDGE_TEST_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t tv_f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline uint64_t tv_f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* "PARAMS:RESULTS": the parameter letters are sig[0..*np), the results
 * the string *results (of length *nr).  A signature without ':' is all
 * parameters and no results; false then, so a caller that needs the
 * results can tell. */
static inline bool tv_sig_split(const char *sig, size_t *np, const char **results, size_t *nr)
{
    const char *colon = strchr(sig, ':');
    *np = colon ? (size_t)(colon - sig) : strlen(sig);
    *results = colon ? colon + 1 : "";
    *nr = strlen(*results);
    return colon != NULL;
}

#endif
