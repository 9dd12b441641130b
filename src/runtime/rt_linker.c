/*
 * rt_linker.c — the linker: an ordered list of import providers (host
 * modules under their names and aliases, named instances, single
 * externs), resolution of one import through it, the import type check,
 * and the one-line messages that name an import that cannot be linked.
 *
 * Host functions are interned (rt_host_func) once, when their module is
 * registered, so instantiation only indexes the linker's arrays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

enum { RT_LINK_HOST, RT_LINK_INSTANCE, RT_LINK_EXTERN };

typedef struct rt_link_entry {
    char *module;                       /* import-module name this entry answers */
    uint8_t what;                       /* RT_LINK_* */
    uint32_t slot;                      /* HOST: index into hosts */
    wedge_instance *inst;               /* INSTANCE */
    char *name;                         /* EXTERN: field name */
    rt_extern ex;                       /* EXTERN */
} rt_link_entry;

typedef struct rt_link_host {
    const rt_host_module *mod;
    const void *config;
    wedge_funcref **refs;               /* [mod->nfuncs], interned */
} rt_link_host;

struct rt_linker {
    rt_link_entry *e;
    uint32_t n, cap;
    rt_link_host *hosts;
    uint32_t nhosts, caphosts;
};

rt_linker *rt_linker_new(rt_result *res)
{
    rt_linker *lk = calloc(1, sizeof *lk);
    if (!lk)
        rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
    return lk;
}

void rt_linker_free(rt_linker *lk)
{
    if (!lk)
        return;
    for (uint32_t i = 0; i < lk->n; i++) {
        free(lk->e[i].module);
        free(lk->e[i].name);
    }
    for (uint32_t i = 0; i < lk->nhosts; i++)
        free(lk->hosts[i].refs);
    free(lk->e);
    free(lk->hosts);
    free(lk);
}

uint32_t rt_linker_nhosts(const rt_linker *lk)
{
    return lk ? lk->nhosts : 0;
}

/* A new entry at the end of the order (names copied), or NULL. */
static rt_link_entry *rt_linker_push(rt_linker *lk, const char *module, uint8_t what, rt_result *res)
{
    if (lk->n == lk->cap) {
        uint32_t cap = lk->cap ? lk->cap * 2 : 8;
        rt_link_entry *e = realloc(lk->e, cap * sizeof *e);
        if (!e) {
            rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
            return NULL;
        }
        lk->e = e;
        lk->cap = cap;
    }
    rt_link_entry *e = &lk->e[lk->n];
    memset(e, 0, sizeof *e);
    e->module = strdup(module);
    if (!e->module) {
        rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
        return NULL;
    }
    e->what = what;
    lk->n++;
    return e;
}

static int rt_linker_slot_of(const rt_linker *lk, const rt_host_module *hm)
{
    for (uint32_t i = 0; i < lk->nhosts; i++)
        if (lk->hosts[i].mod == hm)
            return (int)i;
    return -1;
}

int rt_linker_add_host(rt_linker *lk, const rt_host_module *hm, const void *config, rt_result *res)
{
    if (!hm || !hm->name || (hm->nfuncs && !hm->funcs)) {
        rt_fail(res, RT_ERR_LINK, "linker: host module without a name or functions");
        return -1;
    }
    if (rt_linker_slot_of(lk, hm) >= 0) {
        rt_fail(res, RT_ERR_LINK, "linker: host module %s registered twice (use an alias for a second name)",
                hm->name);
        return -1;
    }
    if (lk->nhosts == lk->caphosts) {
        uint32_t cap = lk->caphosts ? lk->caphosts * 2 : 4;
        rt_link_host *h = realloc(lk->hosts, cap * sizeof *h);
        if (!h) {
            rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
            return -1;
        }
        lk->hosts = h;
        lk->caphosts = cap;
    }
    wedge_funcref **refs = calloc(hm->nfuncs ? hm->nfuncs : 1, sizeof *refs);
    if (!refs) {
        rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < hm->nfuncs; i++) {
        const rt_host_fn *f = &hm->funcs[i];
        if (!f->name || !f->sig || !rt_sig_valid(f->sig, 1024) || !f->fn || !(refs[i] = rt_host_func(f->sig, f->fn))) {
            rt_fail(res, RT_ERR_LINK, "linker: host module %s: function %s has a bad signature \"%s\"", hm->name,
                    f->name ? f->name : "?", f->sig ? f->sig : "");
            free(refs);
            return -1;
        }
    }
    uint32_t slot = lk->nhosts;
    rt_link_entry *e = rt_linker_push(lk, hm->name, RT_LINK_HOST, res);
    if (!e) {
        free(refs);
        return -1;
    }
    e->slot = slot;
    lk->hosts[slot] = (rt_link_host){.mod = hm, .config = config, .refs = refs};
    lk->nhosts++;
    return (int)slot;
}

