/*
 * wasm_decode.c — the binary-format decoder: bytes -> wasm_module.
 *
 * Only the binary format is checked here (section order, sizes, LEB128
 * forms, UTF-8 names, counts); everything about types and indices is left
 * to wasm_validate().  Every count read from the input is bounded by the
 * bytes left before anything is allocated for it, so a forged count cannot
 * make us allocate more than a small multiple of the input size.
 */
#include "wasm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

typedef struct dec {
    const uint8_t *base, *p, *end;      /* end: of the current section */
    wasm_err *err;
    wasm_arena *arena;
    wasm_module *m;
    /* Definitions, before they are joined with the imports at the end. */
    uint32_t ndef_funcs, ndef_tables, ndef_mems, ndef_globals, ncode;
    uint32_t *def_func_types;
    wasm_tabletype *def_tables;
    wasm_memtype *def_mems;
    wasm_global *def_globals;
    wasm_func *code;
    bool have_funcsec, have_codesec, have_datasec;
} dec;

#define OFF(d) ((size_t)((d)->p - (d)->base))

static bool fail_at(dec *d, const uint8_t *at, const char *msg)
{
    return wasm_fail(d->err, (size_t)(at - d->base), true, "%s", msg);
}

static bool oom(dec *d)
{
    return wasm_fail(d->err, OFF(d), false, "out of memory");
}

static size_t left(const dec *d)
{
    return (size_t)(d->end - d->p);
}

static bool u32(dec *d, uint32_t *v)
{
    return wasm_read_u32(&d->p, d->end, d->base, v, d->err);
}

static bool byte(dec *d, uint8_t *b)
{
    if (d->p >= d->end)
        return fail_at(d, d->p, "unexpected end");
    *b = *d->p++;
    return true;
}

/* A vector count whose elements take at least `minsize` bytes each. */
static bool count(dec *d, uint32_t *n, size_t minsize)
{
    if (!u32(d, n))
        return false;
    if (*n > left(d) / minsize)
        return fail_at(d, d->p, "unexpected end of section or function");
    return true;
}

