/*
 * rt_snapshot_capture.c — taking a snapshot of a live instance (after its
 * init export ran), and what every snapshot owns.
 *
 * References become function indices: a funcref in a table or global is
 * one of this instance's functions (defined, or the imported ones it was
 * linked with), found by address; anything else (another instance's
 * function, a host's externref) has no index and is refused.  State the
 * module does not own (an imported memory, table or mutable global) would
 * be someone else's on restore, so such modules are refused too.
 *
 * Host modules: their contexts are never captured; one with a snapshot
 * hook adds its own bytes (rt_capture_hosts).
 *
 * Memory: only the OS pages holding a non-zero byte go into the image (a
 * sealed file with holes), so a 1 GiB memory with 10 MiB of data costs
 * 10 MiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_snapshot_fmt.h"

/* The index of `ref` in inst's function space, or false. */
static bool rt_func_index(wedge_instance *inst, const void *ref, uint32_t *out)
{
    const wedge_module_desc *d = inst->desc;
    rt_instance_priv *p = rt_priv(inst);
    if (!ref) {
        *out = RT_SNAP_NULL_FUNC;
        return true;
    }
    const wedge_funcref *f = ref;
    if (d->nfuncs && f >= p->defined && f < p->defined + d->nfuncs) {
        *out = d->nimported_funcs + (uint32_t)(f - p->defined);
        return true;
    }
    for (uint32_t i = 0; i < d->nimported_funcs; i++)
        if (inst->funcs[i] == f) {
            *out = i;
            return true;
        }
    return false;
}

static void rt_put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static bool rt_page_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    uint64_t acc = 0;
    for (size_t i = 0; i < RT_OS_PAGE / 8; i++)
        acc |= w[i];
    return acc == 0;
}

size_t rt_snapshot_extents(const uint8_t *mem, uint64_t len, rt_os_image_part **out)
{
    size_t n = 0, cap = 0;
    rt_os_image_part *v = NULL;
    *out = NULL;
    for (uint64_t off = 0; off < len;) {
        if (rt_page_zero(mem + off)) {
            off += RT_OS_PAGE;
            continue;
        }
        uint64_t end = off + RT_OS_PAGE;
        while (end < len && !rt_page_zero(mem + end))
            end += RT_OS_PAGE;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            rt_os_image_part *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                return SIZE_MAX;
            }
            v = nv;
        }
        v[n++] = (rt_os_image_part){off, mem + off, end - off};
        off = end;
    }
    *out = v;
    return n;
}

static rt_snapshot *rt_capture_fail(rt_snapshot *s, rt_result *res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rt_snapshot *rt_capture_fail(rt_snapshot *s, rt_result *res, const char *fmt, ...)
{
    rt_snapshot_free(s);
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof res->msg];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_fail(res, RT_ERR_LOAD, "%s", msg);
    return NULL;
}

/* The host contexts are not captured: a restore makes fresh ones (ctx_new).
 * A host module with a snapshot hook adds what it wants kept; its restore
 * hook gets it back (rt_snapshot_apply).  False: s freed, res filled. */
static rt_snapshot *rt_capture_hosts(rt_snapshot *s, wedge_instance *inst, rt_result *res)
{
    const char *name = rt_priv(inst)->module->path;
    const rt_host_ctxs *h = inst->host;
    uint32_t n = 0;
    for (uint32_t i = 0; h && i < h->n; i++)
        n += h->slot[i].mod && h->slot[i].live && h->slot[i].mod->snapshot;
    if (!n)
        return s;
    if (!(s->hosts = calloc(n, sizeof *s->hosts)))
        return rt_capture_fail(s, res, "%s: out of memory", name);
    for (uint32_t i = 0; i < h->n; i++) {
        const rt_host_slot *sl = &h->slot[i];
        if (!sl->mod || !sl->live || !sl->mod->snapshot)
            continue;
        const char *hn = sl->mod->name;
        size_t nlen = strlen(hn);
        bool printable = nlen >= 1 && nlen <= 255;
        for (size_t c = 0; printable && c < nlen; c++)
            printable = hn[c] > 0x20 && hn[c] < 0x7F;
        if (!printable)
            return rt_capture_fail(s, res, "%s: host module '%.40s' has a name a snapshot cannot hold", name, hn);
        size_t cap = 256, need = 0;
        uint8_t *buf = malloc(cap);
        /* The hook says how much it needs; once more with that much. */
        while (buf && (need = sl->mod->snapshot(sl->ctx, buf, cap)) > cap) {
            uint8_t *nb = cap == 256 ? realloc(buf, need) : NULL;
            if (!nb)
                free(buf);
            buf = nb;
            cap = need;
        }
        if (!buf)
            return rt_capture_fail(s, res, "%s: host module %s: out of memory (or its snapshot hook keeps growing)",
                                   name, hn);
        if (!need) {
            free(buf);
            continue;
        }
        rt_snap_host *e = &s->hosts[s->nhosts++];
        e->bytes = buf;
        e->len = need;
        if (!(e->name = strdup(hn)))
            return rt_capture_fail(s, res, "%s: out of memory", name);
    }
    return s;
}

