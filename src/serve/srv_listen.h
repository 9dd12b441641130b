/*
 * srv_listen.h — the listener: event loops (one, or one per worker with
 * srv_listener_add_loops), each a thread with one epoll instance that
 * accepts on the shared listening sockets and owns its client sockets,
 * parses HTTP/1.1 (http_conn.h), routes by longest path prefix per port,
 * and writes responses.  Requests leave it
 * through a dispatch callback and come back through srv_complete(), which
 * any thread may call: this is where the scheduler and its workers plug in.
 *
 * Ownership and lifetimes:
 *  - srv_listener_new() borrows `cfg` (it must outlive the listener) and
 *    copies `settings`.
 *  - The srv_request handed to the dispatch callback, and everything it
 *    points to (the HTTP request, the route), stay valid until srv_complete()
 *    is called for it — even when the client has gone away in between.
 *    srv_complete() must be called exactly once per dispatched request.
 *  - srv_listener_run() returns after srv_listener_stop() once in-flight
 *    requests are answered (or the grace period ends).  The caller must make
 *    sure nothing calls srv_complete() any more before srv_listener_free().
 *
 * Errors: false/NULL + srv_err, as everywhere in src/serve.
 *
 * Threads: everything runs on the thread that calls srv_listener_run (the
 * dispatch, metrics and reload callbacks too), except srv_complete (any
 * thread) and srv_listener_stop / srv_listener_request_reload (any thread,
 * async-signal-safe).  The code is split by concern over srv_listen*.c
 * (srv_listen_internal.h).
 */
#ifndef WEDGE_SRV_LISTEN_H
#define WEDGE_SRV_LISTEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http_conn.h"
#include "srv_config.h"
#include "srv_err.h"

typedef struct srv_listener srv_listener;

/* Identifies a connection and one use of it: slot in the low 32 bits,
 * generation in the high 32.  Stable for logging and for the listener's own
 * check that a completion still belongs to the connection it came from. */
typedef uint64_t srv_token;

typedef struct srv_request {
    const http_request *http;
    const srv_route *route;
    const srv_port *port;
    uint64_t arrival_ns;        /* CLOCK_MONOTONIC, when the request was complete */
    uint64_t id;                /* request id: in the access log and every log line about it */
    srv_token token;
    /* Set by the listener when the client has gone away (its connection
     * was reset or failed) while the request is in flight: whoever runs
     * it may stop early.  srv_complete is still called exactly once. */
    atomic_bool cancelled;
} srv_request;

/* Called on the listener thread for each routed request.  Must not block:
 * queue the request and return. */
typedef void (*srv_dispatch_fn)(void *ud, const srv_request *req);

/* Binds every port of cfg (and the admin port, if any).  NULL + err when a
 * port cannot be bound or memory runs out. */
SRV_WARN_UNUSED srv_listener *srv_listener_new(const srv_config *cfg, const srv_settings *settings,
                                               srv_dispatch_fn dispatch, void *ud, srv_err *err);

/* Runs the event loop on the calling thread until stopped and drained. */
SRV_WARN_UNUSED bool srv_listener_run(srv_listener *l, srv_err *err);

/* Asks the loop to stop accepting and drain.  Async-signal-safe; may be
 * called from any thread, more than once. */
void srv_listener_stop(srv_listener *l);

void srv_listener_free(srv_listener *l);

/* Answers a dispatched request, from any thread.  Copies what it needs
 * (content_type, extra headers, body); the caller keeps its buffers.  After
 * this call `req` must not be touched.  Never fails: when memory runs out
 * the client gets a 503 and the connection closes. */
void srv_complete(srv_listener *l, const srv_request *req, int status, const char *content_type,
                  const http_header *extra, size_t nextra, const void *body, size_t body_len);

/* Counters for /metrics and tests (approximate when read from another thread). */
typedef struct srv_listener_stats {
    uint64_t accepted, requests, responses_by_class[6];   /* [1]=1xx ... [5]=5xx */
    uint64_t open_connections, in_flight;
} srv_listener_stats;
void srv_listener_get_stats(const srv_listener *l, srv_listener_stats *out);

/* More series for GET /metrics: fn(ud, f) appends Prometheus text to f on
 * the listener thread.  Set before srv_listener_run. */
