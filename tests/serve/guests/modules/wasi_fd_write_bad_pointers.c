/* wasi_fd_write_bad_pointers — fd_write with an iovec array, a buffer or
 * a result pointer outside linear memory, or lengths that do not fit:
 * each call must fail with EFAULT (21) and write nothing.  Prints one
 * "name=errno" line per call (through a good fd_write), so the test can
 * check every one. */
#include "report.h"

int main(void)
{
    uintptr_t end = mem_end();
    static char ok[] = "LEAK";
    __wasi_ciovec_t v[2];

    /* the iovec array itself past the end, straddling it, at 0xFFFFFFF8 */
    report("iovs_past_end", __wasi_fd_write(1, (const __wasi_ciovec_t *)end, 1, &nw));
    report("iovs_straddle_end", __wasi_fd_write(1, (const __wasi_ciovec_t *)(end - 4), 1, &nw));
    report("iovs_at_4g", __wasi_fd_write(1, (const __wasi_ciovec_t *)0xFFFFFFF8u, 1, &nw));
    /* an iovec count whose array would be 8 * 0x20000000 = 4 GiB long */
    v[0] = (__wasi_ciovec_t){ (const uint8_t *)ok, 4 };
    report("iovs_count_huge", __wasi_fd_write(1, v, 0x20000000u, &nw));
    /* a buffer past the end, straddling it, a huge length */
    v[0] = (__wasi_ciovec_t){ (const uint8_t *)end, 1 };
    report("buf_past_end", __wasi_fd_write(1, v, 1, &nw));
    v[0] = (__wasi_ciovec_t){ (const uint8_t *)(end - 2), 4 };
    report("buf_straddle_end", __wasi_fd_write(1, v, 1, &nw));
    v[0] = (__wasi_ciovec_t){ (const uint8_t *)ok, 0xFFFFFFFFu };
    report("buf_len_4g", __wasi_fd_write(1, v, 1, &nw));
    /* a good iovec then a bad one: nothing at all may be written */
    v[0] = (__wasi_ciovec_t){ (const uint8_t *)ok, 4 };
    v[1] = (__wasi_ciovec_t){ (const uint8_t *)0xFFFFFF00u, 0x200 };
    report("second_iov_bad", __wasi_fd_write(1, v, 2, &nw));
    /* good data, result pointer outside memory */
    report("nwritten_past_end", __wasi_fd_write(2, v, 1, (__wasi_size_t *)end));
    /* fd_read into a buffer past the end */
    __wasi_iovec_t r = { (uint8_t *)(end - 1), 16 };
    report("read_buf_straddle_end", __wasi_fd_read(0, &r, 1, &nw));
    report("done", 0);
    return 0;
}