bool rt_linker_alias(rt_linker *lk, const char *module, const rt_host_module *hm, rt_result *res)
{
    int slot = rt_linker_slot_of(lk, hm);
    if (slot < 0) {
        rt_fail(res, RT_ERR_LINK, "linker: alias %s for a host module that is not registered", module);
        return false;
    }
    rt_link_entry *e = rt_linker_push(lk, module, RT_LINK_HOST, res);
    if (!e)
        return false;
    e->slot = (uint32_t)slot;
    return true;
}

bool rt_linker_add_instance(rt_linker *lk, const char *module, wedge_instance *inst, rt_result *res)
{
    for (uint32_t i = 0; i < lk->n; i++)
        if (lk->e[i].what == RT_LINK_INSTANCE && strcmp(lk->e[i].module, module) == 0) {
            lk->e[i].inst = inst;
            return true;
        }
    rt_link_entry *e = rt_linker_push(lk, module, RT_LINK_INSTANCE, res);
    if (!e)
        return false;
    e->inst = inst;
    return true;
}

bool rt_linker_define(rt_linker *lk, const char *module, const char *name, const rt_extern *ex, rt_result *res)
{
    char *copy = strdup(name);
    if (!copy) {
        rt_fail(res, RT_ERR_RESOURCE, "linker: out of memory");
        return false;
    }
    rt_link_entry *e = rt_linker_push(lk, module, RT_LINK_EXTERN, res);
    if (!e) {
        free(copy);
        return false;
    }
    e->name = copy;
    e->ex = *ex;
    return true;
}

/* ---- messages ---------------------------------------------------------------- */

/* Import names come from the module: keep messages one printable line. */
static void rt_name(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[n++] = ch >= 0x20 && ch < 0x7F && ch != '"' ? (char)ch : '?';
    }
    out[n] = 0;
}

static const char *rt_valtype_text(uint8_t code)
{
    switch (code) {
    case WEDGE_VAL_I32: case 'i': return "i32";
    case WEDGE_VAL_I64: case 'I': return "i64";
    case WEDGE_VAL_F32: case 'f': return "f32";
    case WEDGE_VAL_F64: case 'F': return "f64";
    case WEDGE_VAL_V128: case 'v': return "v128";
    case WEDGE_VAL_FUNCREF: case 'r': return "funcref";
    case WEDGE_VAL_EXTERNREF: case 'e': return "externref";
    default: return "?";
    }
}

/* Appends to buf (always terminated). */
static void rt_put(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
    buf[*n] = 0;
}

/* "(func (param i32 i64) (result i32))" from a wedge signature string. */
static void rt_sig_text(const char *sig, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    rt_put(buf, cap, &n, "(func");
    const char *colon = strchr(sig, ':');
    for (int part = 0; part < 2; part++) {
        const char *p = part ? (colon ? colon + 1 : "") : sig;
        const char *end = part || !colon ? p + strlen(p) : colon;
        if (p == end)
            continue;
        rt_put(buf, cap, &n, part ? " (result" : " (param");
        for (; p < end; p++) {
            rt_put(buf, cap, &n, " ");
            rt_put(buf, cap, &n, rt_valtype_text((uint8_t)*p));
        }
        rt_put(buf, cap, &n, ")");
    }
    rt_put(buf, cap, &n, ")");
}

static void rt_limits_text(const char *what, uint32_t min, bool has_max, uint32_t max, const char *tail, char *buf,
                           size_t cap)
{
    if (has_max)
        snprintf(buf, cap, "(%s %u %u%s)", what, min, max, tail);
    else
        snprintf(buf, cap, "(%s %u%s)", what, min, tail);
}

/* The import's kind and type as the module declares it, in text format. */
static void rt_import_text(const wedge_module_desc *d, const wedge_desc_import *imp, char *buf, size_t cap)
{
    switch (imp->kind) {
    case 0:
        rt_sig_text(d->types[imp->type].sig, buf, cap);
        break;
    case 1: {
        char tail[16];
        snprintf(tail, sizeof tail, " %s", rt_valtype_text(imp->valtype));
        rt_limits_text("table", imp->min, imp->has_max, imp->max, tail, buf, cap);
        break;
    }
    case 2:
        rt_limits_text("memory", imp->min, imp->has_max, imp->max, "", buf, cap);
        break;
    default:
        snprintf(buf, cap, imp->mut ? "(global (mut %s))" : "(global %s)", rt_valtype_text(imp->valtype));
        break;
    }
}

