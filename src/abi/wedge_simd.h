/*
 * wedge_simd.h — the Wasm 2.0 fixed-width SIMD instructions for generated
 * code, as GNU C vector extensions (GCC and Clang), portable to any target.
 *
 * Every SIMD instruction X.Y of the operator table (src/wasm/wasm_ops.c)
 * is a helper wop_X_Y here, taking and returning wop_v128 (a v128 as two
 * 64-bit lanes; the lane views are bit casts).  A target header included
 * below may provide a faster exact version of a helper and define
 * WOP_HAVE_<HELPER> so the generic one here is skipped; wedge_simd_x86.h
 * is the one for x86-64 and uses SSE2 only, because module .so files are
 * built without -march (any x86-64 runs them).
 *
 * Wasm semantics that plain vector C would get wrong are spelled out:
 * integer lanes wrap (unsigned lane types), shift counts are taken modulo
 * the lane width, float min/max propagate NaN and order -0 below +0,
 * float->int conversions saturate, rounding quiets NaNs.  Lane order is
 * memory order on the little-endian hosts wedge supports.
 *
 * Included by wedge_ops.h; embedded in the wedge binary with it.
 */
#ifndef WEDGE_SIMD_H
#define WEDGE_SIMD_H

typedef uint64_t wop_v128 __attribute__((vector_size(16)));
typedef int8_t wop_i8x16 __attribute__((vector_size(16)));
typedef uint8_t wop_u8x16 __attribute__((vector_size(16)));
typedef int16_t wop_i16x8 __attribute__((vector_size(16)));
typedef uint16_t wop_u16x8 __attribute__((vector_size(16)));
typedef int32_t wop_i32x4 __attribute__((vector_size(16)));
typedef uint32_t wop_u32x4 __attribute__((vector_size(16)));
typedef int64_t wop_i64x2 __attribute__((vector_size(16)));
typedef uint64_t wop_u64x2 __attribute__((vector_size(16)));
typedef float wop_f32x4 __attribute__((vector_size(16)));
typedef double wop_f64x2 __attribute__((vector_size(16)));
/* Halves, for the widening operations. */
typedef int8_t wop_i8x8 __attribute__((vector_size(8)));
typedef uint8_t wop_u8x8 __attribute__((vector_size(8)));
typedef int16_t wop_i16x4 __attribute__((vector_size(8)));
typedef uint16_t wop_u16x4 __attribute__((vector_size(8)));
typedef int32_t wop_i32x2 __attribute__((vector_size(8)));
typedef uint32_t wop_u32x2 __attribute__((vector_size(8)));

#define WOP_V(...) ((wop_v128)(__VA_ARGS__))

/* Lane-wise select: bits of a where m is set, else of b. */
WOP_INLINE wop_v128 wop_sel(wop_v128 m, wop_v128 a, wop_v128 b) { return (a & m) | (b & ~m); }

#if defined(__x86_64__) && defined(__SSE2__)
#include "wedge_simd_x86.h"
#endif

/* Guard mode keeps every load (see WOP_KEEP); a target header may pin the
 * whole vector, the generic version pins one lane, which depends on the
 * load all the same. */
#ifndef WOP_KEEP_V128
#define WOP_KEEP_V128(x) WOP_KEEP((x)[0])
#endif

/* i8x16.shuffle with constant lane indices: WOP_SHUFFLE8 takes the 16
 * byte indices (0-31); WOP_SHUFFLE16/32/64 the same shuffle when it moves
 * whole aligned 2-, 4- or 8-byte groups, with the 8/4/2 group indices
 * (the emitter, cg_emit_func.c, picks the widest: with SSE2 only, cc
 * lowers a byte shuffle without pshufb to a gather by bytes). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define WOP_SHUF_T(t, a, b, ...) WOP_V(__builtin_shufflevector((t)(a), (t)(b), __VA_ARGS__))
#endif
#endif
#ifndef WOP_SHUF_T
#define WOP_SHUF_T(t, a, b, ...) WOP_V(__builtin_shuffle((t)(a), (t)(b), (t){ __VA_ARGS__ }))
#endif
#define WOP_SHUFFLE8(a, b, ...) WOP_SHUF_T(wop_u8x16, a, b, __VA_ARGS__)
#define WOP_SHUFFLE16(a, b, ...) WOP_SHUF_T(wop_u16x8, a, b, __VA_ARGS__)
#define WOP_SHUFFLE32(a, b, ...) WOP_SHUF_T(wop_u32x4, a, b, __VA_ARGS__)
#define WOP_SHUFFLE64(a, b, ...) WOP_SHUF_T(wop_u64x2, a, b, __VA_ARGS__)

/* ---- memory --------------------------------------------------------------- */

WOP_INLINE wop_v128 wop_v128_load(const uint8_t *p) { wop_v128 v; __builtin_memcpy(&v, p, 16); return v; }
WOP_INLINE void wop_v128_store(uint8_t *p, wop_v128 v) { __builtin_memcpy(p, &v, 16); }

