/*
 * wasm.h — the in-memory form of a WebAssembly 2.0 module, and the public
 * API of the decoder (wasm_decode.c), the validator (wasm_validate.c) and
 * the instruction reader (wasm_insn.c) shared by the validator and the
 * compiler.
 *
 * Ownership: wasm_decode() does NOT copy the input.  Names, code bodies and
 * data-segment bytes in the returned module point into the caller's buffer,
 * which must outlive the module.  Everything else (arrays of types, imports,
 * functions, ...) lives in one arena owned by the module and is released by
 * wasm_module_free().
 *
 * Errors: every fallible call returns false/NULL and fills a caller-owned
 * wasm_err (byte offset + message).  Nothing is allocated on the error path.
 */
#ifndef WEDGE_WASM_H
#define WEDGE_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WASM_WARN_UNUSED __attribute__((warn_unused_result))

/* ---- errors ------------------------------------------------------------ */

typedef struct wasm_err {
    size_t offset;      /* byte offset in the module where the problem is */
    bool malformed;     /* true: binary format error; false: validation error */
    char msg[192];      /* one line, no trailing newline */
} wasm_err;

/* ---- types ------------------------------------------------------------- */

enum {
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B,
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6F,
};

enum { WASM_EXTERN_FUNC = 0, WASM_EXTERN_TABLE = 1, WASM_EXTERN_MEMORY = 2, WASM_EXTERN_GLOBAL = 3 };

typedef struct wasm_functype {
    uint32_t nparams, nresults;
    const uint8_t *params;  /* valtype codes */
    const uint8_t *results;
} wasm_functype;

typedef struct wasm_limits {
    uint32_t min;
    uint32_t max;           /* valid only if has_max */
    bool has_max;
} wasm_limits;

typedef struct wasm_tabletype {
    uint8_t elemtype;       /* WASM_FUNCREF or WASM_EXTERNREF */
    wasm_limits limits;
} wasm_tabletype;

typedef struct wasm_memtype {
    wasm_limits limits;     /* in 64 KiB pages; max <= 65536 */
} wasm_memtype;

typedef struct wasm_globaltype {
    uint8_t valtype;
    bool mut;
} wasm_globaltype;

/* A constant expression.  Wasm 2.0 constant expressions are exactly one
 * instruction followed by `end`. */
enum {
    WASM_CE_I32 = 1,        /* bits = value (zero-extended) */
    WASM_CE_I64,            /* bits = value */
    WASM_CE_F32,            /* bits = IEEE bits */
    WASM_CE_F64,            /* bits = IEEE bits */
    WASM_CE_GLOBAL_GET,     /* index = global index */
    WASM_CE_REF_NULL,       /* type = WASM_FUNCREF / WASM_EXTERNREF */
    WASM_CE_REF_FUNC,       /* index = function index */
    WASM_CE_V128,           /* bits = low 8 bytes, bits_hi = high 8 bytes */
    /* Decoded but not a valid constant expression; only ever seen by
     * wasm_validate(), which rejects them (a validated module has none). */
    WASM_CE_NOT_CONST = 0x40, /* index = opcode of the first non-constant instruction */
    WASM_CE_ARITY,          /* index = number of instructions (not 1) */
};

typedef struct wasm_constexpr {
    uint8_t op;             /* WASM_CE_* */
    uint8_t type;           /* resulting value type */
    uint32_t index;
    uint64_t bits;
    uint64_t bits_hi;       /* WASM_CE_V128 only */
    uint32_t offset;        /* byte offset of the expression */
} wasm_constexpr;

typedef struct wasm_import {
    const char *module; uint32_t module_len;   /* UTF-8, not NUL-terminated */
    const char *name;   uint32_t name_len;
    uint8_t kind;                              /* WASM_EXTERN_* */
    union {
        uint32_t functype;                     /* type index */
        wasm_tabletype table;
        wasm_memtype mem;
        wasm_globaltype global;
    } u;
    uint32_t offset;                           /* file offset of the entry (for messages) */
} wasm_import;

