/*
 * data1m.c — a guest with 1 MiB of initialised data (one large active
 * data segment) and a no-op export, to measure instantiation: the cost of
 * building an instance and applying its segments, apart from any work.
 * Built by run_compute.py with clang --target=wasm32-wasi -O2.
 */
#include <stdint.h>

/* 1 MiB of non-zero bytes, written as nested 16-fold repetitions so the
 * source stays small; the compiler must still emit every byte, because a
 * data segment is not compressed. */
#define D16 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define D256 D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16, D16
#define D4K D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256, D256
#define D64K D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K, D4K
#define D1M D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K, D64K

uint8_t blob[1 << 20] = {D1M};

__attribute__((export_name("noop"))) void noop(void) {}

/* First touch after instantiation: one byte of every 4 KiB page read, or
 * written.  With a copy-on-write image (src/runtime/rt_image.c) the
 * instantiation itself is one mmap and these pay the page faults that a
 * copy pays up front; measured so that the trade shows. */
__attribute__((export_name("read_pages"))) int read_pages(void)
{
    int sum = 0;
    for (unsigned i = 0; i < sizeof blob; i += 4096)
        sum += ((volatile uint8_t *)blob)[i];
    return sum;
}

__attribute__((export_name("write_pages"))) void write_pages(void)
{
    for (unsigned i = 0; i < sizeof blob; i += 4096)
        ((volatile uint8_t *)blob)[i] = (uint8_t)i;
}

/* Read through a volatile index so the array is not dropped. */
__attribute__((export_name("peek"))) int peek(int i)
{
    return blob[(unsigned)i & ((1u << 20) - 1)];
}

int main(int argc, char **argv)
{
    (void)argv;
    volatile int i = argc * 4099;
    return peek(i) == 0;
}
