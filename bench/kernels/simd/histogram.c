/* simd/histogram.c — bench/kernels/histogram.c with the bin indices of
 * four values computed in one 128-bit vector (multiply, truncate: simd4.h)
 * and the four increments done one by one; same output.
 *   histogram [N [R]]   default 65536 1500; N a multiple of 4 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "simd4.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 65536;
    long reps = argc > 2 ? atol(argv[2]) : 1500;
    if (n < 8 || n > (1L << 26) || n % 4)
        return 1;
    float *v = malloc(sizeof(float) * (size_t)n);
    if (!v)
        return 1;
    uint32_t x = 31337;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (float)(x >> 16 & 0x7fff) / 32768.0f;
    }
    uint32_t hist[4][64] = {{0}};
    uint32_t mix = 0;
    for (long r = 0; r < reps; r++) {
        vec4 scale = F4_SPLAT(64.0f - (float)(r & 7) * 0.5f);
        for (long i = 0; i < n; i += 4) {
            ivec4 bin = F4_TO_I32(F4_MUL(F4_LOAD(v + i), scale));
            hist[0][I4_LANE(bin, 0)]++;
            hist[1][I4_LANE(bin, 1)]++;
            hist[2][I4_LANE(bin, 2)]++;
            hist[3][I4_LANE(bin, 3)]++;
        }
        mix = mix * 17u + hist[0][r & 63] + hist[3][(r * 5) & 63];
    }
    uint32_t sum = 0;
    for (int b = 0; b < 64; b++)
        sum = sum * 31u + hist[0][b] + hist[1][b] + hist[2][b] + hist[3][b];
    printf("histogram %u %u\n", (unsigned)sum, (unsigned)mix);
    free(v);
    return 0;
}
