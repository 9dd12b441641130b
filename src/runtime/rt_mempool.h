/*
 * rt_mempool.h — pools of linear memories, for embedders that instantiate
 * the same module over and over (wedge serve: one pool per worker and
 * route).  Why and how a pooled memory is reset: rt_mempool.c.
 *
 * A pool keeps up to max_kept linear memories between instances; an
 * instance made by rt_instantiate_pooled takes a kept memory of the right
 * shape (else a fresh one) and rt_instance_free gives it back, reset to
 * zero at the module's initial size touching only the pages the guest
 * used.  Data segments are applied per instance as usual.
 *
 * Ownership: the caller owns the pool (rt_mempool_free), and must free
 * every instance that uses it first; the kept memories belong to the pool.
 * Errors: rt_mempool_new returns NULL when out of memory;
 * rt_instantiate_pooled reports like rt_instantiate.
 * Threads: a pool belongs to one thread at a time, and a memory taken
 * from it is written only by the thread that took it until it is given
 * back (its release counts that thread's page faults: rt_mempool.c).
 */
#ifndef WEDGE_RT_MEMPOOL_H
#define WEDGE_RT_MEMPOOL_H

#include "runtime.h"

typedef struct rt_mempool rt_mempool;
rt_mempool *rt_mempool_new(unsigned max_kept);
void rt_mempool_free(rt_mempool *p);
unsigned rt_mempool_count(const rt_mempool *p);
/* Counters: memories given back, bytes cleared with memset, resets that
 * dropped every page instead, resets that asked the kernel which pages
 * are resident (mincore), resets that cleared the pages remembered from
 * the last such look without asking (rt_mempool.c says when). */
typedef struct rt_mempool_counts {
    uint64_t resets, memset_bytes, dropped, scans, quick;
} rt_mempool_counts;
void rt_mempool_stats(const rt_mempool *p, rt_mempool_counts *c);
/* rt_instantiate, with memory 0 taken from (and later given back to) `pool`. */
RT_WARN_UNUSED rt_status rt_instantiate_pooled(rt_module *m, const rt_limits *lim, const rt_linker *lk,
                                               const void *const *host_cfg, rt_mempool *pool, wedge_instance **out,
                                               rt_result *res);

#endif
