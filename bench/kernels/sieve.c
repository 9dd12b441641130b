/* sieve.c — sieve of Eratosthenes over a byte array, repeated; prints
 * the prime count and a sum of the last primes.
 *   sieve [LIMIT [ROUNDS]]   default 20000000 4 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long limit = argc > 1 ? atol(argv[1]) : 20000000;
    long rounds = argc > 2 ? atol(argv[2]) : 4;
    if (limit < 10 || limit > 1000000000)
        return 1;
    uint8_t *composite = malloc((size_t)limit + 1);
    if (!composite)
        return 1;
    long count = 0;
    uint64_t tail = 0;
    for (long r = 0; r < rounds; r++) {
        long lim = limit - r;           /* vary a little so no round is redundant */
        memset(composite, 0, (size_t)lim + 1);
        count = 0;
        for (long i = 2; i * i <= lim; i++)
            if (!composite[i])
                for (long j = i * i; j <= lim; j += i)
                    composite[j] = 1;
        for (long i = 2; i <= lim; i++)
            if (!composite[i]) {
                count++;
                tail = tail * 3 + (uint64_t)i;
            }
    }
    printf("sieve %ld %016llx\n", count, (unsigned long long)tail);
    free(composite);
    return 0;
}
