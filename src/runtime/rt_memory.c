/*
 * rt_memory.c — linear memories.
 *
 * Guard mode: one reservation of RT_GUARD_RESERVATION bytes (8 GiB + 64 KiB)
 * with PROT_NONE, of which the first pages * 64 KiB are read/write.  Any
 * u32 address + u32 offset + access size lands inside the reservation, so
 * an out-of-bounds access faults there and becomes a trap; the base never
 * moves, so generated code may keep it in a register.
 * Software / none modes: the reservation is only the max size (declared
 * max, else the limit); generated code compares against `size`.
 *
 * Either way the base never moves on grow: growing only changes protection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static uint32_t rt_page_limit(uint32_t limit_pages)
{
    return limit_pages == 0 || limit_pages > RT_MAX_PAGES ? RT_MAX_PAGES : limit_pages;
}

wedge_memory *rt_memory_create(uint32_t min_pages, uint32_t max_pages, bool has_max, int bounds,
                               uint32_t limit_pages, rt_result *res)
{
    uint32_t limit = rt_page_limit(limit_pages);
    if (has_max && max_pages < min_pages) {
        rt_fail(res, RT_ERR_LINK, "memory maximum %u is below its minimum %u", max_pages, min_pages);
        return NULL;
    }
    if (min_pages > limit) {
        rt_fail(res, RT_ERR_RESOURCE, "memory of %u pages exceeds the limit of %u pages", min_pages, limit);
        return NULL;
    }
    uint32_t cap_pages = has_max && max_pages < limit ? max_pages : limit;

    rt_memory *m = calloc(1, sizeof *m);
    if (!m) {
        rt_fail(res, RT_ERR_RESOURCE, "out of memory");
        return NULL;
    }
    uint64_t len = bounds == WEDGE_BOUNDS_GUARD ? RT_GUARD_RESERVATION : (uint64_t)cap_pages * RT_PAGE_SIZE;
    if (len == 0)
        len = RT_PAGE_SIZE;   /* a valid, inaccessible base even for a 0-page max */
    m->map = rt_os_reserve(len);
    if (!m->map) {
        free(m);
        rt_fail(res, RT_ERR_RESOURCE, "cannot reserve %llu bytes of address space for a memory",
                (unsigned long long)len);
        return NULL;
    }
    m->map_len = len;
    uint64_t bytes = (uint64_t)min_pages * RT_PAGE_SIZE;
    if (!rt_os_commit(m->map, bytes) || !rt_reservation_add(m->map, len)) {
        rt_os_release(m->map, len);
        free(m);
        rt_fail(res, RT_ERR_RESOURCE, "cannot commit %u pages of linear memory", min_pages);
        return NULL;
    }
    m->committed = bytes;
    m->bounds = bounds;
    m->has_max = has_max;
    m->declared_max = has_max ? max_pages : 0;
    m->pub.base = m->map;
    m->pub.size = bytes;
    m->pub.capacity = len;
    m->pub.pages = min_pages;
    m->pub.max_pages = cap_pages;
    m->pub.max = (uint64_t)cap_pages * RT_PAGE_SIZE;
    return &m->pub;
}

wedge_memory *rt_memory_new(uint32_t min_pages, uint32_t max_pages, bool has_max, rt_result *res)
{
    /* Host-made memories get a guard reservation: then modules compiled in
     * any bounds mode may import them. */
    return rt_memory_create(min_pages, max_pages, has_max, WEDGE_BOUNDS_GUARD, 0, res);
}

void rt_memory_free(wedge_memory *mem)
{
    if (!mem)
        return;
    rt_memory *m = rt_mem_priv(mem);
    rt_reservation_remove(m->map);
    rt_os_release(m->map, m->map_len);
    free(m);
}

bool rt_memory_reset(wedge_memory *mem, uint32_t pages)
{
    rt_memory *m = rt_mem_priv(mem);
    /* The mappings change: a pool's record of resident pages (and of the
     * range being free of huge pages) no longer holds (rt_mempool.c). */
    m->track.valid = false;
    if (pages > mem->max_pages || !rt_image_unmap(mem))
        return false;
    uint64_t keep = (uint64_t)pages * RT_PAGE_SIZE;
    if (m->committed > keep) {
        if (!rt_os_decommit(m->map + keep, m->committed - keep))
            return false;
        m->committed = keep;
    }
    if (!rt_os_zero(m->map, m->committed))
        return false;
    if (keep > m->committed) {
        if (!rt_os_commit(m->map + m->committed, keep - m->committed))
            return false;
        m->committed = keep;
    }
    mem->pages = pages;
    mem->size = keep;
    return true;
}

uint32_t rt_memory_grow_limit(wedge_memory *mem, uint32_t delta_pages, uint32_t limit_pages)
{
    rt_memory *m = rt_mem_priv(mem);
    uint32_t old = mem->pages;
    uint64_t want = (uint64_t)old + delta_pages;
    uint64_t cap = mem->max_pages;
    if (limit_pages && limit_pages < cap)
        cap = limit_pages;
    if (want > cap)
        return UINT32_MAX;
    uint64_t bytes = want * RT_PAGE_SIZE;
    if (bytes > m->map_len)
        return UINT32_MAX;
    if (bytes > m->committed) {
        if (!rt_os_commit(m->map + m->committed, bytes - m->committed))
            return UINT32_MAX;
        m->committed = bytes;
    }
    mem->pages = (uint32_t)want;
    mem->size = bytes;
    return old;
}

uint32_t wedge_rt_memory_grow(wedge_instance *inst, wedge_memory *mem, uint32_t delta_pages)
{
    if (!mem)
        return UINT32_MAX;
    uint32_t limit = inst ? rt_priv(inst)->limits.max_memory_pages : 0;
    return rt_memory_grow_limit(mem, delta_pages, limit);
}

int32_t sledge_abi__wasm_memory_expand(wedge_memory *mem, uint32_t pages)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    if (!mem && inst)
        mem = inst->mem;
    return wedge_rt_memory_grow(inst, mem, pages) == UINT32_MAX ? -1 : 0;
}

void sledge_abi__wasm_memory_initialize_region(uint32_t offset, uint32_t len, const uint8_t *src)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    wedge_memory *mem = inst ? inst->mem : NULL;
    if (!mem || (uint64_t)offset + len > mem->size)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_MEMORY_OOB);
    if (len)
        memcpy(mem->base + offset, src, len);
}
