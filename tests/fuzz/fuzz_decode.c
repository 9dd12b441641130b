/*
 * fuzz_decode.c — libFuzzer target for the decoder, the validator and the
 * instruction reader.  Beyond "no crash, no leak, no hang" it checks two
 * promises the compiler relies on: a failure always carries a message, and
 * every body of a validated module reads back to its end without error.
 */
#include "wasm/wasm.h"

#include <stdlib.h>
#include <string.h>

static void check_bodies(const wasm_module *m, const uint8_t *base)
{
    wasm_reader r;
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        const wasm_func *f = &m->funcs[i];
        if (f->code - base != (ptrdiff_t)f->code_offset)
            abort();
        wasm_reader_init(&r, base, f->code, f->code_len);
        while (!wasm_reader_done(&r)) {
            wasm_insn in;
            wasm_err err;
            if (!wasm_reader_next(&r, &in, &err))
                abort();        /* validated code must always be readable */
        }
        wasm_reader_fini(&r);
    }
}

/* ---- body mode: the input as a function body in a fixed module --------
 * Most random inputs die in the section headers; wrapping the input as the
 * body (locals + code) of a function in a module that has a bit of
 * everything (memory, two tables, globals, segments, several types) sends
 * the fuzzer straight into the validator's instruction rules. */

static size_t put_leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        p[n++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return n;
}

static const uint8_t prefix[] = {
    0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
    /* types: 0 [] -> [], 1 [i32] -> [i32], 2 [i32 i64 f32 f64] -> [i32 i64] */
    0x01, 0x12, 0x03, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7F, 0x01, 0x7F,
    0x60, 0x04, 0x7F, 0x7E, 0x7D, 0x7C, 0x02, 0x7F, 0x7E,
    /* imports: func m.f type 1, global m.g i32 */
    0x02, 0x0E, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7F, 0x00,
    /* functions: 1 (fuzzed, type 0), 2 (type 2) */
    0x03, 0x03, 0x02, 0x00, 0x02,
    /* tables: funcref 1..10, externref 0 */
    0x04, 0x08, 0x02, 0x70, 0x01, 0x01, 0x0A, 0x6F, 0x00, 0x00,
    /* memory 1 page */
    0x05, 0x03, 0x01, 0x00, 0x01,
    /* globals: (mut i64) 0, funcref null, (mut f32) 0 */
    0x06, 0x13, 0x03, 0x7E, 0x01, 0x42, 0x00, 0x0B, 0x70, 0x00, 0xD0, 0x70, 0x0B,
    0x7D, 0x01, 0x43, 0x00, 0x00, 0x00, 0x00, 0x0B,
    /* export "e" func 2 */
    0x07, 0x05, 0x01, 0x01, 'e', 0x00, 0x02,
    /* elem: active table 0 offset 0 (func 1); passive funcref (func 0) */
    0x09, 0x0B, 0x02, 0x00, 0x41, 0x00, 0x0B, 0x01, 0x01, 0x01, 0x00, 0x01, 0x00,
    /* data count 1 */
    0x0C, 0x01, 0x01,
};

static const uint8_t body2[] = { 0x00, 0x20, 0x00, 0x42, 0x00, 0x0F, 0x0B };   /* i32 i64 return */
static const uint8_t suffix[] = { 0x0B, 0x04, 0x01, 0x01, 0x01, 'x' };       /* passive data */

static void fuzz_body(const uint8_t *data, size_t size)
{
    static uint8_t buf[sizeof prefix + 16 + 65536 + sizeof body2 + sizeof suffix];
    if (size > 65536)
        return;
    uint8_t tmp[16];
    size_t n = 0;
    tmp[n++] = 0x02;                                    /* two bodies */
    n += put_leb(tmp + n, (uint32_t)size);
    size_t sec = n + size + 1 + sizeof body2;
    size_t off = 0;
    memcpy(buf, prefix, sizeof prefix);
    off = sizeof prefix;
    buf[off++] = 0x0A;
    off += put_leb(buf + off, (uint32_t)sec);
    memcpy(buf + off, tmp, n);
    off += n;
    memcpy(buf + off, data, size);
    off += size;
    buf[off++] = sizeof body2;
    memcpy(buf + off, body2, sizeof body2);
    off += sizeof body2;
    memcpy(buf + off, suffix, sizeof suffix);
    off += sizeof suffix;

    wasm_err err;
    err.msg[0] = 0;
    wasm_module *m = wasm_decode(buf, off, &err);
    if (!m) {
        if (!err.msg[0])
            abort();
        return;
    }
    err.msg[0] = 0;
    if (wasm_validate(m, &err))
        check_bodies(m, buf);
    else if (!err.msg[0])
        abort();
    wasm_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Inputs that do not look like a module are tried as a function body. */
    if (size < 4 || memcmp(data, "\0asm", 4) != 0) {
        fuzz_body(data, size);
        return 0;
    }
    wasm_err err;
    err.msg[0] = 0;
    wasm_module *m = wasm_decode(data, size, &err);
    if (!m) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    err.msg[0] = 0;
    if (wasm_validate(m, &err))
        check_bodies(m, data);
    else if (!err.msg[0])
        abort();
    wasm_module_free(m);
    return 0;
}
