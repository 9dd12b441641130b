/*
 * srv_remote.h — routes whose path is a store URL (wedge://HOST:PORT/NAME or
 * redis://HOST:PORT/NAME): their module and snapshot fetched into the node
 * cache when the route loads, through the fetch `wedge run` uses
 * (st_node_fetch), so every request is a local copy-on-write restore.
 * When the store cannot be reached, a route this node fetched before
 * starts from its cached copy (one log line); one never fetched answers
 * 503 until a reload (SIGHUP) finds the store back.
 *
 * Ownership: paths are written into the caller's buffers.
 * Errors: false with the reason in why (one line, no allocation).
 * Threads: called where routes load (start-up, reload), one at a time.
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
bool srv_remote_fetch(const srv_route *route, char *module, size_t cap, char *snap, size_t snap_cap, char *why,
                      size_t why_cap);

#endif
