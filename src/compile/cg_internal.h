/*
 * cg_internal.h — shared between the compiler's files (not public).
 */
#ifndef WEDGE_CG_INTERNAL_H
#define WEDGE_CG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compile.h"

/* Bump when the generated code changes meaning (it keys the cache with
 * the hash of the embedded headers and libsledge). */
#define CG_CODEGEN_REV "cg-14"
/* SHA-256 prefix of the compiler sources (generated at build time). */
extern const char wedge_codegen_hash[];

/* A growable text buffer.  Allocation failure sets `oom` and turns every
 * later append into a no-op, so emitters check once at the end. */
typedef struct cg_buf {
    char *p;
    size_t len, cap;
    bool oom;
} cg_buf;

void cg_buf_free(cg_buf *b);
void cg_puts(cg_buf *b, const char *s);
void cg_putn(cg_buf *b, const char *s, size_t n);
__attribute__((format(printf, 2, 3))) void cg_printf(cg_buf *b, const char *fmt, ...);

/* Error helper: fills err->msg, returns false. */
__attribute__((format(printf, 2, 3))) bool cg_fail(cg_err *err, const char *fmt, ...);

/* C type of a Wasm value type, its one-letter signature code, and the
 * member of a wedge_value that holds it ("i32" ... "v128", "ref"). */
const char *cg_ctype(uint8_t t);
char cg_sigchar(uint8_t t);
uint32_t cg_type_id_fixed(const wasm_functype *ft);
const char *cg_value_field(uint8_t t);
/* Name of the C struct holding several results, e.g. "wr_iI" (into buf). */
void cg_retstruct_name(const wasm_functype *ft, char *buf, size_t cap);
/* The C return type of a function type (void, scalar, struct name). */
void cg_rettype(const wasm_functype *ft, char *buf, size_t cap);

/* Per-module emission context shared by the module and function emitters. */
typedef struct cg_mod {
    const wasm_module *m;
    const cg_options *o;
    bool multi_part;        /* functions need hidden (non-static) linkage */
} cg_mod;

/* cg_plan.c: the C parts of a module and the tier each is compiled at
 * (why and how: the comment at the top of cg_plan.c). */
enum { CG_TIER_OPT = 0, CG_TIER_COLD = 1 };
#define CG_MAX_PARTS 64
typedef struct cg_plan {
    int nparts;
    uint16_t *part_of;      /* [defined function] its part */
    uint8_t *part_tier;     /* [part] CG_TIER_* */
    uint64_t *part_cost;    /* [part] estimated cc cost */
    int *order;             /* parts, most expensive first */
    uint32_t ncold;         /* functions in the cold tier */
} cg_plan;
__attribute__((warn_unused_result)) bool cg_plan_make(const wasm_module *m, int jobs, int opt_level, cg_plan *p,
                                                      cg_err *err);
/* A plan with every function at the options' level in at most nparts
 * parts of about equal size, contiguous by index (cg_emit_c). */
__attribute__((warn_unused_result)) bool cg_plan_even(const wasm_module *m, int nparts, cg_plan *p, cg_err *err);
void cg_plan_free(cg_plan *p);

/* cg_emit_c with each defined function's part given (part_of, indexed
 * from the first defined function: a cg_plan's). */
__attribute__((warn_unused_result)) bool cg_emit_parts(const wasm_module *m, const cg_options *o, int nparts,
                                                       const uint16_t *part_of, const char *const *paths,
                                                       cg_err *err);

/* Emit the body of defined function `fidx` (index in the function space). */
__attribute__((warn_unused_result)) bool cg_emit_func(const cg_mod *cm, uint32_t fidx, cg_buf *out, cg_err *err);

/* Numeric instructions 0x45..0xC4 and 0xFC 0..7: the C expression, with
 * $0/$1 standing for the operands (their types: wasm_opinfo_get).  NULL if
 * `op` is not one of them. */
const char *cg_numop_expr(uint32_t op);
/* Whether a constant's bits are a signalling NaN (emitted opaque). */
bool cg_f32_is_snan(uint32_t bits);
bool cg_f64_is_snan(uint64_t bits);

/* Guard-mode load barriers that can be left out (cg_keep.c).  An abstract
 * value per operand-stack slot and local: which load (1-based id) it
 * provably varies with, in which bits, and which loads of the current
 * straight-line stretch (`epoch`) it may depend on at all. */
typedef struct cg_av {
    uint32_t epoch;
    uint32_t load;          /* 0: none */
    uint64_t vm;            /* bits that vary with that load */
    uint64_t deps;          /* bloom of the loads it may depend on */
    bool is_const;
    uint64_t c;
} cg_av;
cg_av cg_av_unknown(uint32_t epoch);
cg_av cg_av_const(uint32_t epoch, uint64_t c);
cg_av cg_av_load(uint32_t epoch, uint32_t load, uint32_t op);
/* The loads of the current stretch: ids first..n, addr[id - 1] the
 * abstract value of each one's address. */
