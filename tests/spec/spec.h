/*
 * spec.h — internals of the spec conformance runner (wedge-spec): values
 * as written by wast2json (spec_value.c) and the `spectest` host module
 * (spec_spectest.c).  The command loop is in spec_runner.c.
 *
 * Errors: parsers return false and write a one-line reason into a
 * caller-owned buffer; nothing is allocated.
 */
#ifndef WEDGE_SPEC_H
#define WEDGE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/runtime.h"

#include "common/test_value.h"

/* rt_extern.kind values (runtime.h: 0 func, 1 table, 2 memory, 3 global). */
enum { SPEC_EXTERN_FUNC = 0, SPEC_EXTERN_TABLE = 1, SPEC_EXTERN_MEMORY = 2, SPEC_EXTERN_GLOBAL = 3 };

/* How an expected value is compared with an actual one. */
enum {
    SPEC_MATCH_BITS = 0,        /* exact bit pattern / same reference */
    SPEC_MATCH_NAN_CANONICAL,   /* "nan:canonical" */
    SPEC_MATCH_NAN_ARITHMETIC,  /* "nan:arithmetic" */
    SPEC_MATCH_NONNULL_REF,     /* a reference with no value given: any non-null */
};

/* One value from the JSON: an argument or an expected result. */
typedef struct spec_val {
    char type;                  /* signature letter: i I f F r e v (v128) */
    uint8_t match;              /* SPEC_MATCH_* (v128: per lane in lane_match) */
    wedge_value v;              /* the value (bits), refs as pointers */
    /* v128 only: the lane shape the script gave ("lane_type"), lanes in
     * v.v128, and how each lane compares (float lanes may be NaN patterns). */
    uint8_t lane_bytes;         /* 1, 2, 4 or 8 */
    bool lane_float;
    uint8_t lane_match[16];
} spec_val;

/* Parse {"type": T, "value": V}, or for v128 {"type": "v128", "lane_type":
 * "i8".."f64", "value": [lanes]}.  False + reason in why[] if the type is
 * unknown or the value unparsable. */
bool spec_val_parse(const cJSON *j, spec_val *out, char *why, size_t why_cap);

/* The externref the runner passes for `ref.extern N`: a non-NULL pointer
 * unique to N that nothing ever dereferences. */
void *spec_host_ref(uint64_t n);

/* Does `actual` (of the expected's type) match `expected`? */
bool spec_val_matches(const spec_val *expected, const wedge_value *actual);

/* Print a value of type `type` for a message: "i32:42", "f32:0x7fc00000",
 * "externref:3", "funcref:null", ... */
void spec_val_format(char type, const wedge_value *v, char *buf, size_t cap);
/* Print an expected value (with nan:canonical etc.). */
void spec_expected_format(const spec_val *e, char *buf, size_t cap);

/* The type letter's Wasm name ("i32"...). */
const char *spec_type_name(char type);

/* ---- the spectest module ------------------------------------------------ */

/* Create the spectest memory and table (once per process; every module of
 * a file sees the same ones, like the reference interpreter's single
 * spectest instance).  False + reason on failure. */
bool spec_spectest_init(char *why, size_t why_cap);
void spec_spectest_fini(void);
/* Register spectest in a linker: its print functions as a host module,
 * its globals, table and memory (after spec_spectest_init) as externs
 * under "spectest".  False + reason on failure. */
bool spec_spectest_link(rt_linker *lk, char *why, size_t why_cap);

#endif
