/* stdout_256mib_in_one_call — a single fd_write of 4096 iovecs that all
 * point at the same 64 KiB: 256 MiB asked for in one host call, 16 times
 * the response limit.  The host must not buffer it all (500 "response too
 * large", resident memory bounded). */
#include <string.h>
#include <wasi/api.h>

#define N 4096
static char chunk[65536];
static __wasi_ciovec_t iov[N];

int main(void)
{
    memset(chunk, 'c', sizeof chunk);
    for (int i = 0; i < N; i++)
        iov[i] = (__wasi_ciovec_t){ (const uint8_t *)chunk, sizeof chunk };
    __wasi_size_t n = 0;
    return __wasi_fd_write(1, iov, N, &n) == 0 ? 0 : 1;
}