rt_snapshot *rt_snapshot_capture(wedge_instance *inst, const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES],
                                 rt_result *res)
{
    const wedge_module_desc *d = inst->desc;
    rt_instance_priv *p = rt_priv(inst);
    const char *name = p->module->path;
    if (d->nimported_mems || d->nimported_tables)
        return rt_capture_fail(NULL, res, "%s: cannot snapshot a module that imports its memory or a table", name);
    for (uint32_t i = 0; i < d->nimports; i++)
        if (d->imports[i].kind == WEDGE_EXTERN_GLOBAL && d->imports[i].mut)
            return rt_capture_fail(NULL, res, "%s: cannot snapshot a module that imports a mutable global", name);

    rt_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return rt_capture_fail(NULL, res, "%s: out of memory", name);
    s->module = p->module;
    s->image.fd = -1;
    memcpy(s->module_hash, module_hash, RT_SNAPSHOT_HASH_BYTES);
    s->nglobals = d->nglobals;
    s->ntables = d->ntables;
    s->ndatas = d->ndatas;
    s->nelems = d->nelems;
    s->globals = calloc(d->nglobals ? d->nglobals : 1, sizeof *s->globals);
    s->tables = calloc(d->ntables ? d->ntables : 1, sizeof *s->tables);
    s->data_dropped = malloc(d->ndatas ? d->ndatas : 1);
    s->elem_dropped = malloc(d->nelems ? d->nelems : 1);
    if (!s->globals || !s->tables || !s->data_dropped || !s->elem_dropped)
        return rt_capture_fail(s, res, "%s: out of memory", name);

    for (uint32_t k = 0; k < d->nglobals; k++) {
        rt_snap_global *g = &s->globals[k];
        const wedge_value *c = &inst->globals[k];
        g->valtype = d->globals[k].valtype;
        switch (g->valtype) {
        case 0x7F: case 0x7D: rt_put32(g->bytes, c->i32); break;
        case 0x7E: case 0x7C: rt_put32(g->bytes, (uint32_t)c->i64); rt_put32(g->bytes + 4, (uint32_t)(c->i64 >> 32)); break;
        case 0x70: {
            uint32_t idx;
            if (!rt_func_index(inst, c->ref, &idx))
                return rt_capture_fail(s, res, "%s: global %u holds a function of another instance", name,
                                       d->nimported_globals + k);
            rt_put32(g->bytes, idx);
            break;
        }
        case 0x6F:
            if (c->ref)
                return rt_capture_fail(s, res, "%s: global %u holds a host reference (externref)", name,
                                       d->nimported_globals + k);
            rt_put32(g->bytes, RT_SNAP_NULL_FUNC);
            break;
        default:        /* WEDGE_VAL_V128: its 16 bytes, as the file keeps them */
            memcpy(g->bytes, c->v128, sizeof g->bytes);
            break;
        }
    }
    for (uint32_t k = 0; k < d->ntables; k++) {
        const wedge_table *t = inst->tables[d->nimported_tables + k];
        rt_snap_table *st = &s->tables[k];
        st->elemtype = t->elemtype;
        st->size = t->size;
        st->idx = malloc((size_t)(t->size ? t->size : 1) * sizeof *st->idx);
        if (!st->idx)
            return rt_capture_fail(s, res, "%s: out of memory", name);
        for (uint32_t j = 0; j < t->size; j++) {
            bool ok = t->elemtype == 0x70 ? rt_func_index(inst, t->elems[j], &st->idx[j])
                                          : (st->idx[j] = RT_SNAP_NULL_FUNC, t->elems[j] == NULL);
            if (!ok)
                return rt_capture_fail(s, res, "%s: table %u element %u holds %s", name, d->nimported_tables + k, j,
                                       t->elemtype == 0x70 ? "a function of another instance"
                                                           : "a host reference (externref)");
        }
    }
    memcpy(s->data_dropped, inst->data_dropped, d->ndatas);
    memcpy(s->elem_dropped, inst->elem_dropped, d->nelems);

    if (d->nmems) {
        s->has_mem = true;
        s->pages = inst->mem->pages;
        rt_os_image_part *parts;
        size_t n = rt_snapshot_extents(inst->mem->base, inst->mem->size, &parts);
        if (n == SIZE_MAX)
            return rt_capture_fail(s, res, "%s: out of memory", name);
        uint64_t len = n ? parts[n - 1].off + parts[n - 1].len : 0;
        bool ok = rt_image_from_parts(&s->image, len, parts, n);
        free(parts);
        if (!ok)
            return rt_capture_fail(s, res, "%s: cannot make the snapshot's memory image", name);
    }
    return rt_capture_hosts(s, inst, res);
}

void rt_snapshot_free(rt_snapshot *s)
{
    if (!s)
        return;
    rt_image_close(&s->image);
    if (s->tables)
        for (uint32_t k = 0; k < s->ntables; k++)
            free(s->tables[k].idx);
    free(s->tables);
    free(s->globals);
    free(s->data_dropped);
    free(s->elem_dropped);
    for (uint32_t k = 0; k < s->nhosts; k++) {
        free(s->hosts[k].name);
        free(s->hosts[k].bytes);
    }
    free(s->hosts);
    free(s);
}

uint32_t rt_snapshot_pages(const rt_snapshot *s) { return s->pages; }

rt_module *rt_snapshot_module(const rt_snapshot *s) { return s->module; }
