/*
 * wasm_internal.h — helpers shared by the files of src/wasm only: error
 * reporting, the module arena, and LEB128 / byte readers over untrusted input.
 */
#ifndef WEDGE_WASM_INTERNAL_H
#define WEDGE_WASM_INTERNAL_H

#include "wasm.h"

#include <stdarg.h>

/* Total declared locals allowed per function.  The spec has no limit, but
 * engines must bound it (the spec tests check 2^32-ish counts are rejected)
 * and the compiler emits one C variable per local. */
#define WASM_MAX_LOCALS 50000u

/* Parameters and results per function type: the limits of the JS embedding
 * (as in browsers).  Validating an instruction costs O(arity), so without a
 * bound a small module could make validation quadratic. */
#define WASM_MAX_PARAMS 1000u
#define WASM_MAX_RESULTS 1000u

/* Operand stack height within one function during validation: far beyond
 * real code, and it bounds the validator's memory. */
#define WASM_MAX_STACK (1u << 20)

/* Fill err (never allocates). */
void wasm_err_set(wasm_err *err, size_t offset, bool malformed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same as an expression that is visibly false to the compiler, so
 * callers can write `return wasm_fail(...)` and the optimiser knows the
 * out-parameters of a failed call are never read. */
#define wasm_fail(...) ({ wasm_err_set(__VA_ARGS__); false; })

/* ---- post-2.0 proposals (wasm_proposal.c) -------------------------------
 * The message naming the proposal a construct belongs to, or NULL if it is
 * not one we recognise (the caller then reports it as malformed). */
const char *wasm_proposal_valtype(uint8_t b);       /* a value type byte */
const char *wasm_proposal_opcode(uint8_t op);       /* a one-byte opcode or prefix */
const char *wasm_proposal_typeform(uint8_t form);   /* a type section entry form */
const char *wasm_proposal_limits(uint8_t flags);    /* a limits flag byte above 1 */

/* ---- arena ------------------------------------------------------------- */

typedef struct wasm_arena wasm_arena;
wasm_arena *wasm_arena_new(void);
/* Zeroed, 8-byte aligned memory; NULL on overflow or out of memory. */
void *wasm_arena_alloc(wasm_arena *a, size_t n, size_t size);
void wasm_arena_free(wasm_arena *a);

/* ---- LEB128 ------------------------------------------------------------ */

/* Each reader advances *pp on success.  On failure it fills err (malformed)
 * with the offset relative to base and leaves *pp unspecified. */
static inline bool wasm_read_u32(const uint8_t **pp, const uint8_t *end, const uint8_t *base,
                                 uint32_t *out, wasm_err *err)
{
    const uint8_t *p = *pp;
    /* Fast path: the overwhelmingly common one-byte form. */
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return true;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (p >= end)
            return wasm_fail(err, (size_t)(p - base), true, "unexpected end");
        uint8_t b = *p++;
        if (i == 4) {
            if (b & 0x80)
                return wasm_fail(err, (size_t)(p - 1 - base), true, "integer representation too long");
            if (b & 0x70)
                return wasm_fail(err, (size_t)(p - 1 - base), true, "integer too large");
        }
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *out = v;
    *pp = p;
    return true;
}

/* Signed LEB of at most `bits` bits (32, 33 or 64), sign-extended to 64. */
static inline bool wasm_read_sleb(const uint8_t **pp, const uint8_t *end, const uint8_t *base,
                                  unsigned bits, int64_t *out, wasm_err *err)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    unsigned shift = 0;
    unsigned maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (p >= end)
            return wasm_fail(err, (size_t)(p - base), true, "unexpected end");
        uint8_t b = *p++;
        if (i == maxbytes - 1) {
            if (b & 0x80)
                return wasm_fail(err, (size_t)(p - 1 - base), true, "integer representation too long");
            /* The bits of the last byte beyond `bits` must all equal the
             * sign bit: unused = 7 - (bits - 7*(maxbytes-1)) high payload bits. */
            unsigned used = bits - 7 * (maxbytes - 1);        /* 1..7 */
            uint8_t mask = (uint8_t)(0x7F & ~((1u << (used - 1)) - 1)); /* sign bit and above */
            uint8_t top = b & mask;
            if (top != 0 && top != mask)
                return wasm_fail(err, (size_t)(p - 1 - base), true, "integer too large");
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            break;
        }
    }
    *out = (int64_t)v;
    *pp = p;
    return true;
}

#endif
