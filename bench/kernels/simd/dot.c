/* simd/dot.c — bench/kernels/dot.c with the dot product in 128-bit vectors
 * (simd4.h: i32x4.dot_i16x8_s in Wasm, pmaddwd natively); the 32-bit
 * wrapping sum is the same in any order, so the output is the same.
 *   dot [N [R]]   default 16384 40000; N a multiple of 8 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "simd4.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 16384;
    long reps = argc > 2 ? atol(argv[2]) : 40000;
    if (n < 8 || n > (1L << 26) || n % 8)
        return 1;
    int16_t *a = malloc(sizeof(int16_t) * (size_t)n);
    int16_t *b = malloc(sizeof(int16_t) * (size_t)n);
    if (!a || !b)
        return 1;
    uint32_t x = 99;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (int16_t)((x >> 16 & 0x7fff) - 16384);
        x = x * 1103515245u + 12345u;
        b[i] = (int16_t)((x >> 16 & 0x7fff) - 16384);
    }
    uint32_t total = 0;
    for (long r = 0; r < reps; r++) {
        a[(r * 31) % n] = (int16_t)(r & 0x3fff);
        ivec4 acc = I4_ZERO();
        for (long i = 0; i < n; i += 8)
            acc = I4_ADD(acc, I4_DOT16(I4_LOAD(a + i), I4_LOAD(b + i)));
        uint32_t s = (uint32_t)I4_LANE(acc, 0) + (uint32_t)I4_LANE(acc, 1) +
                     (uint32_t)I4_LANE(acc, 2) + (uint32_t)I4_LANE(acc, 3);
        total = total * 31u + s;
    }
    printf("dot %u\n", (unsigned)total);
    free(a); free(b);
    return 0;
}
