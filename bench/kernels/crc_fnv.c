/* crc_fnv.c — table-driven CRC-32 (IEEE, reflected) and FNV-1a 64 over
 * a generated buffer, many passes (byte loads, table lookups, 64-bit
 * multiplies).
 *   crc_fnv [MEGABYTES [PASSES]]   default 8 12 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 8;
    long passes = argc > 2 ? atol(argv[2]) : 12;
    if (mib < 1 || mib > 1024)
        return 1;
    size_t len = (size_t)mib << 20;
    uint8_t *buf = malloc(len);
    if (!buf)
        return 1;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (uint8_t)(x >> 3);
    }
    crc_init();
    uint32_t crc = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (long p = 0; p < passes; p++) {
        crc = crc32(crc, buf, len);
        h = fnv1a(h, buf, len);
        buf[(size_t)p % len] ^= (uint8_t)crc;
    }
    printf("crc_fnv %08x %016llx\n", crc, (unsigned long long)h);
    free(buf);
    return 0;
}
