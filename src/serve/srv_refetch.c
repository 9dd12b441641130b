/*
 * srv_refetch.c — store routes that were 503 at load come back by
 * themselves (see srv_refetch.h).
 */
#include "srv_refetch.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_guest.h"
#include "srv_log.h"
#include "srv_retry.h"

struct srv_refetch {
    srv_retry t;
    srv_fn fn;                  /* the attempt's load (its thread's until ready) */
    _Atomic bool ready;         /* fn holds a load to swap in (the attempt ended) */
};

/* A fresh srv_fn for route: what srv_fnset_load gives srv_fn_load. */
static void fn_blank(srv_fn *to, const srv_fn *from)
{
    memset(to, 0, sizeof *to);
    to->route = from->route;
    to->deny_ports = from->deny_ports;
    to->ndeny_ports = from->ndeny_ports;
}

static void *attempt(void *arg)
{
    srv_refetch *r = arg;
    srv_fn *f = &r->fn;
    rt_result res;
    /* A route's "init" (granularity "module") runs guest code here. */
    if (!rt_thread_init(&res)) {
        f->kind = SRV_FN_BROKEN;
        f->store_down = true;
        snprintf(f->broken, sizeof f->broken, "%s", res.msg);
    } else {
        srv_fn_load(f);
    }
    /* Anything but the store still out of reach is the route's new state
     * (loaded, or broken for another reason: no more attempts then). */
    if (f->kind != SRV_FN_BROKEN || !f->store_down) {
        atomic_store_explicit(&r->ready, true, memory_order_release);
        srv_retry_done(&r->t, true);
        return NULL;
    }
    char why[sizeof f->broken];
    memcpy(why, f->broken, sizeof why);
    const char *name = f->route->name;
    srv_fn_unload(f);
    srv_fn blank = *f;
    fn_blank(f, &blank);
    uint64_t wait = srv_retry_done(&r->t, false);      /* the last use of r */
    srv_log(SRV_LOG_WARN, "route %s: %s (still 503; next try at a request %.1f s from now)", name, why,
            (double)wait / 1e9);
    return NULL;
}

bool srv_refetch_poll(srv_fn *fn)
{
    srv_refetch *r = fn->refetch;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return false;
        fn_blank(&r->fn, fn);
        srv_retry_init(&r->t);
        fn->refetch = r;
    }
    if (!atomic_load_explicit(&r->ready, memory_order_acquire)) {
        srv_retry_kick(&r->t, attempt, r);
        return false;
    }
    srv_retry_join(&r->t);      /* the attempt has ended or is about to */
    /* The listener's own parts of fn stay: admission, counters, pools. */
    srv_fn keep = *fn;
    *fn = r->fn;
    fn->admit = keep.admit;
    fn->metrics = keep.metrics;
    fn->pools = keep.pools;
    fn->refetch = NULL;
    free(r);
    if (fn->kind == SRV_FN_WASM)
        srv_log(SRV_LOG_INFO, "route %s (%s): the store is back: loaded %s%s, without a reload", fn->route->prefix,
                fn->route->name, fn->route->path, fn->snap ? " with its snapshot" : "");
    else
        srv_log(SRV_LOG_ERROR, "route %s: %s (answers 503)", fn->route->name, fn->broken);
    return fn->kind != SRV_FN_BROKEN;
}

void srv_refetch_free(srv_refetch *r)
{
    if (!r)
        return;
    srv_retry_join(&r->t);
    if (atomic_load(&r->ready))
        srv_fn_unload(&r->fn);
    free(r);
}
