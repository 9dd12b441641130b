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
 * Threads: a pool belongs to one thread at a time.
 */
#ifndef WEDGE_RT_MEMPOOL_H
#define WEDGE_RT_MEMPOOL_H

#include "runtime.h"

typedef struct rt_mempool rt_mempool;
rt_mempool *rt_mempool_new(unsigned max_kept);
void rt_mempool_free(rt_mempool *p);
unsigned rt_mempool_count(const rt_mempool *p);
/* Counters: memories given back, bytes cleared with memset, resets that
 * dropped every page instead. */
void rt_mempool_stats(const rt_mempool *p, uint64_t *resets, uint64_t *memset_bytes, uint64_t *dropped);
/* rt_instantiate, with memory 0 taken from (and later given back to) `pool`. */
RT_WARN_UNUSED rt_status rt_instantiate_pooled(rt_module *m, const rt_limits *lim, const rt_linker *lk,
                                               const void *const *host_cfg, rt_mempool *pool, wedge_instance **out,
                                               rt_result *res);

#endif
