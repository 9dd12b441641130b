/*
 * srv_err.h — the one error idiom of src/serve: fallible calls return false
 * (or NULL) and fill a caller-owned srv_err with one line of text.  Filling
 * it never allocates, so errors can be reported when memory has run out.
 */
#ifndef WEDGE_SRV_ERR_H
#define WEDGE_SRV_ERR_H

#include <stdbool.h>
#include <stddef.h>

#define SRV_WARN_UNUSED __attribute__((warn_unused_result))

typedef struct srv_err {
    char msg[384];      /* one line, no trailing newline */
} srv_err;

/* Formats into err (if not NULL) and returns false, so that callers can
 * write `return srv_fail(err, "...")`. */
bool srv_fail(srv_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The length snprintf(buf, cap, ...) left in buf, from its result n: 0 on
 * an encoding error, and at most cap - 1 when the output was truncated
 * (n is then the length it wanted, which must never be used as one). */
static inline size_t srv_fmt_len(int n, size_t cap)
{
    if (n < 0 || cap == 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

#endif
