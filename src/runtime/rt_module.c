/*
 * rt_module.c — loading a module .so: dlopen, the ABI version check, a
 * sanity check of the whole descriptor, and interning its type signatures.
 *
 * The descriptor is generated code, but the .so may be stale, truncated or
 * made by someone else: every count and index is checked here once, so
 * instantiation and export lookup can index without re-checking.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Implementation limits (the ones the Wasm spec's embedders commonly use). */
#define RT_LIM_TYPES 1000000u
#define RT_LIM_FUNCS 1000000u
#define RT_LIM_IMPORTS 100000u
#define RT_LIM_EXPORTS 100000u
#define RT_LIM_GLOBALS 1000000u
#define RT_LIM_TABLES 100000u
#define RT_LIM_SEGMENTS 100000u
#define RT_LIM_SEG_ITEMS 10000000u
#define RT_LIM_NAME 100000u
#define RT_LIM_SIG 4096u

typedef struct rt_check {
    const wedge_module_desc *d;
    const char *path;
    rt_result *res;
    uint32_t nfuncs_total, ntables_total, nmems_total, nglobals_total;
} rt_check;

static bool rt_bad(rt_check *c, const char *what)
{
    rt_fail(c->res, RT_ERR_LOAD, "%s: corrupt module descriptor (%s); recompile it", c->path, what);
    return false;
}

static bool rt_valtype_ok(uint8_t t)
{
    switch (t) {
    case WEDGE_VAL_I32: case WEDGE_VAL_I64: case WEDGE_VAL_F32: case WEDGE_VAL_F64: case WEDGE_VAL_V128:
    case WEDGE_VAL_FUNCREF: case WEDGE_VAL_EXTERNREF:
        return true;
    default:
        return false;
    }
}

static bool rt_reftype_ok(uint8_t t) { return t == WEDGE_VAL_FUNCREF || t == WEDGE_VAL_EXTERNREF; }

/* A constant expression; `nglobals_visible` is how many globals it may read. */
static bool rt_check_constexpr(rt_check *c, const wedge_constexpr *e, uint32_t nglobals_visible)
{
    switch (e->op) {
    case WEDGE_CE_I32: case WEDGE_CE_I64: case WEDGE_CE_F32: case WEDGE_CE_F64: case WEDGE_CE_V128:
        return true;
    case WEDGE_CE_GLOBAL_GET:
        return e->index < nglobals_visible;
    case WEDGE_CE_REF_NULL:
        return rt_reftype_ok(e->type);
    case WEDGE_CE_REF_FUNC:
        return e->index < c->nfuncs_total;
    default:
        return false;
    }
}

static bool rt_check_string(const char *s, uint32_t len) { return len <= RT_LIM_NAME && (len == 0 || s); }

