/* hello for CommonWA: greets its first argument (or "world") on stdout,
 * says who runs it on the log.  Built with
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--export=cwa_main
 * (no WASI, no libc).  `wedge run hello.wasm Ada` prints "hello, Ada". */
#include "cwa.h"

static int len(const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return n;
}

int cwa_main(void)
{
    char name[64], rt[32], line[128];
    int n = startup_arg_len() > 1 ? startup_arg_at(1, name, sizeof name) : -1;
    if (n < 0) {
        n = len("world");
        __builtin_memcpy(name, "world", n);
    }
    int k = 0;
    __builtin_memcpy(line, "hello, ", 7);
    k = 7;
    __builtin_memcpy(line + k, name, n);
    k += n;
    line[k++] = '\n';
    int out = io_get_stdout();
    if (resource_write(out, line, k) != k)
        return 1;
    int r = runtime_name(rt, sizeof rt);
    if (r > 0)
        log_write(6, rt, r);
    return 0;
}
