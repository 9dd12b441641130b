/*
 * rt_image.c — copy-on-write initial memory images.
 *
 * Instantiating a module copies its active data segments into the new
 * memory.  For a large image that is mostly page faults: every 4 KiB page
 * of fresh memory faults in zeroed and is then overwritten, about 0.5 ms
 * per MiB, paid again by every instance (and a serverless runtime makes
 * one instance per request).
 *
 * Instead, at load, the final bytes of every active segment are laid out
 * once in a sealed memory file covering the OS pages they span; each
 * instance maps that file MAP_PRIVATE at the same place.  Instantiation is
 * then one mmap whatever the size; pages the guest only reads are shared
 * by all instances, a page it writes becomes its own copy, pages it never
 * touches cost nothing.  (wasmtime's "memory images" do the same.)
 *
 * Only when it gives the same memory as the copy: one defined (not
 * imported) memory, every active segment at a constant offset and inside
 * the initial size, so that applying them cannot trap and their order
 * decides each byte exactly as here.  Anything else, or a small image
 * (RT_IMAGE_MIN_BYTES), keeps the copy.  Any OS refusal also falls back
 * to the copy: the image is an optimisation, never a requirement.
 *
 * Release: the mapped range is replaced by fresh zero pages before a
 * memory is reset or pooled, so a reused memory is zero like any other.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

void rt_image_build(rt_module *m)
{
    m->image_fd = -1;
    m->image_off = m->image_len = 0;
    const wedge_module_desc *d = m->desc;
    if (d->nmems != 1 || d->nimported_mems != 0)
        return;
    uint64_t mem_bytes = (uint64_t)d->mems[0].min * RT_PAGE_SIZE;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t k = 0; k < d->ndatas; k++) {
        const wedge_desc_data *s = &d->datas[k];
        if (s->mode != WEDGE_SEG_ACTIVE)
            continue;
        if (s->mem != 0 || s->offset.op != WEDGE_CE_I32)
            return;
        uint64_t off = (uint32_t)s->offset.bits, end = off + s->len;
        if (end > mem_bytes)
            return;                /* instantiation traps part-way: keep the exact copy path */
        if (s->len == 0)
            continue;
        lo = off < lo ? off : lo;
        hi = end > hi ? end : hi;
    }
    if (hi == 0)
        return;
    lo &= ~(uint64_t)(RT_OS_PAGE - 1);
    hi = RT_OS_PAGE_ROUND(hi);
    if (hi > mem_bytes)            /* a memory is whole 64 KiB pages: cannot happen */
        return;
    uint64_t len = hi - lo;
    if (len < RT_IMAGE_MIN_BYTES)
        return;
    uint8_t *img = calloc(1, len);
    if (!img)
        return;
    for (uint32_t k = 0; k < d->ndatas; k++) {
        const wedge_desc_data *s = &d->datas[k];
        if (s->mode == WEDGE_SEG_ACTIVE && s->len)
            memcpy(img + ((uint32_t)s->offset.bits - lo), s->bytes, s->len);
    }
    int fd = rt_os_image_create("wedge-image", img, len);
    free(img);
    if (fd < 0)
        return;
    m->image_fd = fd;
    m->image_off = lo;
    m->image_len = len;
}

void rt_image_drop(rt_module *m)
{
    if (m->image_fd >= 0)
        rt_os_image_close(m->image_fd);
    m->image_fd = -1;
    m->image_len = 0;
}

bool rt_image_map(const rt_module *m, wedge_memory *mem)
{
    rt_memory *rm = rt_mem_priv(mem);
    if (m->image_fd < 0 || rm->image_len || m->image_off + m->image_len > rm->committed)
        return false;
    if (!rt_os_image_map(rm->map + m->image_off, m->image_len, m->image_fd))
        return false;
    rm->image_off = m->image_off;
    rm->image_len = m->image_len;
    return true;
}

bool rt_image_unmap(wedge_memory *mem)
{
    rt_memory *rm = rt_mem_priv(mem);
    if (!rm->image_len)
        return true;
    if (!rt_os_anon_rw(rm->map + rm->image_off, rm->image_len))
        return false;
    rm->image_off = rm->image_len = 0;
    return true;
}
