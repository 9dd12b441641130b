/*
 * wedge_ops.h — inline helpers for generated code (prefix wop_).
 *
 * Everything here is `static inline` so the C compiler sees through it;
 * the generated C includes this header (embedded in the wedge binary and
 * written next to the C at compile time).  The helpers exist where plain C
 * would differ from Wasm: signed arithmetic (UB in C), shifts (masked in
 * Wasm), division traps, float min/max/nearest/copysign, float->int
 * conversions (UB out of range in C), unaligned memory access.
 *
 * All integer values are carried as uint32_t / uint64_t; signed views are
 * taken only through casts whose result is defined (GNU C: conversion to a
 * signed type is modulo, >> on a negative value is arithmetic).
 *
 * Must be compiled with -ffp-contract=off and without -ffast-math (see
 * docs/architecture.md, "Compiler flags").
 */
#ifndef WEDGE_OPS_H
#define WEDGE_OPS_H

#include "wedge_abi.h"

/* gcc's -O2 default cost model ("very-cheap") vectorises only loops that
 * need no runtime check, and every loop over Wasm memory needs an overlap
 * check (all arrays live in one memory), so the fast loop copies of
 * src/compile/cg_loop.c would stay scalar.  "dynamic" lets it version
 * them (saxpy 5x, gemm 3x faster, docs/vectorisation.md).  A pragma rather
 * than a flag: clang refuses the flag and needs nothing (its own cost
 * model versions loops at -O2).  The pragma adds to the command-line
 * flags, it does not reset them (checked: -fwrapv and -ffp-contract=off
 * stay in force). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

#define WOP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WOP_LIKELY(x) __builtin_expect(!!(x), 1)
#define WOP_INLINE static inline __attribute__((always_inline))
#define WOP_UNUSED __attribute__((unused))

/* ---- traps ------------------------------------------------------------- */

/* Out of line and cold so the check at every call site is one compare and
 * a not-taken branch. */
static WEDGE_NORETURN WEDGE_COLD __attribute__((noinline, unused)) void wop_trap(wedge_trap_kind kind)
{
    sledge_abi__wasm_trap_raise(kind);
}

/* ---- bit casts ----------------------------------------------------------- */

WOP_INLINE float wop_f32_bits(uint32_t b) { float f; __builtin_memcpy(&f, &b, 4); return f; }
WOP_INLINE double wop_f64_bits(uint64_t b) { double f; __builtin_memcpy(&f, &b, 8); return f; }
WOP_INLINE uint32_t wop_f32_raw(float f) { uint32_t b; __builtin_memcpy(&b, &f, 4); return b; }
WOP_INLINE uint64_t wop_f64_raw(double f) { uint64_t b; __builtin_memcpy(&b, &f, 8); return b; }
/* A signalling-NaN constant (emitted for f32.const / f64.const with such
 * bits, cg_emit_func.c): its bits go through an empty asm so cc knows
 * nothing about the value and cannot fold an operation on it.  gcc keeps
 * sNaN semantics in folding under -fsignaling-nans, clang ignores that
 * flag (and may fold, e.g., a conversion of the constant without quieting
 * it); both see the same opaque value here.  Only sNaN bit patterns take
 * this path, so ordinary constants still fold. */
WOP_INLINE float wop_f32_opaque(uint32_t b)
{
    __asm__("" : "+r"(b));
    return wop_f32_bits(b);
}
WOP_INLINE double wop_f64_opaque(uint64_t b)
{
    __asm__("" : "+r"(b));
    return wop_f64_bits(b);
}
/* +-0 and +-1 (emitted as wop_f32_k / wop_f64_k): clang folds x - 0,
 * -0 - x, x * 1, x * -1, x / 1 and x / -1 to x or -x, which keeps a
 * signalling NaN x unquieted where Wasm wants an arithmetic NaN (spec
 * float_exprs, 24 failures with WEDGE_CC=clang); gcc does not under
 * -fsignaling-nans, so these constants are opaque only when clang
 * compiles the C. */
#if defined(__clang__)
#define wop_f32_k wop_f32_opaque
#define wop_f64_k wop_f64_opaque
#else
#define wop_f32_k wop_f32_bits
#define wop_f64_k wop_f64_bits
#endif

/* ---- linear memory (little-endian host) ---------------------------------- */

