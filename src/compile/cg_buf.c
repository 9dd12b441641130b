/*
 * cg_buf.c — the growable text buffer the emitters write C into, and the
 * small type-naming helpers they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_internal.h"

void cg_buf_free(cg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool cg_buf_reserve(cg_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void cg_putn(cg_buf *b, const char *s, size_t n)
{
    if (!cg_buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cg_puts(cg_buf *b, const char *s)
{
    cg_putn(b, s, strlen(s));
}

void cg_printf(cg_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        cg_putn(b, tmp, (size_t)n);
        return;
    }
    if (!cg_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

bool cg_fail(cg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

const char *cg_ctype(uint8_t t)
{
    switch (t) {
    case 0x7F: return "uint32_t";
    case 0x7E: return "uint64_t";
    case 0x7D: return "float";
    case 0x7C: return "double";
    case 0x7B: return "wop_v128";
    default: return "void *";
    }
}

const char *cg_value_field(uint8_t t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    default: return "ref";
    }
}

char cg_sigchar(uint8_t t)
{
    switch (t) {
    case 0x7F: return 'i';
    case 0x7E: return 'I';
    case 0x7D: return 'f';
    case 0x7C: return 'F';
    case 0x7B: return 'v';
    case 0x70: return 'r';
    case 0x6F: return 'e';
    default: return '?';
    }
}

/* The type's canonical id when it is fixed by the signature alone
 * (wedge_type_id_fixed), else 0: the runtime's id is then read from
 * wg_type_ids at run time. */
uint32_t cg_type_id_fixed(const wasm_functype *ft)
{
    char sig[11];
    if (ft->nparams + ft->nresults > 8)
        return 0;
    size_t n = 0;
    for (uint32_t i = 0; i < ft->nparams; i++)
        sig[n++] = cg_sigchar(ft->params[i]);
    sig[n++] = ':';
    for (uint32_t i = 0; i < ft->nresults; i++)
        sig[n++] = cg_sigchar(ft->results[i]);
    sig[n] = 0;
    return wedge_type_id_fixed(sig);
}

/* Structs are named by their result types, so two function types with the
 * same results share one struct and every part/module agrees on layout. */
void cg_retstruct_name(const wasm_functype *ft, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap < 4)
        return;
    memcpy(buf, "wr_", 3);
    n = 3;
    for (uint32_t i = 0; i < ft->nresults && n + 1 < cap; i++) {
        char c = cg_sigchar(ft->results[i]);
        buf[n++] = c == 'e' ? 'r' : c;   /* both references are void * */
    }
    buf[n] = 0;
}

void cg_rettype(const wasm_functype *ft, char *buf, size_t cap)
{
    if (ft->nresults == 0)
        snprintf(buf, cap, "void");
    else if (ft->nresults == 1)
        snprintf(buf, cap, "%s", cg_ctype(ft->results[0]));
    else
        cg_retstruct_name(ft, buf, cap);
}
