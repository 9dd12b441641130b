/* simd/stencil2d.c — bench/kernels/stencil2d.c with the row loop written
 * in 128-bit vectors (simd4.h); same additions in the same order, same
 * output.  The last columns of a row that do not fill a vector are done
 * one by one.
 *   stencil2d [N [T]]   default 1024 200 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "simd4.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1024;
    long steps = argc > 2 ? atol(argv[2]) : 200;
    if (n < 8 || n > 8192)
        return 1;
    float *g = malloc(sizeof(float) * (size_t)(n * n));
    float *h = malloc(sizeof(float) * (size_t)(n * n));
    if (!g || !h)
        return 1;
    uint32_t x = 777;
    for (long i = 0; i < n * n; i++) {
        x = x * 1103515245u + 12345u;
        g[i] = h[i] = (float)(x >> 16 & 0x7fff) / 32768.0f;
    }
    vec4 fifth = F4_SPLAT(0.2f);
    for (long t = 0; t < steps; t++) {
        for (long i = 1; i < n - 1; i++) {
            const float *up = g + (i - 1) * n, *row = g + i * n, *dn = g + (i + 1) * n;
            float *out = h + i * n;
            long j = 1;
            for (; j + 4 <= n - 1; j += 4) {
                vec4 s = F4_ADD(F4_LOAD(row + j), F4_LOAD(up + j));
                s = F4_ADD(s, F4_LOAD(dn + j));
                s = F4_ADD(s, F4_LOAD(row + j - 1));
                s = F4_ADD(s, F4_LOAD(row + j + 1));
                F4_STORE(out + j, F4_MUL(s, fifth));
            }
            for (; j < n - 1; j++)
                out[j] = ((((row[j] + up[j]) + dn[j]) + row[j - 1]) + row[j + 1]) * 0.2f;
        }
        float *tmp = g; g = h; h = tmp;
    }
    double sum = 0;
    for (long i = 0; i < n * n; i++)
        sum += g[i] * (float)((i % 5) + 1);
    printf("stencil2d %.6e\n", sum);
    free(g); free(h);
    return 0;
}
