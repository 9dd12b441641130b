/*
 * rt_mempool.c — pools of linear memories for embedders that instantiate
 * the same module over and over (wedge serve: one pool per worker and
 * route).  API and ownership: rt_mempool.h.
 *
 * Why: a fresh memory costs an 8 GiB mmap reservation, an mprotect, a
 * registration with the fault handler, and on free a munmap (whose TLB
 * flush reaches every core this process ran on); the guest then
 * page-faults every page it touches.  A pooled memory keeps all of that.
 *
 * Reset on release touches only what the guest used.  A memory image
 * (module data segments, or a snapshot's whole memory: rt_image.c) stays
 * mapped and is reverted to the image, which costs only the pages present
 * in its range.  Outside the image, since a pooled
 * memory is zero and unmapped everywhere after its first reset, the pages
 * resident now (mincore) are exactly the pages touched since — unless the
 * system has swap, where a touched page may be out of memory: then every
 * reset drops all pages (madvise), which is always correct (whether there
 * is swap is looked up at most once a second: swap_configured).  A few of
 * them are cleared with memset and stay resident (the next guest touches
 * the same stack/data/heap pages again and takes no fault); when many
 * were touched, madvise drops them instead, so an idle pooled memory
 * never pins what one large request used.  Pages beyond the module's
 * initial size (memory.grow) are decommitted again.
 *
 * A pool is not thread-safe: its owner (one worker thread) takes and
 * gives back.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "rt_internal.h"
#include "rt_mempool.h"

/* Up to this many resident bytes are cleared with memset; more are dropped. */
#define RT_MEMPOOL_MEMSET_MAX ((uint64_t)256 << 10)
/* The residency vector covers this much memory; beyond it, drop everything. */
#define RT_MEMPOOL_VEC_BYTES ((uint64_t)64 << 20)

struct rt_mempool {
    wedge_memory **v;
    unsigned n, cap;
    unsigned char *vec;         /* mincore output, RT_MEMPOOL_VEC_BYTES / 4 KiB */
    uint64_t resets, memset_bytes, dropped;
};

rt_mempool *rt_mempool_new(unsigned max_kept)
{
    rt_mempool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cap = max_kept ? max_kept : 1;
    p->v = calloc(p->cap, sizeof *p->v);
    p->vec = malloc(RT_MEMPOOL_VEC_BYTES / RT_OS_PAGE);
    if (!p->v || !p->vec) {
        free(p->v);
        free(p->vec);
        free(p);
        return NULL;
    }
    return p;
}

void rt_mempool_free(rt_mempool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++)
        rt_memory_free(p->v[i]);
    free(p->v);
    free(p->vec);
    free(p);
}

unsigned rt_mempool_count(const rt_mempool *p) { return p ? p->n : 0; }

/* A kept memory of the shape rt_memory_create would make for these
 * arguments, sized to min_pages; NULL if none. */
wedge_memory *rt_mempool_take(rt_mempool *p, uint32_t min_pages, uint32_t max_pages, bool has_max, int bounds,
                              uint32_t limit_pages)
{
    if (!p)
        return NULL;
    uint32_t limit = limit_pages == 0 || limit_pages > RT_MAX_PAGES ? RT_MAX_PAGES : limit_pages;
    uint32_t cap_pages = has_max && max_pages < limit ? max_pages : limit;
    for (unsigned i = p->n; i-- > 0;) {
        wedge_memory *mem = p->v[i];
        rt_memory *m = rt_mem_priv(mem);
        if (m->bounds != bounds || m->has_max != has_max || m->declared_max != (has_max ? max_pages : 0) ||
            mem->max_pages != cap_pages || min_pages > cap_pages)
            continue;
        p->v[i] = p->v[--p->n];
        uint64_t bytes = (uint64_t)min_pages * RT_PAGE_SIZE;
        /* An image past the new size would outlive the decommit below. */
        if (m->image_len && m->image_off + m->image_len > bytes && !rt_image_unmap(mem)) {
            rt_memory_free(mem);
            return NULL;
        }
        /* Released memories are zero up to `committed` but for the image
         * they show, if any, which is pristine (see give). */
        if (bytes > m->committed) {
            if (!rt_os_commit(m->map + m->committed, bytes - m->committed)) {
                rt_memory_free(mem);
                return NULL;
            }
            m->committed = bytes;
        } else if (bytes < m->committed) {
            if (!rt_os_decommit(m->map + bytes, m->committed - bytes)) {
                rt_memory_free(mem);
                return NULL;
            }
            m->committed = bytes;
        }
        mem->pages = min_pages;
        mem->size = bytes;
        return mem;
    }
    return NULL;
}

