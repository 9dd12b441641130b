/*
 * srv_metrics.c — per-route metrics and their Prometheus rendering.
 */
#include "srv_metrics.h"

#include <stdlib.h>

#include "srv_sandbox.h"

const uint64_t srv_lat_bounds_us[SRV_LAT_NBUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 500000, 1000000, 10000000,
};

#define RLX memory_order_relaxed

srv_route_metrics *srv_metrics_route_new(void)
{
    srv_route_metrics *m = calloc(1, sizeof *m);
    if (m)
        m->holders = 1;
    return m;
}

void srv_metrics_route_hold(srv_route_metrics *m) { m->holders++; }

void srv_metrics_route_release(srv_route_metrics *m)
{
    if (m && --m->holders == 0)
        free(m);
}

void srv_metrics_observe(srv_route_metrics *m, int status, uint64_t latency_us, bool deadline_missed)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add_explicit(&m->by_class[cls], 1, RLX);
    unsigned b = 0;
    while (b < SRV_LAT_NBUCKETS && latency_us > srv_lat_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&m->lat_buckets[b], 1, RLX);
    atomic_fetch_add_explicit(&m->lat_sum_us, latency_us, RLX);
    atomic_fetch_add_explicit(&m->lat_count, 1, RLX);
    if (deadline_missed)
        atomic_fetch_add_explicit(&m->deadline_misses, 1, RLX);
}

/* Route names come from the configuration; Prometheus label values need
 * backslash, quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f), fputc(*s, f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void series(FILE *f, const char *metric, const srv_fn *fn, const char *extra, uint64_t v)
{
    fprintf(f, "%s{route=\"", metric);
    put_label(f, fn->route->name);
    fprintf(f, "\"%s} %llu\n", extra ? extra : "", (unsigned long long)v);
}

void srv_metrics_render(FILE *f, const struct srv_fnset *set, struct srv_admit *admit, const srv_sched_gauges *g)
{
    static const char *const classes[6] = { "", ",class=\"1xx\"", ",class=\"2xx\"", ",class=\"3xx\"",
                                             ",class=\"4xx\"", ",class=\"5xx\"" };
    fputs("# TYPE wedge_route_responses_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        for (int c = 1; c <= 5; c++)
            series(f, "wedge_route_responses_total", &set->fns[i], classes[c],
                   atomic_load_explicit(&set->fns[i].metrics->by_class[c], RLX));
    fputs("# TYPE wedge_route_admitted_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_admitted_total", &set->fns[i], NULL,
               atomic_load_explicit(&set->fns[i].metrics->admitted, RLX));
    fputs("# TYPE wedge_route_rejected_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_rejected_total", &set->fns[i], NULL,
               atomic_load_explicit(&set->fns[i].metrics->rejected, RLX));
    fputs("# TYPE wedge_route_deadline_misses_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_deadline_misses_total", &set->fns[i], NULL,
               atomic_load_explicit(&set->fns[i].metrics->deadline_misses, RLX));
    fputs("# TYPE wedge_route_traps_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_traps_total", &set->fns[i], NULL,
               atomic_load_explicit(&set->fns[i].metrics->traps, RLX));
    fputs("# TYPE wedge_route_timeouts_total counter\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_timeouts_total", &set->fns[i], NULL,
               atomic_load_explicit(&set->fns[i].metrics->timeouts, RLX));
    fputs("# TYPE wedge_route_estimate_us gauge\n", f);
    for (size_t i = 0; i < set->n; i++)
        series(f, "wedge_route_estimate_us", &set->fns[i], NULL,
               srv_admit_estimate(admit, &set->fns[i].admit));
    fputs("# TYPE wedge_route_latency_us histogram\n", f);
    for (size_t i = 0; i < set->n; i++) {
        const srv_route_metrics *m = set->fns[i].metrics;
        uint64_t cum = 0;
        char le[48];
        for (unsigned b = 0; b <= SRV_LAT_NBUCKETS; b++) {
            cum += atomic_load_explicit(&m->lat_buckets[b], RLX);
            if (b < SRV_LAT_NBUCKETS)
                snprintf(le, sizeof le, ",le=\"%llu\"", (unsigned long long)srv_lat_bounds_us[b]);
            else
                snprintf(le, sizeof le, ",le=\"+Inf\"");
            series(f, "wedge_route_latency_us_bucket", &set->fns[i], le, cum);
        }
        series(f, "wedge_route_latency_us_sum", &set->fns[i], NULL, atomic_load_explicit(&m->lat_sum_us, RLX));
        series(f, "wedge_route_latency_us_count", &set->fns[i], NULL, atomic_load_explicit(&m->lat_count, RLX));
    }
    fprintf(f,
            "# TYPE wedge_admission_load gauge\nwedge_admission_load %.6f\n"
            "# TYPE wedge_sandboxes gauge\n"
            "wedge_sandboxes{state=\"queued\"} %llu\n"
            "wedge_sandboxes{state=\"running\"} %llu\n"
            "wedge_sandboxes{state=\"preempted\"} %llu\n"
            "# TYPE wedge_sandboxes_completed_total counter\nwedge_sandboxes_completed_total %llu\n"
            "# TYPE wedge_preemptions_total counter\nwedge_preemptions_total %llu\n"
            "# TYPE wedge_steals_total counter\nwedge_steals_total %llu\n"
            "# TYPE wedge_cancelled_total counter\nwedge_cancelled_total %llu\n"
            "# TYPE wedge_sandboxes_handed_off_total counter\nwedge_sandboxes_handed_off_total %llu\n",
            srv_admit_load(admit), (unsigned long long)g->queued, (unsigned long long)g->running,
            (unsigned long long)g->preempted, (unsigned long long)g->completed,
            (unsigned long long)g->preemptions, (unsigned long long)g->steals,
            (unsigned long long)g->cancelled, (unsigned long long)g->handed_off);
}
