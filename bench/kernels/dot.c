/* dot.c — dot product of two int16 vectors of N elements into a 32-bit
 * wrapping sum, R rounds (integer, so a vectorised sum is exact; each round
 * changes one element so no round can be hoisted).
 *   dot [N [R]]   default 16384 40000 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 16384;
    long reps = argc > 2 ? atol(argv[2]) : 40000;
    if (n < 8 || n > (1L << 26))
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
        uint32_t s = 0;
        for (long i = 0; i < n; i++)
            s += (uint32_t)(a[i] * b[i]);
        total = total * 31u + s;
    }
    printf("dot %u\n", (unsigned)total);
    free(a); free(b);
    return 0;
}