static bool rt_check_desc(rt_check *c)
{
    const wedge_module_desc *d = c->d;
    if (d->bounds > WEDGE_BOUNDS_NONE)
        return rt_bad(c, "bounds mode");
    if (d->ntypes > RT_LIM_TYPES || (d->ntypes && (!d->types || !d->type_ids)))
        return rt_bad(c, "types");
    for (uint32_t i = 0; i < d->ntypes; i++)
        if (!rt_sig_valid(d->types[i].sig, RT_LIM_SIG) || !d->types[i].tramp)
            return rt_bad(c, "type signature");

    if (d->nimports > RT_LIM_IMPORTS || (d->nimports && !d->imports))
        return rt_bad(c, "imports");
    if (d->nfuncs > RT_LIM_FUNCS || (d->nfuncs && !d->funcs) || d->ntables > RT_LIM_TABLES ||
        (d->ntables && !d->tables) || d->nmems > 1 || (d->nmems && !d->mems) || d->nglobals > RT_LIM_GLOBALS ||
        (d->nglobals && !d->globals) || d->nexports > RT_LIM_EXPORTS || (d->nexports && !d->exports) ||
        d->nelems > RT_LIM_SEGMENTS || (d->nelems && !d->elems) || d->ndatas > RT_LIM_SEGMENTS ||
        (d->ndatas && !d->datas))
        return rt_bad(c, "section counts");

    uint32_t counts[WEDGE_EXTERN_GLOBAL + 1] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < d->nimports; i++) {
        const wedge_desc_import *im = &d->imports[i];
        if (!rt_check_string(im->module, im->module_len) || !rt_check_string(im->name, im->name_len) ||
            im->kind > WEDGE_EXTERN_GLOBAL)
            return rt_bad(c, "import");
        counts[im->kind]++;
        switch (im->kind) {
        case WEDGE_EXTERN_FUNC:
            if (im->type >= d->ntypes)
                return rt_bad(c, "import type index");
            break;
        case WEDGE_EXTERN_TABLE:
            if (!rt_reftype_ok(im->valtype) || (im->has_max && im->max < im->min))
                return rt_bad(c, "table import");
            break;
        case WEDGE_EXTERN_MEMORY:
            if (im->min > RT_MAX_PAGES || (im->has_max && (im->max < im->min || im->max > RT_MAX_PAGES)))
                return rt_bad(c, "memory import");
            break;
        case WEDGE_EXTERN_GLOBAL:
            if (!rt_valtype_ok(im->valtype) || im->mut > 1)
                return rt_bad(c, "global import");
            break;
        }
    }
    if (counts[WEDGE_EXTERN_FUNC] != d->nimported_funcs || counts[WEDGE_EXTERN_TABLE] != d->nimported_tables ||
        counts[WEDGE_EXTERN_MEMORY] != d->nimported_mems || counts[WEDGE_EXTERN_GLOBAL] != d->nimported_globals)
        return rt_bad(c, "import counts");
    c->nfuncs_total = d->nimported_funcs + d->nfuncs;
    c->ntables_total = d->nimported_tables + d->ntables;
    c->nmems_total = d->nimported_mems + d->nmems;
    c->nglobals_total = d->nimported_globals + d->nglobals;
    if (c->nmems_total > 1)
        return rt_bad(c, "more than one memory");

    for (uint32_t i = 0; i < d->nfuncs; i++)
        if (d->funcs[i].type >= d->ntypes || !d->funcs[i].fn)
            return rt_bad(c, "function");
    for (uint32_t i = 0; i < d->ntables; i++) {
        const wedge_desc_limits *t = &d->tables[i];
        if (!rt_reftype_ok(t->elemtype) || (t->has_max && t->max < t->min))
            return rt_bad(c, "table");
    }
    for (uint32_t i = 0; i < d->nmems; i++) {
        const wedge_desc_limits *m = &d->mems[i];
        if (m->min > RT_MAX_PAGES || (m->has_max && (m->max < m->min || m->max > RT_MAX_PAGES)))
            return rt_bad(c, "memory");
    }
    for (uint32_t i = 0; i < d->nglobals; i++) {
        const wedge_desc_global *g = &d->globals[i];
        /* A global's initialiser may read imported and earlier globals. */
        if (!rt_valtype_ok(g->valtype) || g->mut > 1 ||
            !rt_check_constexpr(c, &g->init, d->nimported_globals + i))
            return rt_bad(c, "global");
    }
    for (uint32_t i = 0; i < d->nexports; i++) {
        const wedge_desc_export *e = &d->exports[i];
        if (!rt_check_string(e->name, e->name_len) || e->kind > WEDGE_EXTERN_GLOBAL)
            return rt_bad(c, "export");
        uint32_t lim = e->kind == WEDGE_EXTERN_FUNC ? c->nfuncs_total : e->kind == WEDGE_EXTERN_TABLE ? c->ntables_total
                     : e->kind == WEDGE_EXTERN_MEMORY ? c->nmems_total : c->nglobals_total;
        if (e->index >= lim)
            return rt_bad(c, "export index");
    }
    for (uint32_t i = 0; i < d->nelems; i++) {
        const wedge_desc_elem *e = &d->elems[i];
        if (e->mode > WEDGE_SEG_DECLARATIVE || !rt_reftype_ok(e->elemtype) || e->count > RT_LIM_SEG_ITEMS || (e->count && !e->items))
            return rt_bad(c, "element segment");
        if (e->mode == WEDGE_SEG_ACTIVE && (e->table >= c->ntables_total || !rt_check_constexpr(c, &e->offset, c->nglobals_total)))
            return rt_bad(c, "active element segment");
        for (uint32_t j = 0; j < e->count; j++)
            if (!rt_check_constexpr(c, &e->items[j], c->nglobals_total))
                return rt_bad(c, "element item");
    }
    for (uint32_t i = 0; i < d->ndatas; i++) {
        const wedge_desc_data *s = &d->datas[i];
        if (s->mode > WEDGE_SEG_PASSIVE || (s->len && !s->bytes))
            return rt_bad(c, "data segment");
        if (s->mode == WEDGE_SEG_ACTIVE &&
            (s->mem != 0 || c->nmems_total == 0 || !rt_check_constexpr(c, &s->offset, c->nglobals_total)))
            return rt_bad(c, "active data segment");
    }
    if (d->start < -1 || d->start >= (int64_t)c->nfuncs_total)
        return rt_bad(c, "start function");
    return true;
}

