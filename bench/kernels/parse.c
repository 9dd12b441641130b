/* parse.c — generate a CSV-like text of signed integers and decimals
 * ("-123,45.678,...\n"), then parse it back by hand (byte loop, digit
 * accumulation, branches on characters) several times.
 *   parse [MEGABYTES [PASSES]]   default 16 16 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static size_t put_uint(char *p, uint32_t v)
{
    char tmp[12];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 16;
    long passes = argc > 2 ? atol(argv[2]) : 16;
    if (mib < 1 || mib > 1024)
        return 1;
    size_t cap = (size_t)mib << 20;
    char *text = malloc(cap + 64);
    if (!text)
        return 1;
    size_t len = 0;
    uint32_t x = 1;
    int col = 0;
    while (len < cap) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        if (r & 1)
            text[len++] = '-';
        len += put_uint(text + len, r % 1000000);
        if (r & 2) {
            text[len++] = '.';
            len += put_uint(text + len, (r >> 4) % 1000);
        }
        text[len++] = ++col == 8 ? '\n' : ',';
        if (col == 8)
            col = 0;
    }
    int64_t isum = 0;
    uint64_t fhash = 0, fields = 0, lines = 0;
    for (long p = 0; p < passes; p++) {
        const char *s = text, *end = text + len;
        while (s < end) {
            int neg = 0;
            if (*s == '-') {
                neg = 1;
                s++;
            }
            int64_t ip = 0;
            while (s < end && *s >= '0' && *s <= '9')
                ip = ip * 10 + (*s++ - '0');
            int64_t frac = 0;
            if (s < end && *s == '.') {
                s++;
                while (s < end && *s >= '0' && *s <= '9')
                    frac = frac * 10 + (*s++ - '0');
            }
            int64_t v = neg ? -ip : ip;
            isum += v;
            fhash = fhash * 1000003u + (uint64_t)(v * 1000 + frac);
            fields++;
            if (s < end) {
                if (*s == '\n')
                    lines++;
                s++;
            }
        }
    }
    printf("parse %llu %llu %lld %016llx\n", (unsigned long long)fields, (unsigned long long)lines,
           (long long)isum, (unsigned long long)fhash);
    free(text);
    return 0;
}
