/*
 * rt_table.c — tables of references (funcref: wedge_funcref *, externref:
 * opaque host pointers; NULL is null).  Growth reallocates `elems`, so
 * generated code must not cache it across anything that may grow a table.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

wedge_table *rt_table_create(uint8_t elemtype, uint32_t min, uint32_t max, bool has_max, uint32_t limit,
                             rt_result *res)
{
    if (limit == 0)
        limit = RT_DEFAULT_MAX_TABLE;
    if (elemtype != WEDGE_VAL_FUNCREF && elemtype != WEDGE_VAL_EXTERNREF) {
        rt_fail(res, RT_ERR_LINK, "bad table element type 0x%02x", elemtype);
        return NULL;
    }
    if (has_max && max < min) {
        rt_fail(res, RT_ERR_LINK, "table maximum %u is below its minimum %u", max, min);
        return NULL;
    }
    if (min > limit) {
        rt_fail(res, RT_ERR_RESOURCE, "table of %u elements exceeds the limit of %u", min, limit);
        return NULL;
    }
    rt_table *t = calloc(1, sizeof *t);
    void **elems = calloc(min ? min : 1, sizeof *elems);
    if (!t || !elems) {
        free(t);
        free(elems);
        rt_fail(res, RT_ERR_RESOURCE, "out of memory for a table of %u elements", min);
        return NULL;
    }
    t->pub.elems = elems;
    t->pub.size = min;
    t->pub.max = has_max ? max : UINT32_MAX;
    t->pub.elemtype = elemtype;
    t->has_max = has_max;
    t->cap = has_max && max < limit ? max : limit;
    return &t->pub;
}

wedge_table *rt_table_new(uint8_t elemtype, uint32_t min, uint32_t max, bool has_max, rt_result *res)
{
    return rt_table_create(elemtype, min, max, has_max, 0, res);
}

void rt_table_free(wedge_table *tab)
{
    if (!tab)
        return;
    free(tab->elems);
    free(rt_tab_priv(tab));
}

uint32_t wedge_rt_table_grow(wedge_instance *inst, wedge_table *tab, void *init, uint32_t delta)
{
    if (!tab)
        return UINT32_MAX;
    rt_table *t = rt_tab_priv(tab);
    uint32_t old = tab->size;
    uint64_t want = (uint64_t)old + delta;
    uint64_t cap = t->cap;
    rt_instance_priv *p = inst ? rt_priv(inst) : NULL;
    if (p) {
        uint32_t lim = p->limits.max_table_elems ? p->limits.max_table_elems : RT_DEFAULT_MAX_TABLE;
        if (lim < cap)
            cap = lim;
        /* The limit is for all of the instance's tables together. */
        if (p->table_elems + delta > lim)
            return UINT32_MAX;
    }
    if (want > cap)
        return UINT32_MAX;
    if (delta == 0)
        return old;
    void **n = realloc(tab->elems, (size_t)want * sizeof *n);
    if (!n)
        return UINT32_MAX;
    for (uint64_t i = old; i < want; i++)
        n[i] = init;
    tab->elems = n;
    tab->size = (uint32_t)want;
    if (p)
        p->table_elems += delta;
    return old;
}