static void *alloc(dec *d, size_t n, size_t size)
{
    return wasm_arena_alloc(d->arena, n, size);
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static bool name(dec *d, const char **s, uint32_t *len)
{
    const uint8_t *at = d->p;
    if (!u32(d, len))
        return false;
    if (*len > left(d))
        return fail_at(d, at, "unexpected end of section or function");
    if (!utf8_ok(d->p, *len))
        return fail_at(d, d->p, "malformed UTF-8 encoding");
    *s = (const char *)d->p;
    d->p += *len;
    return true;
}

static bool valtype(dec *d, uint8_t *t)
{
    const uint8_t *at = d->p;
    if (!byte(d, t))
        return false;
    switch (*t) {
    case WASM_I32: case WASM_I64: case WASM_F32: case WASM_F64: case WASM_V128:
    case WASM_FUNCREF: case WASM_EXTERNREF:
        return true;
    default:
        return fail_at(d, at, wasm_proposal_valtype(*t) ? wasm_proposal_valtype(*t) : "malformed value type");
    }
}

static bool reftype(dec *d, uint8_t *t)
{
    const uint8_t *at = d->p;
    if (!byte(d, t))
        return false;
    if (*t != WASM_FUNCREF && *t != WASM_EXTERNREF)
        return fail_at(d, at, wasm_proposal_valtype(*t) ? wasm_proposal_valtype(*t) : "malformed reference type");
    return true;
}

static bool limits(dec *d, wasm_limits *l)
{
    const uint8_t *at = d->p;
    uint8_t flag = 0;
    if (!byte(d, &flag))
        return false;
    if (flag > 1 && flag < 8 && wasm_proposal_limits(flag))
        return fail_at(d, at, wasm_proposal_limits(flag));
    if (flag > 1)
        return fail_at(d, at, "integer too large");  /* the spec's wording for bad limit flags */
    l->has_max = flag == 1;
    if (!u32(d, &l->min))
        return false;
    return !l->has_max || u32(d, &l->max);
}

static bool tabletype(dec *d, wasm_tabletype *t)
{
    return reftype(d, &t->elemtype) && limits(d, &t->limits);
}

static bool globaltype(dec *d, wasm_globaltype *g)
{
    if (!valtype(d, &g->valtype))
        return false;
    const uint8_t *at = d->p;
    uint8_t mut = 0;
    if (!byte(d, &mut))
        return false;
    if (mut > 1)
        return fail_at(d, at, "malformed mutability");
    g->mut = mut == 1;
    return true;
}

/* A constant expression: the instructions up to the `end` that closes it.
 * Anything other than one constant instruction is recorded (not rejected)
 * so that the validator reports it as invalid rather than malformed. */
static bool constexpr(dec *d, wasm_constexpr *ce)
{
    wasm_reader r;
    wasm_reader_init(&r, d->base, d->p, (uint32_t)left(d));
    ce->offset = (uint32_t)OFF(d);
    ce->op = 0;
    uint32_t ninsns = 0, depth = 0;
    bool ok = true, nonconst = false;
    for (;;) {
        wasm_insn in;
        if (!wasm_reader_next(&r, &in, d->err)) {
            ok = false;
            break;
        }
        if (in.op == OP_end) {
            if (depth == 0)
                break;
            depth--;
        } else if (in.op == OP_block || in.op == OP_loop || in.op == OP_if) {
            depth++;
        }
        ninsns++;
        uint8_t kind = 0, type = 0;
        switch (in.op) {
        case OP_i32_const: kind = WASM_CE_I32; type = WASM_I32; ce->bits = in.u.i32; break;
        case OP_i64_const: kind = WASM_CE_I64; type = WASM_I64; ce->bits = in.u.i64; break;
        case OP_f32_const: kind = WASM_CE_F32; type = WASM_F32; ce->bits = in.u.f32; break;
        case OP_f64_const: kind = WASM_CE_F64; type = WASM_F64; ce->bits = in.u.f64; break;
        case OP_global_get: kind = WASM_CE_GLOBAL_GET; ce->index = in.u.idx; break;
        case OP_ref_null: kind = WASM_CE_REF_NULL; type = in.u.reftype; break;
        case OP_ref_func: kind = WASM_CE_REF_FUNC; type = WASM_FUNCREF; ce->index = in.u.idx; break;
        case WASM_OP_PREFIX_FD | 0x0C:      /* v128.const */
            kind = WASM_CE_V128;
            type = WASM_V128;
            memcpy(&ce->bits, in.u.v128, 8);
            memcpy(&ce->bits_hi, in.u.v128 + 8, 8);
            break;
        default:
            if (!nonconst) {
                nonconst = true;
                ce->index = in.op;
            }
            break;
        }
        if (ninsns == 1 && kind) {
            ce->op = kind;
            ce->type = type;
        }
    }
    d->p = r.p;
    wasm_reader_fini(&r);
    if (!ok)
        return false;
    if (nonconst) {
        ce->op = WASM_CE_NOT_CONST;
        ce->type = 0;
    } else if (ninsns != 1) {
        ce->op = WASM_CE_ARITY;
        ce->type = 0;
        ce->index = ninsns;
    }
    return true;
}

/* ---- sections ---------------------------------------------------------- */

static bool sec_type(dec *d)
{
    wasm_module *m = d->m;
    if (!count(d, &m->ntypes, 3))
        return false;
    if (!(m->types = alloc(d, m->ntypes, sizeof *m->types)))
        return oom(d);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        wasm_functype *ft = &m->types[i];
        const uint8_t *at = d->p;
        uint8_t form;
        if (!byte(d, &form))
            return false;
        if (form != 0x60 && wasm_proposal_typeform(form))
            return fail_at(d, at, wasm_proposal_typeform(form));
        if (form != 0x60)
            return fail_at(d, at, "integer representation too long");  /* spec wording for a bad type form */
        uint8_t *p, *r;
        if (!count(d, &ft->nparams, 1))
            return false;
        if (!(p = alloc(d, ft->nparams, 1)))
            return oom(d);
        for (uint32_t k = 0; k < ft->nparams; k++)
            if (!valtype(d, &p[k]))
                return false;
        if (!count(d, &ft->nresults, 1))
            return false;
        if (!(r = alloc(d, ft->nresults, 1)))
            return oom(d);
        for (uint32_t k = 0; k < ft->nresults; k++)
            if (!valtype(d, &r[k]))
                return false;
        ft->params = p;
        ft->results = r;
    }
    return true;
}

