/*
 * srv_metrics.h — per-route counters for GET /metrics (Prometheus text):
 * responses by status class, a latency histogram, admissions, deadline
 * misses, traps and timeouts; plus the scheduler's sandbox states.
 *
 * Counters are relaxed atomics written by workers and the listener and read
 * by the listener when it renders; a scrape may see one request counted in
 * one series and not yet in another, which Prometheus tolerates.
 *
 * Ownership: a route's counters are a heap object shared by every
 * generation (configuration, srv_sched.c) that has a route of that name
 * (tenant/route), so they keep counting across a reload — Prometheus'
 * rate() would otherwise see a false drop at every SIGHUP.  Each
 * generation holds it once; the last release frees it.  Only the series of
 * the current generation's routes are rendered: a removed route's series
 * disappear (and start again from 0 if it comes back later).  Hold and
 * release on the listener thread (generations are made and freed there).
 */
#ifndef WEDGE_SRV_METRICS_H
#define WEDGE_SRV_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SRV_LAT_NBUCKETS 13

/* Upper bounds of the latency buckets, in microseconds (then +Inf). */
extern const uint64_t srv_lat_bounds_us[SRV_LAT_NBUCKETS];

typedef struct srv_route_metrics {
    _Atomic uint64_t by_class[6];               /* [2]=2xx ... [5]=5xx */
    _Atomic uint64_t admitted, rejected;
    _Atomic uint64_t deadline_misses, traps, timeouts;
    _Atomic uint64_t lat_buckets[SRV_LAT_NBUCKETS + 1];     /* not cumulative; last is +Inf */
    _Atomic uint64_t lat_sum_us, lat_count;
    unsigned holders;                           /* generations sharing it (listener thread) */
} srv_route_metrics;

/* New zeroed counters with one holder; NULL when memory runs out. */
srv_route_metrics *srv_metrics_route_new(void);
void srv_metrics_route_hold(srv_route_metrics *m);
/* Drops one holder; frees m with the last.  NULL is ignored. */
void srv_metrics_route_release(srv_route_metrics *m);

/* Counts one answered request (latency from arrival to completion). */
void srv_metrics_observe(srv_route_metrics *m, int status, uint64_t latency_us, bool deadline_missed);

/* Sandbox states across all workers. */
typedef struct srv_sched_gauges {
    uint64_t queued, running, preempted, completed;
    uint64_t preemptions, steals;
    uint64_t handed_off;        /* jobs run on a worker thread, not on the listener's (worker 0) */
    uint64_t cancelled;         /* requests stopped or skipped because their client left */
} srv_sched_gauges;

struct srv_fnset;
struct srv_admit;
/* Writes the per-route series and the gauges to f. */
void srv_metrics_render(FILE *f, const struct srv_fnset *set, struct srv_admit *admit, const srv_sched_gauges *g);

#endif
