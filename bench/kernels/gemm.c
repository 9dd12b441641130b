/* gemm.c — single-precision matrix multiply C = A·B, N×N, R rounds
 * (i-k-j order: the inner loop is c[j] += a*b[j], which clang and gcc
 * vectorise natively).  Each round perturbs one element of A so no round
 * repeats another.
 *   gemm [N [R]]   default 256 60 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 256;
    long reps = argc > 2 ? atol(argv[2]) : 60;
    if (n < 4 || n > 4096)
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
                float aik = a[i * n + k];
                float *crow = c + i * n;
                const float *brow = b + k * n;
                for (long j = 0; j < n; j++)
                    crow[j] += aik * brow[j];
            }
        for (long i = 0; i < n * n; i += 97)
            check += c[i];
    }
    printf("gemm %.6e\n", check);
    free(a); free(b); free(c);
    return 0;
}
