/*
 * dagger_url.c — splitting a stream URL: "scheme://rest?query".  The
 * guest's bytes are only looked at, never decoded: a file path is used as
 * written (the jail judges it), a query value is compared as bytes.
 */
#include <ctype.h>
#include <string.h>

#include "dagger_internal.h"

int dagger_url_parse(const char *s, size_t n, dagger_url *u)
{
    memset(u, 0, sizeof *u);
    size_t i = 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == 0 || n - i < 3 || memcmp(s + i, "://", 3) != 0)
        return DAGGER_EURL;
    u->scheme = s;
    u->scheme_len = i;
    u->rest = s + i + 3;
    const char *end = s + n;
    const char *q = memchr(u->rest, '?', (size_t)(end - u->rest));
    u->rest_len = (size_t)((q ? q : end) - u->rest);
    if (q) {
        u->query = q + 1;
        u->query_len = (size_t)(end - u->query);
    }
    return 0;
}

bool dagger_url_is(const dagger_url *u, const char *name)
{
    size_t n = strlen(name);
    if (u->scheme_len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)u->scheme[i]) != name[i])
            return false;
    return true;
}

bool dagger_url_param(const dagger_url *u, const char *key, const char **val, size_t *len)
{
    size_t kn = strlen(key);
    const char *p = u->query, *end = u->query ? u->query + u->query_len : NULL;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > kn && memcmp(p, key, kn) == 0 && p[kn] == '=') {
            *val = p + kn + 1;
            *len = (size_t)(stop - *val);
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}
