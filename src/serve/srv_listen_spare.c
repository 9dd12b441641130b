/*
 * srv_listen_spare.c — a few connection buffers kept for the next request.
 *
 * A keep-alive connection gives its buffers back whenever nothing is
 * buffered (so that thousands of idle connections cost ~1 KiB each), and
 * takes new ones for its next request: a 16 KiB read buffer and a 4 KiB
 * output buffer per request, too big for malloc's per-thread cache, which
 * showed as ~5% of a short request in _int_malloc/_int_free.  The listener
 * keeps up to SPARE_MAX of each size instead (at most 320 KiB in all,
 * whatever the number of connections); any other size goes to free().
 * Listener thread only.
 */
#include "srv_listen_internal.h"

#include <stdlib.h>

static uint8_t **pool_of(srv_listener *l, bool out, unsigned **n)
{
    *n = out ? &l->nspare_out : &l->nspare_in;
    return out ? l->spare_out : l->spare_in;
}

uint8_t *srv_spare_take(srv_listener *l, bool out, size_t *cap)
{
    unsigned *n;
    uint8_t **pool = pool_of(l, out, &n);
    *cap = out ? SPARE_OUT_CAP : READ_CHUNK;
    if (*n)
        return pool[--*n];
    return malloc(*cap);
}

void srv_spare_put(srv_listener *l, bool out, uint8_t *p, size_t cap)
{
    unsigned *n;
    uint8_t **pool = pool_of(l, out, &n);
    if (p && cap == (out ? (size_t)SPARE_OUT_CAP : (size_t)READ_CHUNK) && *n < SPARE_MAX) {
        pool[(*n)++] = p;
        return;
    }
    free(p);
}

void srv_spare_free(srv_listener *l)
{
    while (l->nspare_in)
        free(l->spare_in[--l->nspare_in]);
    while (l->nspare_out)
        free(l->spare_out[--l->nspare_out]);
}
