/*
 * wedge_simd_x86.h — x86-64 versions of some wedge_simd.h helpers, where
 * an SSE2 instruction has exactly the Wasm semantics and the generic
 * vector code would be slower.  SSE2 only: module .so files are built
 * without -march, so nothing newer may be assumed.  Each group defines the
 * WOP_HAVE_* that makes wedge_simd.h skip its generic version.
 *
 * Included by wedge_simd.h after its types; not meant to be used alone.
 */
#ifndef WEDGE_SIMD_X86_H
#define WEDGE_SIMD_X86_H

#include <emmintrin.h>

/* The whole vector pinned in an SSE register (see WOP_KEEP). */
#define WOP_KEEP_V128(x) __asm__ volatile("" : : "x"(x))

#define WOP_HAVE_SAT
WOP_INLINE wop_v128 wop_i8x16_add_sat_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_adds_epi8((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i8x16_add_sat_u(wop_v128 a, wop_v128 b) { return WOP_V(_mm_adds_epu8((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i8x16_sub_sat_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_subs_epi8((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i8x16_sub_sat_u(wop_v128 a, wop_v128 b) { return WOP_V(_mm_subs_epu8((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i16x8_add_sat_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_adds_epi16((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i16x8_add_sat_u(wop_v128 a, wop_v128 b) { return WOP_V(_mm_adds_epu16((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i16x8_sub_sat_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_subs_epi16((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i16x8_sub_sat_u(wop_v128 a, wop_v128 b) { return WOP_V(_mm_subs_epu16((__m128i)a, (__m128i)b)); }

/* pack*: signed inputs saturated to the narrower signed / unsigned range.
 * (i16x8.narrow_i32x4_u would need SSE4.1's packusdw.) */
#define WOP_HAVE_NARROW
WOP_INLINE wop_v128 wop_i8x16_narrow_i16x8_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_packs_epi16((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i8x16_narrow_i16x8_u(wop_v128 a, wop_v128 b) { return WOP_V(_mm_packus_epi16((__m128i)a, (__m128i)b)); }
WOP_INLINE wop_v128 wop_i16x8_narrow_i32x4_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_packs_epi32((__m128i)a, (__m128i)b)); }

#define WOP_HAVE_BITMASK
WOP_INLINE uint32_t wop_i8x16_bitmask(wop_v128 a) { return (uint32_t)_mm_movemask_epi8((__m128i)a); }
WOP_INLINE uint32_t wop_i16x8_bitmask(wop_v128 a)
{
    /* packs keeps each lane's sign; the high half repeats the low one. */
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16((__m128i)a, (__m128i)a)) & 0xFFu;
}
WOP_INLINE uint32_t wop_i32x4_bitmask(wop_v128 a) { return (uint32_t)_mm_movemask_ps((__m128)a); }
WOP_INLINE uint32_t wop_i64x2_bitmask(wop_v128 a) { return (uint32_t)_mm_movemask_pd((__m128d)a); }

/* pmaddwd: the same pairwise sums, wrapping the same way. */
#define WOP_HAVE_DOT
WOP_INLINE wop_v128 wop_i32x4_dot_i16x8_s(wop_v128 a, wop_v128 b) { return WOP_V(_mm_madd_epi16((__m128i)a, (__m128i)b)); }

/* sqrtps/sqrtpd are correctly rounded; a NaN comes out quiet. */
#define WOP_HAVE_SQRT
WOP_INLINE wop_v128 wop_f32x4_sqrt(wop_v128 a) { return WOP_V(_mm_sqrt_ps((__m128)a)); }
WOP_INLINE wop_v128 wop_f64x2_sqrt(wop_v128 a) { return WOP_V(_mm_sqrt_pd((__m128d)a)); }

/* cvttps2dq gives 0x80000000 for NaN and for anything out of range; the
 * positive overflows become 0x7FFFFFFF and the NaNs 0. */
#define WOP_HAVE_TRUNC_SAT_F32X4_S
WOP_INLINE wop_v128 wop_i32x4_trunc_sat_f32x4_s(wop_v128 a)
{
    __m128 x = (__m128)a;
    __m128i r = _mm_cvttps_epi32(x);
    __m128i over = _mm_castps_si128(_mm_cmpge_ps(x, _mm_set1_ps(2147483648.0f)));
    __m128i ord = _mm_castps_si128(_mm_cmpord_ps(x, x));
    return WOP_V(_mm_and_si128(_mm_xor_si128(r, over), ord));
}

#endif
