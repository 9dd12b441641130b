/* sort.c — quicksort (median of three, insertion sort for small runs)
 * and a bottom-up merge sort of the same pseudo-random ints; checks both
 * agree and prints a position-weighted checksum.
 *   sort [N [ROUNDS]]   default 2000000 2 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void insertion(int32_t *a, long lo, long hi)
{
    for (long i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quick(int32_t *a, long lo, long hi)
{
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                int32_t t = a[i]; a[i] = a[j]; a[j] = t;
                i++; j--;
            }
        }
        /* Recurse into the smaller side, loop on the larger: bounded depth. */
        if (j - lo < hi - i) {
            quick(a, lo, j);
            lo = i;
        } else {
            quick(a, i, hi);
            hi = j;
        }
    }
    insertion(a, lo, hi);
}

static void merge_sort(int32_t *a, int32_t *tmp, long n)
{
    for (long width = 1; width < n; width *= 2) {
        for (long lo = 0; lo < n; lo += 2 * width) {
            long mid = lo + width < n ? lo + width : n;
            long hi = lo + 2 * width < n ? lo + 2 * width : n;
            long i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        int32_t *t = a; a = tmp; tmp = t;
        memcpy(tmp, a, sizeof(int32_t) * (size_t)n);   /* keep both buffers equal */
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    long rounds = argc > 2 ? atol(argv[2]) : 2;
    if (n < 2 || n > 100000000)
        return 1;
    int32_t *a = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *b = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *tmp = malloc(sizeof(int32_t) * (size_t)n);
    if (!a || !b || !tmp)
        return 1;
    uint64_t check = 0;
    uint32_t x = 7;
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            a[i] = (int32_t)(x >> 1) - (1 << 30);
        }
        memcpy(b, a, sizeof(int32_t) * (size_t)n);
        quick(a, 0, n - 1);
        merge_sort(b, tmp, n);
        if (memcmp(a, b, sizeof(int32_t) * (size_t)n) != 0) {
            printf("sort MISMATCH\n");
            return 2;
        }
        for (long i = 0; i < n; i += 97)
            check = check * 31 + (uint32_t)a[i];
    }
    printf("sort %016llx %d %d\n", (unsigned long long)check, a[0], a[n - 1]);
    free(a); free(b); free(tmp);
    return 0;
}
