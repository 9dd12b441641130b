/* cpu — a CPU-heavy function: ~N million rounds of an integer hash
 * (N from the query, /cpu?n=20, default 50), prints the result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long m = argc > 1 ? strtol(argv[1], NULL, 10) : 50;
    if (m < 1 || m > 100000)
        m = 50;
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < (uint64_t)m * 1000000u; i++) {
        h ^= i;
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    printf("cpu: %ld million rounds, hash %016llx\n", m, (unsigned long long)h);
    return 0;
}
