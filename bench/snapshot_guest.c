/*
 * snapshot_guest.c — the guest of bench_snapshot (a WASI reactor): its
 * init exports fill 1 MiB, 64 MiB or 1 GiB of memory with non-zero data
 * (so the snapshot holds all of it), and its handler reads about 5% of it
 * (every 20th 4 KiB page, whole).  Under `wedge serve`
 * (bench/serve/run_snapshot_serve.py) a request runs "serve" (the handler,
 * its sum on stdout) from a snapshot taken after fill64, or "serve_cold"
 * (fill64, then the handler: a cold start) without one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t *data;
static size_t words;

static void fill(size_t bytes)
{
    words = bytes / 8;
    data = malloc(bytes);
    for (size_t i = 0; i < words; i++)
        data[i] = i * 0x9E3779B97F4A7C15ull | 1;
}

__attribute__((export_name("fill1"))) void fill1(void) { fill((size_t)1 << 20); }
__attribute__((export_name("fill64"))) void fill64(void) { fill((size_t)64 << 20); }
__attribute__((export_name("fill1024"))) void fill1024(void) { fill(((size_t)1 << 30) - ((size_t)1 << 20)); }

__attribute__((export_name("handle"))) uint64_t handle(void)
{
    uint64_t s = 0;
    for (size_t p = 0; p * 512 < words; p += 20)
        for (size_t k = 0; k < 512 && p * 512 + k < words; k++)
            s += data[p * 512 + k];
    return s;
}

__attribute__((export_name("serve"))) void serve(void) { printf("%llu\n", (unsigned long long)handle()); }

__attribute__((export_name("serve_cold"))) void serve_cold(void)
{
    fill64();
    serve();
}
