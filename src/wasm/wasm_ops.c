/*
 * wasm_ops.c — the operator table shared by the validator (typing) and the
 * compiler (slot types, immediates, helper names): numeric instructions
 * 0x45..0xC4, the saturating truncations 0xFC 0..7 and the fixed-width SIMD
 * instructions 0xFD 0x00..0xFF of Wasm 2.0.
 */
#include "wasm_internal.h"

#define I32 WASM_I32
#define I64 WASM_I64
#define F32 WASM_F32
#define F64 WASM_F64
#define V WASM_V128

#define U_(a, r) { NULL, WASM_OPK_PLAIN, 1, { a }, r, 0, 0 }
#define B_(a, r) { NULL, WASM_OPK_PLAIN, 2, { a, a }, r, 0, 0 }

/* Indexed by opcode - 0x45. */
static const wasm_opinfo numeric[0xC5 - 0x45] = {
    [0x45 - 0x45] = U_(I32, I32),
    [0x46 - 0x45 ... 0x4F - 0x45] = B_(I32, I32),
    [0x50 - 0x45] = U_(I64, I32),
    [0x51 - 0x45 ... 0x5A - 0x45] = B_(I64, I32),
    [0x5B - 0x45 ... 0x60 - 0x45] = B_(F32, I32),
    [0x61 - 0x45 ... 0x66 - 0x45] = B_(F64, I32),
    [0x67 - 0x45 ... 0x69 - 0x45] = U_(I32, I32),
    [0x6A - 0x45 ... 0x78 - 0x45] = B_(I32, I32),
    [0x79 - 0x45 ... 0x7B - 0x45] = U_(I64, I64),
    [0x7C - 0x45 ... 0x8A - 0x45] = B_(I64, I64),
    [0x8B - 0x45 ... 0x91 - 0x45] = U_(F32, F32),
    [0x92 - 0x45 ... 0x98 - 0x45] = B_(F32, F32),
    [0x99 - 0x45 ... 0x9F - 0x45] = U_(F64, F64),
    [0xA0 - 0x45 ... 0xA6 - 0x45] = B_(F64, F64),
    [0xA7 - 0x45] = U_(I64, I32),
    [0xA8 - 0x45 ... 0xA9 - 0x45] = U_(F32, I32),
    [0xAA - 0x45 ... 0xAB - 0x45] = U_(F64, I32),
    [0xAC - 0x45 ... 0xAD - 0x45] = U_(I32, I64),
    [0xAE - 0x45 ... 0xAF - 0x45] = U_(F32, I64),
    [0xB0 - 0x45 ... 0xB1 - 0x45] = U_(F64, I64),
    [0xB2 - 0x45 ... 0xB3 - 0x45] = U_(I32, F32),
    [0xB4 - 0x45 ... 0xB5 - 0x45] = U_(I64, F32),
    [0xB6 - 0x45] = U_(F64, F32),
    [0xB7 - 0x45 ... 0xB8 - 0x45] = U_(I32, F64),
    [0xB9 - 0x45 ... 0xBA - 0x45] = U_(I64, F64),
    [0xBB - 0x45] = U_(F32, F64),
    [0xBC - 0x45] = U_(F32, I32),
    [0xBD - 0x45] = U_(F64, I64),
    [0xBE - 0x45] = U_(I32, F32),
    [0xBF - 0x45] = U_(I64, F64),
    [0xC0 - 0x45 ... 0xC1 - 0x45] = U_(I32, I32),
    [0xC2 - 0x45 ... 0xC4 - 0x45] = U_(I64, I64),
};

/* 0xFC 0-7: saturating truncations. */
static const wasm_opinfo trunc_sat[8] = {
    U_(F32, I32), U_(F32, I32), U_(F64, I32), U_(F64, I32),
    U_(F32, I64), U_(F32, I64), U_(F64, I64), U_(F64, I64),
};

