/* fannkuch.c — pancake flips over all permutations of 1..N (small-array
 * shuffling, short data-dependent loops), R times.
 *   fannkuch [N [R]]   default 10 3 */
#include <stdio.h>
#include <stdlib.h>

static void fannkuch(int n, int *checksum_out, int *max_out)
{
    int perm[16], perm1[16], count[16];
    int max_flips = 0, checksum = 0, perm_count = 0, r = n;
    for (int i = 0; i < n; i++)
        perm1[i] = i;
    for (;;) {
        while (r != 1) {
            count[r - 1] = r;
            r--;
        }
        for (int i = 0; i < n; i++)
            perm[i] = perm1[i];
        int flips = 0, k;
        while ((k = perm[0]) != 0) {
            for (int i = 0, j = k; i < j; i++, j--) {
                int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            }
            flips++;
        }
        if (flips > max_flips)
            max_flips = flips;
        checksum += perm_count % 2 == 0 ? flips : -flips;
        /* Next permutation in the counting order. */
        for (;;) {
            if (r == n) {
                *checksum_out = checksum;
                *max_out = max_flips;
                return;
            }
            int p0 = perm1[0];
            for (int i = 0; i < r; i++)
                perm1[i] = perm1[i + 1];
            perm1[r] = p0;
            if (--count[r] > 0)
                break;
            r++;
        }
        perm_count++;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 3 || n > 12)
        return 1;
    long total = 0;
    int checksum = 0, max_flips = 0;
    for (int r = 0; r < reps; r++) {
        fannkuch(n, &checksum, &max_flips);
        total += checksum;
    }
    printf("fannkuch %d %d %ld\n", checksum, max_flips, total);
    return 0;
}
