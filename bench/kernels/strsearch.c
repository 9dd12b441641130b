/* strsearch.c — count occurrences of several patterns in a generated
 * text over a small alphabet, with a naive search and with
 * Boyer-Moore-Horspool, and check both agree.
 *   strsearch [MEGABYTES [PASSES]]   default 4 3 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long naive(const char *t, size_t n, const char *p, size_t m)
{
    long c = 0;
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && t[i + j] == p[j])
            j++;
        if (j == m)
            c++;
    }
    return c;
}

static long horspool(const char *t, size_t n, const char *p, size_t m)
{
    size_t shift[256];
    for (int i = 0; i < 256; i++)
        shift[i] = m;
    for (size_t i = 0; i + 1 < m; i++)
        shift[(uint8_t)p[i]] = m - 1 - i;
    long c = 0;
    size_t i = 0;
    while (i + m <= n) {
        size_t j = m - 1;
        while (t[i + j] == p[j]) {
            if (j == 0) {
                c++;
                break;
            }
            j--;
        }
        i += shift[(uint8_t)t[i + m - 1]];
    }
    return c;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 4;
    long passes = argc > 2 ? atol(argv[2]) : 3;
    if (mib < 1 || mib > 1024)
        return 1;
    size_t n = (size_t)mib << 20;
    char *t = malloc(n);
    if (!t)
        return 1;
    uint32_t x = 99;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        t[i] = "acgt"[x >> 30];
    }
    static const char *const pats[] = {"acgt", "gattaca", "aaaaa", "tgcatgca", "cagtcagtca", "ggg", "acacacacgt"};
    uint64_t h = 0;
    for (long p = 0; p < passes; p++)
        for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
            size_t m = strlen(pats[k]);
            long a = naive(t, n, pats[k], m);
            long b = horspool(t, n, pats[k], m);
            if (a != b) {
                printf("strsearch MISMATCH %s %ld %ld\n", pats[k], a, b);
                return 2;
            }
            h = h * 1000003u + (uint64_t)a;
            t[(size_t)(p * 7919 + (long)k) % n] = 'g';
        }
    printf("strsearch %016llx\n", (unsigned long long)h);
    free(t);
    return 0;
}
