/*
 * srv_metrics.h — per-route counters for GET /metrics (Prometheus text):
 * responses by status class, a latency histogram, admissions, deadline
 * misses, traps and timeouts; plus the scheduler's sandbox states.
 *
 * Counters are relaxed atomics written by workers and the listener and read
 * by the listener when it renders; a scrape may see one request counted in
 * one series and not yet in another, which Prometheus tolerates.
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
} srv_route_metrics;

/* Counts one answered request (latency from arrival to completion). */
void srv_metrics_observe(srv_route_metrics *m, int status, uint64_t latency_us, bool deadline_missed);

/* Sandbox states across all workers. */
typedef struct srv_sched_gauges {
    uint64_t queued, running, preempted, completed;
    uint64_t preemptions, steals;
} srv_sched_gauges;

struct srv_fnset;
struct srv_admit;
/* Writes the per-route series and the gauges to f. */
void srv_metrics_render(FILE *f, const struct srv_fnset *set, struct srv_admit *admit, const srv_sched_gauges *g);

#endif