static bool sec_import(dec *d)
{
    wasm_module *m = d->m;
    if (!count(d, &m->nimports, 4))
        return false;
    if (!(m->imports = alloc(d, m->nimports, sizeof *m->imports)))
        return oom(d);
    for (uint32_t i = 0; i < m->nimports; i++) {
        wasm_import *im = &m->imports[i];
        im->offset = (uint32_t)OFF(d);
        if (!name(d, &im->module, &im->module_len) || !name(d, &im->name, &im->name_len))
            return false;
        const uint8_t *at = d->p;
        if (!byte(d, &im->kind))
            return false;
        bool ok;
        switch (im->kind) {
        case WASM_EXTERN_FUNC: ok = u32(d, &im->u.functype); m->nimported_funcs++; break;
        case WASM_EXTERN_TABLE: ok = tabletype(d, &im->u.table); m->nimported_tables++; break;
        case WASM_EXTERN_MEMORY: ok = limits(d, &im->u.mem.limits); m->nimported_mems++; break;
        case WASM_EXTERN_GLOBAL: ok = globaltype(d, &im->u.global); m->nimported_globals++; break;
        case 4: return fail_at(d, at, "exception handling proposal not supported (tag import)");
        default: return fail_at(d, at, "malformed import kind");
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool sec_function(dec *d)
{
    if (!count(d, &d->ndef_funcs, 1))
        return false;
    if (!(d->def_func_types = alloc(d, d->ndef_funcs, sizeof(uint32_t))))
        return oom(d);
    for (uint32_t i = 0; i < d->ndef_funcs; i++)
        if (!u32(d, &d->def_func_types[i]))
            return false;
    d->have_funcsec = true;
    return true;
}

static bool sec_table(dec *d)
{
    if (!count(d, &d->ndef_tables, 3))
        return false;
    if (!(d->def_tables = alloc(d, d->ndef_tables, sizeof *d->def_tables)))
        return oom(d);
    for (uint32_t i = 0; i < d->ndef_tables; i++)
        if (!tabletype(d, &d->def_tables[i]))
            return false;
    return true;
}

static bool sec_memory(dec *d)
{
    if (!count(d, &d->ndef_mems, 2))
        return false;
    if (!(d->def_mems = alloc(d, d->ndef_mems, sizeof *d->def_mems)))
        return oom(d);
    for (uint32_t i = 0; i < d->ndef_mems; i++)
        if (!limits(d, &d->def_mems[i].limits))
            return false;
    return true;
}

static bool sec_global(dec *d)
{
    if (!count(d, &d->ndef_globals, 3))
        return false;
    if (!(d->def_globals = alloc(d, d->ndef_globals, sizeof *d->def_globals)))
        return oom(d);
    for (uint32_t i = 0; i < d->ndef_globals; i++)
        if (!globaltype(d, &d->def_globals[i].type) || !constexpr(d, &d->def_globals[i].init))
            return false;
    return true;
}

static bool sec_export(dec *d)
{
    wasm_module *m = d->m;
    if (!count(d, &m->nexports, 3))
        return false;
    if (!(m->exports = alloc(d, m->nexports, sizeof *m->exports)))
        return oom(d);
    for (uint32_t i = 0; i < m->nexports; i++) {
        wasm_export *ex = &m->exports[i];
        ex->offset = (uint32_t)OFF(d);
        if (!name(d, &ex->name, &ex->name_len))
            return false;
        const uint8_t *at = d->p;
        if (!byte(d, &ex->kind))
            return false;
        if (ex->kind == 4)
            return fail_at(d, at, "exception handling proposal not supported (tag export)");
        if (ex->kind > WASM_EXTERN_GLOBAL)
            return fail_at(d, at, "malformed export kind");
        if (!u32(d, &ex->index))
            return false;
    }
    return true;
}

static bool sec_start(dec *d)
{
    d->m->has_start = true;
    d->m->start_offset = (uint32_t)OFF(d);
    return u32(d, &d->m->start);
}

/* Element items given as function indices (encodings 0-3). */
static bool elem_funcidxs(dec *d, wasm_elem *e)
{
    if (!count(d, &e->count, 1))
        return false;
    wasm_constexpr *items = alloc(d, e->count, sizeof *items);
    if (!items)
        return oom(d);
    for (uint32_t k = 0; k < e->count; k++) {
        items[k].offset = (uint32_t)OFF(d);
        items[k].op = WASM_CE_REF_FUNC;
        items[k].type = WASM_FUNCREF;
        if (!u32(d, &items[k].index))
            return false;
    }
    e->items = items;
    return true;
}

/* Element items given as expressions (encodings 4-7). */
static bool elem_exprs(dec *d, wasm_elem *e)
{
    /* An expression can be a lone `end` (invalid, but not malformed). */
    if (!count(d, &e->count, 1))
        return false;
    wasm_constexpr *items = alloc(d, e->count, sizeof *items);
    if (!items)
        return oom(d);
    for (uint32_t k = 0; k < e->count; k++)
        if (!constexpr(d, &items[k]))
            return false;
    e->items = items;
    return true;
}

static bool elemkind(dec *d)
{
    const uint8_t *at = d->p;
    uint8_t k;
    if (!byte(d, &k))
        return false;
    if (k != 0x00)
        return fail_at(d, at, "malformed element kind");
    return true;
}

static bool sec_elem(dec *d)
{
    wasm_module *m = d->m;
    if (!count(d, &m->nelems, 2))
        return false;
    if (!(m->elems = alloc(d, m->nelems, sizeof *m->elems)))
        return oom(d);
    for (uint32_t i = 0; i < m->nelems; i++) {
        wasm_elem *e = &m->elems[i];
        const uint8_t *at = d->p;
        e->seg_offset = (uint32_t)OFF(d);
        uint32_t flags;
        if (!u32(d, &flags))
            return false;
        if (flags > 7)
            return fail_at(d, at, "malformed elements segment kind");
        /* bit 0: passive/declarative; bit 1: explicit table index (active)
         * or declarative (otherwise); bit 2: items are expressions. */
        e->elemtype = WASM_FUNCREF;
        e->table = 0;
        if (flags & 1)
            e->mode = (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
        else
            e->mode = WASM_SEG_ACTIVE;
        if (e->mode == WASM_SEG_ACTIVE) {
            if ((flags & 2) && !u32(d, &e->table))
                return false;
            if (!constexpr(d, &e->offset))
                return false;
        }
        bool exprs = flags & 4;
        /* Encodings 0 and 4 have neither an element kind nor a type. */
        if (flags != 0 && flags != 4) {
            if (exprs ? !reftype(d, &e->elemtype) : !elemkind(d))
                return false;
        }
        if (!(exprs ? elem_exprs(d, e) : elem_funcidxs(d, e)))
            return false;
    }
    return true;
}

static bool sec_datacount(dec *d)
{
    d->m->has_datacount = true;
    return u32(d, &d->m->datacount);
}

static bool local_decls(dec *d, wasm_func *f)
{
    const uint8_t *start = d->p;
    uint32_t ngroups;
    if (!count(d, &ngroups, 2))
        return false;
    /* First pass: count, so the locals array is allocated once. */
    uint64_t total = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n;
        uint8_t t;
        if (!u32(d, &n))
            return false;
        total += n;
        if (total > WASM_MAX_LOCALS)
            return fail_at(d, start, "too many locals");
        if (!valtype(d, &t))
            return false;
    }
    uint8_t *locals = alloc(d, (size_t)total, 1);
    if (!locals)
        return oom(d);
    d->p = start;
    if (!u32(d, &ngroups))
        return false;
    uint32_t k = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n;
        uint8_t t;
        if (!u32(d, &n) || !valtype(d, &t))
            return false;
        memset(locals + k, t, n);
        k += n;
    }
    f->nlocals = (uint32_t)total;
    f->locals = locals;
    return true;
}

/* Walk a function body's instructions once so that every binary-format
 * error in code is reported by the decoder (as the spec's decode-then-
 * validate order requires: a malformed body wins over an invalid one), and
 * check that the final `end` is the body's last byte. */
static bool body_scan(dec *d, wasm_reader *r, const wasm_func *f)
{
    r->p = f->code;
    r->end = f->code + f->code_len;
    uint32_t depth = 0;
    for (;;) {
        wasm_insn in;
        if (!wasm_reader_next(r, &in, d->err))
            return false;
        switch (in.op) {
        case OP_block: case OP_loop: case OP_if:
            depth++;
            break;
        case OP_end:
            if (depth == 0) {
                if (!wasm_reader_done(r))
                    return fail_at(d, r->p, "section size mismatch: operators after the end of the function");
                return true;
            }
            depth--;
            break;
        default:
            break;
        case WASM_OP_PREFIX_FC | FC_memory_init:
        case WASM_OP_PREFIX_FC | FC_data_drop:
            if (!d->m->has_datacount)
                return fail_at(d, d->base + in.offset, "data count section required");
            break;
        }
    }
}

static bool sec_code(dec *d)
{
    if (!count(d, &d->ncode, 1))
        return false;
    if (!(d->code = alloc(d, d->ncode, sizeof *d->code)))
        return oom(d);
    d->have_codesec = true;
    const uint8_t *sec_end = d->end;
    wasm_reader r;      /* one reader, so br_table's target buffer is reused */
    wasm_reader_init(&r, d->base, d->p, 0);
    bool ok = true;
    for (uint32_t i = 0; ok && i < d->ncode; i++) {
        wasm_func *f = &d->code[i];
        uint32_t size;
        if (!u32(d, &size)) {
            ok = false;
        } else if (size == 0 || size > left(d)) {
            ok = fail_at(d, d->p, "unexpected end of section or function");
        } else {
            d->end = d->p + size;
            ok = local_decls(d, f);
            if (ok) {
                f->code = d->p;
                f->code_len = (uint32_t)left(d);
                f->code_offset = (uint32_t)OFF(d);
                ok = body_scan(d, &r, f);
            }
            d->p = d->end;
            d->end = sec_end;
        }
    }
    wasm_reader_fini(&r);
    return ok;
}

static bool sec_data(dec *d)
{
    wasm_module *m = d->m;
    if (!count(d, &m->ndatas, 2))
        return false;
    if (!(m->datas = alloc(d, m->ndatas, sizeof *m->datas)))
        return oom(d);
    d->have_datasec = true;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        wasm_data *ds = &m->datas[i];
        const uint8_t *at = d->p;
        ds->seg_offset = (uint32_t)OFF(d);
        uint32_t flags;
        if (!u32(d, &flags))
            return false;
        if (flags > 2)
            return fail_at(d, at, "malformed data segment kind");
        ds->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
        ds->mem = 0;
        if (flags == 2 && !u32(d, &ds->mem))
            return false;
        if (flags != 1 && !constexpr(d, &ds->offset))
            return false;
        if (!u32(d, &ds->len))
            return false;
        if (ds->len > left(d))
            return fail_at(d, d->p, "unexpected end of section or function");
        ds->bytes = d->p;
        d->p += ds->len;
    }
    return true;
}

static bool sec_custom(dec *d)
{
    const char *s;
    uint32_t n;
    if (!name(d, &s, &n))
        return false;
    d->p = d->end;          /* contents are not interpreted */
    return true;
}

/* Position of each known section id in the required order (the data count
 * section, id 12, sits between element and code). */
static int section_rank(uint8_t id)
{
    static const int rank[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };
    return id <= 12 ? rank[id] : -1;
}

static void type_global_get(const wasm_module *m, wasm_constexpr *ce)
{
    if (ce->op == WASM_CE_GLOBAL_GET && ce->index < m->nglobals)
        ce->type = m->globals[ce->index].type.valtype;
}

/* Join imports and definitions into the complete index spaces. */
static bool build_index_spaces(dec *d)
{
    wasm_module *m = d->m;
#define JOIN(total, nimp, ndef)                                              \
    do {                                                                     \
        if ((uint64_t)(nimp) + (ndef) > UINT32_MAX)                          \
            return wasm_fail(d->err, OFF(d), true, "too many definitions");  \
        total = (nimp) + (ndef);                                             \
    } while (0)
    JOIN(m->nfuncs, m->nimported_funcs, d->ndef_funcs);
    JOIN(m->ntables, m->nimported_tables, d->ndef_tables);
    JOIN(m->nmems, m->nimported_mems, d->ndef_mems);
    JOIN(m->nglobals, m->nimported_globals, d->ndef_globals);
#undef JOIN
    m->funcs = alloc(d, m->nfuncs, sizeof *m->funcs);
    m->func_import = alloc(d, m->nfuncs, sizeof *m->func_import);
    m->tables = alloc(d, m->ntables, sizeof *m->tables);
    m->mems = alloc(d, m->nmems, sizeof *m->mems);
    m->globals = alloc(d, m->nglobals, sizeof *m->globals);
    if (!m->funcs || !m->func_import || !m->tables || !m->mems || !m->globals)
        return oom(d);
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        switch (im->kind) {
        case WASM_EXTERN_FUNC:
            m->funcs[fi].type = im->u.functype;
            m->func_import[fi++] = i;
            break;
        case WASM_EXTERN_TABLE: m->tables[ti++] = im->u.table; break;
        case WASM_EXTERN_MEMORY: m->mems[mi++] = im->u.mem; break;
        case WASM_EXTERN_GLOBAL: m->globals[gi++].type = im->u.global; break;
        }
    }
    for (uint32_t i = 0; i < d->ndef_funcs; i++) {
        m->funcs[fi] = d->code[i];
        m->funcs[fi].type = d->def_func_types[i];
        m->func_import[fi++] = UINT32_MAX;
    }
    if (d->ndef_tables)
        memcpy(m->tables + ti, d->def_tables, d->ndef_tables * sizeof *m->tables);
    if (d->ndef_mems)
        memcpy(m->mems + mi, d->def_mems, d->ndef_mems * sizeof *m->mems);
    if (d->ndef_globals)
        memcpy(m->globals + gi, d->def_globals, d->ndef_globals * sizeof *m->globals);
    /* Now that global types are known, give global.get expressions their
     * result type (out-of-range indices are left for the validator). */
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++)
        type_global_get(m, &m->globals[i].init);
    for (uint32_t i = 0; i < m->nelems; i++) {
        type_global_get(m, &m->elems[i].offset);
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            type_global_get(m, (wasm_constexpr *)&m->elems[i].items[k]);
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        type_global_get(m, &m->datas[i].offset);
    return true;
}