void srv_listener_set_metrics(srv_listener *l, void (*fn)(void *ud, FILE *f), void *ud);

/* The sandboxes of the loop's own thread (serve: the scheduler's worker
 * of that loop, srv_sched.h): between two rounds of events the loop calls
 * fn(ud), which runs at most one job for a while (to its end, or until
 * the job is preempted) and returns 0 when more work is ready for this
 * thread (the loop's epoll_wait does not sleep then), a number of ms
 * when it wants to look again within that long (work of another loop it
 * may take soon), or -1.  So a request that fits this thread is read,
 * run and answered without leaving it.  Completions made on the loop's
 * thread (srv_complete inside fn or inside the dispatch callback) are
 * taken right after, with no eventfd.  Set before srv_listener_run. */
void srv_listener_set_runner(srv_listener *l, int (*fn)(void *ud), void *ud);
/* The loop's epoll descriptor: readable (poll) when some socket event
 * waits for the loop.  Valid until srv_listener_free; only to poll. */
int srv_listener_poll_fd(const srv_listener *l);

/* More event loops (--workers N): makes l (loop 0) one of n loops, the
 * other n - 1 new listeners, each to be run by srv_listener_run on a
 * thread of its own.  Every loop accepts on the same listening sockets
 * (loop 0's, dup'd, in each loop's epoll with EPOLLEXCLUSIVE: a new
 * client wakes one loop waiting in epoll_wait, not a busy one), reads,
 * parses, dispatches and answers its own connections; a request is
 * answered on the loop that read it (srv_complete from another thread
 * goes through that loop's completion queue).  Loop 0 alone serves the
 * admin port (its /metrics counts every loop), keeps the access log
 * (one line per fprintf-locked write), the per-address table (locked,
 * at accept only) and the count of open connections of every loop
 * (--max-connections is global; each loop evicts among its own).
 * srv_listener_stop and srv_listener_request_reload on loop 0 reach every
 * loop: SIGHUP is done by loop 0, every other loop then takes the new
 * configuration (and ports) between its events.  Call before any loop
 * runs; false + err when memory or descriptors run out (then l is one
 * loop still).  srv_listener_free(l) frees every loop (after they return). */
SRV_WARN_UNUSED bool srv_listener_add_loops(srv_listener *l, unsigned n, srv_err *err);
/* Loop i of l (0: l itself). */
srv_listener *srv_listener_loop(srv_listener *l, unsigned i);
/* Wakes loop l if it is asleep in epoll_wait (true then): another loop
 * has work it could take.  Any thread. */
bool srv_listener_wake_idle(srv_listener *l);
/* fn(ud) on loop l's thread after it took a new configuration (SIGHUP),
 * before it routes anything with it.  Set before srv_listener_run. */
void srv_listener_set_sync(srv_listener *l, void (*fn)(void *ud), void *ud);

/* Configuration reload (SIGHUP).  srv_listener_request_reload is
 * async-signal-safe; the listener thread then takes every completion
 * queued so far and calls fn(ud), which returns the new configuration (it
 * must outlive its requests) or NULL to keep serving the current one.
 * Ports may be added and removed: fn calls srv_listener_bind_ports(l, new)
 * before it commits anything, and srv_listener_unbind_ports(l) if it then
 * refuses.  When fn returns the new configuration, ports it no longer
 * lists stop listening and their connections close once idle (a request
 * in flight is answered first); kept ports keep their sockets.
 * Connections stay open; requests in flight finish under the
 * configuration they started with.  Set before srv_listener_run. */
typedef const srv_config *(*srv_reload_fn)(void *ud, const srv_config *current);
void srv_listener_set_reload(srv_listener *l, srv_reload_fn fn, void *ud);
void srv_listener_request_reload(srv_listener *l);
/* Binds cfg's ports that are not listening yet (held until the reload
 * ends).  False + err ("cannot listen on ...") when one cannot be bound:
 * then nothing stays bound. */
SRV_WARN_UNUSED bool srv_listener_bind_ports(srv_listener *l, const srv_config *cfg, srv_err *err);
void srv_listener_unbind_ports(srv_listener *l);

#endif
