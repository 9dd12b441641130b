/*
 * srv_admit.c — admission control; see srv_admit.h.
 */
#include "srv_admit.h"

#include <string.h>

void srv_admit_init(srv_admit *a, unsigned workers, bool enabled)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    a->enabled = enabled;
    a->capacity = (double)workers * (1.0 - SRV_ADMIT_RESERVE);
}

void srv_admit_destroy(srv_admit *a) { pthread_mutex_destroy(&a->mu); }

void srv_admit_route_init(srv_admit_route *r, const srv_route *route)
{
    memset(r, 0, sizeof *r);
    r->deadline_us = route->relative_deadline_us ? route->relative_deadline_us : 1;
    r->percentile = route->admissions_percentile ? route->admissions_percentile : SRV_DEFAULT_PERCENTILE;
    r->estimate_us = route->expected_execution_us ? route->expected_execution_us : r->deadline_us / 2;
}

/* First index in sorted[0..n) whose value is >= x. */
static unsigned lower_bound(const uint64_t *v, unsigned n, uint64_t x)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds a sample to the window (evicting the oldest when full) and keeps
 * `sorted` in order by one removal and one insertion: this runs under the
 * admission lock at every completion, where sorting the window each time
 * showed up in profiles of short functions. */
static void window_add(srv_admit_route *r, uint64_t x)
{
    unsigned n = r->nsamples;
    if (n == SRV_ADMIT_WINDOW) {
        uint64_t old = r->samples[r->next];
        unsigned at = lower_bound(r->sorted, n, old);     /* present: it was inserted */
        memmove(&r->sorted[at], &r->sorted[at + 1], (n - at - 1) * sizeof r->sorted[0]);
        n--;
    }
    unsigned at = lower_bound(r->sorted, n, x);
    memmove(&r->sorted[at + 1], &r->sorted[at], (n - at) * sizeof r->sorted[0]);
    r->sorted[at] = x;
    r->samples[r->next] = x;
    r->next = (r->next + 1) % SRV_ADMIT_WINDOW;
    r->nsamples = n + 1;
}

/* Nearest rank: the smallest value with at least p% of samples <= it. */
static uint64_t window_percentile(const srv_admit_route *r)
{
    unsigned n = r->nsamples;
    unsigned rank = (r->percentile * n + 99) / 100;
    if (rank == 0)
        rank = 1;
    return r->sorted[rank - 1];
}

bool srv_admit_try(srv_admit *a, srv_admit_route *r, double *share, uint32_t *retry_after_s)
{
    pthread_mutex_lock(&a->mu);
    /* One sandbox occupies at most one worker, however long it runs: a
     * route slower than its deadline (an endless loop, say) holds one
     * worker's share, not more, so it cannot lock every other route out. */
    double s = (double)r->estimate_us / (double)r->deadline_us;
    if (s > 1.0)
        s = 1.0;
    /* One request alone is always admitted when nothing else runs, so a
     * route whose estimate exceeds its deadline is not starved forever: its
     * new samples need a chance to bring the estimate down. */
    bool ok = !a->enabled || a->load + s <= a->capacity || a->load == 0;
    if (ok)
        a->load += s;
    pthread_mutex_unlock(&a->mu);
    *share = ok ? s : 0;
    /* Retry-After is in whole seconds: the time the current work needs to
     * drain is at most about one estimate; at least one second. */
    uint64_t ra = (r->estimate_us + 999999) / 1000000;
    *retry_after_s = ra < 1 ? 1 : ra > 3600 ? 3600 : (uint32_t)ra;
    return ok;
}

void srv_admit_done(srv_admit *a, srv_admit_route *r, double share, uint64_t exec_us, bool sample)
{
    pthread_mutex_lock(&a->mu);
    a->load -= share;
    if (a->load < 1e-9)
        a->load = 0;        /* floating-point dust must not block an idle server */
    if (sample) {
        window_add(r, exec_us ? exec_us : 1);
        r->estimate_us = window_percentile(r);
    }
    pthread_mutex_unlock(&a->mu);
}

uint64_t srv_admit_estimate(srv_admit *a, const srv_admit_route *r)
{
    pthread_mutex_lock(&a->mu);
    uint64_t e = r->estimate_us;
    pthread_mutex_unlock(&a->mu);
    return e;
}

double srv_admit_load(srv_admit *a)
{
    pthread_mutex_lock(&a->mu);
    double l = a->load;
    pthread_mutex_unlock(&a->mu);
    return l;
}
