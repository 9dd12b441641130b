/*
 * cg_emit_num.c — the numeric instructions as C expression templates.
 *
 * $0 and $1 are the operands.  Integers are unsigned C types; anything
 * whose plain C meaning differs from Wasm (signed ops, shifts, division,
 * float min/max/rounding, float->int) goes through a wop_ helper from
 * wedge_ops.h.  Comparisons give a C int 0/1, stored into a uint32_t slot.
 */
#include "cg_internal.h"

enum { I = 0x7F, L = 0x7E, F = 0x7D, D = 0x7C };

#define U(in, out, e) { 1, in, out, e }
#define B(in, out, e) { 2, in, out, e }

/* Indexed by opcode - 0x45. */
static const cg_numop cg_num[0xC5 - 0x45] = {
    U(I, I, "$0 == 0"),                        /* 0x45 i32.eqz */
    B(I, I, "$0 == $1"), B(I, I, "$0 != $1"),
    B(I, I, "wop_lt_s32($0, $1)"), B(I, I, "$0 < $1"),
    B(I, I, "wop_lt_s32($1, $0)"), B(I, I, "$0 > $1"),
    B(I, I, "wop_le_s32($0, $1)"), B(I, I, "$0 <= $1"),
    B(I, I, "wop_le_s32($1, $0)"), B(I, I, "$0 >= $1"),
    U(L, I, "$0 == 0"),                        /* 0x50 i64.eqz */
    B(L, I, "$0 == $1"), B(L, I, "$0 != $1"),
    B(L, I, "wop_lt_s64($0, $1)"), B(L, I, "$0 < $1"),
    B(L, I, "wop_lt_s64($1, $0)"), B(L, I, "$0 > $1"),
    B(L, I, "wop_le_s64($0, $1)"), B(L, I, "$0 <= $1"),
    B(L, I, "wop_le_s64($1, $0)"), B(L, I, "$0 >= $1"),
    B(F, I, "$0 == $1"), B(F, I, "$0 != $1"), B(F, I, "$0 < $1"),   /* 0x5B f32.eq */
    B(F, I, "$0 > $1"), B(F, I, "$0 <= $1"), B(F, I, "$0 >= $1"),
    B(D, I, "$0 == $1"), B(D, I, "$0 != $1"), B(D, I, "$0 < $1"),   /* 0x61 f64.eq */
    B(D, I, "$0 > $1"), B(D, I, "$0 <= $1"), B(D, I, "$0 >= $1"),
    U(I, I, "wop_i32_clz($0)"), U(I, I, "wop_i32_ctz($0)"), U(I, I, "wop_i32_popcnt($0)"),  /* 0x67 */
    B(I, I, "$0 + $1"), B(I, I, "$0 - $1"), B(I, I, "$0 * $1"),
    B(I, I, "wop_i32_div_s($0, $1)"), B(I, I, "wop_i32_div_u($0, $1)"),
    B(I, I, "wop_i32_rem_s($0, $1)"), B(I, I, "wop_i32_rem_u($0, $1)"),
    B(I, I, "$0 & $1"), B(I, I, "$0 | $1"), B(I, I, "$0 ^ $1"),
    B(I, I, "$0 << ($1 & 31)"), B(I, I, "wop_i32_shr_s($0, $1)"), B(I, I, "$0 >> ($1 & 31)"),
    B(I, I, "wop_i32_rotl($0, $1)"), B(I, I, "wop_i32_rotr($0, $1)"),
    U(L, L, "wop_i64_clz($0)"), U(L, L, "wop_i64_ctz($0)"), U(L, L, "wop_i64_popcnt($0)"),  /* 0x79 */
    B(L, L, "$0 + $1"), B(L, L, "$0 - $1"), B(L, L, "$0 * $1"),
    B(L, L, "wop_i64_div_s($0, $1)"), B(L, L, "wop_i64_div_u($0, $1)"),
    B(L, L, "wop_i64_rem_s($0, $1)"), B(L, L, "wop_i64_rem_u($0, $1)"),
    B(L, L, "$0 & $1"), B(L, L, "$0 | $1"), B(L, L, "$0 ^ $1"),
    B(L, L, "$0 << ($1 & 63)"), B(L, L, "wop_i64_shr_s($0, $1)"), B(L, L, "$0 >> ($1 & 63)"),
    B(L, L, "wop_i64_rotl($0, $1)"), B(L, L, "wop_i64_rotr($0, $1)"),
    U(F, F, "wop_f32_abs($0)"), U(F, F, "wop_f32_neg($0)"), U(F, F, "wop_f32_ceil($0)"),   /* 0x8B */
    U(F, F, "wop_f32_floor($0)"), U(F, F, "wop_f32_trunc($0)"), U(F, F, "wop_f32_nearest($0)"),
    U(F, F, "wop_f32_sqrt($0)"),
    B(F, F, "$0 + $1"), B(F, F, "$0 - $1"), B(F, F, "$0 * $1"), B(F, F, "$0 / $1"),
    B(F, F, "wop_f32_min($0, $1)"), B(F, F, "wop_f32_max($0, $1)"), B(F, F, "wop_f32_copysign($0, $1)"),
    U(D, D, "wop_f64_abs($0)"), U(D, D, "wop_f64_neg($0)"), U(D, D, "wop_f64_ceil($0)"),   /* 0x99 */
    U(D, D, "wop_f64_floor($0)"), U(D, D, "wop_f64_trunc($0)"), U(D, D, "wop_f64_nearest($0)"),
    U(D, D, "wop_f64_sqrt($0)"),
    B(D, D, "$0 + $1"), B(D, D, "$0 - $1"), B(D, D, "$0 * $1"), B(D, D, "$0 / $1"),
    B(D, D, "wop_f64_min($0, $1)"), B(D, D, "wop_f64_max($0, $1)"), B(D, D, "wop_f64_copysign($0, $1)"),
    U(L, I, "(uint32_t)$0"),                   /* 0xA7 i32.wrap_i64 */
    U(F, I, "wop_i32_trunc_f32_s($0)"), U(F, I, "wop_i32_trunc_f32_u($0)"),
    U(D, I, "wop_i32_trunc_f64_s($0)"), U(D, I, "wop_i32_trunc_f64_u($0)"),
    U(I, L, "(uint64_t)(int64_t)(int32_t)$0"), U(I, L, "(uint64_t)$0"),     /* 0xAC */
    U(F, L, "wop_i64_trunc_f32_s($0)"), U(F, L, "wop_i64_trunc_f32_u($0)"),
    U(D, L, "wop_i64_trunc_f64_s($0)"), U(D, L, "wop_i64_trunc_f64_u($0)"),
    U(I, F, "(float)(int32_t)$0"), U(I, F, "(float)$0"),                    /* 0xB2 */
    U(L, F, "(float)(int64_t)$0"), U(L, F, "(float)$0"),
    U(D, F, "(float)$0"),                                                    /* 0xB6 demote */
    U(I, D, "(double)(int32_t)$0"), U(I, D, "(double)$0"),                  /* 0xB7 */
    U(L, D, "(double)(int64_t)$0"), U(L, D, "(double)$0"),
    U(F, D, "wop_f64_promote($0)"),                                          /* 0xBB promote */
    U(F, I, "wop_f32_raw($0)"), U(D, L, "wop_f64_raw($0)"),                 /* 0xBC reinterpret */
    U(I, F, "wop_f32_bits($0)"), U(L, D, "wop_f64_bits($0)"),
    U(I, I, "(uint32_t)(int32_t)(int8_t)$0"), U(I, I, "(uint32_t)(int32_t)(int16_t)$0"),   /* 0xC0 */
    U(L, L, "(uint64_t)(int64_t)(int8_t)$0"), U(L, L, "(uint64_t)(int64_t)(int16_t)$0"),
    U(L, L, "(uint64_t)(int64_t)(int32_t)$0"),
};

static const cg_numop cg_sat[8] = {
    U(F, I, "wop_i32_trunc_sat_f32_s($0)"), U(F, I, "wop_i32_trunc_sat_f32_u($0)"),
    U(D, I, "wop_i32_trunc_sat_f64_s($0)"), U(D, I, "wop_i32_trunc_sat_f64_u($0)"),
    U(F, L, "wop_i64_trunc_sat_f32_s($0)"), U(F, L, "wop_i64_trunc_sat_f32_u($0)"),
    U(D, L, "wop_i64_trunc_sat_f64_s($0)"), U(D, L, "wop_i64_trunc_sat_f64_u($0)"),
};

const cg_numop *cg_numop_get(uint32_t op)
{
    if (op >= 0x45 && op <= 0xC4)
        return &cg_num[op - 0x45];
    if (op >= 0xFC00 && op <= 0xFC07)
        return &cg_sat[op - 0xFC00];
    return NULL;
}