#define WOP_LOAD_EXT(name, half, full)                                                  \
    WOP_INLINE wop_v128 wop_v128_##name(const uint8_t *p)                               \
    {                                                                                   \
        half h;                                                                         \
        __builtin_memcpy(&h, p, 8);                                                     \
        return WOP_V(__builtin_convertvector(h, full));                                 \
    }
WOP_LOAD_EXT(load8x8_s, wop_i8x8, wop_i16x8)
WOP_LOAD_EXT(load8x8_u, wop_u8x8, wop_u16x8)
WOP_LOAD_EXT(load16x4_s, wop_i16x4, wop_i32x4)
WOP_LOAD_EXT(load16x4_u, wop_u16x4, wop_u32x4)
WOP_LOAD_EXT(load32x2_s, wop_i32x2, wop_i64x2)
WOP_LOAD_EXT(load32x2_u, wop_u32x2, wop_u64x2)

WOP_INLINE wop_v128 wop_v128_load8_splat(const uint8_t *p) { return WOP_V((wop_u8x16){ 0 } + wop_ld8(p)); }
WOP_INLINE wop_v128 wop_v128_load16_splat(const uint8_t *p) { return WOP_V((wop_u16x8){ 0 } + wop_ld16(p)); }
WOP_INLINE wop_v128 wop_v128_load32_splat(const uint8_t *p) { return WOP_V((wop_u32x4){ 0 } + wop_ld32(p)); }
WOP_INLINE wop_v128 wop_v128_load64_splat(const uint8_t *p) { return WOP_V((wop_u64x2){ 0 } + wop_ld64(p)); }
WOP_INLINE wop_v128 wop_v128_load32_zero(const uint8_t *p) { return WOP_V((wop_u32x4){ wop_ld32(p), 0, 0, 0 }); }
WOP_INLINE wop_v128 wop_v128_load64_zero(const uint8_t *p) { return (wop_v128){ wop_ld64(p), 0 }; }

/* Lane loads and stores; `l` is always a constant after inlining. */
#define WOP_LANE_MEM(bits, vt, ld, st)                                                      \
    WOP_INLINE wop_v128 wop_v128_load##bits##_lane(const uint8_t *p, wop_v128 v, unsigned l) \
    {                                                                                       \
        vt t = (vt)v;                                                                       \
        t[l] = ld(p);                                                                       \
        return WOP_V(t);                                                                    \
    }                                                                                       \
    WOP_INLINE void wop_v128_store##bits##_lane(uint8_t *p, wop_v128 v, unsigned l) { st(p, ((vt)v)[l]); }
WOP_LANE_MEM(8, wop_u8x16, wop_ld8, wop_st8)
WOP_LANE_MEM(16, wop_u16x8, wop_ld16, wop_st16)
WOP_LANE_MEM(32, wop_u32x4, wop_ld32, wop_st32)
WOP_LANE_MEM(64, wop_u64x2, wop_ld64, wop_st64)

/* ---- splat, lanes ----------------------------------------------------------- */

WOP_INLINE wop_v128 wop_i8x16_splat(uint32_t x) { return WOP_V((wop_u8x16){ 0 } + (uint8_t)x); }
WOP_INLINE wop_v128 wop_i16x8_splat(uint32_t x) { return WOP_V((wop_u16x8){ 0 } + (uint16_t)x); }
WOP_INLINE wop_v128 wop_i32x4_splat(uint32_t x) { return WOP_V((wop_u32x4){ 0 } + x); }
WOP_INLINE wop_v128 wop_i64x2_splat(uint64_t x) { return (wop_v128){ x, x }; }
WOP_INLINE wop_v128 wop_f32x4_splat(float x) { return WOP_V((wop_f32x4){ x, x, x, x }); }
WOP_INLINE wop_v128 wop_f64x2_splat(double x) { return WOP_V((wop_f64x2){ x, x }); }

WOP_INLINE uint32_t wop_i8x16_extract_lane_s(wop_v128 v, unsigned l) { return (uint32_t)(int32_t)((wop_i8x16)v)[l]; }
WOP_INLINE uint32_t wop_i8x16_extract_lane_u(wop_v128 v, unsigned l) { return ((wop_u8x16)v)[l]; }
WOP_INLINE uint32_t wop_i16x8_extract_lane_s(wop_v128 v, unsigned l) { return (uint32_t)(int32_t)((wop_i16x8)v)[l]; }
WOP_INLINE uint32_t wop_i16x8_extract_lane_u(wop_v128 v, unsigned l) { return ((wop_u16x8)v)[l]; }
WOP_INLINE uint32_t wop_i32x4_extract_lane(wop_v128 v, unsigned l) { return ((wop_u32x4)v)[l]; }
WOP_INLINE uint64_t wop_i64x2_extract_lane(wop_v128 v, unsigned l) { return v[l]; }
WOP_INLINE float wop_f32x4_extract_lane(wop_v128 v, unsigned l) { return ((wop_f32x4)v)[l]; }
WOP_INLINE double wop_f64x2_extract_lane(wop_v128 v, unsigned l) { return ((wop_f64x2)v)[l]; }