/* The same for what a provider offers. */
static void rt_extern_text(const rt_extern *ex, char *buf, size_t cap)
{
    switch (ex->kind) {
    case 0: {
        const char *sig = ex->u.func.ref ? rt_type_sig(ex->u.func.ref->type_id) : NULL;
        if (sig)
            rt_sig_text(sig, buf, cap);
        else
            snprintf(buf, cap, "(func)");
        break;
    }
    case 1: {
        const wedge_table *t = ex->u.table;
        char tail[16];
        snprintf(tail, sizeof tail, " %s", t ? rt_valtype_text(t->elemtype) : "?");
        rt_limits_text("table", t ? t->size : 0, t && rt_tab_priv((wedge_table *)t)->has_max, t ? t->max : 0, tail,
                       buf, cap);
        break;
    }
    case 2: {
        wedge_memory *m = ex->u.mem;
        const rt_memory *rm = m ? rt_mem_priv(m) : NULL;
        rt_limits_text("memory", m ? m->pages : 0, rm && rm->has_max, rm ? rm->declared_max : 0, "", buf, cap);
        break;
    }
    default:
        snprintf(buf, cap, ex->u.global.mut ? "(global (mut %s))" : "(global %s)",
                 rt_valtype_text(ex->u.global.valtype));
        break;
    }
}

/* "<what> "M"."n" <type>[: <why>]" */
static rt_status rt_link_fail(rt_result *res, const wedge_module_desc *d, const wedge_desc_import *imp,
                              const char *what, const char *why)
{
    char mod[96], name[96], type[96];
    rt_name(mod, sizeof mod, imp->module, imp->module_len);
    rt_name(name, sizeof name, imp->name, imp->name_len);
    rt_import_text(d, imp, type, sizeof type);
    return rt_fail(res, RT_ERR_LINK, "%s \"%s\".\"%s\" %s%s%s", what, mod, name, type, why ? ": " : "",
                   why ? why : "");
}

static rt_status rt_link_mismatch(rt_result *res, const wedge_module_desc *d, const wedge_desc_import *imp,
                                  const rt_extern *ex, const char *detail)
{
    char have[96], why[160];
    rt_extern_text(ex, have, sizeof have);
    snprintf(why, sizeof why, "%s; the linked one is %s", detail, have);
    return rt_link_fail(res, d, imp, "incompatible import type for", why);
}

/* ---- resolution -------------------------------------------------------------- */

static bool rt_is(const char *s, const char *name, uint32_t len)
{
    return strlen(s) == len && memcmp(s, name, len) == 0;
}

rt_status rt_link_resolve(const rt_linker *lk, const wedge_module_desc *d, const wedge_desc_import *imp,
                          rt_extern *out, int *slot, rt_result *res)
{
    memset(out, 0, sizeof *out);
    *slot = -1;
    bool named = false;
    for (uint32_t i = 0; lk && i < lk->n; i++) {
        const rt_link_entry *e = &lk->e[i];
        if (!rt_is(e->module, imp->module, imp->module_len))
            continue;
        named = true;
        switch (e->what) {
        case RT_LINK_HOST: {
            const rt_link_host *h = &lk->hosts[e->slot];
            for (uint32_t k = 0; k < h->mod->nfuncs; k++) {
                if (!rt_is(h->mod->funcs[k].name, imp->name, imp->name_len))
                    continue;
                out->kind = 0;
                out->u.func.ref = h->refs[k];
                /* No trampoline: generated code calls imports through the
                 * funcref; the importer's trampoline serves its type. */
                *slot = (int)e->slot;
                return RT_OK;
            }
            break;
        }
        case RT_LINK_INSTANCE:
            if (e->inst && rt_instance_export(e->inst, imp->name, imp->name_len, out))
                return RT_OK;
            break;
        default:
            if (rt_is(e->name, imp->name, imp->name_len)) {
                *out = e->ex;
                return RT_OK;
            }
            break;
        }
    }
    if (!named) {
        char mod[96], why[200];
        size_t n = 0;
        rt_name(mod, sizeof mod, imp->module, imp->module_len);
        snprintf(why, sizeof why, "nothing linked is named \"%s\"", mod);
        n = strlen(why);
        /* Say what is linked: a misspelt module name shows at once.  Each
         * name once ("env" is an alias of both Dagger and CommonWA). */
        for (uint32_t i = 0; lk && i < lk->n && n + 1 < sizeof why; i++) {
            bool seen = false;
            for (uint32_t j = 0; j < i && !seen; j++)
                seen = strcmp(lk->e[j].module, lk->e[i].module) == 0;
            if (seen)
                continue;
            rt_put(why, sizeof why, &n, i ? ", " : " (linked: ");
            rt_put(why, sizeof why, &n, lk->e[i].module);
        }
        if (lk && lk->n)
            rt_put(why, sizeof why, &n, ")");
        return rt_link_fail(res, d, imp, "unknown import", why);
    }
    char why[140], mod[96];
    rt_name(mod, sizeof mod, imp->module, imp->module_len);
    snprintf(why, sizeof why, "\"%s\" has no item of that name", mod);
    return rt_link_fail(res, d, imp, "unknown import", why);
}

