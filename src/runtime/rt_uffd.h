/*
 * rt_uffd.h — lazy memory: a range of anonymous memory whose pages are
 * filled on first touch by a caller's fetch callback (Linux userfaultfd),
 * for instances whose linear memory lives elsewhere (a store node).
 *
 * A handler thread waits for faults in the range; for a fault it asks the
 * callback for the block of `grain` bytes around it (a page, a region, or
 * the whole range), installs the pages of that block not present yet
 * (UFFDIO_COPY) and wakes the faulting thread.  Accesses by the kernel on
 * behalf of a system call (read() into a guest buffer, write() from one)
 * fault the same way, because the range is registered without
 * UFFD_USER_MODE_ONLY: a host call touching memory the guest never touched
 * just waits for the fetch like the guest would.
 *
 * Failure is closed: when the callback fails, the handler makes the whole
 * range inaccessible (PROT_NONE) and wakes every waiter, so the access
 * traps (guest) or fails with EFAULT (kernel) instead of seeing pages that
 * were never fetched; rt_uffd_failed then says so.
 *
 * Ownership: the caller owns the range's mapping and keeps it mapped until
 * rt_uffd_close, which stops the thread and unregisters the range.
 * Errors: rt_uffd_open returns NULL with one line in err (in particular
 * when userfaultfd is not available: callers fall back to eager copies).
 * Threads: the callback runs on the handler thread, one call at a time;
 * everything else may be called from any one thread.
 */
#ifndef WEDGE_RT_UFFD_H
#define WEDGE_RT_UFFD_H

#include <stddef.h>
#include <stdint.h>

#define RT_UFFD_PAGE 4096u

typedef struct rt_uffd rt_uffd;

/* Fill dst with the len bytes of the range at offset off (both multiples
 * of RT_UFFD_PAGE; len may be shorter than the grain at the range's end).
 * 0 on success, -1 on failure. */
typedef int (*rt_uffd_fetch_fn)(void *arg, uint64_t off, uint8_t *dst, size_t len);

typedef struct rt_uffd_stats {
    uint64_t faults;            /* faults served */
    uint64_t pages_installed;   /* pages filled, by faults or rt_uffd_install */
    uint64_t fetch_calls;       /* callback calls */
    uint64_t bytes_fetched;     /* bytes the callback was asked for */
} rt_uffd_stats;

/* 1 when userfaultfd can be used here; else 0 with the reason in why (one
 * line), for callers to log before falling back to eager copies. */
int rt_uffd_probe(char *why, size_t whycap);

/* Registers [base, base+len) (page-aligned, mapped read-write, anonymous
 * and not touched yet) and starts the handler.  grain: a multiple of the
 * page; 0 means the whole range.  record: keep the first-touch order of
 * faulting pages (rt_uffd_touched). */
__attribute__((warn_unused_result)) rt_uffd *rt_uffd_open(void *base, size_t len, size_t grain, int record,
                                                          rt_uffd_fetch_fn fetch, void *arg, char *err,
                                                          size_t errcap);

/* Installs data at offset off (pages not present yet only), e.g. a
 * prefetched working set before the first instruction.  0, or -1. */
__attribute__((warn_unused_result)) int rt_uffd_install(rt_uffd *u, uint64_t off, const uint8_t *data, size_t len);

/* Marks [off, off+len) (page multiples) as present without copying: pages
 * the caller filled itself before rt_uffd_open (e.g. a working set fetched
 * straight into the memory), which faults must neither fill again nor
 * record.  0, or -1 for a range outside. */
__attribute__((warn_unused_result)) int rt_uffd_mark_present(rt_uffd *u, uint64_t off, size_t len);

/* 1 when a fetch failed and the range was closed off. */
int rt_uffd_failed(const rt_uffd *u);
void rt_uffd_get_stats(const rt_uffd *u, rt_uffd_stats *out);
/* The pages (index from base) that faulted, in first-touch order; valid
 * until rt_uffd_close.  Call after the instance stopped running. */
const uint32_t *rt_uffd_touched(const rt_uffd *u, uint32_t *n);
/* Stops the handler and unregisters the range (pages stay as they are). */
void rt_uffd_close(rt_uffd *u);

#endif
