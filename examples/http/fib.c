/* fib — the n-th Fibonacci number, n from the query (/fib?n=30 arrives as
 * argv[1]), computed the slow recursive way so n controls the work. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20;
    if (n < 0 || n > 45) {
        fprintf(stderr, "fib: n must be in 0..45\n");
        printf("n must be in 0..45\n");
        return 2;
    }
    printf("fib(%ld) = %llu\n", n, fib((unsigned)n));
    return 0;
}
