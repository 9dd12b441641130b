/*
 * fuzz_dagger_url.c — libFuzzer target for Dagger's URL splitting
 * (src/dagger/dagger_url.c): any bytes, as a guest may pass them.  Checks
 * that every piece lies inside the input and that a parsed URL really has
 * "scheme://" at its start; ASan/UBSan catch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dagger/dagger_internal.h"

static void inside(const uint8_t *data, size_t size, const char *p, size_t n)
{
    if (n && (p < (const char *)data || p + n > (const char *)data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dagger_url u;
    if (dagger_url_parse((const char *)data, size, &u) != 0)
        return 0;
    if (u.scheme_len == 0 || memcmp(u.scheme + u.scheme_len, "://", 3) != 0)
        abort();
    inside(data, size, u.scheme, u.scheme_len);
    inside(data, size, u.rest, u.rest_len);
    inside(data, size, u.query, u.query_len);
    static const char *const keys[] = {"prefix", "mode", "", "a"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *v;
        size_t n;
        if (dagger_url_param(&u, keys[k], &v, &n))
            inside(data, size, v, n);
    }
    (void)dagger_url_is(&u, "file");
    return 0;
}
