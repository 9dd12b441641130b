/*
 * srv_listen_admin.c — the admin port: Prometheus text for GET /metrics (see
 * srv_listen_internal.h).
 */
#define _GNU_SOURCE
#include "srv_listen_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The built-in admin handler: Prometheus text for GET /metrics.  False
 * when c was closed (memory ran out). */
bool srv_listen_admin(srv_listener *l, conn *c, const http_request *r)
{
    if (r->path_len != 8 || memcmp(r->path, "/metrics", 8))
        return srv_conn_respond(l, c, r, 404, "text/plain", "not found\n", 10);
    /* Every loop's counters (another loop's plain ones read relaxed:
     * approximate while it runs, as Prometheus expects anyway). */
    unsigned long long acc = 0, ev = 0, evs = 0, ref = 0, req = 0, cls[6] = { 0 };
    size_t nconns = 0, in_flight = 0;
    for (unsigned k = 0; k < l->nloops; k++) {
        const srv_listener *o = srv_listener_loop(l, k);
        acc += atomic_load_explicit(&o->accepted, memory_order_relaxed);
        ev += __atomic_load_n(&o->evicted, __ATOMIC_RELAXED);
        evs += __atomic_load_n(&o->evicted_slow, __ATOMIC_RELAXED);
        ref += __atomic_load_n(&o->refused_per_address, __ATOMIC_RELAXED);
        req += atomic_load_explicit(&o->requests, memory_order_relaxed);
        for (int i = 2; i < 6; i++)
            cls[i] += atomic_load_explicit(&o->by_class[i], memory_order_relaxed);
        nconns += __atomic_load_n(&o->nconns, __ATOMIC_RELAXED);
        in_flight += __atomic_load_n(&o->in_flight, __ATOMIC_RELAXED);
    }
    char body[1536];
    int n = snprintf(body, sizeof body,
                     "# TYPE wedge_connections_accepted_total counter\n"
                     "wedge_connections_accepted_total %llu\n"
                     "# TYPE wedge_connections_closed_for_room_total counter\n"
                     "wedge_connections_closed_for_room_total{reason=\"idle\"} %llu\n"
                     "wedge_connections_closed_for_room_total{reason=\"slow_request\"} %llu\n"
                     "# TYPE wedge_connections_refused_total counter\n"
                     "wedge_connections_refused_total{reason=\"per_address\"} %llu\n"
                     "# TYPE wedge_requests_total counter\n"
                     "wedge_requests_total %llu\n"
                     "# TYPE wedge_responses_total counter\n"
                     "wedge_responses_total{class=\"2xx\"} %llu\n"
                     "wedge_responses_total{class=\"3xx\"} %llu\n"
                     "wedge_responses_total{class=\"4xx\"} %llu\n"
                     "wedge_responses_total{class=\"5xx\"} %llu\n"
                     "# TYPE wedge_open_connections gauge\n"
                     "wedge_open_connections %zu\n"
                     "# TYPE wedge_requests_in_flight gauge\n"
                     "wedge_requests_in_flight %zu\n",
                     acc, ev, evs, ref, req, cls[2], cls[3], cls[4], cls[5], nconns, in_flight);
    size_t len = srv_fmt_len(n, sizeof body);
    /* The scheduler's series go after the listener's; without memory for
     * them the listener's own still answer. */
    char *more = NULL;
    size_t more_len = 0;
    FILE *mf = l->metrics_fn ? open_memstream(&more, &more_len) : NULL;
    if (mf) {
        fwrite(body, 1, len, mf);
        l->metrics_fn(l->metrics_ud, mf);
        if (fclose(mf) == 0 && more) {
            bool ok = srv_conn_respond(l, c, r, 200, "text/plain; version=0.0.4", more, more_len);
            free(more);
            return ok;
        }
        free(more);
    }
    return srv_conn_respond(l, c, r, 200, "text/plain; version=0.0.4", body, len);
}
