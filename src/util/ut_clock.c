/*
 * ut_clock.c — the monotonic clock every timeout, deadline and duration
 * in wedge is measured on (see util.h).
 */
#include <time.h>

#include "util.h"

uint64_t ut_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
