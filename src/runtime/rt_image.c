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
 * Snapshots (rt_snapshot.c) use the same mechanism for a whole captured
 * memory: its non-zero extents go into one sealed file per loaded
 * snapshot, mapped at offset 0 by every restore.
 *
 * Release: a pooled memory keeps its image mapped and is reverted to the
 * image (rt_image_revert: only the pages present in the range cost
 * anything), so the next instance of the same module or snapshot finds it
 * ready; a memory that must show another image, or none, gets fresh zero
 * pages over the old one first (rt_image_show, rt_memory_reset).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static uint64_t rt_image_next_id(void)
{
    static _Atomic uint64_t next = 1;
    return atomic_fetch_add(&next, 1);
}

void rt_image_build(rt_module *m)
{
    m->image = (rt_image){.fd = -1};
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
    m->image = (rt_image){.fd = fd, .off = lo, .len = len, .id = rt_image_next_id()};
}

bool rt_image_from_parts(rt_image *img, uint64_t len, const rt_os_image_part *parts, size_t nparts)
{
    *img = (rt_image){.fd = -1};
    if (len % RT_OS_PAGE)
        return false;
    if (len == 0)
        return true;               /* an all-zero memory needs no image */
    int fd = rt_os_image_create_parts("wedge-snapshot", len, parts, nparts);
    if (fd < 0)
        return false;
    *img = (rt_image){.fd = fd, .off = 0, .len = len, .id = rt_image_next_id()};
    return true;
}

void rt_image_close(rt_image *img)
{
    if (img->fd >= 0)
        rt_os_image_close(img->fd);
    *img = (rt_image){.fd = -1};
}

void rt_image_drop(rt_module *m) { rt_image_close(&m->image); }

bool rt_image_show(wedge_memory *mem, const rt_image *img)
{
    rt_memory *rm = rt_mem_priv(mem);
    bool want = img && img->fd >= 0 && img->len;
    if (want && rm->image_len && rm->image_id == img->id)
        return true;
    if (!rt_image_unmap(mem))
        return false;
    if (!want)
        return true;
    if (img->off + img->len > rm->committed || !rt_os_image_map(rm->map + img->off, img->len, img->fd))
        return false;
    rm->image_off = img->off;
    rm->image_len = img->len;
    rm->image_id = img->id;
    return true;
}

bool rt_image_unmap(wedge_memory *mem)
{
    rt_memory *rm = rt_mem_priv(mem);
    if (!rm->image_len)
        return true;
    if (!rt_os_anon_rw(rm->map + rm->image_off, rm->image_len))
        return false;
    rm->image_off = rm->image_len = rm->image_id = 0;
    return true;
}

bool rt_image_revert(wedge_memory *mem)
{
    rt_memory *rm = rt_mem_priv(mem);
    return rt_os_image_revert(rm->map + rm->image_off, rm->image_len);
}
