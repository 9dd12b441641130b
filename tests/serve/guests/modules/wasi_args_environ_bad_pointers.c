/* wasi_args_environ_bad_pointers — args_get, args_sizes_get, environ_get
 * and environ_sizes_get with pointer arrays and string buffers outside
 * linear memory or straddling its end: EFAULT (21), and nothing written
 * past the end (which would be host memory in software mode).  One
 * "name=errno" line per call. */
#include "report.h"

int main(void)
{
    uintptr_t end = mem_end();
    __wasi_size_t argc, argsz, envc, envsz;
    static uint8_t *ptrs[4096];
    static uint8_t buf[65536];
    if (__wasi_args_sizes_get(&argc, &argsz) || __wasi_environ_sizes_get(&envc, &envsz))
        return 1;
    report("args_sizes_past_end", __wasi_args_sizes_get((__wasi_size_t *)end, &argsz));
    report("args_sizes_2nd_past_end", __wasi_args_sizes_get(&argc, (__wasi_size_t *)(end - 2)));
    report("args_argv_past_end", __wasi_args_get((uint8_t **)end, buf));
    report("args_argv_straddle_end", __wasi_args_get((uint8_t **)(end - 4 * argc + 2), buf));
    report("args_buf_straddle_end", __wasi_args_get(ptrs, (uint8_t *)(end - argsz + 1)));
    report("args_buf_at_4g", __wasi_args_get(ptrs, (uint8_t *)0xFFFFFFFFu));
    report("environ_sizes_past_end", __wasi_environ_sizes_get((__wasi_size_t *)end, &envsz));
    report("environ_ptrs_past_end", __wasi_environ_get((uint8_t **)end, buf));
    report("environ_ptrs_straddle_end", __wasi_environ_get((uint8_t **)(end - 4 * envc + 2), buf));
    report("environ_buf_straddle_end", __wasi_environ_get(ptrs, (uint8_t *)(end - envsz + 1)));
    report("environ_buf_at_4g", __wasi_environ_get(ptrs, (uint8_t *)0xFFFFFFF0u));
    report("done", 0);
    return 0;
}