wasm_module *wasm_decode(const uint8_t *buf, size_t len, wasm_err *err)
{
    static const uint8_t magic[4] = { 0x00, 0x61, 0x73, 0x6D };
    static const uint8_t version[4] = { 0x01, 0x00, 0x00, 0x00 };
    err->msg[0] = 0;
    if (len < 4 || memcmp(buf, magic, 4) != 0) {
        wasm_fail(err, 0, true, len < 4 ? "unexpected end" : "magic header not detected");
        return NULL;
    }
    if (len < 8 || memcmp(buf + 4, version, 4) != 0) {
        wasm_fail(err, 4, true, len < 8 ? "unexpected end" : "unknown binary version");
        return NULL;
    }
    if (len > UINT32_MAX) {
        wasm_fail(err, 0, true, "module larger than 4 GiB");
        return NULL;
    }
    wasm_arena *arena = wasm_arena_new();
    if (!arena) {
        wasm_fail(err, 0, false, "out of memory");
        return NULL;
    }
    wasm_module *m = wasm_arena_alloc(arena, 1, sizeof *m);
    if (!m) {
        wasm_arena_free(arena);
        wasm_fail(err, 0, false, "out of memory");
        return NULL;
    }
    m->arena = arena;
    dec d = { .base = buf, .p = buf + 8, .end = buf + len, .err = err, .arena = arena, .m = m };
    const uint8_t *file_end = buf + len;
    int last_rank = 0;
    while (d.p < file_end) {
        const uint8_t *sec_hdr = d.p;
        uint8_t id = *d.p++;
        uint32_t size;
        d.end = file_end;
        if (!u32(&d, &size))
            goto fail;
        if (size > left(&d)) {
            fail_at(&d, d.p, "unexpected end of section or function");
            goto fail;
        }
        int rank = section_rank(id);
        if (id == 13) {
            fail_at(&d, sec_hdr, "exception handling proposal not supported (tag section)");
            goto fail;
        }
        if (rank < 0) {
            fail_at(&d, sec_hdr, "malformed section id");
            goto fail;
        }
        if (id != 0) {
            if (rank <= last_rank) {
                fail_at(&d, sec_hdr, "unexpected content after last section");
                goto fail;
            }
            last_rank = rank;
        }
        d.end = d.p + size;
        bool ok;
        switch (id) {
        case 0: ok = sec_custom(&d); break;
        case 1: ok = sec_type(&d); break;
        case 2: ok = sec_import(&d); break;
        case 3: ok = sec_function(&d); break;
        case 4: ok = sec_table(&d); break;
        case 5: ok = sec_memory(&d); break;
        case 6: ok = sec_global(&d); break;
        case 7: ok = sec_export(&d); break;
        case 8: ok = sec_start(&d); break;
        case 9: ok = sec_elem(&d); break;
        case 10: ok = sec_code(&d); break;
        case 11: ok = sec_data(&d); break;
        default: ok = sec_datacount(&d); break;
        }
        if (!ok)
            goto fail;
        if (d.p != d.end) {
            fail_at(&d, d.p, "section size mismatch");
            goto fail;
        }
    }
    d.end = file_end;
    if (d.ndef_funcs != d.ncode) {
        wasm_fail(err, len, true, "function and code section have inconsistent lengths");
        goto fail;
    }
    if (m->has_datacount && m->datacount != m->ndatas) {
        wasm_fail(err, len, true, "data count and data section have inconsistent lengths");
        goto fail;
    }
    if (!build_index_spaces(&d))
        goto fail;
    return m;
fail:
    wasm_arena_free(arena);
    return NULL;
}

void wasm_module_free(wasm_module *m)
{
    if (m)
        wasm_arena_free(m->arena);     /* the module itself lives in its arena */
}

wasm_module *wasm_load_file(const char *path, uint8_t **bufp, size_t *lenp, wasm_err *err)
{
    *bufp = NULL;
    *lenp = 0;
    size_t len;
    uint8_t *buf = ut_read_file(path, SIZE_MAX, &len);
    if (!buf) {
        wasm_fail(err, 0, false, errno == ENOMEM ? "out of memory"
                                 : errno == EIO || errno == EISDIR ? "cannot read file" : "cannot open file");
        return NULL;
    }
    wasm_module *m = wasm_decode(buf, len, err);
    if (m && !wasm_validate(m, err)) {
        wasm_module_free(m);
        m = NULL;
    }
    if (!m) {
        free(buf);
        return NULL;
    }
    *bufp = buf;
    *lenp = len;
    return m;
}
