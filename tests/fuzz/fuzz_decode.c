/*
 * fuzz_decode.c — libFuzzer target for the decoder, the validator and the
 * instruction reader.  Beyond "no crash, no leak, no hang" it checks two
 * promises the compiler relies on: a failure always carries a message, and
 * every body of a validated module reads back to its end without error.
 */
#include "wasm/wasm.h"

#include <stdlib.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