typedef struct wasm_export {
    const char *name; uint32_t name_len;
    uint8_t kind;                              /* WASM_EXTERN_* */
    uint32_t index;                            /* in that kind's index space */
    uint32_t offset;                           /* file offset of the entry (for messages) */
} wasm_export;

typedef struct wasm_func {
    uint32_t type;                             /* type index */
    uint32_t nlocals;                          /* declared locals, params excluded */
    const uint8_t *locals;                     /* nlocals valtype codes (arena) */
    const uint8_t *code;                       /* first instruction ... final `end` */
    uint32_t code_len;
    uint32_t code_offset;                      /* file offset of `code` */
} wasm_func;

typedef struct wasm_global {
    wasm_globaltype type;
    wasm_constexpr init;                       /* unused for imported globals */
} wasm_global;

enum { WASM_SEG_ACTIVE = 0, WASM_SEG_PASSIVE = 1, WASM_SEG_DECLARATIVE = 2 };

typedef struct wasm_elem {
    uint8_t mode;                              /* WASM_SEG_* */
    uint8_t elemtype;                          /* WASM_FUNCREF / WASM_EXTERNREF */
    uint32_t table;                            /* active only */
    wasm_constexpr offset;                     /* active only; i32 */
    uint32_t count;
    const wasm_constexpr *items;               /* ref.func / ref.null / global.get */
    uint32_t seg_offset;                       /* file offset of the segment (for messages) */
} wasm_elem;

typedef struct wasm_data {
    uint8_t mode;                              /* ACTIVE or PASSIVE */
    uint32_t mem;
    wasm_constexpr offset;
    const uint8_t *bytes;
    uint32_t len;
    uint32_t seg_offset;                       /* file offset of the segment (for messages) */
} wasm_data;

/* The module.  Index spaces are complete: imports first, then definitions,
 * so funcs[i] / tables[i] / mems[i] / globals[i] are valid for every index;
 * for an imported entity only the type fields are meaningful. */
typedef struct wasm_module {
    uint32_t ntypes;    wasm_functype *types;
    uint32_t nimports;  wasm_import *imports;
    uint32_t nfuncs,   nimported_funcs;    wasm_func *funcs;
    uint32_t ntables,  nimported_tables;   wasm_tabletype *tables;
    uint32_t nmems,    nimported_mems;     wasm_memtype *mems;
    uint32_t nglobals, nimported_globals;  wasm_global *globals;
    uint32_t nexports;  wasm_export *exports;
    uint32_t nelems;    wasm_elem *elems;
    uint32_t ndatas;    wasm_data *datas;
    bool has_start;     uint32_t start;
    bool has_datacount; uint32_t datacount;
    uint32_t start_offset;                     /* file offset of the start section's index */
    /* For each function: the import index it came from (imported) or
     * UINT32_MAX.  Convenience for the compiler and the runtime. */
    uint32_t *func_import;
    void *arena;                               /* private */
} wasm_module;

/* Decode a binary module.  Checks the binary format only (malformed ->
 * err->malformed = true), including the encoding of every instruction of
 * every function body, so a later walk with wasm_reader_next() cannot fail
 * on a decoded module.  A module using a feature of a post-2.0 proposal
 * (exceptions, tail calls, memory64, multi-memory, GC, function references,
 * threads, relaxed SIMD) is refused with a message naming the proposal,
 * e.g. "exception handling proposal not supported (tag section)".
 * Returns NULL on error. */
WASM_WARN_UNUSED wasm_module *wasm_decode(const uint8_t *buf, size_t len, wasm_err *err);

/* Validate a decoded module per the Wasm 2.0 validation rules (fixed-width
 * SIMD included).  Implementation limits (as in
 * browsers; they keep decoding and validation linear in the module size):
 * at most 50000 declared locals per function (a decode error), 1000
 * parameters and 1000 results per function type, and an operand stack of
 * at most 2^20 values. */
