/*
 * wedge_abi.h — the whole contract between a compiled module (.so) and the
 * wedge runtime.  Generated C includes this header (through wedge_ops.h);
 * so do libsledge (src/abi/) and the runtime (src/runtime/).
 *
 * It is self-contained (C11 + <stdint.h>) because it is embedded in the
 * wedge binary and written next to the generated C at compile time.
 *
 * The SLEdge ABI names (sledge_abi__*) are kept for compatibility with the
 * SLEdge runtime contract (SPEC section 2).  What that ABI cannot express
 * lives in one versioned descriptor, `wedge_module_descriptor`, exported by
 * every module .so.  The runtime refuses a .so whose abi_version differs
 * from WEDGE_ABI_VERSION.
 *
 * Ownership: everything a descriptor points to is static data of the .so
 * and lives as long as the .so stays loaded; the runtime writes only the
 * `type_ids` array (once, at load).  Instances, memories and tables are
 * created and owned by the runtime.
 */
#ifndef WEDGE_ABI_H
#define WEDGE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define WEDGE_ABI_VERSION 3u   /* 2: v128 in wedge_value and constant expressions;
                                  3: short signatures have fixed type ids (wedge_type_id_fixed) */

#if defined(__GNUC__)
#define WEDGE_NORETURN __attribute__((noreturn))
#define WEDGE_COLD __attribute__((cold))
#else
#define WEDGE_NORETURN
#define WEDGE_COLD
#endif

/* ---- values ------------------------------------------------------------ */

/* One Wasm value.  References are pointers: a funcref is a
 * `wedge_funcref *`, an externref is an opaque non-NULL host pointer;
 * NULL is the null reference of either type.  A v128 is its 16 bytes in
 * memory order (lane 0 first); bytes, not a vector type, so the union
 * keeps 8-byte alignment wherever it is embedded. */
typedef union wedge_value {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
    void *ref;
    uint8_t v128[16];
} wedge_value;

/* Value type codes, as the Wasm binary format encodes them: in
 * wedge_desc_import.valtype, wedge_desc_global.valtype,
 * wedge_constexpr.type, wedge_table.elemtype and the limits' elemtype. */
typedef enum wedge_valtype {
    WEDGE_VAL_I32 = 0x7F,
    WEDGE_VAL_I64 = 0x7E,
    WEDGE_VAL_F32 = 0x7D,
    WEDGE_VAL_F64 = 0x7C,
    WEDGE_VAL_V128 = 0x7B,
    WEDGE_VAL_FUNCREF = 0x70,
    WEDGE_VAL_EXTERNREF = 0x6F,
} wedge_valtype;

/* Kinds of extern (wedge_desc_import.kind, wedge_desc_export.kind), as the
 * Wasm binary format encodes them. */
typedef enum wedge_extern_kind {
    WEDGE_EXTERN_FUNC = 0,
    WEDGE_EXTERN_TABLE = 1,
    WEDGE_EXTERN_MEMORY = 2,
    WEDGE_EXTERN_GLOBAL = 3,
} wedge_extern_kind;

/* Segment modes (wedge_desc_elem.mode, wedge_desc_data.mode; a data
 * segment is never declarative). */
typedef enum wedge_seg_mode {
    WEDGE_SEG_ACTIVE = 0,
    WEDGE_SEG_PASSIVE = 1,
    WEDGE_SEG_DECLARATIVE = 2,
} wedge_seg_mode;

/* The Wasm page; the most pages a 32-bit memory may have (4 GiB); pages
 * in a MiB, for limits given in MiB (`max-memory-mb`).  Every component's
 * page arithmetic uses these. */
#define WEDGE_WASM_PAGE 65536u
#define WEDGE_WASM_MAX_PAGES 65536u
#define WEDGE_WASM_PAGES_PER_MIB 16u

/* ---- traps ------------------------------------------------------------- */

