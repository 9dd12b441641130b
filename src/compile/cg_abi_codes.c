/*
 * cg_abi_codes.c — the emitter writes the decoder's codes (wasm.h) into
 * descriptor fields that wedge_abi.h documents with its own names
 * (wedge_valtype, wedge_extern_kind, wedge_seg_mode): both follow the Wasm
 * binary encoding, and this file makes the build fail if they ever part.
 * It holds no code.
 */
#include "compile.h"

/* Two different enum types: compare their values. */
#define CG_SAME(a, b) _Static_assert((int)(a) == (int)(b), #a " differs from " #b)

CG_SAME(WASM_I32, WEDGE_VAL_I32);
CG_SAME(WASM_I64, WEDGE_VAL_I64);
CG_SAME(WASM_F32, WEDGE_VAL_F32);
CG_SAME(WASM_F64, WEDGE_VAL_F64);
CG_SAME(WASM_V128, WEDGE_VAL_V128);
CG_SAME(WASM_FUNCREF, WEDGE_VAL_FUNCREF);
CG_SAME(WASM_EXTERNREF, WEDGE_VAL_EXTERNREF);
CG_SAME(WASM_EXTERN_FUNC, WEDGE_EXTERN_FUNC);
CG_SAME(WASM_EXTERN_TABLE, WEDGE_EXTERN_TABLE);
CG_SAME(WASM_EXTERN_MEMORY, WEDGE_EXTERN_MEMORY);
CG_SAME(WASM_EXTERN_GLOBAL, WEDGE_EXTERN_GLOBAL);
CG_SAME(WASM_SEG_ACTIVE, WEDGE_SEG_ACTIVE);
CG_SAME(WASM_SEG_PASSIVE, WEDGE_SEG_PASSIVE);
CG_SAME(WASM_SEG_DECLARATIVE, WEDGE_SEG_DECLARATIVE);
