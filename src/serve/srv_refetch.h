/*
 * srv_refetch.h — a store route that answers 503 because its store could
 * not be reached when it loaded (srv_fn.store_down) comes back by itself
 * once the store is back, without a reload: a request to it kicks one
 * background attempt at a time (srv_retry.h: 0.5 s after a failure,
 * doubling to 30 s) that loads the route afresh (srv_fn_load: the fetch,
 * the compile, the snapshot) on its own thread; the request itself is
 * answered 503 at once, no worker waits on the store.  When an attempt has
 * loaded the route, the next request to it swaps the result into its
 * srv_fn on the listener thread, with one log line, and runs.
 *
 * Why the swap is race-free: a SRV_FN_BROKEN function is only ever read on
 * the listener thread (dispatch answers it there; no job of it exists), and
 * the swap happens there too, before the request that saw it becomes a job;
 * workers see the loaded function through the job queue's lock.
 *
 * Ownership: the srv_fn owns its srv_refetch (fn->refetch, made at the
 * first request, srv_refetch_free from srv_fnset_free).
 * Errors: none returned: a failed attempt logs one line and stays 503.
 * Threads: srv_refetch_poll on the listener thread; srv_refetch_free where
 * the function set is freed (it waits for an attempt in flight, bounded by
 * the store timeout).
 */
#ifndef WEDGE_SRV_REFETCH_H
#define WEDGE_SRV_REFETCH_H

#include <stdbool.h>

#include "srv_sandbox.h"

typedef struct srv_refetch srv_refetch;

/* For fn with store_down: true when fn was just loaded by an attempt and
 * swapped in (it is no longer SRV_FN_BROKEN: run the request); false
 * otherwise, after kicking an attempt unless one runs or the back-off has
 * not passed (the caller answers 503). */
bool srv_refetch_poll(srv_fn *fn);
void srv_refetch_free(srv_refetch *r);

#endif
