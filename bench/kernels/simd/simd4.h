/* simd4.h — the few 128-bit vector operations the SIMD kernels use, as
 * wasm_simd128.h intrinsics when built for Wasm with -msimd128 and as
 * SSE2 intrinsics natively (x86-64 baseline), so one kernel source gives
 * both sides of the comparison.  Every operation is lane-wise and exact
 * (no FMA, no reassociation): a SIMD kernel prints the same checksum as
 * its scalar twin in bench/kernels/. */
#ifndef BENCH_SIMD4_H
#define BENCH_SIMD4_H

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
typedef v128_t vec4;
#define F4_LOAD(p) wasm_v128_load(p)
#define F4_STORE(p, v) wasm_v128_store((p), (v))
#define F4_SPLAT(x) wasm_f32x4_splat(x)
#define F4_ADD(a, b) wasm_f32x4_add((a), (b))
#define F4_MUL(a, b) wasm_f32x4_mul((a), (b))
#define F4_TO_I32(a) wasm_i32x4_trunc_sat_f32x4(a)
#define I4_LOAD(p) wasm_v128_load(p)
#define I4_ZERO() wasm_i32x4_splat(0)
#define I4_ADD(a, b) wasm_i32x4_add((a), (b))
#define I4_DOT16(a, b) wasm_i32x4_dot_i16x8((a), (b))
#define I4_LANE(v, l) ((int32_t)wasm_i32x4_extract_lane((v), (l)))
#elif defined(__SSE2__)
#include <emmintrin.h>
typedef __m128 vec4;
typedef __m128i ivec4;
#define F4_LOAD(p) _mm_loadu_ps(p)
#define F4_STORE(p, v) _mm_storeu_ps((p), (v))
#define F4_SPLAT(x) _mm_set1_ps(x)
#define F4_ADD(a, b) _mm_add_ps((a), (b))
#define F4_MUL(a, b) _mm_mul_ps((a), (b))
#define F4_TO_I32(a) _mm_cvttps_epi32(a)
#define I4_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define I4_ZERO() _mm_setzero_si128()
#define I4_ADD(a, b) _mm_add_epi32((a), (b))
#define I4_DOT16(a, b) _mm_madd_epi16((a), (b))
#define I4_LANE(v, l) ((int32_t)_mm_cvtsi128_si32(_mm_shuffle_epi32((v), (l) * 0x55)))
#else
#error "simd4.h: needs -msimd128 (Wasm) or SSE2 (x86-64)"
#endif

#if defined(__wasm_simd128__)
typedef v128_t ivec4;
#endif

#endif
