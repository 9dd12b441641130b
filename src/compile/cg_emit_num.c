/*
 * cg_emit_num.c — the numeric instructions as C expression templates.
 *
 * $0 and $1 are the operands.  (SIMD instructions need no table here:
 * each is a wop_ helper of wedge_simd.h named after the instruction.)  Integers are unsigned C types; anything
 * whose plain C meaning differs from Wasm (signed ops, shifts, division,
 * float min/max/rounding, float->int) goes through a wop_ helper from
 * wedge_ops.h.  Comparisons give a C int 0/1, stored into a uint32_t slot.
 */
#include "cg_internal.h"

/* Indexed by opcode - 0x45; operand and result types are in the operator
 * table shared with the validator (wasm_opinfo_get). */
static const char *const cg_num[0xC5 - 0x45] = {
    "$0 == 0",                        /* 0x45 i32.eqz */
    "$0 == $1", "$0 != $1",
    "wop_lt_s32($0, $1)", "$0 < $1",
    "wop_lt_s32($1, $0)", "$0 > $1",
    "wop_le_s32($0, $1)", "$0 <= $1",
    "wop_le_s32($1, $0)", "$0 >= $1",
    "$0 == 0",                        /* 0x50 i64.eqz */
    "$0 == $1", "$0 != $1",
    "wop_lt_s64($0, $1)", "$0 < $1",
    "wop_lt_s64($1, $0)", "$0 > $1",
    "wop_le_s64($0, $1)", "$0 <= $1",
    "wop_le_s64($1, $0)", "$0 >= $1",
    "$0 == $1", "$0 != $1", "$0 < $1",   /* 0x5B f32.eq */
    "$0 > $1", "$0 <= $1", "$0 >= $1",
    "$0 == $1", "$0 != $1", "$0 < $1",   /* 0x61 f64.eq */
    "$0 > $1", "$0 <= $1", "$0 >= $1",
    "wop_i32_clz($0)", "wop_i32_ctz($0)", "wop_i32_popcnt($0)",  /* 0x67 */
    "$0 + $1", "$0 - $1", "$0 * $1",
    "wop_i32_div_s($0, $1)", "wop_i32_div_u($0, $1)",
    "wop_i32_rem_s($0, $1)", "wop_i32_rem_u($0, $1)",
    "$0 & $1", "$0 | $1", "$0 ^ $1",
    "$0 << ($1 & 31)", "wop_i32_shr_s($0, $1)", "$0 >> ($1 & 31)",
    "wop_i32_rotl($0, $1)", "wop_i32_rotr($0, $1)",
    "wop_i64_clz($0)", "wop_i64_ctz($0)", "wop_i64_popcnt($0)",  /* 0x79 */
    "$0 + $1", "$0 - $1", "$0 * $1",
    "wop_i64_div_s($0, $1)", "wop_i64_div_u($0, $1)",
    "wop_i64_rem_s($0, $1)", "wop_i64_rem_u($0, $1)",
    "$0 & $1", "$0 | $1", "$0 ^ $1",
    "$0 << ($1 & 63)", "wop_i64_shr_s($0, $1)", "$0 >> ($1 & 63)",
    "wop_i64_rotl($0, $1)", "wop_i64_rotr($0, $1)",
    "wop_f32_abs($0)", "wop_f32_neg($0)", "wop_f32_ceil($0)",   /* 0x8B */
    "wop_f32_floor($0)", "wop_f32_trunc($0)", "wop_f32_nearest($0)",
    "wop_f32_sqrt($0)",
    "$0 + $1", "$0 - $1", "$0 * $1", "$0 / $1",
    "wop_f32_min($0, $1)", "wop_f32_max($0, $1)", "wop_f32_copysign($0, $1)",
    "wop_f64_abs($0)", "wop_f64_neg($0)", "wop_f64_ceil($0)",   /* 0x99 */
    "wop_f64_floor($0)", "wop_f64_trunc($0)", "wop_f64_nearest($0)",
    "wop_f64_sqrt($0)",
    "$0 + $1", "$0 - $1", "$0 * $1", "$0 / $1",
    "wop_f64_min($0, $1)", "wop_f64_max($0, $1)", "wop_f64_copysign($0, $1)",
    "(uint32_t)$0",                   /* 0xA7 i32.wrap_i64 */
    "wop_i32_trunc_f32_s($0)", "wop_i32_trunc_f32_u($0)",
    "wop_i32_trunc_f64_s($0)", "wop_i32_trunc_f64_u($0)",
    "(uint64_t)(int64_t)(int32_t)$0", "(uint64_t)$0",     /* 0xAC */
    "wop_i64_trunc_f32_s($0)", "wop_i64_trunc_f32_u($0)",
    "wop_i64_trunc_f64_s($0)", "wop_i64_trunc_f64_u($0)",
    "(float)(int32_t)$0", "(float)$0",                    /* 0xB2 */
    "(float)(int64_t)$0", "(float)$0",
    "(float)$0",                                                    /* 0xB6 demote */
    "(double)(int32_t)$0", "(double)$0",                  /* 0xB7 */
    "(double)(int64_t)$0", "(double)$0",
    "wop_f64_promote($0)",                                          /* 0xBB promote */
    "wop_f32_raw($0)", "wop_f64_raw($0)",                 /* 0xBC reinterpret */
    "wop_f32_bits($0)", "wop_f64_bits($0)",
    "(uint32_t)(int32_t)(int8_t)$0", "(uint32_t)(int32_t)(int16_t)$0",   /* 0xC0 */
    "(uint64_t)(int64_t)(int8_t)$0", "(uint64_t)(int64_t)(int16_t)$0",
    "(uint64_t)(int64_t)(int32_t)$0",
};

static const char *const cg_sat[8] = {
    "wop_i32_trunc_sat_f32_s($0)", "wop_i32_trunc_sat_f32_u($0)",
    "wop_i32_trunc_sat_f64_s($0)", "wop_i32_trunc_sat_f64_u($0)",
    "wop_i64_trunc_sat_f32_s($0)", "wop_i64_trunc_sat_f32_u($0)",
    "wop_i64_trunc_sat_f64_s($0)", "wop_i64_trunc_sat_f64_u($0)",
};

const char *cg_numop_expr(uint32_t op)
{
    if (op >= 0x45 && op <= 0xC4)
        return cg_num[op - 0x45];
    if (op >= 0xFC00 && op <= 0xFC07)
        return cg_sat[op - 0xFC00];
    return NULL;
}

/* Signalling NaN: all-ones exponent, non-zero fraction, quiet bit clear. */
bool cg_f32_is_snan(uint32_t bits)
{
    return (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0 && (bits & 0x00400000u) == 0;
}

bool cg_f64_is_snan(uint64_t bits)
{
    return (bits & 0x7FF0000000000000ull) == 0x7FF0000000000000ull && (bits & 0x000FFFFFFFFFFFFFull) != 0 &&
           (bits & 0x0008000000000000ull) == 0;
}
