/* matmul.c — dense double matrix multiply C = A·B, N×N, repeated R
 * times with C fed back into A (i-k-j loop order, vectorisable).
 *   matmul [N [R]]   default 384 16 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 384;
    long reps = argc > 2 ? atol(argv[2]) : 16;
    if (n < 1 || n > 4096)
        return 1;
    double *a = malloc(sizeof(double) * (size_t)(n * n));
    double *b = malloc(sizeof(double) * (size_t)(n * n));
    double *c = malloc(sizeof(double) * (size_t)(n * n));
    if (!a || !b || !c)
        return 1;
    uint32_t x = 12345;
    for (long i = 0; i < n * n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (double)(x >> 16 & 0x7fff) / 32768.0 - 0.5;
        x = x * 1103515245u + 12345u;
        b[i] = (double)(x >> 16 & 0x7fff) / 32768.0 - 0.5;
    }
    for (long r = 0; r < reps; r++) {
        memset(c, 0, sizeof(double) * (size_t)(n * n));
        for (long i = 0; i < n; i++)
            for (long k = 0; k < n; k++) {
                double aik = a[i * n + k];
                double *crow = c + i * n;
                const double *brow = b + k * n;
                for (long j = 0; j < n; j++)
                    crow[j] += aik * brow[j];
            }
        /* Scale to max |a| = 1 and feed the product into the next round,
         * so values neither overflow nor vanish however many rounds. */
        double mx = 0;
        for (long i = 0; i < n * n; i++)
            mx = c[i] > mx ? c[i] : -c[i] > mx ? -c[i] : mx;
        for (long i = 0; i < n * n; i++)
            a[i] = c[i] / mx;
    }
    double sum = 0;
    for (long i = 0; i < n * n; i++)
        sum += c[i] * (double)((i % 7) + 1);
    printf("matmul %.10e\n", sum);
    free(a); free(b); free(c);
    return 0;
}