rt_module *rt_module_load(const char *so_path, rt_result *res)
{
    if (!so_path || !*so_path) {
        rt_fail(res, RT_ERR_LOAD, "no module path given");
        return NULL;
    }
    /* dlopen searches the library path for a name without '/'; a module is
     * always a file, so make the path explicit. */
    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s", strchr(so_path, '/') ? "" : "./", so_path);
    if (n < 0 || (size_t)n >= sizeof path) {
        rt_fail(res, RT_ERR_LOAD, "%.200s...: path too long", so_path);
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        rt_fail(res, RT_ERR_LOAD, "%s: cannot load module: %s", so_path, e ? e : "unknown error");
        return NULL;
    }
    wedge_module_desc *d = dlsym(h, WEDGE_DESCRIPTOR_SYMBOL);
    if (!d) {
        dlclose(h);
        rt_fail(res, RT_ERR_LOAD, "%s: not a wedge module (no %s symbol)", so_path, WEDGE_DESCRIPTOR_SYMBOL);
        return NULL;
    }
    /* Read nothing else before the version matches: another version may
     * lay the descriptor out differently. */
    if (d->abi_version != WEDGE_ABI_VERSION) {
        uint32_t v = d->abi_version;
        dlclose(h);
        rt_fail(res, RT_ERR_LOAD, "%s: module ABI version %u, this wedge supports %u; recompile it", so_path, v,
                WEDGE_ABI_VERSION);
        return NULL;
    }
    rt_module *m = rt_module_wrap(d, so_path, res);
    if (!m) {
        dlclose(h);
        return NULL;
    }
    m->handle = h;
    return m;
}

rt_module *rt_module_wrap(wedge_module_desc *d, const char *name, rt_result *res)
{
    if (d->abi_version != WEDGE_ABI_VERSION) {
        rt_fail(res, RT_ERR_LOAD, "%s: module ABI version %u, this wedge supports %u; recompile it", name,
                d->abi_version, WEDGE_ABI_VERSION);
        return NULL;
    }
    rt_check c = {.d = d, .path = name, .res = res};
    if (!rt_check_desc(&c))
        return NULL;
    rt_module *m = calloc(1, sizeof *m);
    if (!m) {
        rt_fail(res, RT_ERR_RESOURCE, "%s: out of memory", name);
        return NULL;
    }
    for (uint32_t i = 0; i < d->ntypes; i++) {
        uint32_t id = rt_type_intern(d->types[i].sig);
        if (id == 0) {
            free(m);
            rt_fail(res, RT_ERR_RESOURCE, "%s: out of memory interning types", name);
            return NULL;
        }
        d->type_ids[i] = id;
    }
    m->desc = d;
    snprintf(m->path, sizeof m->path, "%s", name);
    rt_image_build(m);
    return m;
}

void rt_module_unload(rt_module *m)
{
    if (!m)
        return;
    rt_image_drop(m);
    if (m->handle)
        dlclose(m->handle);
    free(m);
}

const wedge_module_desc *rt_module_desc(const rt_module *m) { return m->desc; }

/* ---- the module's code ------------------------------------------------------ */

typedef struct rt_text_search {
    uintptr_t probe;        /* an address inside the module's data */
    uintptr_t lo, hi;
    bool found;
} rt_text_search;

static int rt_text_cb(struct dl_phdr_info *info, size_t size, void *ud)
{
    (void)size;
    rt_text_search *t = ud;
    bool mine = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && t->probe >= lo && t->probe < lo + ph->p_memsz)
            mine = true;
    }
    if (!mine)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (!t->found || lo < t->lo)
            t->lo = lo;
        if (!t->found || lo + ph->p_memsz > t->hi)
            t->hi = lo + ph->p_memsz;
        t->found = true;
    }
    return 1;
}

bool rt_module_text_range(const rt_module *m, uintptr_t *lo, uintptr_t *hi)
{
    rt_text_search t = { .probe = (uintptr_t)rt_module_desc(m) };
    if (!t.probe)
        return false;
    dl_iterate_phdr(rt_text_cb, &t);
    if (!t.found)
        return false;
    *lo = t.lo;
    *hi = t.hi;
    return true;
}