#define WOP_REPLACE(name, vt, st, cast)                                         \
    WOP_INLINE wop_v128 wop_##name##_replace_lane(wop_v128 v, unsigned l, st x) \
    {                                                                           \
        vt t = (vt)v;                                                           \
        t[l] = cast x;                                                          \
        return WOP_V(t);                                                        \
    }
WOP_REPLACE(i8x16, wop_u8x16, uint32_t, (uint8_t))
WOP_REPLACE(i16x8, wop_u16x8, uint32_t, (uint16_t))
WOP_REPLACE(i32x4, wop_u32x4, uint32_t, )
WOP_REPLACE(i64x2, wop_u64x2, uint64_t, )
WOP_REPLACE(f32x4, wop_f32x4, float, )
WOP_REPLACE(f64x2, wop_f64x2, double, )

#ifndef WOP_HAVE_I8X16_SWIZZLE
WOP_INLINE wop_v128 wop_i8x16_swizzle(wop_v128 a, wop_v128 s)
{
    wop_u8x16 x = (wop_u8x16)a, i = (wop_u8x16)s, r;
    for (int k = 0; k < 16; k++)
        r[k] = i[k] < 16 ? x[i[k] & 15] : 0;
    return WOP_V(r);
}
#endif

/* ---- comparisons (lanes of all ones / all zeros) ------------------------------ */

#define WOP_CMP(name, vt, op) \
    WOP_INLINE wop_v128 wop_##name(wop_v128 a, wop_v128 b) { return WOP_V((vt)a op (vt)b); }
