/* base64.c — encode a generated buffer to base64 (RFC 4648) and decode
 * it back, many rounds, checking the round trip.
 *   base64 [MEGABYTES [ROUNDS]]   default 8 24 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = '=';
    }
    return o;
}

/* Returns the decoded length, or (size_t)-1 on a bad character. */
static size_t decode(const char *in, size_t n, const int8_t rev[256], uint8_t *out)
{
    size_t o = 0;
    if (n % 4)
        return (size_t)-1;
    for (size_t i = 0; i < n; i += 4) {
        int pad = (in[i + 2] == '=') + (in[i + 3] == '=');
        int a = rev[(uint8_t)in[i]], b = rev[(uint8_t)in[i + 1]];
        int c = pad >= 2 ? 0 : rev[(uint8_t)in[i + 2]];
        int d = pad >= 1 ? 0 : rev[(uint8_t)in[i + 3]];
        if ((a | b | c | d) < 0)
            return (size_t)-1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(v >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(v >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)v;
    }
    return o;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 8;
    long rounds = argc > 2 ? atol(argv[2]) : 24;
    if (mib < 1 || mib > 256)
        return 1;
    size_t n = ((size_t)mib << 20) + 1;      /* +1: exercise the padding path */
    uint8_t *data = malloc(n), *back = malloc(n);
    char *text = malloc(n / 3 * 4 + 8);
    if (!data || !back || !text)
        return 1;
    int8_t rev[256];
    memset(rev, -1, sizeof rev);
    for (int i = 0; i < 64; i++)
        rev[(uint8_t)alphabet[i]] = (int8_t)i;
    uint32_t x = 5;
    for (size_t i = 0; i < n; i++) {
        x = x * 22695477u + 1u;
        data[i] = (uint8_t)(x >> 16);
    }
    uint64_t h = 0;
    for (long r = 0; r < rounds; r++) {
        size_t tl = encode(data, n - (size_t)r, text);
        size_t bl = decode(text, tl, rev, back);
        if (bl != n - (size_t)r || memcmp(back, data, bl) != 0) {
            printf("base64 MISMATCH round %ld\n", r);
            return 2;
        }
        for (size_t i = 0; i < tl; i += 4093)
            h = h * 131 + (uint8_t)text[i];
        h += tl;
        data[(size_t)r * 104729 % n] ^= 0x5a;
    }
    printf("base64 %016llx\n", (unsigned long long)h);
    free(data); free(back); free(text);
    return 0;
}