typedef enum wedge_trap_kind {
    WEDGE_TRAP_NONE = 0,
    WEDGE_TRAP_UNREACHABLE,          /* "unreachable" */
    WEDGE_TRAP_MEMORY_OOB,           /* "out of bounds memory access" */
    WEDGE_TRAP_INT_DIV_ZERO,         /* "integer divide by zero" */
    WEDGE_TRAP_INT_OVERFLOW,         /* "integer overflow" */
    WEDGE_TRAP_INVALID_CONVERSION,   /* "invalid conversion to integer" */
    WEDGE_TRAP_TABLE_OOB,            /* "undefined element" (call_indirect) */
    WEDGE_TRAP_UNINITIALIZED_ELEM,   /* "uninitialized element" */
    WEDGE_TRAP_INDIRECT_TYPE,        /* "indirect call type mismatch" */
    WEDGE_TRAP_STACK_EXHAUSTED,      /* "call stack exhausted" */
    WEDGE_TRAP_TIMEOUT,              /* deadline / interrupt (serve) */
    WEDGE_TRAP_HOST,                 /* a host call failed fatally */
    WEDGE_TRAP_EXIT,                 /* proc_exit: not an error, code in rt_result.exit_code */
    WEDGE_TRAP_TABLE_ACCESS_OOB,     /* "out of bounds table access" (table.get/set/fill/copy/init);
                                        TABLE_OOB stays "undefined element" (call_indirect) */
    WEDGE_TRAP__COUNT
} wedge_trap_kind;

/* ---- runtime objects (layouts shared with generated code) --------------- */

/* A linear memory.  In guard mode `base` points into a reservation large
 * enough that base + any u32 + any u32 offset stays inside it, and the
 * base never moves, so generated code may cache it for a whole call. */
typedef struct wedge_memory {
    uint8_t *base;
    uint64_t size;          /* bytes currently accessible (pages * WEDGE_WASM_PAGE) */
    uint64_t capacity;      /* bytes reserved (address space) */
    uint64_t max;           /* max bytes allowed (declared max or limit) */
    uint32_t pages;
    uint32_t max_pages;
} wedge_memory;

struct wedge_instance;

/* A function reference.  `fn` has the C signature of its Wasm type:
 *   R fn(struct wedge_instance *inst, P1, P2, ...)
 * with i32 -> uint32_t, i64 -> uint64_t, f32 -> float, f64 -> double,
 * references -> void *, v128 -> a 16-byte GNU C vector (wop_v128 in
 * wedge_simd.h; generated code only, no host function takes one); no result -> void; several results -> a struct
 * of those types in order.  `inst` is the instance the function belongs to
 * (for host functions: the instance that imported it). */
typedef struct wedge_funcref {
    uint32_t type_id;                  /* canonical, process-wide type id */
    void (*fn)(void);
    struct wedge_instance *inst;
} wedge_funcref;

typedef struct wedge_table {
    void **elems;                      /* size entries; NULL = null ref */
    uint32_t size;
    uint32_t max;                      /* UINT32_MAX if none */
    uint8_t elemtype;                  /* WEDGE_VAL_FUNCREF or WEDGE_VAL_EXTERNREF */
} wedge_table;

/* An instance.  The runtime allocates sizeof(wedge_instance) +
 * ndefined_globals * sizeof(wedge_value); defined globals live inline at
 * the end so generated code reaches them with one load. */
typedef struct wedge_instance {
    wedge_memory *mem;                 /* memory 0, or NULL */
    wedge_table **tables;              /* table index space */
    wedge_funcref **funcs;             /* function index space (imports resolved) */
    wedge_value **imported_globals;    /* imported globals, by import order */
    uint8_t *data_dropped;             /* one flag per data segment */
    uint8_t *elem_dropped;             /* one flag per element segment */
    const struct wedge_module_desc *desc;
    void *host;                        /* runtime-private: host-module contexts (rt_host_ctx) */
    wedge_value globals[];             /* defined globals */
} wedge_instance;

/* SLEdge name for the instance type. */
#define sledge_abi__wasm_module_instance wedge_instance

/* ---- the module descriptor ---------------------------------------------- */

enum { WEDGE_CE_I32 = 1, WEDGE_CE_I64, WEDGE_CE_F32, WEDGE_CE_F64,
       WEDGE_CE_GLOBAL_GET, WEDGE_CE_REF_NULL, WEDGE_CE_REF_FUNC, WEDGE_CE_V128 };

