/*
 * snapshot_guest.c — the guest of bench_snapshot (a WASI reactor): its
 * init exports fill 1 MiB, 64 MiB or 1 GiB of memory with non-zero data
 * (so the snapshot holds all of it), and its handler reads about 5% of it
 * (every 20th 4 KiB page, whole).
 */
#include <stdint.h>
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
