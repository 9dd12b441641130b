/*
 * cli_value.c — `wedge run --invoke` arguments and results.
 *
 * Arguments: i32/i64 in decimal (negative allowed) or 0x hex; an i32 may be
 * given signed (-2147483648..) or unsigned (..4294967295), likewise i64.
 * f32/f64: anything strtod accepts (decimal, hex floats, inf, nan).
 * References: only "null".
 * Results: integers as signed decimal; floats with %.9g / %.17g, enough
 * digits to round-trip (inf, -inf, nan, -nan as printf spells them);
 * references as "null" or "ref".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/wedge_abi.h"
#include "cli.h"

static bool cli_parse_int(const char *s, int bits, uint64_t *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    /* Base 10 unless 0x: a leading zero is not octal here. */
    const char *digits = s[0] == '-' ? s + 1 : s;
    int base = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') ? 16 : 10;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, base);
        if (errno || *end || (bits == 32 && v < INT32_MIN))
            return false;
        *out = (uint64_t)v;
    } else {
        unsigned long long v = strtoull(s, &end, base);
        /* strtoull would accept "-" after spaces and wrap; digits only. */
        if (errno || *end || (bits == 32 && v > UINT32_MAX) || !((s[0] >= '0' && s[0] <= '9')))
            return false;
        *out = v;
    }
    return true;
}

/* A v128 as "SHAPE:lane,lane,...", SHAPE one of i8x16 i16x8 i32x4 i64x2
 * f32x4 f64x2; integer lanes as cli_parse_int takes them (then truncated
 * to the lane), float lanes as strtod does. */
static bool cli_parse_v128(const char *s, uint8_t out[16])
{
    static const struct { const char *name; int bytes; bool fl; } shapes[] = {
        {"i8x16:", 1, false}, {"i16x8:", 2, false}, {"i32x4:", 4, false},
        {"i64x2:", 8, false}, {"f32x4:", 4, true},  {"f64x2:", 8, true},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t n = strlen(shapes[i].name);
        if (strncmp(s, shapes[i].name, n) != 0)
            continue;
        int nlanes = 16 / shapes[i].bytes;
        const char *p = s + n;
        for (int k = 0; k < nlanes; k++) {
            char lane[64];
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= sizeof lane || (k < nlanes - 1) != (p[len] == ','))
                return false;
            memcpy(lane, p, len);
            lane[len] = 0;
            p += len + (p[len] == ',');
            uint64_t u;
            char *end;
            if (shapes[i].fl && shapes[i].bytes == 4) {
                float f = strtof(lane, &end);
                memcpy(&u, &f, 4);
            } else if (shapes[i].fl) {
                double d = strtod(lane, &end);
                memcpy(&u, &d, 8);
            } else {
                end = lane + len;
                if (!cli_parse_int(lane, 64, &u))
                    return false;
            }
            if (*end)
                return false;
            memcpy(out + k * shapes[i].bytes, &u, (size_t)shapes[i].bytes);   /* little-endian host */
        }
        return *p == 0;
    }
    return false;
}

bool cli_parse_value(char t, const char *s, void *out_value)
{
    wedge_value *v = out_value;
    memset(v, 0, sizeof *v);
    uint64_t u;
    char *end;
    switch (t) {
    case 'i':
        if (!cli_parse_int(s, 32, &u))
            return false;
        v->i32 = (uint32_t)u;
        return true;
    case 'I':
        if (!cli_parse_int(s, 64, &u))
            return false;
        v->i64 = u;
        return true;
    case 'f':
        errno = 0;
        v->f32 = strtof(s, &end);
        return *s && !*end;
    case 'F':
        v->f64 = strtod(s, &end);
        return *s && !*end;
    case 'r': case 'e':
        return strcmp(s, "null") == 0;
    case 'v':
        return cli_parse_v128(s, v->v128);
    default:
        return false;
    }
}

void cli_print_value(char t, const void *value)
{
    const wedge_value *v = value;
    switch (t) {
    case 'i': printf("%" PRId32 "\n", (int32_t)v->i32); break;
    case 'I': printf("%" PRId64 "\n", (int64_t)v->i64); break;
    case 'f': printf("%.9g\n", (double)v->f32); break;
    case 'F': printf("%.17g\n", v->f64); break;
    case 'r': case 'e': printf("%s\n", v->ref ? "ref" : "null"); break;
    case 'v': {
        uint32_t l[4];
        memcpy(l, v->v128, 16);
        printf("i32x4:0x%08" PRIx32 ",0x%08" PRIx32 ",0x%08" PRIx32 ",0x%08" PRIx32 "\n", l[0], l[1], l[2], l[3]);
        break;
    }
    default: printf("?\n"); break;
    }
}
