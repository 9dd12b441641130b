/*
 * spec_value.c — values as wast2json writes them, and how results are
 * compared: integers and floats by exact bits (wast2json gives floats as
 * the decimal of their bit pattern), NaNs by class per the spec's
 * "nan:canonical" / "nan:arithmetic", references by identity.
 */
#include "spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *spec_type_name(char type)
{
    switch (type) {
    case 'i': return "i32";
    case 'I': return "i64";
    case 'f': return "f32";
    case 'F': return "f64";
    case 'r': return "funcref";
    case 'e': return "externref";
    case 'v': return "v128";
    default: return "?";
    }
}

static char type_letter(const char *name)
{
    static const struct { const char *name; char letter; } map[] = {
        {"i32", 'i'}, {"i64", 'I'}, {"f32", 'f'}, {"f64", 'F'},
        {"funcref", 'r'}, {"externref", 'e'}, {"v128", 'v'},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].letter;
    return 0;
}

/* Any pointer that is distinct per N and not NULL will do: the runtime
 * and generated code treat externrefs as opaque.  N + 1 keeps ref.extern 0
 * non-null; the top bit keeps the pointers far from anything real in case
 * a bug ever dereferences one (it then faults instead of reading data). */
void *spec_host_ref(uint64_t n)
{
    return (void *)(uintptr_t)((n + 1) | ((uint64_t)1 << 62));
}

static bool host_ref_number(const void *p, uint64_t *n)
{
    uintptr_t u = (uintptr_t)p;
    if (!(u & ((uint64_t)1 << 62)))
        return false;
    *n = (u & ~((uint64_t)1 << 62)) - 1;
    return true;
}

/* Decimal (wast2json writes unsigned bit patterns; accept a sign too). */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    errno = 0;
    if (*s == '-') {
        long long v = strtoll(s, &end, 10);
        *out = (uint64_t)v;
    } else {
        *out = strtoull(s, &end, 10);
    }
    return errno == 0 && *end == '\0';
}

/* A v128: lanes of the given shape, each a decimal bit pattern (floats
 * too) or, for float lanes, a NaN pattern. */
static bool parse_v128(const cJSON *j, spec_val *out, char *why, size_t why_cap)
{
    static const struct { const char *name; uint8_t bytes; bool fl; } shapes[] = {
        {"i8", 1, false}, {"i16", 2, false}, {"i32", 4, false}, {"i64", 8, false}, {"f32", 4, true}, {"f64", 8, true},
    };
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(j, "lane_type");
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(j, "value");
    if (!cJSON_IsString(lt) || !cJSON_IsArray(jv)) {
        snprintf(why, why_cap, "v128 value without lane_type or lanes");
        return false;
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(lt->valuestring, shapes[i].name) == 0) {
            out->lane_bytes = shapes[i].bytes;
            out->lane_float = shapes[i].fl;
        }
    if (out->lane_bytes == 0) {
        snprintf(why, why_cap, "unknown v128 lane type \"%s\"", lt->valuestring);
        return false;
    }
    int nlanes = 16 / out->lane_bytes, k = 0;
    const cJSON *jl;
    cJSON_ArrayForEach(jl, jv)
    {
        if (k == nlanes || !cJSON_IsString(jl)) {
            snprintf(why, why_cap, "v128 value needs %d %s lanes", nlanes, lt->valuestring);
            return false;
        }
        const char *s = jl->valuestring;
        uint64_t bits = 0;
        if (out->lane_float && strcmp(s, "nan:canonical") == 0) {
            out->lane_match[k] = SPEC_MATCH_NAN_CANONICAL;
        } else if (out->lane_float && strcmp(s, "nan:arithmetic") == 0) {
            out->lane_match[k] = SPEC_MATCH_NAN_ARITHMETIC;
        } else if (!parse_u64(s, &bits)) {
            snprintf(why, why_cap, "bad v128 lane \"%s\"", s);
            return false;
        }
        memcpy(out->v.v128 + k * out->lane_bytes, &bits, out->lane_bytes);   /* little-endian host */
        k++;
    }
    if (k != nlanes) {
        snprintf(why, why_cap, "v128 value needs %d %s lanes, got %d", nlanes, lt->valuestring, k);
        return false;
    }
    return true;
}