WASM_WARN_UNUSED bool wasm_validate(const wasm_module *m, wasm_err *err);

void wasm_module_free(wasm_module *m);

/* Convenience: read file, decode, validate. *bufp receives the malloc'd
 * file contents (caller frees after wasm_module_free). */
WASM_WARN_UNUSED wasm_module *wasm_load_file(const char *path, uint8_t **bufp, size_t *lenp, wasm_err *err);

static inline const wasm_functype *wasm_func_type(const wasm_module *m, uint32_t funcidx)
{
    return &m->types[m->funcs[funcidx].type];
}

/* ---- instruction reader ------------------------------------------------ */

/* Opcodes: one byte, or 0xFC00 | sub-opcode for the 0xFC prefix,
 * 0xFD00 | sub for SIMD (sub <= 0xFF; larger ones are relaxed SIMD, which
 * the reader refuses). */
enum { WASM_OP_PREFIX_FC = 0xFC00, WASM_OP_PREFIX_FD = 0xFD00 };

enum { WASM_BT_EMPTY = 0, WASM_BT_VAL = 1, WASM_BT_TYPE = 2 };

typedef struct wasm_insn {
    uint32_t op;
    uint32_t offset;                   /* file offset of the opcode */
    union {
        uint32_t idx;                  /* local/global/func/table/label/type/elem/data index */
        struct { uint8_t kind; uint8_t valtype; uint32_t typeidx; } block;  /* block/loop/if */
        struct { uint32_t align, offset, mem; uint8_t lane; } mem;          /* loads, stores (lane: v128.load8_lane & co) */
        uint8_t lane;                  /* extract_lane / replace_lane */
        uint8_t v128[16];              /* v128.const bytes; i8x16.shuffle lane indices */
        struct { uint32_t type, table; } call_indirect;
        struct { uint32_t a, b; } two;          /* memory.init(data, mem), memory.copy(dst,src),
                                                   table.init(elem, table), table.copy(dst, src) */
        struct { uint32_t count; uint32_t dflt; } br_table;  /* targets via reader->targets */
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;                  /* raw bits */
        uint64_t f64;                  /* raw bits */
        uint8_t reftype;               /* ref.null t; typed select: valtype */
    } u;
    uint32_t select_nt;                /* typed select (0x1C): number of types (must be 1) */
} wasm_insn;

typedef struct wasm_reader {
    const uint8_t *base;               /* start of the module buffer (for offsets) */
    const uint8_t *p, *end;            /* current position, end of body */
    uint32_t *targets;                 /* br_table targets of the last insn (malloc'd, grows) */
    uint32_t targets_cap;
} wasm_reader;

void wasm_reader_init(wasm_reader *r, const uint8_t *module_base, const uint8_t *code, uint32_t len);
void wasm_reader_fini(wasm_reader *r);
static inline bool wasm_reader_done(const wasm_reader *r) { return r->p >= r->end; }
/* Read the next instruction with all immediates.  Malformed encodings
 * (bad LEB, unknown opcode, truncated) give false with err filled. */
WASM_WARN_UNUSED bool wasm_reader_next(wasm_reader *r, wasm_insn *insn, wasm_err *err);

