/* cwa_sleeper — a CommonWA function (no WASI, no libc) that sleeps
 * SLEEP_MS (default 400) with runtime_msleep, then answers "slept".  Built
 * with clang --target=wasm32 -nostdlib -Wl,--no-entry
 * -Wl,--export=cwa_main.  For sleep_yield_e2e.py. */
#include "cwa.h"

#ifndef SLEEP_MS
#define SLEEP_MS 400
#endif

int cwa_main(void)
{
    runtime_msleep(SLEEP_MS);
    return resource_write(io_get_stdout(), "slept\n", 6) == 6 ? 0 : 1;
}