typedef struct cg_keep_ctx {
    const cg_av *addr;
    uint32_t first, n;
} cg_keep_ctx;
cg_av cg_av_num(const cg_keep_ctx *k, uint32_t epoch, uint32_t op, uint8_t out_type, const cg_av *x,
                const cg_av *y);
uint32_t cg_av_address_load(const cg_av *v, uint32_t epoch);  /* load made necessary, or 0 */
bool cg_op_is_pure(uint32_t op);   /* no effect that ends a stretch */

/* Loop versioning (cg_loop.c): an affine form c + sum(coef_i * local_i at
 * loop entry) + k * ks over the iteration number k, exact in int64. */
enum { CG_AFF_TERMS = 4, CG_LOOP_MAX_ACC = 32 };
typedef struct cg_aff {
    uint32_t n;
    uint32_t loc[CG_AFF_TERMS];
    int64_t coef[CG_AFF_TERMS];
    int64_t c, ks;
} cg_aff;
/* How a fast-copy loop decides to go on (its final br_if condition):
 * NE: while d(k) != 0 mod 2^32; LT/GT: while x(k) < y (x increasing) or
 * x(k) > y (x decreasing), unsigned or signed, y invariant. */
enum { CG_EXIT_NE, CG_EXIT_LT_U, CG_EXIT_LT_S, CG_EXIT_GT_U, CG_EXIT_GT_S };
/* A loop that can have a fast copy: the address of each memory access in
 * body order (before its offset), offset + bytes accessed, and its exit. */
typedef struct cg_loop_plan {
    uint32_t nacc;
    cg_aff acc[CG_LOOP_MAX_ACC];
    uint64_t end_off[CG_LOOP_MAX_ACC];
    uint32_t exit_kind;
    cg_aff exit_d;              /* NE: d; LT/GT: x */
    cg_aff exit_y;              /* LT/GT: y (ks = 0) */
    /* Accesses that differ only in their constant share a group, checked
     * once: base[g] is the form with the lowest constant, span[g] the bytes
     * from there to the furthest end (constant + end_off); group[j] is
     * access j's. */
    uint32_t ngroups;
    uint8_t group[CG_LOOP_MAX_ACC];
    cg_aff base[CG_LOOP_MAX_ACC];
    uint64_t span[CG_LOOP_MAX_ACC];
} cg_loop_plan;
/* code/len: the loop's body, from the instruction after `loop` to the end
 * of the function body.  False if the loop has not the shape (cg_loop.c). */
bool cg_loop_plan_make(const wasm_module *m, const wasm_functype *ft, const wasm_func *fn, const uint8_t *base,
                       const uint8_t *code, uint32_t len, cg_loop_plan *plan);

/* SHA-256 */
typedef struct cg_sha256 {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t buf[64];
    size_t nbuf;
} cg_sha256;
void cg_sha256_init(cg_sha256 *s);
void cg_sha256_update(cg_sha256 *s, const void *data, size_t n);
void cg_sha256_final(cg_sha256 *s, uint8_t out[32]);
void cg_hex(const uint8_t *in, size_t n, char *out);

/* Path buffers: a folder (the cache root, the support folder, the
 * temporary build folder) fits in CG_PATH_MAX; a file inside one of them,
 * with a short name of the compiler's own, fits in CG_SUBPATH_MAX. */
#define CG_PATH_MAX CG_SO_PATH_MAX
#define CG_SUBPATH_MAX (CG_PATH_MAX + 104)

/* The layers of the compiler's files, each calling only downwards:
 *   cg_cache.c (objects, file index) -> cg_cc.c (driver) -> cg_plan.c (parts, tiers), cg_emit*.c,
 *   cg_spawn.c (cc children)
 *   and all of them -> cg_support.c -> cg_version.c -> cg_sha256.c. */

/* cg_support.c: support files (headers + libsledge.a) in a versioned
 * folder of the cache directory, written once; path of the folder into
 * dir.  The cache directory itself (created if missing); mkdir -p; a
 * unique temporary name next to `path`, to be renamed into place.
 * (cg_cache_root, the cache directory, is public: compile.h.) */
__attribute__((warn_unused_result)) bool cg_support_dir(char *dir, size_t cap, cg_err *err);
bool cg_mkdirs(const char *path);
void cg_tmp_name(char *out, size_t cap, const char *path);

/* cg_spawn.c: start argv (argv[0] looked up on $PATH) as a child with
 * stdout and stderr into outpath, stdin from /dev/null, under the limits
 * l; its pid into *pid (the caller waits for it).  Errors: not found,
 * fork failure. */
__attribute__((warn_unused_result)) bool cg_spawn_limited(const char *const *argv, const char *outpath,
                                                          const cg_cc_limits *l, pid_t *pid, cg_err *err);

/* Embedded files (tools/embed.c). */
extern const unsigned char wedge_embed_abi_h[], wedge_embed_ops_h[], wedge_embed_simd_h[], wedge_embed_simd_x86_h[],
    wedge_embed_libsledge_a[];
extern const unsigned long wedge_embed_abi_h_len, wedge_embed_ops_h_len, wedge_embed_simd_h_len,
    wedge_embed_simd_x86_h_len, wedge_embed_libsledge_a_len;

#endif