/* Whether the system has any swap.  sysinfo walks every block device
 * (nr_blockdev_pages): per release it was ~1% of a short request, so the
 * answer is kept for a second (CLOCK_MONOTONIC_COARSE, no system call).  A
 * swapon is thus seen within 1 s; a page would have to go out to the new
 * swap between the guest touching it and this reset, within that second,
 * to be missed.  Any thread; a race only repeats the sysinfo. */
static bool swap_configured(void)
{
    static _Atomic int64_t checked_s = -1;
    static _Atomic bool swap;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    if (ts.tv_sec != atomic_load_explicit(&checked_s, memory_order_acquire)) {
        struct sysinfo si;
        atomic_store_explicit(&swap, sysinfo(&si) != 0 || si.totalswap != 0, memory_order_relaxed);
        atomic_store_explicit(&checked_s, ts.tv_sec, memory_order_release);
    }
    return atomic_load_explicit(&swap, memory_order_relaxed);
}

/* Zeroes [lo, hi) of plain (not image) memory touching only resident
 * pages; false if the OS refused. */
static bool clear_used(rt_mempool *p, rt_memory *m, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return true;
    uint64_t len = hi - lo;
    uint8_t *base = m->map + lo;
    /* A touched page that went to swap is not resident, yet holds the last
     * guest's data: with any swap configured, only dropping every page is
     * safe. */
    if (swap_configured() || len > RT_MEMPOOL_VEC_BYTES || mincore(base, len, p->vec) != 0) {
        p->dropped++;
        return rt_os_zero(base, len);
    }
    size_t npages = (size_t)((len + RT_OS_PAGE - 1) / RT_OS_PAGE);
    uint64_t resident = 0;
    for (size_t i = 0; i < npages; i++)
        resident += p->vec[i] & 1;
    resident *= RT_OS_PAGE;
    if (resident > RT_MEMPOOL_MEMSET_MAX) {
        p->dropped++;
        return rt_os_zero(base, len);
    }
    for (size_t i = 0; i < npages;) {
        if (!(p->vec[i] & 1)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < npages && (p->vec[j] & 1))
            j++;
        uint64_t a = (uint64_t)i * RT_OS_PAGE, b = (uint64_t)j * RT_OS_PAGE;
        if (b > len)
            b = len;
        memset(base + a, 0, b - a);
        i = j;
    }
    p->memset_bytes += resident;
    return true;
}

bool rt_mempool_give(rt_mempool *p, wedge_memory *mem, uint32_t keep_pages)
{
    if (!p || p->n >= p->cap)
        return false;
    rt_memory *m = rt_mem_priv(mem);
    uint64_t keep = (uint64_t)keep_pages * RT_PAGE_SIZE;
    if (keep > m->map_len)
        return false;
    /* An image (module data or snapshot) that would not fit the kept size
     * becomes zero pages; one that fits stays mapped and is reverted
     * below, so the next instance of the same module or snapshot finds it
     * ready. */
    if (m->image_len && m->image_off + m->image_len > keep && !rt_image_unmap(mem))
        return false;
    /* Pages the guest grew into go back to PROT_NONE (and are dropped). */
    if (m->committed > keep) {
        if (!rt_os_decommit(m->map + keep, m->committed - keep))
            return false;
        m->committed = keep;
    }
    /* The image's range: only the pages present in it are dropped (the
     * guest's copies; shared pages are just unmapped); mincore cannot tell
     * written from read pages of a file mapping, so it is not used there.
     * The rest is plain memory, zero before the guest ran. */
    uint64_t ilo = m->image_len ? m->image_off : m->committed, ihi = m->image_off + m->image_len;
    if (m->image_len && !rt_image_revert(mem))
        return false;
    if (!clear_used(p, m, 0, ilo) || (m->image_len && !clear_used(p, m, ihi, m->committed)))
        return false;
    mem->pages = (uint32_t)(m->committed / RT_PAGE_SIZE);
    mem->size = m->committed;
    p->resets++;
    p->v[p->n++] = mem;
    return true;
}

void rt_mempool_stats(const rt_mempool *p, uint64_t *resets, uint64_t *memset_bytes, uint64_t *dropped)
{
    *resets = p ? p->resets : 0;
    *memset_bytes = p ? p->memset_bytes : 0;
    *dropped = p ? p->dropped : 0;
}
