/* simd/gemm.c — bench/kernels/gemm.c with the inner loop written in
 * 128-bit vectors (simd4.h: wasm_simd128.h or SSE2); same output.
 *   gemm [N [R]]   default 256 60; N a multiple of 4 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "simd4.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 256;
    long reps = argc > 2 ? atol(argv[2]) : 60;
    if (n < 4 || n > 4096 || n % 4)
        return 1;
    float *a = malloc(sizeof(float) * (size_t)(n * n));
    float *b = malloc(sizeof(float) * (size_t)(n * n));
    float *c = malloc(sizeof(float) * (size_t)(n * n));
    if (!a || !b || !c)
        return 1;
    uint32_t x = 4242;
    for (long i = 0; i < n * n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (float)(x >> 16 & 0x7fff) / 32768.0f - 0.5f;
        x = x * 1103515245u + 12345u;
        b[i] = (float)(x >> 16 & 0x7fff) / 32768.0f - 0.5f;
    }
    double check = 0;
    for (long r = 0; r < reps; r++) {
        a[(r * 7919) % (n * n)] += 0.25f;
        memset(c, 0, sizeof(float) * (size_t)(n * n));
        for (long i = 0; i < n; i++)
            for (long k = 0; k < n; k++) {
                vec4 aik = F4_SPLAT(a[i * n + k]);
                float *crow = c + i * n;
                const float *brow = b + k * n;
                for (long j = 0; j < n; j += 4)
                    F4_STORE(crow + j, F4_ADD(F4_LOAD(crow + j), F4_MUL(aik, F4_LOAD(brow + j))));
            }
        for (long i = 0; i < n * n; i += 97)
            check += c[i];
    }
    printf("gemm %.6e\n", check);
    free(a); free(b); free(c);
    return 0;
}
