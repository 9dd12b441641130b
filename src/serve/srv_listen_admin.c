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
                     (unsigned long long)l->accepted,
                     (unsigned long long)l->evicted, (unsigned long long)l->evicted_slow,
                     (unsigned long long)l->refused_per_address,
                     (unsigned long long)l->requests,
                     (unsigned long long)l->by_class[2], (unsigned long long)l->by_class[3],
                     (unsigned long long)l->by_class[4], (unsigned long long)l->by_class[5],
                     l->nconns, l->in_flight);
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
