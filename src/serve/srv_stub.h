/*
 * srv_stub.h — the stand-in handler that served every route before
 * sandboxes existed.  The scheduler (srv_sched.h) now runs Wasm routes and
 * passes only ".txt" routes here (the HTTP tests use them); nothing else
 * depends on it.
 *
 * What it does, on one helper thread (so completions really come from
 * another thread, as they will from workers):
 *  - a route whose `path` ends in ".txt" behaves like a tiny function: with
 *    no request body it answers the file's contents, with a body it echoes
 *    the body (stdin → stdout, the function contract of SPEC §4);
 *  - every other route answers 503 "function runtime not wired yet".
 *  - test hook: a query parameter wedge_stub_delay_ms=N (N ≤ 5000) delays
 *    the answer, to exercise requests in flight.
 *
 * Ownership: srv_stub_new() returns a stub the caller frees with
 * srv_stub_free(), after srv_listener_run() has returned and before
 * srv_listener_free(): it answers whatever is still queued.
 */
#ifndef WEDGE_SRV_STUB_H
#define WEDGE_SRV_STUB_H

#include "srv_listen.h"

typedef struct srv_stub srv_stub;

SRV_WARN_UNUSED srv_stub *srv_stub_new(srv_err *err);
/* Must be called before the listener runs (the two refer to each other). */
void srv_stub_attach(srv_stub *st, srv_listener *l);
/* The srv_dispatch_fn to give the listener, with the stub as `ud`. */
void srv_stub_dispatch(void *ud, const srv_request *req);
void srv_stub_free(srv_stub *st);

#endif
