/*
 * wasm_builder.h — tiny helpers for the test_wasm_* unit tests: build a
 * module byte by byte (sections, LEB128) without a text-format toolchain.
 */
#ifndef WEDGE_TEST_WASM_BUILDER_H
#define WEDGE_TEST_WASM_BUILDER_H

#include "wasm/wasm.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct wb {
    uint8_t b[1 << 16];
    size_t n;
} wb;

static inline void wb_bytes(wb *x, const void *p, size_t n)
{
    cr_assert(x->n + n <= sizeof x->b);
    if (n)
        memcpy(x->b + x->n, p, n);
    x->n += n;
}

static inline void wb_u8(wb *x, uint8_t v)
{
    wb_bytes(x, &v, 1);
}

static inline void wb_leb(wb *x, uint32_t v)
{
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        wb_u8(x, v ? (uint8_t)(b | 0x80) : b);
    } while (v);
}

static inline void wb_header(wb *x)
{
    x->n = 0;
    wb_bytes(x, "\0asm\1\0\0\0", 8);
}

static inline void wb_section(wb *m, uint8_t id, const wb *body)
{
    wb_u8(m, id);
    wb_leb(m, (uint32_t)body->n);
    wb_bytes(m, body->b, body->n);
}

#define WB_SECTION(m, id, ...)                          \
    do {                                                \
        static const uint8_t s_[] = { __VA_ARGS__ };    \
        wb_u8((m), (id));                               \
        wb_leb((m), sizeof s_);                         \
        wb_bytes((m), s_, sizeof s_);                   \
    } while (0)

/* A module with one type ([params] -> [results]) and one function of that
 * type whose body (locals declaration included) is `body`. */
static inline void wb_one_func(wb *m, const uint8_t *params, uint32_t np, const uint8_t *results,
                               uint32_t nr, const uint8_t *body, size_t nbody)
{
    wb s = { .n = 0 };
    wb_header(m);
    wb_leb(&s, 1);
    wb_u8(&s, 0x60);
    wb_leb(&s, np);
    wb_bytes(&s, params, np);
    wb_leb(&s, nr);
    wb_bytes(&s, results, nr);
    wb_section(m, 1, &s);
    WB_SECTION(m, 3, 1, 0);
    s.n = 0;
    wb_leb(&s, 1);
    wb_leb(&s, (uint32_t)nbody);
    wb_bytes(&s, body, nbody);
    wb_section(m, 10, &s);
}

/* Decode, then validate; returns true when both pass, err filled otherwise. */
static inline bool wb_check(const wb *m, wasm_err *err, bool *decoded)
{
    wasm_module *mod = wasm_decode(m->b, m->n, err);
    *decoded = mod != NULL;
    if (!mod)
        return false;
    bool ok = wasm_validate(mod, err);
    wasm_module_free(mod);
    return ok;
}

#endif