typedef struct wedge_constexpr {
    uint8_t op;                        /* WEDGE_CE_* */
    uint8_t type;                      /* wedge_valtype (ref.null: the reference type) */
    uint32_t index;                    /* global or function index */
    uint64_t bits;                     /* constant value bits (v128: bytes 0-7) */
    uint64_t bits_hi;                  /* v128: bytes 8-15 */
} wedge_constexpr;

/* Calls `f` with arguments from args[] and stores results in results[],
 * for one function type.  One trampoline per type in the module. */
typedef void (*wedge_trampoline)(const wedge_funcref *f, const wedge_value *args, wedge_value *results);

typedef struct wedge_desc_type {
    const char *sig;                   /* params ':' results, e.g. "iIfF:i" (I=i64 F=f64 r=funcref e=externref v=v128) */
    wedge_trampoline tramp;
} wedge_desc_type;

typedef struct wedge_desc_import {
    const char *module; uint32_t module_len;
    const char *name; uint32_t name_len;
    uint8_t kind;                      /* wedge_extern_kind */
    uint8_t valtype;                   /* wedge_valtype: global: value type; table: elem type */
    uint8_t mut;                       /* global */
    uint8_t has_max;                   /* table, memory */
    uint32_t type;                     /* func: type index */
    uint32_t min, max;                 /* table, memory limits */
} wedge_desc_import;

typedef struct wedge_desc_export {
    const char *name; uint32_t name_len;
    uint8_t kind;                      /* wedge_extern_kind */
    uint32_t index;                    /* in that kind's index space */
} wedge_desc_export;

typedef struct wedge_desc_func {
    uint32_t type;                     /* type index */
    void (*fn)(void);                  /* defined function, signature as wedge_funcref */
} wedge_desc_func;

typedef struct wedge_desc_limits {
    uint8_t elemtype;                  /* tables only: wedge_valtype */
    uint8_t has_max;
    uint32_t min, max;
} wedge_desc_limits;

typedef struct wedge_desc_global {
    uint8_t valtype, mut;              /* wedge_valtype; mut 0 or 1 */
    wedge_constexpr init;
} wedge_desc_global;

typedef struct wedge_desc_elem {
    uint8_t mode;                      /* wedge_seg_mode */
    uint8_t elemtype;
    uint32_t table;
    wedge_constexpr offset;
    uint32_t count;
    const wedge_constexpr *items;
} wedge_desc_elem;

typedef struct wedge_desc_data {
    uint8_t mode;                      /* WEDGE_SEG_ACTIVE or WEDGE_SEG_PASSIVE */
    uint32_t mem;
    wedge_constexpr offset;
    const uint8_t *bytes;
    uint32_t len;
} wedge_desc_data;

enum { WEDGE_BOUNDS_GUARD = 0, WEDGE_BOUNDS_SOFTWARE = 1, WEDGE_BOUNDS_NONE = 2 };

typedef struct wedge_module_desc {
    uint32_t abi_version;              /* WEDGE_ABI_VERSION */
    uint32_t bounds;                   /* WEDGE_BOUNDS_* the code was compiled for */
    const char *compiler_version;
    uint32_t ntypes;            const wedge_desc_type *types;
    uint32_t *type_ids;                /* [ntypes], filled by the runtime at load */
    uint32_t nimports;          const wedge_desc_import *imports;
    uint32_t nimported_funcs, nimported_tables, nimported_mems, nimported_globals;
    uint32_t nfuncs;            const wedge_desc_func *funcs;     /* defined only */
    uint32_t ntables;           const wedge_desc_limits *tables;  /* defined only */
    uint32_t nmems;             const wedge_desc_limits *mems;    /* defined only */
    uint32_t nglobals;          const wedge_desc_global *globals; /* defined only */
    uint32_t nexports;          const wedge_desc_export *exports;
    uint32_t nelems;            const wedge_desc_elem *elems;
    uint32_t ndatas;            const wedge_desc_data *datas;
    int64_t start;                     /* function index, or -1 */
} wedge_module_desc;

#define WEDGE_DESCRIPTOR_SYMBOL "wedge_module_descriptor"

/* Descriptor look-ups shared by libsledge and the runtime (both sides of
 * this header), so each is written once.  The export named name[0..len),
 * or NULL (a module's export names are unique, whatever their kind). */
