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
 * resident now are exactly the pages touched since — unless the
 * system has swap, where a touched page may be out of memory: then every
 * reset drops all pages (madvise), which is always correct (whether there
 * is swap is looked up at most once a second: swap_configured).  A few of
 * them are cleared with memset and stay resident (the next guest touches
 * the same stack/data/heap pages again and takes no fault); when many
 * were touched, madvise drops them instead, so an idle pooled memory
 * never pins what one large request used.  Pages beyond the module's
 * initial size (memory.grow) are decommitted again.
 *
 * Which pages are resident: asking the kernel (mincore) costs 1.2–1.6 µs
 * per call on a VM, more than the rest of a pooled hello sandbox.  So it
 * is asked only when something may have changed: a reset that asked
 * remembers the resident runs (track, in the memory); a page that was not
 * resident can only become so through a page fault, which the kernel
 * counts for the thread that takes it (guest code, host code, or the
 * kernel itself copying into guest memory for a read(): all on the
 * thread the sandbox runs on).  If the thread that took the memory has
 * taken no fault since it last looked (one getrusage, ~0.3 µs), only the
 * remembered runs can hold data and they are cleared with memset: no
 * mincore.  Any fault at all (the guest's footprint grew, or unrelated
 * host work faulted) falls back to mincore, which is always right.  For
 * the count to see every write, the tracked range has no transparent huge
 * pages (khugepaged could otherwise make untouched pages resident, which
 * a later write then fills without a fault): MADV_NOHUGEPAGE on it when
 * the runs are recorded.  Memories with an image (their image pages fault
 * on every request anyway) and systems with swap never take this path.
 *
 * A pool is not thread-safe: its owner (one worker thread) takes and
 * gives back.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "rt_internal.h"
#include "rt_mempool.h"

/* Up to this many resident bytes are cleared with memset; more are dropped. */
#define RT_MEMPOOL_MEMSET_MAX ((uint64_t)256 << 10)
/* The residency vector covers this much memory; beyond it, drop everything. */
#define RT_MEMPOOL_VEC_BYTES ((uint64_t)64 << 20)

/* The calling thread's page faults as last read at a release (known),
 * the baseline of the memories it takes; its address is the thread's
 * identity in a track. */
static _Thread_local struct {
    uint64_t faults;
    bool known;
} tls_faults;

struct rt_mempool {
    wedge_memory **v;
    unsigned n, cap;
    unsigned char *vec;         /* mincore output, RT_MEMPOOL_VEC_BYTES / 4 KiB */
    uint64_t resets, memset_bytes, dropped, scans, quick;
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
        /* The fault count its release compares with: this thread's as
         * last read (faults since then only make the release look).  A
         * kept memory that shows an image has no valid track (give). */
        m->track.thread = tls_faults.known ? (const void *)&tls_faults : NULL;
        m->track.faults = tls_faults.faults;
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

/* The calling thread's page faults so far, minor and major (one
 * getrusage). */
static bool thread_faults(uint64_t *out)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return false;
    *out = (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
    return true;
}

/* Zeroes [lo, hi) of plain (not image) memory touching only resident
 * pages; false if the OS refused.  With `t`, records the runs left
 * resident into it (t->valid false when they cannot be known). */
static bool clear_used(rt_mempool *p, rt_memory *m, uint64_t lo, uint64_t hi, rt_mempool_track *t)
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
    p->scans++;
    size_t npages = (size_t)((len + RT_OS_PAGE - 1) / RT_OS_PAGE);
    uint64_t resident = 0;
    for (size_t i = 0; i < npages; i++)
        resident += p->vec[i] & 1;
    resident *= RT_OS_PAGE;
    if (resident > RT_MEMPOOL_MEMSET_MAX) {
        p->dropped++;
        if (t)
            t->valid = true;       /* nothing stays resident */
        return rt_os_zero(base, len);
    }
    if (t)
        t->valid = true;
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
        if (t && t->nruns < RT_MEMPOOL_RUNS) {
            t->lo[t->nruns] = (uint32_t)i;
            t->hi[t->nruns++] = (uint32_t)j;
        } else if (t) {
            t->valid = false;      /* too scattered to remember: ask again next time */
        }
        i = j;
    }
    p->memset_bytes += resident;
    return true;
}

/* The remembered runs of a plain memory, cleared with memset: right only
 * when no page of [0, committed) can have become resident since they were
 * recorded (see the top of this file). */
static void clear_runs(rt_mempool *p, rt_memory *m)
{
    const rt_mempool_track *t = &m->track;
    for (uint32_t k = 0; k < t->nruns; k++) {
        uint64_t a = (uint64_t)t->lo[k] * RT_OS_PAGE, b = (uint64_t)t->hi[k] * RT_OS_PAGE;
        memset(m->map + a, 0, b - a);
        p->memset_bytes += b - a;
    }
}

bool rt_mempool_give(rt_mempool *p, wedge_memory *mem, uint32_t keep_pages)
{
    if (!p || p->n >= p->cap)
        return false;
    rt_memory *m = rt_mem_priv(mem);
    uint64_t keep = (uint64_t)keep_pages * RT_PAGE_SIZE;
    if (keep > m->map_len)
        return false;
    /* First, before this function could fault: whether this thread took
     * any page fault since the memory was taken. */
    uint64_t faults = 0;
    bool counted = !m->image_len && thread_faults(&faults);
    bool quiet = counted && m->track.valid && m->track.thread == (const void *)&tls_faults &&
                 m->track.faults == faults;
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
    if (quiet && m->track.span == m->committed && !swap_configured()) {
        p->quick++;
        clear_runs(p, m);
    } else if (!m->image_len) {
        /* Plain memory: look, and remember what stays resident for the
         * next release (the range must hold no huge pages for that). */
        rt_mempool_track t = {.span = m->committed};
        if (!clear_used(p, m, 0, m->committed, &t))
            return false;
        if (t.valid && m->committed && madvise(m->map, m->committed, MADV_NOHUGEPAGE) != 0)
            t.valid = false;
        m->track = t;
    } else {
        /* The image's range: only the pages present in it are dropped (the
         * guest's copies; shared pages are just unmapped); mincore cannot
         * tell written from read pages of a file mapping, so it is not used
         * there.  The rest is plain memory, zero before the guest ran. */
        m->track.valid = false;
        uint64_t ilo = m->image_off, ihi = m->image_off + m->image_len;
        if (!rt_image_revert(mem))
            return false;
        if (!clear_used(p, m, 0, ilo, NULL) || !clear_used(p, m, ihi, m->committed, NULL))
            return false;
    }
    if (counted) {
        tls_faults.faults = faults;
        tls_faults.known = true;
    }
    mem->pages = (uint32_t)(m->committed / RT_PAGE_SIZE);
    mem->size = m->committed;
    p->resets++;
    p->v[p->n++] = mem;
    return true;
}

void rt_mempool_stats(const rt_mempool *p, rt_mempool_counts *c)
{
    *c = (rt_mempool_counts){0};
    if (p)
        *c = (rt_mempool_counts){.resets = p->resets, .memset_bytes = p->memset_bytes, .dropped = p->dropped,
                                 .scans = p->scans, .quick = p->quick};
}
