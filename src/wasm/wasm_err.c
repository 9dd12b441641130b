/*
 * wasm_err.c — filling a caller's wasm_err, and naming value types in
 * messages.  Nothing here allocates: errors must be reportable when memory
 * has run out.
 */
#include "wasm_internal.h"

#include <stdio.h>

void wasm_err_set(wasm_err *err, size_t offset, bool malformed, const char *fmt, ...)
{
    if (!err)
        return;
    err->offset = offset;
    err->malformed = malformed;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

const char *wasm_valtype_name(uint8_t t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    case 0: return "unknown";
    default: return "<invalid type>";
    }
}