static bool f32_nan_matches(uint32_t b, uint8_t match)
{
    /* canonical: sign free, payload exactly the quiet bit;
     * arithmetic: sign free, quiet bit set, any payload. */
    if (match == SPEC_MATCH_NAN_CANONICAL)
        return (b & 0x7fffffffu) == 0x7fc00000u;
    return (b & 0x7fc00000u) == 0x7fc00000u;
}

static bool f64_nan_matches(uint64_t b, uint8_t match)
{
    if (match == SPEC_MATCH_NAN_CANONICAL)
        return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
    return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
}

static bool v128_matches(const spec_val *e, const wedge_value *a)
{
    int n = 16 / e->lane_bytes;
    for (int k = 0; k < n; k++) {
        uint64_t want = 0, got = 0;
        memcpy(&want, e->v.v128 + k * e->lane_bytes, e->lane_bytes);
        memcpy(&got, a->v128 + k * e->lane_bytes, e->lane_bytes);
        if (e->lane_match[k] == SPEC_MATCH_BITS) {
            if (want != got)
                return false;
        } else if (e->lane_bytes == 4 ? !f32_nan_matches((uint32_t)got, e->lane_match[k])
                                      : !f64_nan_matches(got, e->lane_match[k])) {
            return false;
        }
    }
    return true;
}

/* Lanes in hex, lane 0 first: "v128:i32x4:0000002a 00000000 ...". */
static void v128_format(const uint8_t *bytes, int lane_bytes, bool fl, const uint8_t *match, char *buf, size_t cap)
{
    int n = 16 / lane_bytes;
    size_t len = (size_t)snprintf(buf, cap, "v128:%c%dx%d:", fl ? 'f' : 'i', lane_bytes * 8, n);
    for (int k = 0; k < n && len < cap; k++) {
        uint64_t x = 0;
        memcpy(&x, bytes + k * lane_bytes, (size_t)lane_bytes);
        if (match && match[k] != SPEC_MATCH_BITS)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? " " : "",
                                    match[k] == SPEC_MATCH_NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic");
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%0*" PRIx64, k ? " " : "", lane_bytes * 2, x);
    }
}

bool spec_val_parse(const cJSON *j, spec_val *out, char *why, size_t why_cap)
{
    memset(out, 0, sizeof *out);
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(j, "value");
    if (!cJSON_IsString(jt)) {
        snprintf(why, why_cap, "value without a type");
        return false;
    }
    out->type = type_letter(jt->valuestring);
    if (out->type == 0) {
        snprintf(why, why_cap, "unknown value type \"%s\"", jt->valuestring);
        return false;
    }
    if (out->type == 'v')
        return parse_v128(j, out, why, why_cap);
    if (jv == NULL) {
        /* Only references may come without a value: "some non-null ref". */
        if (out->type == 'r' || out->type == 'e') {
            out->match = SPEC_MATCH_NONNULL_REF;
            return true;
        }
        snprintf(why, why_cap, "%s value missing", jt->valuestring);
        return false;
    }
    if (!cJSON_IsString(jv)) {
        snprintf(why, why_cap, "%s value is not a string", jt->valuestring);
        return false;
    }
    const char *s = jv->valuestring;
    if (out->type == 'r' || out->type == 'e') {
        uint64_t n;
        if (strcmp(s, "null") == 0) {
            out->v.ref = NULL;
        } else if (out->type == 'e' && parse_u64(s, &n)) {
            out->v.ref = spec_host_ref(n);
        } else {
            snprintf(why, why_cap, "%s value \"%s\" not supported", jt->valuestring, s);
            return false;
        }
        return true;
    }
    if (out->type == 'f' || out->type == 'F') {
        if (strcmp(s, "nan:canonical") == 0) {
            out->match = SPEC_MATCH_NAN_CANONICAL;
            return true;
        }
        if (strcmp(s, "nan:arithmetic") == 0) {
            out->match = SPEC_MATCH_NAN_ARITHMETIC;
            return true;
        }
    }
    uint64_t bits;
    if (!parse_u64(s, &bits)) {
        snprintf(why, why_cap, "bad %s value \"%s\"", jt->valuestring, s);
        return false;
    }
    switch (out->type) {
    case 'i': out->v.i32 = (uint32_t)bits; break;
    case 'I': out->v.i64 = bits; break;
    case 'f': { uint32_t b = (uint32_t)bits; memcpy(&out->v.f32, &b, 4); break; }
    case 'F': memcpy(&out->v.f64, &bits, 8); break;
    }
    return true;
}