WOP_INLINE uint8_t wop_ld8(const uint8_t *p) { return *p; }
WOP_INLINE uint16_t wop_ld16(const uint8_t *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
WOP_INLINE uint32_t wop_ld32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
WOP_INLINE uint64_t wop_ld64(const uint8_t *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
WOP_INLINE float wop_ldf32(const uint8_t *p) { float v; __builtin_memcpy(&v, p, 4); return v; }
WOP_INLINE double wop_ldf64(const uint8_t *p) { double v; __builtin_memcpy(&v, p, 8); return v; }
WOP_INLINE void wop_st8(uint8_t *p, uint8_t v) { *p = v; }
WOP_INLINE void wop_st16(uint8_t *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
WOP_INLINE void wop_st32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
WOP_INLINE void wop_st64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
WOP_INLINE void wop_stf32(uint8_t *p, float v) { __builtin_memcpy(p, &v, 4); }
WOP_INLINE void wop_stf64(uint8_t *p, double v) { __builtin_memcpy(p, &v, 8); }

/* A load whose value is dropped: in guard mode it must still fault when
 * out of bounds, and a volatile read is one the C compiler keeps. */
WOP_INLINE void wop_touch(const uint8_t *p) { (void)*(const volatile uint8_t *)p; }

/* Guard mode: every load result passes through WOP_KEEP.  The empty
 * volatile asm cannot be deleted or moved off its path and needs the value
 * in a register, so the load before it always executes and an out-of-
 * bounds address always reaches the guard region, even when cc finds the
 * value dead (unused, overwritten, foldable as x-x, or used only on
 * another path, where it would sink the load).  It is an input-only
 * operand, so cc still knows the value and optimises what uses it.
 * "r"/"x", not "g": with a memory operand cc could name the loaded
 * location itself and skip the read. */
#define WOP_KEEP(x) __asm__ volatile("" : : "r"(x))
#define WOP_KEEP_F32(x) __asm__ volatile("" : : "x"(x))
#define WOP_KEEP_F64(x) __asm__ volatile("" : : "x"(x))

/* Software bounds check: addr + offset + n must not exceed size.  All in
 * 64 bits, so no wrap-around (addr, offset < 2^32, n <= 8). */
WOP_INLINE void wop_chk(uint64_t size, uint32_t addr, uint64_t end_off)
{
    if (WOP_UNLIKELY((uint64_t)addr + end_off > size))
        wop_trap(WEDGE_TRAP_MEMORY_OOB);
}

/* Loop versioning (src/compile/cg_loop.c): do the accesses at a + k*s,
 * k = 0..n-1 (n >= 1), each ending end_off bytes past, all lie inside a
 * memory of `size` bytes?  a + k*s is affine, so its ends bound it; the
 * caller keeps |a| < 2^52 and |s*n| < 2^53, so nothing here overflows. */
WOP_INLINE int wop_span_ok(int64_t a, int64_t s, int64_t n, uint64_t end_off, uint64_t size)
{
    int64_t z = a + (n - 1) * s;
    int64_t lo = a < z ? a : z, hi = a < z ? z : a;
    return lo >= 0 && (uint64_t)hi + end_off <= size;
}

/* memory.fill / memory.copy: the whole range is checked before any byte
 * is written (Wasm 2.0 bulk-memory semantics). */
WOP_INLINE void wop_memory_fill(wedge_memory *mem, uint32_t d, uint32_t v, uint32_t n)
{
    if (WOP_UNLIKELY((uint64_t)d + n > mem->size))
        wop_trap(WEDGE_TRAP_MEMORY_OOB);
    __builtin_memset(mem->base + d, (int)(uint8_t)v, n);
}

WOP_INLINE void wop_memory_copy(wedge_memory *dm, wedge_memory *sm, uint32_t d, uint32_t s, uint32_t n)
{
    if (WOP_UNLIKELY((uint64_t)d + n > dm->size || (uint64_t)s + n > sm->size))
        wop_trap(WEDGE_TRAP_MEMORY_OOB);
    __builtin_memmove(dm->base + d, sm->base + s, n);
}

/* ---- integer arithmetic --------------------------------------------------- */

WOP_INLINE uint32_t wop_i32_div_s(uint32_t a, uint32_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    if (WOP_UNLIKELY(a == 0x80000000u && b == 0xFFFFFFFFu))
        wop_trap(WEDGE_TRAP_INT_OVERFLOW);
    return (uint32_t)((int32_t)a / (int32_t)b);
}
WOP_INLINE uint32_t wop_i32_div_u(uint32_t a, uint32_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    return a / b;
}
WOP_INLINE uint32_t wop_i32_rem_s(uint32_t a, uint32_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    if (WOP_UNLIKELY(b == 0xFFFFFFFFu))   /* INT_MIN % -1 is UB in C, 0 in Wasm */
        return 0;
    return (uint32_t)((int32_t)a % (int32_t)b);
}
WOP_INLINE uint32_t wop_i32_rem_u(uint32_t a, uint32_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    return a % b;
}
WOP_INLINE uint64_t wop_i64_div_s(uint64_t a, uint64_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    if (WOP_UNLIKELY(a == 0x8000000000000000ull && b == 0xFFFFFFFFFFFFFFFFull))
        wop_trap(WEDGE_TRAP_INT_OVERFLOW);
    return (uint64_t)((int64_t)a / (int64_t)b);
}
WOP_INLINE uint64_t wop_i64_div_u(uint64_t a, uint64_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    return a / b;
}
WOP_INLINE uint64_t wop_i64_rem_s(uint64_t a, uint64_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    if (WOP_UNLIKELY(b == 0xFFFFFFFFFFFFFFFFull))
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}
WOP_INLINE uint64_t wop_i64_rem_u(uint64_t a, uint64_t b)
{
    if (WOP_UNLIKELY(b == 0))
        wop_trap(WEDGE_TRAP_INT_DIV_ZERO);
    return a % b;
}

WOP_INLINE uint32_t wop_i32_shr_s(uint32_t a, uint32_t b) { return (uint32_t)((int32_t)a >> (b & 31)); }
WOP_INLINE uint64_t wop_i64_shr_s(uint64_t a, uint64_t b) { return (uint64_t)((int64_t)a >> (b & 63)); }
WOP_INLINE uint32_t wop_i32_rotl(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((0u - b) & 31)); }
WOP_INLINE uint32_t wop_i32_rotr(uint32_t a, uint32_t b) { return (a >> (b & 31)) | (a << ((0u - b) & 31)); }
WOP_INLINE uint64_t wop_i64_rotl(uint64_t a, uint64_t b) { return (a << (b & 63)) | (a >> ((0u - b) & 63)); }
WOP_INLINE uint64_t wop_i64_rotr(uint64_t a, uint64_t b) { return (a >> (b & 63)) | (a << ((0u - b) & 63)); }
WOP_INLINE uint32_t wop_i32_clz(uint32_t a) { return a ? (uint32_t)__builtin_clz(a) : 32u; }
WOP_INLINE uint32_t wop_i32_ctz(uint32_t a) { return a ? (uint32_t)__builtin_ctz(a) : 32u; }
WOP_INLINE uint32_t wop_i32_popcnt(uint32_t a) { return (uint32_t)__builtin_popcount(a); }
WOP_INLINE uint64_t wop_i64_clz(uint64_t a) { return a ? (uint64_t)__builtin_clzll(a) : 64u; }
WOP_INLINE uint64_t wop_i64_ctz(uint64_t a) { return a ? (uint64_t)__builtin_ctzll(a) : 64u; }
WOP_INLINE uint64_t wop_i64_popcnt(uint64_t a) { return (uint64_t)__builtin_popcountll(a); }

WOP_INLINE uint32_t wop_lt_s32(uint32_t a, uint32_t b) { return (int32_t)a < (int32_t)b; }
WOP_INLINE uint32_t wop_le_s32(uint32_t a, uint32_t b) { return (int32_t)a <= (int32_t)b; }
WOP_INLINE uint32_t wop_lt_s64(uint64_t a, uint64_t b) { return (int64_t)a < (int64_t)b; }
WOP_INLINE uint32_t wop_le_s64(uint64_t a, uint64_t b) { return (int64_t)a <= (int64_t)b; }

/* ---- floats ------------------------------------------------------------ */

/* abs through the builtin: it is IEEE abs (clears the sign bit, keeps a
 * NaN's payload and signalling bit, never quiets), which cc emits as one
 * andps with a mask, where the integer form round-tripped through a GPR
 * (movd, and, movd: clang's guarded float->int conversion in histogram's
 * hot loop starts with an abs).  neg and copysign stay bit operations. */
WOP_INLINE float wop_f32_abs(float a) { return __builtin_fabsf(a); }
WOP_INLINE float wop_f32_neg(float a) { return wop_f32_bits(wop_f32_raw(a) ^ 0x80000000u); }
WOP_INLINE float wop_f32_copysign(float a, float b)
{
    return wop_f32_bits((wop_f32_raw(a) & 0x7FFFFFFFu) | (wop_f32_raw(b) & 0x80000000u));
}
WOP_INLINE double wop_f64_abs(double a) { return __builtin_fabs(a); }
WOP_INLINE double wop_f64_neg(double a) { return wop_f64_bits(wop_f64_raw(a) ^ 0x8000000000000000ull); }
WOP_INLINE double wop_f64_copysign(double a, double b)
{
    return wop_f64_bits((wop_f64_raw(a) & 0x7FFFFFFFFFFFFFFFull) | (wop_f64_raw(b) & 0x8000000000000000ull));
}

/* min/max: a NaN operand gives a NaN (a + b quiets it), and -0 < +0, which
 * C's < cannot see: equal operands are merged bitwise (OR of the sign for
 * min, AND for max). */
WOP_INLINE float wop_f32_min(float a, float b)
{
    if (WOP_UNLIKELY(a != a || b != b))
        return a + b;
    if (a == b)
        return wop_f32_bits(wop_f32_raw(a) | wop_f32_raw(b));
    return a < b ? a : b;
}
WOP_INLINE float wop_f32_max(float a, float b)
{
    if (WOP_UNLIKELY(a != a || b != b))
        return a + b;
    if (a == b)
        return wop_f32_bits(wop_f32_raw(a) & wop_f32_raw(b));
    return a > b ? a : b;
}
WOP_INLINE double wop_f64_min(double a, double b)
{
    if (WOP_UNLIKELY(a != a || b != b))
        return a + b;
    if (a == b)
        return wop_f64_bits(wop_f64_raw(a) | wop_f64_raw(b));
    return a < b ? a : b;
}
WOP_INLINE double wop_f64_max(double a, double b)
{
    if (WOP_UNLIKELY(a != a || b != b))
        return a + b;
    if (a == b)
        return wop_f64_bits(wop_f64_raw(a) & wop_f64_raw(b));
    return a > b ? a : b;
}

/* The rounding builtins are exact (libm or SSE4.1 round*); rint rounds
 * half to even under the default rounding mode, which Wasm code cannot
 * change.  libm returns a signalling NaN unchanged, but Wasm wants an
 * arithmetic (quiet) NaN, so NaNs take `a + a`, which quiets them. */
WOP_INLINE float wop_f32_ceil(float a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_ceilf(a); }
WOP_INLINE float wop_f32_floor(float a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_floorf(a); }
WOP_INLINE float wop_f32_trunc(float a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_truncf(a); }
WOP_INLINE float wop_f32_nearest(float a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_rintf(a); }
WOP_INLINE float wop_f32_sqrt(float a) { return __builtin_sqrtf(a); }
WOP_INLINE double wop_f64_ceil(double a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_ceil(a); }
WOP_INLINE double wop_f64_floor(double a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_floor(a); }
WOP_INLINE double wop_f64_trunc(double a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_trunc(a); }
WOP_INLINE double wop_f64_nearest(double a) { return WOP_UNLIKELY(a != a) ? a + a : __builtin_rint(a); }
WOP_INLINE double wop_f64_sqrt(double a) { return __builtin_sqrt(a); }

/* GCC folds demote(promote(x)) to x even with -fsignaling-nans, which
 * leaves a signalling NaN unquieted; quieting NaNs here first keeps the
 * fold harmless. */
WOP_INLINE double wop_f64_promote(float x) { return WOP_UNLIKELY(x != x) ? (double)(x + x) : (double)x; }

/* ---- float -> int --------------------------------------------------------
 * Each range test is written so that NaN fails it; the bounds are the
 * exact first values that do not fit (all exactly representable). */

static WEDGE_NORETURN WEDGE_COLD __attribute__((noinline, unused)) void wop_trunc_trap(int is_nan)
{
    sledge_abi__wasm_trap_raise(is_nan ? WEDGE_TRAP_INVALID_CONVERSION : WEDGE_TRAP_INT_OVERFLOW);
}

/* The signed conversions on x86-64: cvttss2si / cvttsd2si give the
 * "integer indefinite" value (INT_MIN of the width) for NaN and for every
 * input out of range, so the likely path is the conversion and one compare
 * of its result; the full range test runs only when the result is INT_MIN
 * (a real -2^31 / -2^63, or a trap).  Where plain C does the range test
 * first, each conversion costs two compares and two branches (histogram's
 * hot loop, docs/vectorisation.md).  Exact: the rare path decides with the
 * same test as the portable version below. */
#if defined(__x86_64__)
#define WOP_TRUNC_S(name, rt, ft, cvt, lo_ok, hi)                                  \
    WOP_INLINE rt name(ft x)                                                       \
    {                                                                              \
        rt r = (rt)cvt(x);                                                         \
        if (WOP_UNLIKELY(r == (rt)1 << (sizeof(rt) * 8 - 1)) && !(lo_ok && x < hi)) \
            wop_trunc_trap(x != x);                                                \
        return r;                                                                  \
    }
/* As asm, not the _mm_cvtt* intrinsics: gcc folds those for a constant
 * out-of-range operand to something other than INT_MIN (the trap was lost:
 * tests/diff, diff_ttf), while the instruction's result is what the check
 * above relies on. */
#define WOP_CVT_ASM(rt, insn, x)                                                   \
    __extension__({                                                                \
        rt r_;                                                                     \
        __asm__(insn " %1, %0" : "=r"(r_) : "x"(x));                               \
        r_;                                                                        \
    })
#define WOP_CVT_F32_I32(x) WOP_CVT_ASM(uint32_t, "cvttss2si", x)
#define WOP_CVT_F64_I32(x) WOP_CVT_ASM(uint32_t, "cvttsd2si", x)
#define WOP_CVT_F32_I64(x) WOP_CVT_ASM(uint64_t, "cvttss2si", x)
#define WOP_CVT_F64_I64(x) WOP_CVT_ASM(uint64_t, "cvttsd2si", x)
#else
#define WOP_TRUNC_S(name, rt, ft, cvt, lo_ok, hi)                                  \
    WOP_INLINE rt name(ft x)                                                       \
    {                                                                              \
        if (WOP_UNLIKELY(!(lo_ok && x < hi)))                                      \
            wop_trunc_trap(x != x);                                                \
        return (rt)cvt(x);                                                         \
    }
#define WOP_CVT_F32_I32(x) (int32_t)(x)
#define WOP_CVT_F64_I32(x) (int32_t)(x)
#define WOP_CVT_F32_I64(x) (int64_t)(x)
#define WOP_CVT_F64_I64(x) (int64_t)(x)
#endif
WOP_TRUNC_S(wop_i32_trunc_f32_s, uint32_t, float, WOP_CVT_F32_I32, x >= -2147483648.0f, 2147483648.0f)
WOP_TRUNC_S(wop_i32_trunc_f64_s, uint32_t, double, WOP_CVT_F64_I32, x > -2147483649.0, 2147483648.0)
WOP_TRUNC_S(wop_i64_trunc_f32_s, uint64_t, float, WOP_CVT_F32_I64, x >= -9223372036854775808.0f,
            9223372036854775808.0f)
WOP_TRUNC_S(wop_i64_trunc_f64_s, uint64_t, double, WOP_CVT_F64_I64, x >= -9223372036854775808.0,
            9223372036854775808.0)
WOP_INLINE uint32_t wop_i32_trunc_f32_u(float x)
{
    if (WOP_UNLIKELY(!(x > -1.0f && x < 4294967296.0f)))
        wop_trunc_trap(x != x);
    return (uint32_t)x;
}
WOP_INLINE uint32_t wop_i32_trunc_f64_u(double x)
{
    if (WOP_UNLIKELY(!(x > -1.0 && x < 4294967296.0)))
        wop_trunc_trap(x != x);
    return (uint32_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_f32_u(float x)
{
    if (WOP_UNLIKELY(!(x > -1.0f && x < 18446744073709551616.0f)))
        wop_trunc_trap(x != x);
    return (uint64_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_f64_u(double x)
{
    if (WOP_UNLIKELY(!(x > -1.0 && x < 18446744073709551616.0)))
        wop_trunc_trap(x != x);
    return (uint64_t)x;
}

/* Saturating: NaN -> 0, out of range -> the nearest bound. */
WOP_INLINE uint32_t wop_i32_trunc_sat_f32_s(float x)
{
    if (x != x) return 0;
    if (x < -2147483648.0f) return 0x80000000u;
    if (x >= 2147483648.0f) return 0x7FFFFFFFu;
    return (uint32_t)(int32_t)x;
}
WOP_INLINE uint32_t wop_i32_trunc_sat_f32_u(float x)
{
    if (!(x > -1.0f)) return 0;   /* also NaN */
    if (x >= 4294967296.0f) return 0xFFFFFFFFu;
    return (uint32_t)x;
}
WOP_INLINE uint32_t wop_i32_trunc_sat_f64_s(double x)
{
    if (x != x) return 0;
    if (!(x > -2147483649.0)) return 0x80000000u;
    if (x >= 2147483648.0) return 0x7FFFFFFFu;
    return (uint32_t)(int32_t)x;
}
WOP_INLINE uint32_t wop_i32_trunc_sat_f64_u(double x)
{
    if (!(x > -1.0)) return 0;
    if (x >= 4294967296.0) return 0xFFFFFFFFu;
    return (uint32_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_sat_f32_s(float x)
{
    if (x != x) return 0;
    if (x < -9223372036854775808.0f) return 0x8000000000000000ull;
    if (x >= 9223372036854775808.0f) return 0x7FFFFFFFFFFFFFFFull;
    return (uint64_t)(int64_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_sat_f32_u(float x)
{
    if (!(x > -1.0f)) return 0;
    if (x >= 18446744073709551616.0f) return 0xFFFFFFFFFFFFFFFFull;
    return (uint64_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_sat_f64_s(double x)
{
    if (x != x) return 0;
    if (x < -9223372036854775808.0) return 0x8000000000000000ull;
    if (x >= 9223372036854775808.0) return 0x7FFFFFFFFFFFFFFFull;
    return (uint64_t)(int64_t)x;
}
WOP_INLINE uint64_t wop_i64_trunc_sat_f64_u(double x)
{
    if (!(x > -1.0)) return 0;
    if (x >= 18446744073709551616.0) return 0xFFFFFFFFFFFFFFFFull;
    return (uint64_t)x;
}

/* ---- tables --------------------------------------------------------------- */

/* call_indirect: the three checks in the order the spec makes them. */
WOP_INLINE wedge_funcref *wop_call_indirect(wedge_table *t, uint32_t i, uint32_t type_id)
{
    if (WOP_UNLIKELY(i >= t->size))
        wop_trap(WEDGE_TRAP_TABLE_OOB);
    wedge_funcref *f = (wedge_funcref *)t->elems[i];
    if (WOP_UNLIKELY(f == 0))
        wop_trap(WEDGE_TRAP_UNINITIALIZED_ELEM);
    if (WOP_UNLIKELY(f->type_id != type_id))
        wop_trap(WEDGE_TRAP_INDIRECT_TYPE);
    return f;
}

/* The callee's instance and code on call_indirect's rare path (a callee
 * from another instance).  Separate (relaxed atomic) loads that the compiler
 * does not merge with the likely path's, so there the instance compare reads
 * memory directly and the call goes through memory (`call *8(%rax)`): no
 * load into a register hoisted above the branch for both paths. */
WOP_INLINE wedge_instance *wop_funcref_inst(const wedge_funcref *f)
{
    return __atomic_load_n(&f->inst, __ATOMIC_RELAXED);
}
WOP_INLINE void (*wop_funcref_fn(const wedge_funcref *f))(void)
{
    return __atomic_load_n(&f->fn, __ATOMIC_RELAXED);
}

WOP_INLINE void *wop_table_get(wedge_table *t, uint32_t i)
{
    if (WOP_UNLIKELY(i >= t->size))
        wop_trap(WEDGE_TRAP_TABLE_ACCESS_OOB);
    return t->elems[i];
}
WOP_INLINE void wop_table_set(wedge_table *t, uint32_t i, void *v)
{
    if (WOP_UNLIKELY(i >= t->size))
        wop_trap(WEDGE_TRAP_TABLE_ACCESS_OOB);
    t->elems[i] = v;
}

/* Out-of-line bulk operations, in libsledge (src/abi/lsb_bulk.c). */
__attribute__((visibility("hidden"))) void lsb_table_fill(wedge_table *t, uint32_t i, void *v, uint32_t n);
__attribute__((visibility("hidden"))) void lsb_table_copy(wedge_table *dt, wedge_table *st, uint32_t d, uint32_t s,
                                                          uint32_t n);
__attribute__((visibility("hidden"))) void lsb_table_init(wedge_instance *inst, uint32_t table, uint32_t elem,
                                                          uint32_t d, uint32_t s, uint32_t n);
__attribute__((visibility("hidden"))) void lsb_memory_init(wedge_instance *inst, uint32_t data, uint32_t d,
                                                           uint32_t s, uint32_t n);
/* Value of a constant expression in an instance (globals, segments). */
__attribute__((visibility("hidden"))) wedge_value lsb_constexpr_eval(wedge_instance *inst, const wedge_constexpr *ce);

/* ---- SIMD ------------------------------------------------------------------- */

#include "wedge_simd.h"

#endif
