/* simd/saxpy.c — bench/kernels/saxpy.c in 128-bit vectors (simd4.h);
 * multiply then add, as the scalar one, so the output is the same.
 *   saxpy [N [R]]   default 16384 60000; N a multiple of 4 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "simd4.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 16384;
    long reps = argc > 2 ? atol(argv[2]) : 60000;
    if (n < 8 || n > (1L << 26) || n % 4)
        return 1;
    float *xs = malloc(sizeof(float) * (size_t)n);
    float *ys = malloc(sizeof(float) * (size_t)n);
    if (!xs || !ys)
        return 1;
    uint32_t x = 2024;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        xs[i] = (float)(x >> 16 & 0x7fff) / 32768.0f - 0.5f;
        x = x * 1103515245u + 12345u;
        ys[i] = (float)(x >> 16 & 0x7fff) / 32768.0f - 0.5f;
    }
    for (long r = 0; r < reps; r++) {
        vec4 a = F4_SPLAT((r & 1) ? 0.75f : -0.75f);
        for (long i = 0; i < n; i += 4)
            F4_STORE(ys + i, F4_ADD(F4_MUL(a, F4_LOAD(xs + i)), F4_LOAD(ys + i)));
    }
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += ys[i] * (float)((i % 3) + 1);
    printf("saxpy %.6e\n", sum);
    free(xs); free(ys);
    return 0;
}
