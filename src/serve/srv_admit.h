/*
 * srv_admit.h — admission control (SPEC §4).  Each route keeps a window of
 * its recent execution times; its estimate is the route's
 * admissions-percentile of that window (before any sample: the configured
 * expected-execution-us, else half the relative deadline).  A request is
 * admitted while the sum, over admitted and not yet completed requests, of
 * min(1, estimate / relative deadline) stays under workers × (1 − reserve);
 * otherwise it is answered 429 with Retry-After.  Its share is released on
 * completion, when its execution time also joins the window.
 *
 * Threads: srv_admit_try runs on the listener thread, srv_admit_done on
 * workers (and on the listener for a job it could not queue); one mutex guards the sum and the windows (a few dozen
 * instructions per request).
 */
#ifndef WEDGE_SRV_ADMIT_H
#define WEDGE_SRV_ADMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "srv_config.h"

#define SRV_ADMIT_WINDOW 64
#define SRV_ADMIT_RESERVE 0.1       /* share of the workers kept free */

typedef struct srv_admit_route {
    uint64_t deadline_us;
    uint32_t percentile;
    uint64_t samples[SRV_ADMIT_WINDOW];     /* execution times, µs, ring */
    uint64_t sorted[SRV_ADMIT_WINDOW];      /* the same values in order (nsamples of them) */
    unsigned nsamples, next;
    uint64_t estimate_us;
} srv_admit_route;

typedef struct srv_admit {
    pthread_mutex_t mu;
    bool enabled;
    double capacity;        /* workers × (1 − reserve) */
    double load;            /* sum of admitted shares */
} srv_admit;

void srv_admit_init(srv_admit *a, unsigned workers, bool enabled);
void srv_admit_destroy(srv_admit *a);
void srv_admit_route_init(srv_admit_route *r, const srv_route *route);

/* True: admitted, *share to hand back to srv_admit_done.  False: reject
 * with Retry-After *retry_after_s. */
bool srv_admit_try(srv_admit *a, srv_admit_route *r, double *share, uint32_t *retry_after_s);

/* Releases `share`; adds the execution time to the window when `sample`. */
void srv_admit_done(srv_admit *a, srv_admit_route *r, double share, uint64_t exec_us, bool sample);

/* Current estimate and load, for metrics (locks). */
uint64_t srv_admit_estimate(srv_admit *a, const srv_admit_route *r);
double srv_admit_load(srv_admit *a);

#endif
