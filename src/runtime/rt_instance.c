/*
 * rt_instance.c — linking and instantiation (Wasm 2.0, section 4.5.4):
 * resolve and type-check imports through the linker (rt_linker.c),
 * allocate the instance and its defined funcrefs, tables, memory and
 * globals, apply active element segments then
 * active data segments (a trap stops there; earlier writes stay), drop
 * active and declarative segments, run the start function.  Host-module
 * contexts are made once the instance's objects exist, before segments.
 *
 * Memory layout of an instance: [rt_instance_priv][wedge_instance][globals],
 * one block; see rt_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_mempool.h"

/* Records a linked (and type-checked) extern in the instance. */
static void rt_link_record(wedge_instance *inst, const wedge_desc_import *imp, const rt_extern *ex, uint32_t *next)
{
    rt_instance_priv *p = rt_priv(inst);
    switch (imp->kind) {
    case WEDGE_EXTERN_FUNC: {
        wedge_funcref *ref = ex->u.func.ref;
        uint32_t i = next[WEDGE_EXTERN_FUNC]++;
        if (!ref->inst) {
            /* A host function: bind a copy to the importer so it sees the
             * caller's memory and host contexts. */
            p->bound[i] = *ref;
            p->bound[i].inst = inst;
            ref = &p->bound[i];
        }
        inst->funcs[i] = ref;
        break;
    }
    case WEDGE_EXTERN_TABLE:
        inst->tables[next[WEDGE_EXTERN_TABLE]++] = ex->u.table;
        break;
    case WEDGE_EXTERN_MEMORY:
        inst->mem = ex->u.mem;
        next[WEDGE_EXTERN_MEMORY]++;
        break;
    default:     /* WEDGE_EXTERN_GLOBAL */
        inst->imported_globals[next[WEDGE_EXTERN_GLOBAL]++] = ex->u.global.cell;
        break;
    }
}

static wedge_value rt_eval(wedge_instance *inst, const wedge_constexpr *e)
{
    wedge_value v;
    memset(&v, 0, sizeof v);
    uint32_t nimp = inst->desc->nimported_globals;
    switch (e->op) {
    case WEDGE_CE_I32: v.i32 = (uint32_t)e->bits; break;
    case WEDGE_CE_I64: v.i64 = e->bits; break;
    case WEDGE_CE_F32: { uint32_t b = (uint32_t)e->bits; memcpy(&v.f32, &b, 4); break; }
    case WEDGE_CE_F64: memcpy(&v.f64, &e->bits, 8); break;
    case WEDGE_CE_V128: memcpy(v.v128, &e->bits, 8); memcpy(v.v128 + 8, &e->bits_hi, 8); break;
    case WEDGE_CE_GLOBAL_GET:
        v = e->index < nimp ? *inst->imported_globals[e->index] : inst->globals[e->index - nimp];
        break;
    case WEDGE_CE_REF_NULL: v.ref = NULL; break;
    case WEDGE_CE_REF_FUNC: v.ref = inst->funcs[e->index]; break;
    }
    return v;
}

/* Reserves n items of `size` bytes at the 16-aligned end of a block
 * being laid out (*at: its size so far); returns their offset. */
static size_t rt_blk_add(size_t *at, size_t n, size_t size)
{
    size_t off = (*at + 15) & ~(size_t)15;
    *at = off + n * size;
    return off;
}

static void rt_run_start_fn(void *arg)
{
    wedge_funcref *f = arg;
    ((void (*)(wedge_instance *))f->fn)(f->inst);
}

/* With `snap`, a restore: the memory starts at the snapshot's size and the
 * snapshot's state replaces segment application and the start function
 * (they ran before the capture). */
