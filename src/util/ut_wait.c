/*
 * ut_wait.c — waiting for descriptors or a time in slices, yielding
 * between them (see util.h).  WASI's poll_oneoff and CommonWA's
 * runtime_msleep wait here, so that under `wedge serve` a sleeping guest
 * gives its worker to the other sandboxes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "util.h"

int ut_wait_until(struct pollfd *pfd, nfds_t n, uint64_t wake_ns, void (*yield)(void))
{
    for (;;) {
        uint64_t now = ut_mono_ns();
        uint64_t left = wake_ns > now ? wake_ns - now : 0;
        if (yield && left > UT_WAIT_SLICE_NS)
            left = UT_WAIT_SLICE_NS;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        /* No time limit and nobody to yield to: one wait for a descriptor. */
        int r = ppoll(pfd, n, wake_ns == UINT64_MAX && !yield ? NULL : &ts, NULL);
        if (r > 0)
            return r;
        if (r < 0 && errno != EINTR)
            return -1;
        if (wake_ns != UINT64_MAX && ut_mono_ns() >= wake_ns && left == 0)
            return 0;
        /* After an interrupted slice too: under serve the worker's tick
         * signal interrupts nearly every one. */
        if (yield)
            yield();
    }
}
