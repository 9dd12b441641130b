/* wasi_misc_bad_pointers — other host calls that take guest pointers:
 * random_get with a 4 GiB length, clock_time_get / clock_res_get with the
 * result past the end, fd_fdstat_get, fd_filestat_get, fd_prestat_get,
 * fd_prestat_dir_name, poll_oneoff with a huge subscription count.
 * Each must fail (EFAULT, or EBADF/EINVAL where the descriptor is checked
 * first), never trap the host.  One "name=errno" line per call. */
#include "report.h"

int main(void)
{
    uintptr_t end = mem_end();
    static uint8_t small[64];
    report("random_len_4g", __wasi_random_get(small, 0xFFFFFFFFu));
    report("random_straddle_end", __wasi_random_get((uint8_t *)(end - 8), 16));
    report("clock_time_past_end", __wasi_clock_time_get(1, 1, (__wasi_timestamp_t *)(end - 4)));
    report("clock_res_past_end", __wasi_clock_res_get(0, (__wasi_timestamp_t *)end));
    report("fdstat_past_end", __wasi_fd_fdstat_get(1, (__wasi_fdstat_t *)(end - 8)));
    report("filestat_past_end", __wasi_fd_filestat_get(1, (__wasi_filestat_t *)(end - 8)));
    report("prestat_past_end", __wasi_fd_prestat_get(3, (__wasi_prestat_t *)end));
    report("prestat_dir_name_len_4g", __wasi_fd_prestat_dir_name(3, small, 0xFFFFFFFFu));
    static __wasi_subscription_t sub;
    static __wasi_event_t ev;
    report("poll_nsubs_huge", __wasi_poll_oneoff(&sub, &ev, 0x7FFFFFFFu, &nw));
    report("poll_events_past_end", __wasi_poll_oneoff(&sub, (__wasi_event_t *)(end - 8), 1, &nw));
    report("done", 0);
    return 0;
}