static inline const wedge_desc_export *wedge_desc_export_find(const wedge_module_desc *d, const char *name,
                                                              size_t len)
{
    for (uint32_t i = 0; i < d->nexports; i++)
        if (d->exports[i].name_len == len && __builtin_memcmp(d->exports[i].name, name, len) == 0)
            return &d->exports[i];
    return NULL;
}

/* The n-th import of `kind` (a wedge_extern_kind), that is
 * item n of that index space; NULL when there are not that many. */
static inline const wedge_desc_import *wedge_desc_import_nth(const wedge_module_desc *d, uint8_t kind, uint32_t n)
{
    for (uint32_t i = 0; i < d->nimports; i++)
        if (d->imports[i].kind == kind && n-- == 0)
            return &d->imports[i];
    return NULL;
}

/* The canonical type id of a short signature ("iI:f", at most 9
 * characters: 8 value types), computed from the signature alone, so the
 * compiler can emit it as a constant and call_indirect compares the callee's
 * id with an immediate instead of loading wg_type_ids[t].  The runtime's
 * interning (rt_type_intern) returns this id for such signatures and
 * counts the others from 1 below 0x80000000, so the two ranges never meet.
 * Each character is a base-9 digit 1..8 (no zero digit, so the value
 * determines the string); 9^9 < 2^31.  0 = longer or malformed. */
static inline uint32_t wedge_type_id_fixed(const char *sig)
{
    static const char digits[] = "iIfFvre:";
    uint32_t v = 0, scale = 1;
    for (uint32_t n = 0; sig[n]; n++) {
        const char *d = __builtin_strchr(digits, sig[n]);
        if (n == 9 || !d || !*d)
            return 0;
        v += (uint32_t)(d - digits + 1) * scale;
        scale *= 9;
    }
    return v ? 0x80000000u | v : 0;
}

/* ---- what the runtime exports to modules --------------------------------
 * Resolved when the runtime dlopen()s the .so (the runtime is linked with
 * -rdynamic). */

/* SLEdge ABI. */
extern __thread wedge_instance *sledge_abi__current_wasm_module_instance;
WEDGE_NORETURN WEDGE_COLD void sledge_abi__wasm_trap_raise(wedge_trap_kind kind);
uint32_t sledge_abi__wasm_globals_get_i32(uint32_t idx);
uint64_t sledge_abi__wasm_globals_get_i64(uint32_t idx);
int32_t sledge_abi__wasm_globals_set_i32(uint32_t idx, uint32_t value, int32_t is_mutable);
int32_t sledge_abi__wasm_globals_set_i64(uint32_t idx, uint64_t value, int32_t is_mutable);
/* Grow memory 0 of the current instance by `pages`; 0 on success. */
int32_t sledge_abi__wasm_memory_expand(wedge_memory *mem, uint32_t pages);
/* Copy `len` bytes to linear memory at `offset` (bounds-checked, traps). */
void sledge_abi__wasm_memory_initialize_region(uint32_t offset, uint32_t len, const uint8_t *src);

/* wedge runtime services used by libsledge. */
/* memory.grow: returns old size in pages, or -1 (as uint32) on failure. */
uint32_t wedge_rt_memory_grow(wedge_instance *inst, wedge_memory *mem, uint32_t delta_pages);
/* table.grow: returns old size, or -1 (as uint32) on failure. */
uint32_t wedge_rt_table_grow(wedge_instance *inst, wedge_table *tab, void *init, uint32_t delta);

/* ---- what every module .so exports --------------------------------------
 * (defined in generated code and libsledge) */
extern const wedge_module_desc wedge_module_descriptor;
void sledge_abi__init_globals(void);   /* globals of the current instance */
void sledge_abi__init_mem(void);       /* active data segments into memory */
void sledge_abi__init_tbl(void);       /* active element segments into table 0 */
int32_t sledge_abi__entrypoint(void);  /* runs _start of the current instance */
uint32_t sledge_abi__wasm_memory_starting_pages(void);
uint32_t sledge_abi__wasm_memory_max_pages(void);
uint32_t sledge_abi__wasm_globals_len(void);

#endif
