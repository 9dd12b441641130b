/*
 * rt_snapshot_restore.c — the last step of a restore (rt_instance.c makes
 * the instance, links it and sizes its memory to the snapshot's; this puts
 * the captured state in): defined globals, defined tables (function index
 * -> this instance's funcref), dropped segments, and the memory image
 * mapped copy-on-write.  Nothing here depends on the memory's size: the
 * image is one mmap, or nothing at all for a pooled memory that already
 * shows it (reverted when it was released, rt_mempool.c).  Last, host
 * modules get back what their snapshot hooks saved.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_snapshot_fmt.h"

static wedge_value rt_snap_value(wedge_instance *inst, const rt_snap_global *g)
{
    wedge_value v;
    memset(&v, 0, sizeof v);
    switch (g->valtype) {
    case 0x7F: case 0x7D: v.i32 = rt_snap_u32(g->bytes); break;
    case 0x7E: case 0x7C: v.i64 = rt_snap_u64(g->bytes); break;
    case 0x70: {
        uint32_t idx = rt_snap_u32(g->bytes);
        v.ref = idx == RT_SNAP_NULL_FUNC ? NULL : inst->funcs[idx];
        break;
    }
    case 0x6F: v.ref = NULL; break;
    default: memcpy(v.v128, g->bytes, sizeof v.v128); break;     /* WEDGE_VAL_V128 */
    }
    return v;
}

/* The host contexts were just made by ctx_new (fresh: WASI's descriptors,
 * randomness and clock are the new run's).  A host module whose state the
 * snapshot holds gets it back through its restore hook; state for a module
 * the instance has no context of, or that cannot restore, is refused. */
static rt_status rt_restore_hosts(const rt_snapshot *s, wedge_instance *inst, rt_result *res)
{
    const char *path = rt_priv(inst)->module->path;
    const rt_host_ctxs *h = inst->host;
    for (uint32_t k = 0; k < s->nhosts; k++) {
        const rt_snap_host *e = &s->hosts[k];
        const rt_host_slot *sl = NULL;
        for (uint32_t i = 0; h && i < h->n && !sl; i++)
            if (h->slot[i].mod && h->slot[i].live && strcmp(h->slot[i].mod->name, e->name) == 0)
                sl = &h->slot[i];
        if (!sl)
            return rt_fail(res, RT_ERR_HOST, "%s: the snapshot holds state of host module '%.60s', which this "
                           "instance is not linked to", path, e->name);
        if (!sl->mod->restore)
            return rt_fail(res, RT_ERR_HOST, "%s: the snapshot holds state of host module '%.60s', which cannot "
                           "restore it", path, e->name);
        char err[160] = "";
        if (!sl->mod->restore(sl->ctx, e->bytes, e->len, err, sizeof err))
            return rt_fail(res, RT_ERR_HOST, "%s: host module '%.60s' refused the snapshot's state: %s", path,
                           e->name, err[0] ? err : "no reason given");
    }
    return RT_OK;
}

rt_status rt_snapshot_apply(const rt_snapshot *s, wedge_instance *inst, rt_result *res)
{
    const wedge_module_desc *d = inst->desc;
    rt_instance_priv *p = rt_priv(inst);
    for (uint32_t k = 0; k < s->nglobals; k++)
        inst->globals[k] = rt_snap_value(inst, &s->globals[k]);

    uint32_t table_limit = p->limits.max_table_elems ? p->limits.max_table_elems : RT_DEFAULT_MAX_TABLE;
    for (uint32_t k = 0; k < s->ntables; k++) {
        const rt_snap_table *st = &s->tables[k];
        wedge_table *tab = inst->tables[d->nimported_tables + k];
        if (st->size != tab->size) {
            /* Grown during init: the limits count it as grown here. */
            uint64_t total = p->table_elems - tab->size + st->size;
            if (total > table_limit || st->size > rt_tab_priv(tab)->cap)
                return rt_fail(res, RT_ERR_RESOURCE, "%s: the snapshot's tables exceed the limit of %u elements",
                               p->module->path, table_limit);
            void **n = realloc(tab->elems, (size_t)(st->size ? st->size : 1) * sizeof *n);
            if (!n)
                return rt_fail(res, RT_ERR_RESOURCE, "%s: out of memory", p->module->path);
            tab->elems = n;
            tab->size = st->size;
            p->table_elems = total;
        }
        for (uint32_t j = 0; j < st->size; j++)
            tab->elems[j] = st->idx[j] == RT_SNAP_NULL_FUNC ? NULL : inst->funcs[st->idx[j]];
    }
    memcpy(inst->data_dropped, s->data_dropped, s->ndatas);
    memcpy(inst->elem_dropped, s->elem_dropped, s->nelems);
    if (s->has_mem && !rt_image_show(inst->mem, &s->image))
        return rt_fail(res, RT_ERR_RESOURCE, "%s: cannot map the snapshot's memory image", p->module->path);
    return rt_restore_hosts(s, inst, res);
}
