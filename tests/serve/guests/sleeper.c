/* sleeper — a WASI function that sleeps SLEEP_MS (default 400) with
 * nanosleep (wasi-libc: one poll_oneoff clock subscription), then answers
 * "slept N ms" with the time it measured itself on CLOCK_MONOTONIC.  For
 * sleep_yield_e2e.py: sleeping guests must not hold their workers. */
#include <stdio.h>
#include <time.h>

#ifndef SLEEP_MS
#define SLEEP_MS 400
#endif

int main(void)
{
    struct timespec a, b, d = {SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (nanosleep(&d, NULL) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (long)(b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept %ld ms\n", ms);
    return 0;
}