static rt_status rt_instantiate_in(rt_module *m, const rt_limits *lim, const rt_linker *lk,
                                   const void *const *host_cfg, struct rt_mempool *pool, const rt_snapshot *snap,
                                   wedge_instance **out, rt_result *res)
{
    *out = NULL;
    if (!rt_init(res))
        return RT_ERR_RESOURCE;
    const wedge_module_desc *d = m->desc;
    size_t head = sizeof(rt_instance_priv);
    _Static_assert(sizeof(rt_instance_priv) % 16 == 0, "instance must stay 16-aligned");
    /* One allocation for the instance, all its per-instance arrays and
     * its host-context table (one calloc per request in wedge serve, not
     * ten): each at a 16-aligned offset of the block, freed with it. */
    uint32_t nfuncs = d->nimported_funcs + d->nfuncs, ntables = d->nimported_tables + d->ntables;
    size_t at = head + sizeof(wedge_instance) + (size_t)d->nglobals * sizeof(wedge_value);
    size_t o_funcs = rt_blk_add(&at, nfuncs, sizeof(wedge_funcref *));
    size_t o_tables = rt_blk_add(&at, ntables, sizeof(wedge_table *));
    size_t o_iglobals = rt_blk_add(&at, d->nimported_globals, sizeof(wedge_value *));
    size_t o_defined = rt_blk_add(&at, d->nfuncs, sizeof(wedge_funcref));
    size_t o_bound = rt_blk_add(&at, d->nimported_funcs, sizeof(wedge_funcref));
    size_t o_otables = rt_blk_add(&at, d->ntables, sizeof(wedge_table *));
    size_t o_ddrop = rt_blk_add(&at, d->ndatas, 1);
    size_t o_edrop = rt_blk_add(&at, d->nelems, 1);
    size_t o_hosts = rt_blk_add(&at, 1, rt_host_ctxs_size(lk));
    uint8_t *blk = calloc(1, at);
    if (!blk)
        return rt_fail(res, RT_ERR_RESOURCE, "%s: out of memory", m->path);
    wedge_instance *inst = (wedge_instance *)(blk + head);
    rt_instance_priv *p = rt_priv(inst);
    p->module = m;
    if (lim)
        p->limits = *lim;
    p->nglobals_total = d->nimported_globals + d->nglobals;
    inst->desc = d;

    inst->funcs = (void *)(blk + o_funcs);
    inst->tables = (void *)(blk + o_tables);
    inst->imported_globals = (void *)(blk + o_iglobals);
    inst->data_dropped = blk + o_ddrop;
    inst->elem_dropped = blk + o_edrop;
    p->defined = (void *)(blk + o_defined);
    p->bound = (void *)(blk + o_bound);
    p->owned_tables = (void *)(blk + o_otables);
    rt_host_ctxs *hosts = rt_host_ctxs_init(blk + o_hosts, lk);
    inst->host = hosts;

    /* Imports, in order. */
    uint32_t next[WEDGE_EXTERN_GLOBAL + 1] = {0, 0, 0, 0};   /* per extern kind */
    for (uint32_t i = 0; i < d->nimports; i++) {
        const wedge_desc_import *imp = &d->imports[i];
        rt_extern ex;
        int slot;
        rt_status st = rt_link_resolve(lk, d, imp, &ex, &slot, res);
        if (st == RT_OK)
            st = rt_link_check(d, imp, &ex, res);
        if (st != RT_OK) {
            rt_instance_free(inst);
            return st;
        }
        rt_link_record(inst, imp, &ex, next);
        rt_host_ctxs_use(hosts, lk, slot);
    }

    /* Defined functions, tables, memory, globals. */
    for (uint32_t k = 0; k < d->nfuncs; k++) {
        p->defined[k].type_id = d->type_ids[d->funcs[k].type];
        p->defined[k].fn = d->funcs[k].fn;
        p->defined[k].inst = inst;
        inst->funcs[d->nimported_funcs + k] = &p->defined[k];
    }
    uint32_t table_limit = p->limits.max_table_elems ? p->limits.max_table_elems : RT_DEFAULT_MAX_TABLE;
    for (uint32_t k = 0; k < d->ntables; k++) {
        const wedge_desc_limits *t = &d->tables[k];
        uint64_t elems = p->table_elems += t->min;
        if (elems > table_limit) {
            rt_instance_free(inst);
            return rt_fail(res, RT_ERR_RESOURCE, "%s: tables of %llu elements in all exceed the limit of %u",
                           m->path, (unsigned long long)elems, table_limit);
        }
        wedge_table *tab = rt_table_create(t->elemtype, t->min, t->max, t->has_max, p->limits.max_table_elems, res);
        if (!tab) {
            rt_instance_free(inst);
            return RT_ERR_RESOURCE;
        }
        p->owned_tables[p->nowned_tables++] = tab;
        inst->tables[d->nimported_tables + k] = tab;
    }
    if (d->nmems) {
        const wedge_desc_limits *ml = &d->mems[0];
        uint32_t pages0 = snap ? rt_snapshot_pages(snap) : ml->min;
        wedge_memory *mem = rt_mempool_take(pool, pages0, ml->max, ml->has_max, (int)d->bounds,
                                            p->limits.max_memory_pages);
        if (!mem)
            mem = rt_memory_create(pages0, ml->max, ml->has_max, (int)d->bounds, p->limits.max_memory_pages, res);
        if (!mem) {
            rt_instance_free(inst);
            return RT_ERR_RESOURCE;
        }
        p->owned_mem = mem;
        p->pool = pool;
        p->keep_pages = pages0;
        inst->mem = mem;
    }
    for (uint32_t k = 0; k < d->nglobals; k++)
        inst->globals[k] = rt_eval(inst, &d->globals[k].init);

    /* Host contexts last: ctx_new may look at the memory, and nothing
     * after it can fail before the segments. */
    rt_status hst = rt_host_ctxs_new(hosts, lk, inst, host_cfg, res);
    if (hst != RT_OK) {
        rt_instance_free(inst);
        return hst;
    }

    *out = inst;
    if (snap)
        return rt_snapshot_apply(snap, inst, res);

    /* Element segments: active ones are table.init + elem.drop, declarative
     * ones only elem.drop.  table.init checks the whole range first. */
    for (uint32_t k = 0; k < d->nelems; k++) {
        const wedge_desc_elem *e = &d->elems[k];
        if (e->mode == WEDGE_SEG_PASSIVE)
            continue;
        if (e->mode == WEDGE_SEG_ACTIVE) {
            wedge_table *tab = inst->tables[e->table];
            uint32_t off = rt_eval(inst, &e->offset).i32;
            if ((uint64_t)off + e->count > tab->size)
                return rt_fail_trap(res, WEDGE_TRAP_TABLE_ACCESS_OOB);
            for (uint32_t j = 0; j < e->count; j++)
                tab->elems[off + j] = rt_eval(inst, &e->items[j]).ref;
        }
        inst->elem_dropped[k] = 1;
    }
    /* Active data segments: memory.init + data.drop; or, when the module
     * has a memory image (rt_image.c), one copy-on-write mapping of the
     * same bytes. */
    bool imaged = d->nmems && inst->mem == p->owned_mem && m->image.fd >= 0 && rt_image_show(inst->mem, &m->image);
    /* A pooled memory may still show another image (rt_mempool.c). */
    if (!imaged && d->nmems && inst->mem == p->owned_mem && !rt_image_show(inst->mem, NULL))
        return rt_fail(res, RT_ERR_RESOURCE, "%s: cannot reset a pooled memory", m->path);
    for (uint32_t k = 0; k < d->ndatas; k++) {
        const wedge_desc_data *s = &d->datas[k];
        if (s->mode != WEDGE_SEG_ACTIVE)
            continue;
        if (imaged) {
            inst->data_dropped[k] = 1;
            continue;
        }
        uint32_t off = rt_eval(inst, &s->offset).i32;
        if ((uint64_t)off + s->len > inst->mem->size)
            return rt_fail_trap(res, WEDGE_TRAP_MEMORY_OOB);
        if (s->len)
            memcpy(inst->mem->base + off, s->bytes, s->len);
        inst->data_dropped[k] = 1;
    }

    if (d->start >= 0)
        return rt_guarded_call(inst, rt_run_start_fn, inst->funcs[d->start], res);
    return RT_OK;
}