#define VV(n) { n, WASM_OPK_PLAIN, 2, { V, V }, V, 0, 0 }
#define V1(n) { n, WASM_OPK_PLAIN, 1, { V }, V, 0, 0 }
#define VI(n) { n, WASM_OPK_PLAIN, 1, { V }, I32, 0, 0 }
#define SH(n) { n, WASM_OPK_PLAIN, 2, { V, I32 }, V, 0, 0 }
#define SPLAT(n, t) { n, WASM_OPK_PLAIN, 1, { t }, V, 0, 0 }
#define LD(n, lg) { n, WASM_OPK_LOAD, 1, { I32 }, V, lg, 0 }
#define LDL(n, lg) { n, WASM_OPK_LOAD_LANE, 2, { I32, V }, V, lg, 16 >> lg }
#define STL(n, lg) { n, WASM_OPK_STORE_LANE, 2, { I32, V }, 0, lg, 16 >> lg }
#define EX(n, t, l) { n, WASM_OPK_LANE, 1, { V }, t, 0, l }
#define RP(n, t, l) { n, WASM_OPK_LANE, 2, { V, t }, V, 0, l }

/* Indexed by the SIMD sub-opcode; unnamed entries are unassigned. */
static const wasm_opinfo simd[256] = {
    [0x00] = LD("v128.load", 4),
    [0x01] = LD("v128.load8x8_s", 3), [0x02] = LD("v128.load8x8_u", 3),
    [0x03] = LD("v128.load16x4_s", 3), [0x04] = LD("v128.load16x4_u", 3),
    [0x05] = LD("v128.load32x2_s", 3), [0x06] = LD("v128.load32x2_u", 3),
    [0x07] = LD("v128.load8_splat", 0), [0x08] = LD("v128.load16_splat", 1),
    [0x09] = LD("v128.load32_splat", 2), [0x0A] = LD("v128.load64_splat", 3),
    [0x0B] = { "v128.store", WASM_OPK_STORE, 2, { I32, V }, 0, 4, 0 },
    [0x0C] = { "v128.const", WASM_OPK_CONST, 0, { 0 }, V, 0, 0 },
    [0x0D] = { "i8x16.shuffle", WASM_OPK_SHUFFLE, 2, { V, V }, V, 0, 32 },
    [0x0E] = VV("i8x16.swizzle"),
    [0x0F] = SPLAT("i8x16.splat", I32), [0x10] = SPLAT("i16x8.splat", I32),
    [0x11] = SPLAT("i32x4.splat", I32), [0x12] = SPLAT("i64x2.splat", I64),
    [0x13] = SPLAT("f32x4.splat", F32), [0x14] = SPLAT("f64x2.splat", F64),
    [0x15] = EX("i8x16.extract_lane_s", I32, 16), [0x16] = EX("i8x16.extract_lane_u", I32, 16),
    [0x17] = RP("i8x16.replace_lane", I32, 16),
    [0x18] = EX("i16x8.extract_lane_s", I32, 8), [0x19] = EX("i16x8.extract_lane_u", I32, 8),
    [0x1A] = RP("i16x8.replace_lane", I32, 8),
    [0x1B] = EX("i32x4.extract_lane", I32, 4), [0x1C] = RP("i32x4.replace_lane", I32, 4),
    [0x1D] = EX("i64x2.extract_lane", I64, 2), [0x1E] = RP("i64x2.replace_lane", I64, 2),
    [0x1F] = EX("f32x4.extract_lane", F32, 4), [0x20] = RP("f32x4.replace_lane", F32, 4),
    [0x21] = EX("f64x2.extract_lane", F64, 2), [0x22] = RP("f64x2.replace_lane", F64, 2),
    [0x23] = VV("i8x16.eq"), [0x24] = VV("i8x16.ne"),
    [0x25] = VV("i8x16.lt_s"), [0x26] = VV("i8x16.lt_u"), [0x27] = VV("i8x16.gt_s"), [0x28] = VV("i8x16.gt_u"),
    [0x29] = VV("i8x16.le_s"), [0x2A] = VV("i8x16.le_u"), [0x2B] = VV("i8x16.ge_s"), [0x2C] = VV("i8x16.ge_u"),
    [0x2D] = VV("i16x8.eq"), [0x2E] = VV("i16x8.ne"),
    [0x2F] = VV("i16x8.lt_s"), [0x30] = VV("i16x8.lt_u"), [0x31] = VV("i16x8.gt_s"), [0x32] = VV("i16x8.gt_u"),
    [0x33] = VV("i16x8.le_s"), [0x34] = VV("i16x8.le_u"), [0x35] = VV("i16x8.ge_s"), [0x36] = VV("i16x8.ge_u"),
    [0x37] = VV("i32x4.eq"), [0x38] = VV("i32x4.ne"),
    [0x39] = VV("i32x4.lt_s"), [0x3A] = VV("i32x4.lt_u"), [0x3B] = VV("i32x4.gt_s"), [0x3C] = VV("i32x4.gt_u"),
    [0x3D] = VV("i32x4.le_s"), [0x3E] = VV("i32x4.le_u"), [0x3F] = VV("i32x4.ge_s"), [0x40] = VV("i32x4.ge_u"),
    [0x41] = VV("f32x4.eq"), [0x42] = VV("f32x4.ne"), [0x43] = VV("f32x4.lt"),
    [0x44] = VV("f32x4.gt"), [0x45] = VV("f32x4.le"), [0x46] = VV("f32x4.ge"),
    [0x47] = VV("f64x2.eq"), [0x48] = VV("f64x2.ne"), [0x49] = VV("f64x2.lt"),
    [0x4A] = VV("f64x2.gt"), [0x4B] = VV("f64x2.le"), [0x4C] = VV("f64x2.ge"),
    [0x4D] = V1("v128.not"), [0x4E] = VV("v128.and"), [0x4F] = VV("v128.andnot"),
    [0x50] = VV("v128.or"), [0x51] = VV("v128.xor"),
    [0x52] = { "v128.bitselect", WASM_OPK_PLAIN, 3, { V, V, V }, V, 0, 0 },
    [0x53] = VI("v128.any_true"),
    [0x54] = LDL("v128.load8_lane", 0), [0x55] = LDL("v128.load16_lane", 1),
    [0x56] = LDL("v128.load32_lane", 2), [0x57] = LDL("v128.load64_lane", 3),
    [0x58] = STL("v128.store8_lane", 0), [0x59] = STL("v128.store16_lane", 1),
    [0x5A] = STL("v128.store32_lane", 2), [0x5B] = STL("v128.store64_lane", 3),
    [0x5C] = LD("v128.load32_zero", 2), [0x5D] = LD("v128.load64_zero", 3),
    [0x5E] = V1("f32x4.demote_f64x2_zero"), [0x5F] = V1("f64x2.promote_low_f32x4"),
    [0x60] = V1("i8x16.abs"), [0x61] = V1("i8x16.neg"), [0x62] = V1("i8x16.popcnt"),
    [0x63] = VI("i8x16.all_true"), [0x64] = VI("i8x16.bitmask"),
    [0x65] = VV("i8x16.narrow_i16x8_s"), [0x66] = VV("i8x16.narrow_i16x8_u"),
    [0x67] = V1("f32x4.ceil"), [0x68] = V1("f32x4.floor"), [0x69] = V1("f32x4.trunc"), [0x6A] = V1("f32x4.nearest"),
    [0x6B] = SH("i8x16.shl"), [0x6C] = SH("i8x16.shr_s"), [0x6D] = SH("i8x16.shr_u"),
    [0x6E] = VV("i8x16.add"), [0x6F] = VV("i8x16.add_sat_s"), [0x70] = VV("i8x16.add_sat_u"),
    [0x71] = VV("i8x16.sub"), [0x72] = VV("i8x16.sub_sat_s"), [0x73] = VV("i8x16.sub_sat_u"),
    [0x74] = V1("f64x2.ceil"), [0x75] = V1("f64x2.floor"),
    [0x76] = VV("i8x16.min_s"), [0x77] = VV("i8x16.min_u"), [0x78] = VV("i8x16.max_s"), [0x79] = VV("i8x16.max_u"),
    [0x7A] = V1("f64x2.trunc"), [0x7B] = VV("i8x16.avgr_u"),
    [0x7C] = V1("i16x8.extadd_pairwise_i8x16_s"), [0x7D] = V1("i16x8.extadd_pairwise_i8x16_u"),
    [0x7E] = V1("i32x4.extadd_pairwise_i16x8_s"), [0x7F] = V1("i32x4.extadd_pairwise_i16x8_u"),
    [0x80] = V1("i16x8.abs"), [0x81] = V1("i16x8.neg"), [0x82] = VV("i16x8.q15mulr_sat_s"),
    [0x83] = VI("i16x8.all_true"), [0x84] = VI("i16x8.bitmask"),
    [0x85] = VV("i16x8.narrow_i32x4_s"), [0x86] = VV("i16x8.narrow_i32x4_u"),
    [0x87] = V1("i16x8.extend_low_i8x16_s"), [0x88] = V1("i16x8.extend_high_i8x16_s"),
    [0x89] = V1("i16x8.extend_low_i8x16_u"), [0x8A] = V1("i16x8.extend_high_i8x16_u"),
    [0x8B] = SH("i16x8.shl"), [0x8C] = SH("i16x8.shr_s"), [0x8D] = SH("i16x8.shr_u"),
    [0x8E] = VV("i16x8.add"), [0x8F] = VV("i16x8.add_sat_s"), [0x90] = VV("i16x8.add_sat_u"),
    [0x91] = VV("i16x8.sub"), [0x92] = VV("i16x8.sub_sat_s"), [0x93] = VV("i16x8.sub_sat_u"),
    [0x94] = V1("f64x2.nearest"), [0x95] = VV("i16x8.mul"),
    [0x96] = VV("i16x8.min_s"), [0x97] = VV("i16x8.min_u"), [0x98] = VV("i16x8.max_s"), [0x99] = VV("i16x8.max_u"),
    [0x9B] = VV("i16x8.avgr_u"),
    [0x9C] = VV("i16x8.extmul_low_i8x16_s"), [0x9D] = VV("i16x8.extmul_high_i8x16_s"),
    [0x9E] = VV("i16x8.extmul_low_i8x16_u"), [0x9F] = VV("i16x8.extmul_high_i8x16_u"),
    [0xA0] = V1("i32x4.abs"), [0xA1] = V1("i32x4.neg"),
    [0xA3] = VI("i32x4.all_true"), [0xA4] = VI("i32x4.bitmask"),
    [0xA7] = V1("i32x4.extend_low_i16x8_s"), [0xA8] = V1("i32x4.extend_high_i16x8_s"),
    [0xA9] = V1("i32x4.extend_low_i16x8_u"), [0xAA] = V1("i32x4.extend_high_i16x8_u"),
    [0xAB] = SH("i32x4.shl"), [0xAC] = SH("i32x4.shr_s"), [0xAD] = SH("i32x4.shr_u"),
    [0xAE] = VV("i32x4.add"), [0xB1] = VV("i32x4.sub"), [0xB5] = VV("i32x4.mul"),
    [0xB6] = VV("i32x4.min_s"), [0xB7] = VV("i32x4.min_u"), [0xB8] = VV("i32x4.max_s"), [0xB9] = VV("i32x4.max_u"),
    [0xBA] = VV("i32x4.dot_i16x8_s"),
    [0xBC] = VV("i32x4.extmul_low_i16x8_s"), [0xBD] = VV("i32x4.extmul_high_i16x8_s"),
    [0xBE] = VV("i32x4.extmul_low_i16x8_u"), [0xBF] = VV("i32x4.extmul_high_i16x8_u"),
    [0xC0] = V1("i64x2.abs"), [0xC1] = V1("i64x2.neg"),
    [0xC3] = VI("i64x2.all_true"), [0xC4] = VI("i64x2.bitmask"),
    [0xC7] = V1("i64x2.extend_low_i32x4_s"), [0xC8] = V1("i64x2.extend_high_i32x4_s"),
    [0xC9] = V1("i64x2.extend_low_i32x4_u"), [0xCA] = V1("i64x2.extend_high_i32x4_u"),
    [0xCB] = SH("i64x2.shl"), [0xCC] = SH("i64x2.shr_s"), [0xCD] = SH("i64x2.shr_u"),
    [0xCE] = VV("i64x2.add"), [0xD1] = VV("i64x2.sub"), [0xD5] = VV("i64x2.mul"),
    [0xD6] = VV("i64x2.eq"), [0xD7] = VV("i64x2.ne"), [0xD8] = VV("i64x2.lt_s"),
    [0xD9] = VV("i64x2.gt_s"), [0xDA] = VV("i64x2.le_s"), [0xDB] = VV("i64x2.ge_s"),
    [0xDC] = VV("i64x2.extmul_low_i32x4_s"), [0xDD] = VV("i64x2.extmul_high_i32x4_s"),
    [0xDE] = VV("i64x2.extmul_low_i32x4_u"), [0xDF] = VV("i64x2.extmul_high_i32x4_u"),
    [0xE0] = V1("f32x4.abs"), [0xE1] = V1("f32x4.neg"), [0xE3] = V1("f32x4.sqrt"),
    [0xE4] = VV("f32x4.add"), [0xE5] = VV("f32x4.sub"), [0xE6] = VV("f32x4.mul"), [0xE7] = VV("f32x4.div"),
    [0xE8] = VV("f32x4.min"), [0xE9] = VV("f32x4.max"), [0xEA] = VV("f32x4.pmin"), [0xEB] = VV("f32x4.pmax"),
    [0xEC] = V1("f64x2.abs"), [0xED] = V1("f64x2.neg"), [0xEF] = V1("f64x2.sqrt"),
    [0xF0] = VV("f64x2.add"), [0xF1] = VV("f64x2.sub"), [0xF2] = VV("f64x2.mul"), [0xF3] = VV("f64x2.div"),
    [0xF4] = VV("f64x2.min"), [0xF5] = VV("f64x2.max"), [0xF6] = VV("f64x2.pmin"), [0xF7] = VV("f64x2.pmax"),
    [0xF8] = V1("i32x4.trunc_sat_f32x4_s"), [0xF9] = V1("i32x4.trunc_sat_f32x4_u"),
    [0xFA] = V1("f32x4.convert_i32x4_s"), [0xFB] = V1("f32x4.convert_i32x4_u"),
    [0xFC] = V1("i32x4.trunc_sat_f64x2_s_zero"), [0xFD] = V1("i32x4.trunc_sat_f64x2_u_zero"),
    [0xFE] = V1("f64x2.convert_low_i32x4_s"), [0xFF] = V1("f64x2.convert_low_i32x4_u"),
};

const wasm_opinfo *wasm_opinfo_get(uint32_t op)
{
    if (op >= 0x45 && op <= 0xC4)
        return &numeric[op - 0x45];
    if (op >= WASM_OP_PREFIX_FC && op <= (WASM_OP_PREFIX_FC | 7))
        return &trunc_sat[op - WASM_OP_PREFIX_FC];
    if ((op & 0xFF00) == WASM_OP_PREFIX_FD && simd[op & 0xFF].name != NULL)
        return &simd[op & 0xFF];
    return NULL;
}
