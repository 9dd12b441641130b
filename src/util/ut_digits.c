/*
 * ut_digits.c — decimal digits without printf, for text built on a hot
 * path (serve's response head: vfprintf showed up in its profile).
 * Contract: util.h.
 */
#include "util.h"

char *ut_put_u64(char *p, uint64_t v)
{
    char tmp[20];               /* UINT64_MAX has 20 digits */
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}