static uint32_t f32_bits(const wedge_value *v)
{
    return tv_f32_bits(v->f32);
}

static uint64_t f64_bits(const wedge_value *v)
{
    return tv_f64_bits(v->f64);
}

bool spec_val_matches(const spec_val *e, const wedge_value *a)
{
    switch (e->type) {
    case 'i':
        return a->i32 == e->v.i32;
    case 'I':
        return a->i64 == e->v.i64;
    case 'f': {
        uint32_t b = f32_bits(a);
        /* canonical: sign free, payload exactly the quiet bit;
         * arithmetic: sign free, quiet bit set, any payload. */
        if (e->match == SPEC_MATCH_NAN_CANONICAL)
            return (b & 0x7fffffffu) == 0x7fc00000u;
        if (e->match == SPEC_MATCH_NAN_ARITHMETIC)
            return (b & 0x7fc00000u) == 0x7fc00000u;
        return b == f32_bits(&e->v);
    }
    case 'F': {
        uint64_t b = f64_bits(a);
        if (e->match == SPEC_MATCH_NAN_CANONICAL)
            return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (e->match == SPEC_MATCH_NAN_ARITHMETIC)
            return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return b == f64_bits(&e->v);
    }
    case 'r':
    case 'e':
        if (e->match == SPEC_MATCH_NONNULL_REF)
            return a->ref != NULL;
        return a->ref == e->v.ref;
    case 'v':
        return v128_matches(e, a);
    default:
        return false;
    }
}

void spec_val_format(char type, const wedge_value *v, char *buf, size_t cap)
{
    uint64_t n;
    switch (type) {
    case 'i':
        snprintf(buf, cap, "i32:%" PRIu32 " (0x%08" PRIx32 ")", v->i32, v->i32);
        break;
    case 'I':
        snprintf(buf, cap, "i64:%" PRIu64 " (0x%016" PRIx64 ")", v->i64, v->i64);
        break;
    case 'f':
        snprintf(buf, cap, "f32:0x%08" PRIx32 " (%.9g)", f32_bits(v), (double)v->f32);
        break;
    case 'F':
        snprintf(buf, cap, "f64:0x%016" PRIx64 " (%.17g)", f64_bits(v), v->f64);
        break;
    case 'e':
        if (v->ref == NULL)
            snprintf(buf, cap, "externref:null");
        else if (host_ref_number(v->ref, &n))
            snprintf(buf, cap, "externref:%" PRIu64, n);
        else
            snprintf(buf, cap, "externref:%p", v->ref);
        break;
    case 'r':
        if (v->ref == NULL)
            snprintf(buf, cap, "funcref:null");
        else
            snprintf(buf, cap, "funcref:%p", v->ref);
        break;
    case 'v':
        v128_format(v->v128, 4, false, NULL, buf, cap);
        break;
    default:
        snprintf(buf, cap, "%s:?", spec_type_name(type));
        break;
    }
}

void spec_expected_format(const spec_val *e, char *buf, size_t cap)
{
    if (e->type == 'v') {
        v128_format(e->v.v128, e->lane_bytes, e->lane_float, e->lane_match, buf, cap);
        return;
    }
    switch (e->match) {
    case SPEC_MATCH_NAN_CANONICAL:
        snprintf(buf, cap, "%s:nan:canonical", spec_type_name(e->type));
        break;
    case SPEC_MATCH_NAN_ARITHMETIC:
        snprintf(buf, cap, "%s:nan:arithmetic", spec_type_name(e->type));
        break;
    case SPEC_MATCH_NONNULL_REF:
        snprintf(buf, cap, "%s:non-null", spec_type_name(e->type));
        break;
    default:
        spec_val_format(e->type, &e->v, buf, cap);
        break;
    }
}