rt_status rt_link_check(const wedge_module_desc *d, const wedge_desc_import *imp, const rt_extern *ex,
                        rt_result *res)
{
    static const char *const kinds[4] = {"a function", "a table", "a memory", "a global"};
    if (ex->kind != imp->kind) {
        char why[64];
        snprintf(why, sizeof why, "the linked item is %s", ex->kind < 4 ? kinds[ex->kind] : "unknown");
        return rt_link_fail(res, d, imp, "incompatible import type for", why);
    }
    switch (imp->kind) {
    case 0:
        if (!ex->u.func.ref || ex->u.func.ref->type_id != d->type_ids[imp->type])
            return rt_link_mismatch(res, d, imp, ex, "function signature differs");
        return RT_OK;
    case 1: {
        wedge_table *t = ex->u.table;
        if (!t || t->elemtype != imp->valtype)
            return rt_link_mismatch(res, d, imp, ex, "table element type differs");
        if (t->size < imp->min || (imp->has_max && (!rt_tab_priv(t)->has_max || t->max > imp->max)))
            return rt_link_mismatch(res, d, imp, ex, "table limits do not match");
        return RT_OK;
    }
    case 2: {
        wedge_memory *m = ex->u.mem;
        if (!m)
            return rt_link_fail(res, d, imp, "incompatible import type for", "no memory");
        rt_memory *rm = rt_mem_priv(m);
        if (m->pages < imp->min || (imp->has_max && (!rm->has_max || rm->declared_max > imp->max)))
            return rt_link_mismatch(res, d, imp, ex, "memory limits do not match");
        if (d->bounds == WEDGE_BOUNDS_GUARD && rm->bounds != WEDGE_BOUNDS_GUARD)
            return rt_link_fail(res, d, imp, "incompatible import type for",
                                "memory has no guard region for guard-mode code");
        return RT_OK;
    }
    default:
        if (!ex->u.global.cell || ex->u.global.valtype != imp->valtype || ex->u.global.mut != imp->mut)
            return rt_link_mismatch(res, d, imp, ex, "global type differs");
        return RT_OK;
    }
}

rt_status rt_linker_check(const rt_linker *lk, const rt_module *m, rt_result *res)
{
    const wedge_module_desc *d = m->desc;
    for (uint32_t i = 0; i < d->nimports; i++) {
        rt_extern ex;
        int slot;
        rt_status st = rt_link_resolve(lk, d, &d->imports[i], &ex, &slot, res);
        if (st == RT_OK)
            st = rt_link_check(d, &d->imports[i], &ex, res);
        if (st != RT_OK)
            return st;
    }
    return RT_OK;
}

/* ---- host contexts ----------------------------------------------------------- */

size_t rt_host_ctxs_size(const rt_linker *lk)
{
    return sizeof(rt_host_ctxs) + (size_t)rt_linker_nhosts(lk) * sizeof(rt_host_slot);
}

rt_host_ctxs *rt_host_ctxs_init(void *mem, const rt_linker *lk)
{
    rt_host_ctxs *h = mem;
    memset(h, 0, rt_host_ctxs_size(lk));
    h->n = rt_linker_nhosts(lk);
    return h;
}

void rt_host_ctxs_use(rt_host_ctxs *h, const rt_linker *lk, int slot)
{
    if (slot >= 0 && (uint32_t)slot < h->n)
        h->slot[slot].mod = lk->hosts[slot].mod;
}

rt_status rt_host_ctxs_new(rt_host_ctxs *h, const rt_linker *lk, wedge_instance *inst, const void *const *host_cfg,
                           rt_result *res)
{
    for (uint32_t i = 0; i < h->n; i++) {
        rt_host_slot *s = &h->slot[i];
        if (!s->mod || !s->mod->ctx_new)
            continue;
        const void *cfg = host_cfg && host_cfg[i] ? host_cfg[i] : lk->hosts[i].config;
        char err[200] = "";
        s->ctx = s->mod->ctx_new(cfg, inst, err, sizeof err);
        if (!s->ctx)
            return rt_fail(res, RT_ERR_HOST, "%s: %s", s->mod->name, err[0] ? err : "cannot make its context");
        s->live = true;
    }
    return RT_OK;
}

void rt_host_ctxs_end(rt_host_ctxs *h)
{
    if (!h)
        return;
    /* Last made, first freed: a later context may refer to an earlier one. */
    for (uint32_t i = h->n; i-- > 0;) {
        rt_host_slot *s = &h->slot[i];
        if (s->live && s->mod->ctx_free)
            s->mod->ctx_free(s->ctx);
        s->live = false;
        s->ctx = NULL;
    }
}
