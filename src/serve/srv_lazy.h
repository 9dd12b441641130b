/*
 * srv_lazy.h — store routes with "fetch": "lazy" under `wedge serve`
 * (SPEC §7): each request's instance starts from the snapshot's small
 * state (globals, tables, host state: everything but the memory), its
 * linear memory registered with userfaultfd (runtime/rt_uffd.h) and filled
 * by page faults from the store, at the route's granularity (page,
 * region:KIB, instance), with the route's recorded working set prefetched
 * in one batch before the first instruction.
 *
 * The node cache: after the first lazy request that ran to completion,
 * one background thread fetches the whole snapshot into the node cache
 * (content-addressed, checked against its SHA-256, renamed into place
 * only when whole) and loads it; from then on requests are local
 * copy-on-write restores (pooled memory, no network, no fault handler).
 *
 * A fault that cannot be served (store dead, stalled, corrupt, or the
 * request's deadline passed) is failed closed by the handler (rt_uffd.h:
 * the memory becomes inaccessible and every waiter is woken, so the guest
 * traps and a host call gets EFAULT): no worker waits on a fault for longer
 * than two store timeouts (a kept connection gone stale is replaced once;
 * each socket operation waits SRV_REMOTE_TIMEOUT_MS plus 100 ms per MiB it
 * moves), and nothing computed from a half-fetched memory
 * is answered: srv_lazy_finish makes the outcome 502 (store error) or 504
 * (deadline) with one log line.  Store connections are per request
 * (kept idle between requests, retried once on a fresh connection), so a
 * lazy route works again as soon as the store is back, without a reload.
 *
 * Ownership: the srv_fn owns its srv_lazy (srv_lazy_free joins the
 * background thread); a srv_lazy_req lives on the request's stack between
 * srv_lazy_begin and srv_lazy_finish, which releases everything it holds.
 * Errors: srv_lazy_open: false + one line in why; per request, the
 * outcome's status.
 * Threads: srv_lazy_open/_bind/_free where routes load (the listener, or
 * a store route's retry thread, srv_refetch.h); begin/attach/
 * finish on any worker, concurrently (one mutex guards the shared state).
 */
#ifndef WEDGE_SRV_LAZY_H
#define WEDGE_SRV_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "srv_config.h"

typedef struct srv_lazy srv_lazy;
struct srv_outcome;
struct rt_uffd;
struct st_conn;

typedef struct srv_lazy_req {
    srv_lazy *z;                        /* NULL: not a lazy request (the full snapshot is local) */
    struct st_conn *conn;
    bool reused;                        /* conn was idle: a stale one is replaced once */
    struct rt_uffd *uffd;
    uint64_t kill_ns, t0;
    uint32_t prefetched;                /* working-set pages put in before the first instruction */
    uint64_t prefetch_bytes, rounds;    /* bytes and store requests of this request */
    uint64_t prefetch_ns[2];            /* the working set's fetch; registering the memory */
    bool timed_out;                     /* a fetch gave up at the request's deadline */
    char err[512];                      /* the first fetch failure */
} srv_lazy_req;

/* At route load, for a lazy route of url u: the manifest, the module and
 * the small state into the node cache DIR (paths into module and small).
 * When the whole snapshot is already in the node cache, *out stays NULL
 * and small names it (a plain local snapshot route).  Failures that come
 * back at once (refused, reset) are retried a few times with back-off. */
bool srv_lazy_open(const srv_route *route, const char *dir, char *module, size_t cap, char *small, size_t small_cap,
                   srv_lazy **out, char *why, size_t why_cap);
/* The loaded module and its hash: what the full snapshot is loaded against. */
void srv_lazy_bind(srv_lazy *z, rt_module *mod, const uint8_t hash[RT_SNAPSHOT_HASH_BYTES]);
void srv_lazy_free(srv_lazy *z);

/* The snapshot this request restores: the full one once the node has it
 * (r->z NULL: restore it as any snapshot, pooled), else `small` (r->z set:
 * restore it into a new, unpooled memory, then srv_lazy_attach). */
const rt_snapshot *srv_lazy_begin(srv_lazy *z, const rt_snapshot *small, uint64_t kill_ns, srv_lazy_req *r);
/* Registers the instance's memory for faults and prefetches the working
 * set.  False when that failed (srv_lazy_finish then answers 502). */
bool srv_lazy_attach(srv_lazy_req *r, wedge_instance *inst);
/* After the run (before its outcome is made and the instance freed):
 * stops the fault handler, records the working set (first run), starts
 * filling the node cache.  When a fetch failed: fills *out with 502, or
 * 504 when the request's deadline ended it (`deadline`: the guest was
 * stopped at its timeout), logs one line and returns true — the caller
 * answers that and nothing the guest made. */
bool srv_lazy_finish(srv_lazy_req *r, unsigned long long id, bool deadline, struct srv_outcome *out);

#endif
