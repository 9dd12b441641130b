/*
 * test_serve_pool.c — pooled linear memories (rt_mempool.h), as
 * wedge serve's workers use them: a memory comes back zeroed at the
 * module's initial size with its data segments applied again, touched
 * pages are cleared and grown pages dropped, and only memories of the
 * right shape are reused.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "runtime/rt_mempool.h"
#include "runtime/runtime.h"
#include "test_runtime_module.h"

static void host_act(wedge_instance *inst, uint32_t what) { (void)inst, (void)what; }

TM_ENV_MODULE(env_module, host_act);

static wedge_module_desc D, D2;

static rt_module *wrap(wedge_module_desc *d)
{
    rt_result res;
    rt_module *m = rt_module_wrap(d, "pool.so", &res);
    cr_assert_not_null(m, "wrap failed: %s", res.msg);
    return m;
}

static wedge_instance *inst_new(rt_module *m, rt_mempool *pool)
{
    rt_result res;
    wedge_instance *inst = NULL;
    rt_status st = tm_instantiate_in(m, NULL, tm_linker(&env_module, NULL, 0), pool, &inst, &res);
    cr_assert_eq(st, RT_OK, "instantiate: %s", res.msg);
    return inst;
}

static bool all_zero(const uint8_t *p, size_t n, size_t skip_lo, size_t skip_hi)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] && !(i >= skip_lo && i < skip_hi))
            return false;
    return true;
}

Test(rt_mempool, reused_memory_is_zero_with_data_applied_again)
{
    rt_result res;
    cr_assert(rt_init(&res));
    D = tm_desc();
    rt_module *m = wrap(&D);
    rt_mempool *pool = rt_mempool_new(4);
    cr_assert_not_null(pool);

    wedge_instance *a = inst_new(m, pool);
    uint8_t *base = a->mem->base;
    cr_assert_eq(base[8], 0x2a);
    /* Scribble over the data segment, a few scattered pages and the last byte. */
    memset(base, 0xAB, 100);
    base[20000] = 1;
    base[65535] = 2;
    rt_instance_free(a);
    cr_assert_eq(rt_mempool_count(pool), 1);

    wedge_instance *b = inst_new(m, pool);
    cr_assert_eq(b->mem->base, base, "the pooled memory was not reused");
    cr_assert_eq(rt_mempool_count(pool), 0);
    cr_assert_eq(b->mem->pages, 1);
    cr_assert_eq(base[8], 0x2a, "data segment not applied to the reused memory");
    cr_assert(all_zero(base, 65536, 8, 12), "a touched byte survived the reset");
    rt_instance_free(b);

    rt_mempool_counts c;
    rt_mempool_stats(pool, &c);
    cr_assert_eq(c.resets, 2);
    cr_assert_gt(c.memset_bytes, 0);
    rt_mempool_free(pool);
    rt_module_unload(m);
}

Test(rt_mempool, grown_pages_are_dropped_and_read_zero_after_growing_again)
{
    rt_result res;
    cr_assert(rt_init(&res));
    D = tm_desc();
    rt_module *m = wrap(&D);
    rt_mempool *pool = rt_mempool_new(1);
    wedge_instance *a = inst_new(m, pool);
    cr_assert_eq(wedge_rt_memory_grow(a, a->mem, 3), 1);
    cr_assert_eq(a->mem->pages, 4);
    memset(a->mem->base, 0x5A, 4 * 65536);
    uint8_t *base = a->mem->base;
    rt_instance_free(a);

    wedge_instance *b = inst_new(m, pool);
    cr_assert_eq(b->mem->base, base);
    cr_assert_eq(b->mem->pages, 1, "a reused memory must start at the module's minimum");
    cr_assert_eq(b->mem->size, 65536);
    cr_assert_eq(wedge_rt_memory_grow(b, b->mem, 3), 1);
    cr_assert(all_zero(base, 4 * 65536, 8, 12), "grown pages kept old contents");
    rt_instance_free(b);
    rt_mempool_free(pool);
    rt_module_unload(m);
}

Test(rt_mempool, keeps_at_most_its_capacity_and_only_matching_shapes)
{
    rt_result res;
    cr_assert(rt_init(&res));
    D = tm_desc();
    D2 = tm_desc();
    static const wedge_desc_limits other_mems[] = {{.has_max = 1, .min = 1, .max = 2}};
    D2.mems = other_mems;
    rt_module *m = wrap(&D), *m2 = wrap(&D2);
    rt_mempool *pool = rt_mempool_new(1);
    wedge_instance *a = inst_new(m, pool), *b = inst_new(m, pool);
    rt_instance_free(a);
    rt_instance_free(b);
    cr_assert_eq(rt_mempool_count(pool), 1, "pool holds more than its capacity");

    /* A module whose memory has another maximum must not get it. */
    wedge_instance *c = inst_new(m2, pool);
    cr_assert_eq(rt_mempool_count(pool), 1);
    cr_assert_eq(c->mem->max_pages, 2);
    rt_instance_free(c);
    rt_mempool_free(pool);
    rt_module_unload(m);
    rt_module_unload(m2);
}