#define WOP_CMPS(sh, s, u)                                                                    \
    WOP_CMP(sh##_eq, u, ==) WOP_CMP(sh##_ne, u, !=)                                           \
    WOP_CMP(sh##_lt_s, s, <) WOP_CMP(sh##_lt_u, u, <) WOP_CMP(sh##_gt_s, s, >) WOP_CMP(sh##_gt_u, u, >) \
    WOP_CMP(sh##_le_s, s, <=) WOP_CMP(sh##_le_u, u, <=) WOP_CMP(sh##_ge_s, s, >=) WOP_CMP(sh##_ge_u, u, >=)
WOP_CMPS(i8x16, wop_i8x16, wop_u8x16)
WOP_CMPS(i16x8, wop_i16x8, wop_u16x8)
WOP_CMPS(i32x4, wop_i32x4, wop_u32x4)
WOP_CMP(i64x2_eq, wop_i64x2, ==) WOP_CMP(i64x2_ne, wop_i64x2, !=)
WOP_CMP(i64x2_lt_s, wop_i64x2, <) WOP_CMP(i64x2_gt_s, wop_i64x2, >)
WOP_CMP(i64x2_le_s, wop_i64x2, <=) WOP_CMP(i64x2_ge_s, wop_i64x2, >=)
/* Float comparisons: unordered gives false except for ne, as in Wasm. */
WOP_CMP(f32x4_eq, wop_f32x4, ==) WOP_CMP(f32x4_ne, wop_f32x4, !=) WOP_CMP(f32x4_lt, wop_f32x4, <)
WOP_CMP(f32x4_gt, wop_f32x4, >) WOP_CMP(f32x4_le, wop_f32x4, <=) WOP_CMP(f32x4_ge, wop_f32x4, >=)
WOP_CMP(f64x2_eq, wop_f64x2, ==) WOP_CMP(f64x2_ne, wop_f64x2, !=) WOP_CMP(f64x2_lt, wop_f64x2, <)
WOP_CMP(f64x2_gt, wop_f64x2, >) WOP_CMP(f64x2_le, wop_f64x2, <=) WOP_CMP(f64x2_ge, wop_f64x2, >=)

/* ---- bitwise ----------------------------------------------------------------- */

WOP_INLINE wop_v128 wop_v128_not(wop_v128 a) { return ~a; }
WOP_INLINE wop_v128 wop_v128_and(wop_v128 a, wop_v128 b) { return a & b; }
WOP_INLINE wop_v128 wop_v128_andnot(wop_v128 a, wop_v128 b) { return a & ~b; }
WOP_INLINE wop_v128 wop_v128_or(wop_v128 a, wop_v128 b) { return a | b; }
WOP_INLINE wop_v128 wop_v128_xor(wop_v128 a, wop_v128 b) { return a ^ b; }
WOP_INLINE wop_v128 wop_v128_bitselect(wop_v128 a, wop_v128 b, wop_v128 c) { return wop_sel(c, a, b); }
WOP_INLINE uint32_t wop_v128_any_true(wop_v128 a) { return (a[0] | a[1]) != 0; }

/* All lanes non-zero: no lane compares equal to zero. */
#define WOP_ALL_TRUE(sh, vt)                                                       \
    WOP_INLINE uint32_t wop_##sh##_all_true(wop_v128 a)                            \
    {                                                                              \
        wop_v128 z = WOP_V((vt)a == (vt){ 0 });                                    \
        return (z[0] | z[1]) == 0;                                                 \
    }
WOP_ALL_TRUE(i8x16, wop_u8x16)
WOP_ALL_TRUE(i16x8, wop_u16x8)
WOP_ALL_TRUE(i32x4, wop_u32x4)
WOP_ALL_TRUE(i64x2, wop_u64x2)

/* The top bit of each lane, lane 0 in bit 0. */
#define WOP_BITMASK(sh, vt, n)                                                     \
    WOP_INLINE uint32_t wop_##sh##_bitmask_generic(wop_v128 a)                     \
    {                                                                              \
        vt x = (vt)a;                                                              \
        uint32_t r = 0;                                                            \
        for (int k = 0; k < n; k++)                                                \
            r |= (uint32_t)(x[k] < 0) << k;                                        \
        return r;                                                                  \
    }
WOP_BITMASK(i8x16, wop_i8x16, 16)
WOP_BITMASK(i16x8, wop_i16x8, 8)
WOP_BITMASK(i32x4, wop_i32x4, 4)
WOP_BITMASK(i64x2, wop_i64x2, 2)
#ifndef WOP_HAVE_BITMASK
WOP_INLINE uint32_t wop_i8x16_bitmask(wop_v128 a) { return wop_i8x16_bitmask_generic(a); }
WOP_INLINE uint32_t wop_i16x8_bitmask(wop_v128 a) { return wop_i16x8_bitmask_generic(a); }
WOP_INLINE uint32_t wop_i32x4_bitmask(wop_v128 a) { return wop_i32x4_bitmask_generic(a); }
WOP_INLINE uint32_t wop_i64x2_bitmask(wop_v128 a) { return wop_i64x2_bitmask_generic(a); }
#endif

/* ---- integer arithmetic ---------------------------------------------------------- */

/* Shifts: the count is taken modulo the lane width. */
#define WOP_SHIFTS(sh, s, u, bits)                                                                        \
    WOP_INLINE wop_v128 wop_##sh##_shl(wop_v128 a, uint32_t n) { return WOP_V((u)a << (n & (bits - 1))); }   \
    WOP_INLINE wop_v128 wop_##sh##_shr_s(wop_v128 a, uint32_t n) { return WOP_V((s)a >> (n & (bits - 1))); } \
    WOP_INLINE wop_v128 wop_##sh##_shr_u(wop_v128 a, uint32_t n) { return WOP_V((u)a >> (n & (bits - 1))); }
WOP_SHIFTS(i8x16, wop_i8x16, wop_u8x16, 8)
WOP_SHIFTS(i16x8, wop_i16x8, wop_u16x8, 16)
WOP_SHIFTS(i32x4, wop_i32x4, wop_u32x4, 32)
WOP_SHIFTS(i64x2, wop_i64x2, wop_u64x2, 64)

/* add, sub, mul, neg, abs (abs of the minimum is the minimum), min, max:
 * unsigned lanes so that every overflow wraps. */
#define WOP_INTOPS(sh, s, u, bits)                                                                        \
    WOP_INLINE wop_v128 wop_##sh##_add(wop_v128 a, wop_v128 b) { return WOP_V((u)a + (u)b); }              \
    WOP_INLINE wop_v128 wop_##sh##_sub(wop_v128 a, wop_v128 b) { return WOP_V((u)a - (u)b); }              \
    WOP_INLINE wop_v128 wop_##sh##_neg(wop_v128 a) { return WOP_V((u){ 0 } - (u)a); }                      \
    WOP_INLINE wop_v128 wop_##sh##_abs(wop_v128 a)                                                        \
    {                                                                                                     \
        u m = (u)((s)a >> (bits - 1));                                                                    \
        return WOP_V(((u)a ^ m) - m);                                                                     \
    }                                                                                                     \
    WOP_INLINE wop_v128 wop_##sh##_min_s(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((s)a < (s)b), a, b); } \
    WOP_INLINE wop_v128 wop_##sh##_min_u(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((u)a < (u)b), a, b); } \
    WOP_INLINE wop_v128 wop_##sh##_max_s(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((s)a > (s)b), a, b); } \
    WOP_INLINE wop_v128 wop_##sh##_max_u(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((u)a > (u)b), a, b); }
WOP_INTOPS(i8x16, wop_i8x16, wop_u8x16, 8)
WOP_INTOPS(i16x8, wop_i16x8, wop_u16x8, 16)
WOP_INTOPS(i32x4, wop_i32x4, wop_u32x4, 32)
WOP_INLINE wop_v128 wop_i64x2_add(wop_v128 a, wop_v128 b) { return a + b; }
WOP_INLINE wop_v128 wop_i64x2_sub(wop_v128 a, wop_v128 b) { return a - b; }
WOP_INLINE wop_v128 wop_i64x2_neg(wop_v128 a) { return (wop_v128){ 0 } - a; }
WOP_INLINE wop_v128 wop_i64x2_abs(wop_v128 a)
{
    wop_v128 m = WOP_V((wop_i64x2)a >> 63);
    return (a ^ m) - m;
}
WOP_INLINE wop_v128 wop_i16x8_mul(wop_v128 a, wop_v128 b) { return WOP_V((wop_u16x8)a * (wop_u16x8)b); }
WOP_INLINE wop_v128 wop_i32x4_mul(wop_v128 a, wop_v128 b) { return WOP_V((wop_u32x4)a * (wop_u32x4)b); }
WOP_INLINE wop_v128 wop_i64x2_mul(wop_v128 a, wop_v128 b) { return a * b; }

/* (a + b + 1) / 2 without the overflowing intermediate. */
WOP_INLINE wop_v128 wop_i8x16_avgr_u(wop_v128 a, wop_v128 b)
{
    wop_u8x16 x = (wop_u8x16)a, y = (wop_u8x16)b;
    return WOP_V((x | y) - ((x ^ y) >> 1));
}
WOP_INLINE wop_v128 wop_i16x8_avgr_u(wop_v128 a, wop_v128 b)
{
    wop_u16x8 x = (wop_u16x8)a, y = (wop_u16x8)b;
    return WOP_V((x | y) - ((x ^ y) >> 1));
}

WOP_INLINE wop_v128 wop_i8x16_popcnt(wop_v128 a)
{
    wop_u8x16 x = (wop_u8x16)a;
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    return WOP_V((x + (x >> 4)) & 0x0F);
}

/* Saturating add/sub, lane by lane in int arithmetic. */
#define WOP_SAT(name, vt, n, op, lo, hi)                                           \
    WOP_INLINE wop_v128 wop_##name##_generic(wop_v128 a, wop_v128 b)               \
    {                                                                              \
        vt x = (vt)a, y = (vt)b, r;                                                \
        for (int k = 0; k < n; k++) {                                              \
            int32_t v = (int32_t)x[k] op (int32_t)y[k];                            \
            r[k] = v < lo ? lo : v > hi ? hi : v;                                  \
        }                                                                          \
        return WOP_V(r);                                                           \
    }
WOP_SAT(i8x16_add_sat_s, wop_i8x16, 16, +, -128, 127)
WOP_SAT(i8x16_add_sat_u, wop_u8x16, 16, +, 0, 255)
WOP_SAT(i8x16_sub_sat_s, wop_i8x16, 16, -, -128, 127)
WOP_SAT(i8x16_sub_sat_u, wop_u8x16, 16, -, 0, 255)
WOP_SAT(i16x8_add_sat_s, wop_i16x8, 8, +, -32768, 32767)
WOP_SAT(i16x8_add_sat_u, wop_u16x8, 8, +, 0, 65535)
WOP_SAT(i16x8_sub_sat_s, wop_i16x8, 8, -, -32768, 32767)
WOP_SAT(i16x8_sub_sat_u, wop_u16x8, 8, -, 0, 65535)
#ifndef WOP_HAVE_SAT
WOP_INLINE wop_v128 wop_i8x16_add_sat_s(wop_v128 a, wop_v128 b) { return wop_i8x16_add_sat_s_generic(a, b); }
WOP_INLINE wop_v128 wop_i8x16_add_sat_u(wop_v128 a, wop_v128 b) { return wop_i8x16_add_sat_u_generic(a, b); }
WOP_INLINE wop_v128 wop_i8x16_sub_sat_s(wop_v128 a, wop_v128 b) { return wop_i8x16_sub_sat_s_generic(a, b); }
WOP_INLINE wop_v128 wop_i8x16_sub_sat_u(wop_v128 a, wop_v128 b) { return wop_i8x16_sub_sat_u_generic(a, b); }
WOP_INLINE wop_v128 wop_i16x8_add_sat_s(wop_v128 a, wop_v128 b) { return wop_i16x8_add_sat_s_generic(a, b); }
WOP_INLINE wop_v128 wop_i16x8_add_sat_u(wop_v128 a, wop_v128 b) { return wop_i16x8_add_sat_u_generic(a, b); }
WOP_INLINE wop_v128 wop_i16x8_sub_sat_s(wop_v128 a, wop_v128 b) { return wop_i16x8_sub_sat_s_generic(a, b); }
WOP_INLINE wop_v128 wop_i16x8_sub_sat_u(wop_v128 a, wop_v128 b) { return wop_i16x8_sub_sat_u_generic(a, b); }
#endif

/* Narrowing: signed input lanes, saturated to the narrower range. */
#define WOP_NARROW(name, st, dt, n, lo, hi)                                        \
    WOP_INLINE wop_v128 wop_##name##_generic(wop_v128 a, wop_v128 b)               \
    {                                                                              \
        st x = (st)a, y = (st)b;                                                   \
        dt r;                                                                      \
        for (int k = 0; k < n; k++) {                                              \
            int32_t v = (int32_t)(k < n / 2 ? x[k] : y[k - n / 2]);                \
            r[k] = v < lo ? lo : v > hi ? hi : v;                                  \
        }                                                                          \
        return WOP_V(r);                                                           \
    }
WOP_NARROW(i8x16_narrow_i16x8_s, wop_i16x8, wop_i8x16, 16, -128, 127)
WOP_NARROW(i8x16_narrow_i16x8_u, wop_i16x8, wop_u8x16, 16, 0, 255)
WOP_NARROW(i16x8_narrow_i32x4_s, wop_i32x4, wop_i16x8, 8, -32768, 32767)
WOP_NARROW(i16x8_narrow_i32x4_u, wop_i32x4, wop_u16x8, 8, 0, 65535)
#ifndef WOP_HAVE_NARROW
WOP_INLINE wop_v128 wop_i8x16_narrow_i16x8_s(wop_v128 a, wop_v128 b) { return wop_i8x16_narrow_i16x8_s_generic(a, b); }
WOP_INLINE wop_v128 wop_i8x16_narrow_i16x8_u(wop_v128 a, wop_v128 b) { return wop_i8x16_narrow_i16x8_u_generic(a, b); }
WOP_INLINE wop_v128 wop_i16x8_narrow_i32x4_s(wop_v128 a, wop_v128 b) { return wop_i16x8_narrow_i32x4_s_generic(a, b); }
#endif
WOP_INLINE wop_v128 wop_i16x8_narrow_i32x4_u(wop_v128 a, wop_v128 b) { return wop_i16x8_narrow_i32x4_u_generic(a, b); }

/* Widening: the low or high half, each lane sign- or zero-extended. */
#define WOP_EXTEND(name, half, full, hi)                                           \
    WOP_INLINE wop_v128 wop_##name(wop_v128 a)                                     \
    {                                                                              \
        half h;                                                                    \
        __builtin_memcpy(&h, (const char *)&a + 8 * hi, 8);                        \
        return WOP_V(__builtin_convertvector(h, full));                            \
    }
#define WOP_EXTENDS(sh, from, s8, u8, s16, u16)                                                         \
    WOP_EXTEND(sh##_extend_low_##from##_s, s8, s16, 0) WOP_EXTEND(sh##_extend_high_##from##_s, s8, s16, 1) \
    WOP_EXTEND(sh##_extend_low_##from##_u, u8, u16, 0) WOP_EXTEND(sh##_extend_high_##from##_u, u8, u16, 1)
WOP_EXTENDS(i16x8, i8x16, wop_i8x8, wop_u8x8, wop_i16x8, wop_u16x8)
WOP_EXTENDS(i32x4, i16x8, wop_i16x4, wop_u16x4, wop_i32x4, wop_u32x4)
WOP_EXTENDS(i64x2, i32x4, wop_i32x2, wop_u32x2, wop_i64x2, wop_u64x2)

/* Extended multiplication: both halves widened, then a full-width product
 * (which cannot overflow, except i64 from i32 whose product fits too). */
#define WOP_EXTMUL(sh, from, half, sign, mulvt)                                                         \
    WOP_INLINE wop_v128 wop_##sh##_extmul_##half##_##from##_##sign(wop_v128 a, wop_v128 b)             \
    {                                                                                                  \
        return WOP_V((mulvt)wop_##sh##_extend_##half##_##from##_##sign(a) *                             \
                     (mulvt)wop_##sh##_extend_##half##_##from##_##sign(b));                             \
    }
WOP_EXTMUL(i16x8, i8x16, low, s, wop_u16x8) WOP_EXTMUL(i16x8, i8x16, high, s, wop_u16x8)
WOP_EXTMUL(i16x8, i8x16, low, u, wop_u16x8) WOP_EXTMUL(i16x8, i8x16, high, u, wop_u16x8)
WOP_EXTMUL(i32x4, i16x8, low, s, wop_u32x4) WOP_EXTMUL(i32x4, i16x8, high, s, wop_u32x4)
WOP_EXTMUL(i32x4, i16x8, low, u, wop_u32x4) WOP_EXTMUL(i32x4, i16x8, high, u, wop_u32x4)
WOP_EXTMUL(i64x2, i32x4, low, s, wop_u64x2) WOP_EXTMUL(i64x2, i32x4, high, s, wop_u64x2)
WOP_EXTMUL(i64x2, i32x4, low, u, wop_u64x2) WOP_EXTMUL(i64x2, i32x4, high, u, wop_u64x2)

/* Pairwise: even lanes (shifted up and back, sign- or zero-extending) plus
 * odd lanes (shifted down). */
WOP_INLINE wop_v128 wop_i16x8_extadd_pairwise_i8x16_s(wop_v128 a)
{
    wop_i16x8 x = (wop_i16x8)a;
    return WOP_V((wop_u16x8)((x << 8) >> 8) + (wop_u16x8)(x >> 8));
}
WOP_INLINE wop_v128 wop_i16x8_extadd_pairwise_i8x16_u(wop_v128 a)
{
    wop_u16x8 x = (wop_u16x8)a;
    return WOP_V((x & 0xFF) + (x >> 8));
}
WOP_INLINE wop_v128 wop_i32x4_extadd_pairwise_i16x8_s(wop_v128 a)
{
    wop_i32x4 x = (wop_i32x4)a;
    return WOP_V((wop_u32x4)((x << 16) >> 16) + (wop_u32x4)(x >> 16));
}
WOP_INLINE wop_v128 wop_i32x4_extadd_pairwise_i16x8_u(wop_v128 a)
{
    wop_u32x4 x = (wop_u32x4)a;
    return WOP_V((x & 0xFFFF) + (x >> 16));
}

/* Sum of the products of lane pairs; only (-32768)^2 * 2 overflows, and it
 * wraps, as in Wasm. */
#ifndef WOP_HAVE_DOT
WOP_INLINE wop_v128 wop_i32x4_dot_i16x8_s(wop_v128 a, wop_v128 b)
{
    wop_i32x4 x = (wop_i32x4)a, y = (wop_i32x4)b;
    wop_u32x4 lo = (wop_u32x4)(((x << 16) >> 16) * ((y << 16) >> 16));
    wop_u32x4 hi = (wop_u32x4)((x >> 16) * (y >> 16));
    return WOP_V(lo + hi);
}
#endif

/* (a * b + 2^14) >> 15, saturated: only -32768 * -32768 exceeds i16. */
WOP_INLINE wop_v128 wop_i16x8_q15mulr_sat_s(wop_v128 a, wop_v128 b)
{
    wop_i16x8 x = (wop_i16x8)a, y = (wop_i16x8)b, r;
    for (int k = 0; k < 8; k++) {
        int32_t v = ((int32_t)x[k] * (int32_t)y[k] + 0x4000) >> 15;
        r[k] = (int16_t)(v > 32767 ? 32767 : v);
    }
    return WOP_V(r);
}

/* ---- floats ------------------------------------------------------------------------ */

WOP_INLINE wop_v128 wop_f32x4_abs(wop_v128 a) { return WOP_V((wop_u32x4)a & 0x7FFFFFFFu); }
WOP_INLINE wop_v128 wop_f32x4_neg(wop_v128 a) { return WOP_V((wop_u32x4)a ^ 0x80000000u); }
WOP_INLINE wop_v128 wop_f64x2_abs(wop_v128 a) { return a & 0x7FFFFFFFFFFFFFFFull; }
WOP_INLINE wop_v128 wop_f64x2_neg(wop_v128 a) { return a ^ 0x8000000000000000ull; }

#define WOP_FARITH(sh, vt)                                                                          \
    WOP_INLINE wop_v128 wop_##sh##_add(wop_v128 a, wop_v128 b) { return WOP_V((vt)a + (vt)b); }    \
    WOP_INLINE wop_v128 wop_##sh##_sub(wop_v128 a, wop_v128 b) { return WOP_V((vt)a - (vt)b); }    \
    WOP_INLINE wop_v128 wop_##sh##_mul(wop_v128 a, wop_v128 b) { return WOP_V((vt)a * (vt)b); }    \
    WOP_INLINE wop_v128 wop_##sh##_div(wop_v128 a, wop_v128 b) { return WOP_V((vt)a / (vt)b); }    \
    /* pmin/pmax: b < a ? b : a and a < b ? b : a, NaNs as they fall. */                          \
    WOP_INLINE wop_v128 wop_##sh##_pmin(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((vt)b < (vt)a), b, a); } \
    WOP_INLINE wop_v128 wop_##sh##_pmax(wop_v128 a, wop_v128 b) { return wop_sel(WOP_V((vt)a < (vt)b), b, a); } \
    /* min/max: a NaN operand gives a NaN (a + b quiets it); equal operands    \
     * merge bitwise so that -0 < +0 (OR of the sign for min, AND for max). */ \
    WOP_INLINE wop_v128 wop_##sh##_min(wop_v128 a, wop_v128 b)                                      \
    {                                                                                               \
        vt x = (vt)a, y = (vt)b;                                                                    \
        wop_v128 r = wop_sel(WOP_V(x < y), a, b);                                                   \
        r = wop_sel(WOP_V(x == y), a | b, r);                                                       \
        return wop_sel(WOP_V((x != x) | (y != y)), WOP_V(x + y), r);                                \
    }                                                                                               \
    WOP_INLINE wop_v128 wop_##sh##_max(wop_v128 a, wop_v128 b)                                      \
    {                                                                                               \
        vt x = (vt)a, y = (vt)b;                                                                    \
        wop_v128 r = wop_sel(WOP_V(x > y), a, b);                                                   \
        r = wop_sel(WOP_V(x == y), a & b, r);                                                       \
        return wop_sel(WOP_V((x != x) | (y != y)), WOP_V(x + y), r);                                \
    }
WOP_FARITH(f32x4, wop_f32x4)
WOP_FARITH(f64x2, wop_f64x2)

/* Lane by lane through the scalar helpers of wedge_ops.h (which quiet NaNs
 * and are exact). */
#define WOP_FMAP(name, vt, n, fn)                                                  \
    WOP_INLINE wop_v128 wop_##name##_generic(wop_v128 a)                           \
    {                                                                              \
        vt x = (vt)a;                                                              \
        for (int k = 0; k < n; k++)                                                \
            x[k] = fn(x[k]);                                                       \
        return WOP_V(x);                                                           \
    }
WOP_FMAP(f32x4_ceil, wop_f32x4, 4, wop_f32_ceil)
WOP_FMAP(f32x4_floor, wop_f32x4, 4, wop_f32_floor)
WOP_FMAP(f32x4_trunc, wop_f32x4, 4, wop_f32_trunc)
WOP_FMAP(f32x4_nearest, wop_f32x4, 4, wop_f32_nearest)
WOP_FMAP(f32x4_sqrt, wop_f32x4, 4, wop_f32_sqrt)
WOP_FMAP(f64x2_ceil, wop_f64x2, 2, wop_f64_ceil)
WOP_FMAP(f64x2_floor, wop_f64x2, 2, wop_f64_floor)
WOP_FMAP(f64x2_trunc, wop_f64x2, 2, wop_f64_trunc)
WOP_FMAP(f64x2_nearest, wop_f64x2, 2, wop_f64_nearest)
WOP_FMAP(f64x2_sqrt, wop_f64x2, 2, wop_f64_sqrt)
WOP_INLINE wop_v128 wop_f32x4_ceil(wop_v128 a) { return wop_f32x4_ceil_generic(a); }
WOP_INLINE wop_v128 wop_f32x4_floor(wop_v128 a) { return wop_f32x4_floor_generic(a); }
WOP_INLINE wop_v128 wop_f32x4_trunc(wop_v128 a) { return wop_f32x4_trunc_generic(a); }
WOP_INLINE wop_v128 wop_f32x4_nearest(wop_v128 a) { return wop_f32x4_nearest_generic(a); }
WOP_INLINE wop_v128 wop_f64x2_ceil(wop_v128 a) { return wop_f64x2_ceil_generic(a); }
WOP_INLINE wop_v128 wop_f64x2_floor(wop_v128 a) { return wop_f64x2_floor_generic(a); }
WOP_INLINE wop_v128 wop_f64x2_trunc(wop_v128 a) { return wop_f64x2_trunc_generic(a); }
WOP_INLINE wop_v128 wop_f64x2_nearest(wop_v128 a) { return wop_f64x2_nearest_generic(a); }
#ifndef WOP_HAVE_SQRT
WOP_INLINE wop_v128 wop_f32x4_sqrt(wop_v128 a) { return wop_f32x4_sqrt_generic(a); }
WOP_INLINE wop_v128 wop_f64x2_sqrt(wop_v128 a) { return wop_f64x2_sqrt_generic(a); }
#endif

/* ---- conversions ------------------------------------------------------------------- */

#ifndef WOP_HAVE_TRUNC_SAT_F32X4_S
WOP_INLINE wop_v128 wop_i32x4_trunc_sat_f32x4_s(wop_v128 a)
{
    wop_f32x4 x = (wop_f32x4)a;
    wop_u32x4 r;
    for (int k = 0; k < 4; k++)
        r[k] = wop_i32_trunc_sat_f32_s(x[k]);
    return WOP_V(r);
}
#endif
WOP_INLINE wop_v128 wop_i32x4_trunc_sat_f32x4_u(wop_v128 a)
{
    wop_f32x4 x = (wop_f32x4)a;
    wop_u32x4 r;
    for (int k = 0; k < 4; k++)
        r[k] = wop_i32_trunc_sat_f32_u(x[k]);
    return WOP_V(r);
}
WOP_INLINE wop_v128 wop_i32x4_trunc_sat_f64x2_s_zero(wop_v128 a)
{
    wop_f64x2 x = (wop_f64x2)a;
    return WOP_V((wop_u32x4){ wop_i32_trunc_sat_f64_s(x[0]), wop_i32_trunc_sat_f64_s(x[1]), 0, 0 });
}
WOP_INLINE wop_v128 wop_i32x4_trunc_sat_f64x2_u_zero(wop_v128 a)
{
    wop_f64x2 x = (wop_f64x2)a;
    return WOP_V((wop_u32x4){ wop_i32_trunc_sat_f64_u(x[0]), wop_i32_trunc_sat_f64_u(x[1]), 0, 0 });
}
/* int -> float conversions round to nearest, as C's do. */
WOP_INLINE wop_v128 wop_f32x4_convert_i32x4_s(wop_v128 a)
{
    return WOP_V(__builtin_convertvector((wop_i32x4)a, wop_f32x4));
}
WOP_INLINE wop_v128 wop_f32x4_convert_i32x4_u(wop_v128 a)
{
    wop_u32x4 x = (wop_u32x4)a;
    return WOP_V((wop_f32x4){ (float)x[0], (float)x[1], (float)x[2], (float)x[3] });
}
WOP_INLINE wop_v128 wop_f64x2_convert_low_i32x4_s(wop_v128 a)
{
    wop_i32x4 x = (wop_i32x4)a;
    return WOP_V((wop_f64x2){ (double)x[0], (double)x[1] });
}
WOP_INLINE wop_v128 wop_f64x2_convert_low_i32x4_u(wop_v128 a)
{
    wop_u32x4 x = (wop_u32x4)a;
    return WOP_V((wop_f64x2){ (double)x[0], (double)x[1] });
}
WOP_INLINE wop_v128 wop_f32x4_demote_f64x2_zero(wop_v128 a)
{
    wop_f64x2 x = (wop_f64x2)a;
    return WOP_V((wop_f32x4){ (float)x[0], (float)x[1], 0.0f, 0.0f });
}
WOP_INLINE wop_v128 wop_f64x2_promote_low_f32x4(wop_v128 a)
{
    wop_f32x4 x = (wop_f32x4)a;
    return WOP_V((wop_f64x2){ wop_f64_promote(x[0]), wop_f64_promote(x[1]) });
}

#endif
