/* mandelbrot.c — escape-time iteration over an N×N grid (double
 * arithmetic in a tight loop with a data-dependent exit).
 *   mandelbrot [N]   default 2000 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    const int max_iter = 200;
    uint64_t total = 0, hash = 1469598103934665603ull;
    for (long py = 0; py < n; py++) {
        double ci = -1.5 + 3.0 * (double)py / (double)n;
        for (long px = 0; px < n; px++) {
            double cr = -2.0 + 3.0 * (double)px / (double)n;
            double zr = 0, zi = 0;
            int it = 0;
            while (it < max_iter && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += (uint64_t)it;
            hash = (hash ^ (uint64_t)it) * 1099511628211ull;
        }
    }
    printf("mandelbrot %llu %016llx\n", (unsigned long long)total, (unsigned long long)hash);
    return 0;
}