/* Without a pool the instance frees its memory as before. */
Test(rt_mempool, null_pool_is_plain_instantiate)
{
    rt_result res;
    cr_assert(rt_init(&res));
    D = tm_desc();
    rt_module *m = wrap(&D);
    wedge_instance *a = inst_new(m, NULL);
    cr_assert_eq(a->mem->base[8], 0x2a);
    rt_instance_free(a);
    rt_module_unload(m);
}

/* all_zero without reading (so without mapping) the pages that are not
 * resident: those read as zero and hold nothing (with swap, every release
 * drops all pages anyway).  Reading them would make every page resident,
 * and the pool would then clear them all. */
static bool resident_zero(const uint8_t *p, size_t n, size_t skip_lo, size_t skip_hi)
{
    unsigned char vec[64];
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    cr_assert_leq(n / pg, sizeof vec);
    cr_assert_eq(mincore((void *)p, n, vec), 0);
    for (size_t i = 0; i < n; i += pg)
        if ((vec[i / pg] & 1) && !all_zero(p + i, pg, skip_lo - (skip_lo < i ? skip_lo : i),
                                          skip_hi > i ? skip_hi - i : 0))
            return false;
    return true;
}

/* Round after round on one thread the release stops asking the kernel
 * which pages are resident (the thread took no page fault: only the pages
 * cleared last time can hold data); a page written for the first time,
 * whether by guest or host code or by the kernel for a read(), and the
 * top bytes of the memory, grown or not, are still cleared every time. */
Test(rt_mempool, quick_release_still_clears_every_written_byte)
{
    rt_result res;
    cr_assert(rt_init(&res));
    D = tm_desc();
    rt_module *m = wrap(&D);
    rt_mempool *pool = rt_mempool_new(2);
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    enum { ROUNDS = 40 };
    uint8_t *base = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        wedge_instance *a = inst_new(m, pool);
        if (r == 0)
            base = a->mem->base;
        cr_assert_eq(a->mem->base, base, "round %d: the pooled memory was not reused", r);
        cr_assert_eq(a->mem->size, 65536, "round %d: not back at its initial size", r);
        cr_assert(resident_zero(base, 65536, 8, 12), "round %d: a byte of the last guest survived", r);
        cr_assert_eq(base[8], 0x2a);
        /* The same footprint every round: data, a stack-like page, the top. */
        memset(base, 0xC3, 64);
        base[30000] = (uint8_t)r | 1;
        base[65535] = 0x7e;
        if (r == 10)
            base[45000] = 9;                         /* a page first written now */
        if (r == 20) {                               /* the kernel writes a new page */
            cr_assert_eq(write(pfd[1], "host bytes", 10), 10);
            cr_assert_eq(read(pfd[0], base + 52000, 10), 10);
        }
        if (r == 30) {                               /* the top of a grown memory */
            cr_assert_eq(wedge_rt_memory_grow(a, a->mem, 1), 1);
            base[2 * 65536 - 1] = 0x55;
            base[65536] = 0x56;
        }
        rt_instance_free(a);
    }
    wedge_instance *a = inst_new(m, pool);
    cr_assert(resident_zero(base, 65536, 8, 12), "a byte of the last guest survived");
    cr_assert_eq(wedge_rt_memory_grow(a, a->mem, 1), 1);
    cr_assert(resident_zero(base + 65536, 65536, 1, 0), "grown pages kept old contents");
    rt_instance_free(a);
    rt_mempool_counts c;
    rt_mempool_stats(pool, &c);
    cr_assert_eq(c.resets, ROUNDS + 1);
    /* Steady rounds must not all ask the kernel: at most the first ones and
     * those after the footprint changed (and a few after unrelated faults).
     * With swap every release drops all pages instead (rt_mempool.c). */
    struct sysinfo si;
    if (sysinfo(&si) == 0 && si.totalswap == 0) {
        cr_assert_leq(c.quick + c.scans, c.resets);
        cr_assert_gt(c.quick, ROUNDS / 2, "only %llu of %llu releases skipped mincore", (unsigned long long)c.quick,
                     (unsigned long long)c.resets);
    } else {
        cr_log_warn("1 check skipped: this system has swap, so every release drops its pages (no quick path)");
        cr_assert_eq(c.quick, 0);
    }
    close(pfd[0]);
    close(pfd[1]);
    rt_mempool_free(pool);
    rt_module_unload(m);
}