/* Single-byte opcodes the reader and its users name. */
enum {
    OP_unreachable = 0x00, OP_nop = 0x01, OP_block = 0x02, OP_loop = 0x03, OP_if = 0x04,
    OP_else = 0x05, OP_end = 0x0B, OP_br = 0x0C, OP_br_if = 0x0D, OP_br_table = 0x0E,
    OP_return = 0x0F, OP_call = 0x10, OP_call_indirect = 0x11,
    OP_drop = 0x1A, OP_select = 0x1B, OP_select_t = 0x1C,
    OP_local_get = 0x20, OP_local_set = 0x21, OP_local_tee = 0x22,
    OP_global_get = 0x23, OP_global_set = 0x24, OP_table_get = 0x25, OP_table_set = 0x26,
    OP_i32_load = 0x28, OP_i64_load, OP_f32_load, OP_f64_load,
    OP_i32_load8_s, OP_i32_load8_u, OP_i32_load16_s, OP_i32_load16_u,
    OP_i64_load8_s, OP_i64_load8_u, OP_i64_load16_s, OP_i64_load16_u,
    OP_i64_load32_s, OP_i64_load32_u,
    OP_i32_store = 0x36, OP_i64_store, OP_f32_store, OP_f64_store,
    OP_i32_store8, OP_i32_store16, OP_i64_store8, OP_i64_store16, OP_i64_store32,
    OP_memory_size = 0x3F, OP_memory_grow = 0x40,
    OP_i32_const = 0x41, OP_i64_const = 0x42, OP_f32_const = 0x43, OP_f64_const = 0x44,
    /* 0x45..0xC4: the numeric instructions, not named one by one: they are
     * handled by opcode through tables of their operand and result types
     * (validator and emitter) */
    OP_ref_null = 0xD0, OP_ref_is_null = 0xD1, OP_ref_func = 0xD2,
};

/* 0xFC sub-opcodes */
enum {
    FC_i32_trunc_sat_f32_s = 0, FC_i32_trunc_sat_f32_u, FC_i32_trunc_sat_f64_s, FC_i32_trunc_sat_f64_u,
    FC_i64_trunc_sat_f32_s, FC_i64_trunc_sat_f32_u, FC_i64_trunc_sat_f64_s, FC_i64_trunc_sat_f64_u,
    FC_memory_init = 8, FC_data_drop = 9, FC_memory_copy = 10, FC_memory_fill = 11,
    FC_table_init = 12, FC_elem_drop = 13, FC_table_copy = 14, FC_table_grow = 15,
    FC_table_size = 16, FC_table_fill = 17,
};

/* ---- operator table (wasm_ops.c) ----------------------------------------
 * One table for the validator and the compiler: the operand and result
 * types of every numeric instruction (0x45..0xC4, 0xFC 0..7) and of every
 * SIMD instruction (0xFD), with the immediates SIMD instructions carry. */

enum {
    WASM_OPK_PLAIN = 0,     /* sig only */
    WASM_OPK_LOAD,          /* memarg; [i32] -> [v128]; size_log2 = bytes read */
    WASM_OPK_STORE,         /* memarg; [i32 v128] -> [] */
    WASM_OPK_LOAD_LANE,     /* memarg + lane; [i32 v128] -> [v128] */
    WASM_OPK_STORE_LANE,    /* memarg + lane; [i32 v128] -> [] */
    WASM_OPK_LANE,          /* lane immediate (extract/replace); sig as given */
    WASM_OPK_CONST,         /* 16 immediate bytes; [] -> [v128] */
    WASM_OPK_SHUFFLE,       /* 16 lane indices (< 32); [v128 v128] -> [v128] */
};

typedef struct wasm_opinfo {
    const char *name;       /* "i8x16.add" (SIMD only; NULL for scalar ops) */
    uint8_t kind;           /* WASM_OPK_* */
    uint8_t nin;            /* operands, in[0] deepest */
    uint8_t in[3];
    uint8_t out;            /* result type, 0 = none */
    uint8_t size_log2;      /* memory ops: log2 of the bytes accessed */
    uint8_t lanes;          /* lane immediates: number of lanes */
} wasm_opinfo;

/* The entry of `op`, or NULL if op is not a numeric or SIMD opcode (memory,
 * control, ... or an unassigned SIMD code). */
const wasm_opinfo *wasm_opinfo_get(uint32_t op);

/* Name of a value type code, for messages ("i32", "funcref", ...). */
const char *wasm_valtype_name(uint8_t t);

#endif
