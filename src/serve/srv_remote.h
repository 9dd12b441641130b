/*
 * srv_remote.h — routes whose path is a store URL (wedge://HOST:PORT/NAME or
 * redis://HOST:PORT/NAME): their module and snapshot fetched into the node
 * cache when the route loads, through the fetch `wedge run` uses
 * (st_node_fetch), so every request is a local copy-on-write restore; a
 * "fetch": "lazy" route gets only its small state now and its memory per
 * request by page faults (srv_lazy.h).  A connection refused or reset is
 * retried with back-off (st_connect_retry).  When the store cannot be
 * reached, a route this node fetched before starts from its cached copy
 * (one log line); one never fetched answers 503 until the store is back:
 * requests to it then retry in the background (srv_refetch.h).
 *
 * Ownership: paths are written into the caller's buffers.
 * Errors: false with the reason in why (one line, no allocation).
 * Threads: called where routes load (start-up, reload) and from a route's
 * retry thread (srv_refetch.h), possibly at the same time.
 */
#ifndef WEDGE_SRV_REMOTE_H
#define WEDGE_SRV_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "srv_config.h"

/* Socket operations with the store time out after this: a store that is
 * down or stalls fails the route's load in bounded time. */
#define SRV_REMOTE_TIMEOUT_MS 3000

/* Fetches route->path's module (and snapshot, unless granularity
 * "module") into the node cache: their local paths into module and snap
 * (snap "" when there is none). */
struct srv_lazy;
/* *lazy: the route's lazy state (owned by the caller, srv_lazy_free) when
 * it is served lazily; NULL otherwise, snap then naming a whole snapshot. */
bool srv_remote_fetch(const srv_route *route, char *module, size_t cap, char *snap, size_t snap_cap,
                      struct srv_lazy **lazy, char *why, size_t why_cap);
/* Records (module, snap) as route's last whole fetch: what a reload starts
 * from while the store is down. */
void srv_remote_remember(const srv_route *route, const char *module, const char *snap);

#endif
