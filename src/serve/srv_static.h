/*
 * srv_static.h — static routes: a route whose `path` ends in ".txt" serves
 * that file's contents, with the route's content type, to GET and HEAD
 * (other methods: 405 with `Allow: GET, HEAD`).  The file is read when the
 * configuration is loaded (at start and at every reload, at most
 * SRV_STATIC_MAX bytes), so answering never touches the disk and happens
 * on the listener thread, within srv_sched_dispatch, without a queue.
 *
 * Ownership: srv_static_load fills fn->static_body, which the fnset owns
 * (freed by srv_fnset_free).
 *
 * Errors: srv_static_load marks the route SRV_FN_BROKEN with the reason
 * (answers 503, or refuses a reload), as for a module that does not load.
 *
 * Threads: load on the listener thread (or before it runs); answer on the
 * listener thread.
 */
#ifndef WEDGE_SRV_STATIC_H
#define WEDGE_SRV_STATIC_H

#include <stdbool.h>

#include "srv_sandbox.h"

#define SRV_STATIC_MAX ((size_t)16 << 20)       /* largest file a static route serves */

/* True when route's path names a static file rather than a module. */
bool srv_static_is(const srv_route *route);

/* Reads route's file into fn (kind SRV_FN_STATIC), or marks fn broken. */
void srv_static_load(srv_fn *fn);

/* Answers req from fn's contents (srv_complete); returns the status. */
int srv_static_answer(srv_listener *l, const srv_fn *fn, const srv_request *req);

#endif