rt_status rt_instantiate(rt_module *m, const rt_limits *lim, const rt_linker *lk, const void *const *host_cfg,
                         wedge_instance **out, rt_result *res)
{
    return rt_instantiate_in(m, lim, lk, host_cfg, NULL, NULL, out, res);
}

rt_status rt_instantiate_pooled(rt_module *m, const rt_limits *lim, const rt_linker *lk, const void *const *host_cfg,
                                rt_mempool *pool, wedge_instance **out, rt_result *res)
{
    return rt_instantiate_in(m, lim, lk, host_cfg, pool, NULL, out, res);
}

rt_status rt_snapshot_instantiate(const rt_snapshot *s, const rt_limits *lim, const rt_linker *lk,
                                  const void *const *host_cfg, struct rt_mempool *pool, wedge_instance **out,
                                  rt_result *res)
{
    return rt_instantiate_in(rt_snapshot_module(s), lim, lk, host_cfg, pool, s, out, res);
}

void rt_instance_free(wedge_instance *inst)
{
    if (!inst)
        return;
    rt_instance_priv *p = rt_priv(inst);
    /* Host contexts first: their ctx_free may still look at the memory. */
    rt_host_ctxs_end(inst->host);
    inst->host = NULL;
    if (p->owned_tables)
        for (uint32_t k = 0; k < p->nowned_tables; k++)
            rt_table_free(p->owned_tables[k]);
    /* A pooled memory is reset to its initial size (the module's, or the
     * snapshot's) and kept; a full pool (or an OS refusal) frees it as
     * usual. */
    if (p->owned_mem && !(p->pool && rt_mempool_give(p->pool, p->owned_mem, p->keep_pages)))
        rt_memory_free(p->owned_mem);
    free(p);        /* the arrays are in the same block (rt_instantiate_in) */
}
