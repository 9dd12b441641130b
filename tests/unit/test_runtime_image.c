/*
 * test_runtime_image.c — copy-on-write memory images (src/runtime/rt_image.c):
 * an instance made from an image has exactly the bytes the data segments
 * would have copied (later segments win where they overlap), its writes
 * stay its own, and a memory released to a pool or reset is zero again;
 * modules the image cannot represent exactly keep the copy path.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"
#include "runtime/rt_mempool.h"
#include "test_runtime_module.h"

#define MEM_PAGES 8u                           /* 512 KiB */
#define MEM_BYTES ((uint64_t)MEM_PAGES * 65536u)

static uint8_t seg_a[200000], seg_b[50000], seg_small[1000];
static const wedge_desc_limits img_mems[] = {{.has_max = 1, .min = MEM_PAGES, .max = 16}};
static wedge_desc_data img_datas[3];
static wedge_module_desc D;

TM_ENV_MODULE(env_module, tm_add);

/* Segment A at 12388, B overlapping A's middle (B wins there), a passive
 * one that must not appear.  `a_off` moves A, e.g. past the memory's end. */
static rt_module *image_module(uint32_t a_off, uint32_t a_len)
{
    for (size_t i = 0; i < sizeof seg_a; i++)
        seg_a[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof seg_b; i++)
        seg_b[i] = (uint8_t)(i * 13 + 5) | 1;
    memset(seg_small, 0xEE, sizeof seg_small);
    img_datas[0] = (wedge_desc_data){.mode = WEDGE_SEG_ACTIVE, .offset = {.op = WEDGE_CE_I32, .type = WEDGE_VAL_I32, .bits = a_off},
                                     .bytes = seg_a, .len = a_len};
    img_datas[1] = (wedge_desc_data){.mode = WEDGE_SEG_ACTIVE, .offset = {.op = WEDGE_CE_I32, .type = WEDGE_VAL_I32, .bits = 100000},
                                     .bytes = seg_b, .len = sizeof seg_b};
    img_datas[2] = (wedge_desc_data){.mode = 1, .bytes = seg_small, .len = sizeof seg_small};
    D = tm_desc();
    D.mems = img_mems;
    D.ndatas = 3;
    D.datas = img_datas;
    rt_result res;
    rt_module *m = rt_module_wrap(&D, "image.so", &res);
    cr_assert_not_null(m, "wrap: %s", res.msg);
    return m;
}

/* What copying the segments in order gives. */
static uint8_t *expected_memory(uint32_t a_off)
{
    uint8_t *want = calloc(1, MEM_BYTES);
    cr_assert_not_null(want);
    memcpy(want + a_off, seg_a, sizeof seg_a);
    memcpy(want + 100000, seg_b, sizeof seg_b);
    return want;
}

static wedge_instance *instantiate(rt_module *m, rt_mempool *pool, rt_status want)
{
    wedge_instance *inst = NULL;
    rt_result res;
    rt_status st = tm_instantiate_in(m, NULL, tm_linker(&env_module, NULL, 0), pool, &inst, &res);
    cr_assert_eq(st, want, "instantiate: %d %s", st, res.msg);
    return inst;
}

Test(rt_image, image_gives_the_bytes_the_copy_gives)
{
    rt_module *m = image_module(12388, sizeof seg_a);
    cr_assert_geq(m->image.fd, 0, "a 212 KiB image should be built");
    cr_assert_eq(m->image.off, 12288, "image starts at the OS page holding the first byte");
    wedge_instance *inst = instantiate(m, NULL, RT_OK);
    cr_assert_gt(rt_mem_priv(inst->mem)->image_len, 0, "the instance maps the image");
    uint8_t *want = expected_memory(12388);
    cr_assert(memcmp(inst->mem->base, want, MEM_BYTES) == 0, "memory differs from the copied segments");
    cr_assert(inst->data_dropped[0] && inst->data_dropped[1] && !inst->data_dropped[2],
              "active segments dropped, the passive one kept");
    rt_instance_free(inst);
    free(want);
    rt_module_unload(m);
}

Test(rt_image, writes_stay_in_their_instance)
{
    rt_module *m = image_module(12388, sizeof seg_a);
    wedge_instance *a = instantiate(m, NULL, RT_OK);
    wedge_instance *b = instantiate(m, NULL, RT_OK);
    memset(a->mem->base + 12288, 0x5A, 150000);
    uint8_t *want = expected_memory(12388);
    cr_assert(memcmp(b->mem->base, want, MEM_BYTES) == 0, "instance b saw instance a's writes");
    rt_instance_free(a);
    wedge_instance *c = instantiate(m, NULL, RT_OK);
    cr_assert(memcmp(c->mem->base, want, MEM_BYTES) == 0, "a later instance saw an earlier one's writes");
    rt_instance_free(b);
    rt_instance_free(c);
    free(want);
    rt_module_unload(m);
}

Test(rt_image, pooled_memory_is_zero_again_for_the_next_module)
{
    rt_mempool *pool = rt_mempool_new(2);
    cr_assert_not_null(pool);
    rt_module *m = image_module(12388, sizeof seg_a);
    wedge_instance *a = instantiate(m, pool, RT_OK);
    memset(a->mem->base + 20000, 0x77, 4096);
    uint8_t *base = a->mem->base;
    rt_instance_free(a);
    cr_assert_eq(rt_mempool_count(pool), 1, "the memory went back to the pool");

    /* The same shape of memory without data: it must get the pooled one,
     * all zero (neither the image nor the writes may show through). */
    static const wedge_desc_data none[1];
    wedge_module_desc d2 = D;
    d2.ndatas = 0;
    d2.datas = none;
    rt_result res;
    rt_module *plain = rt_module_wrap(&d2, "plain.so", &res);
    cr_assert_not_null(plain, "%s", res.msg);
    cr_assert_lt(plain->image.fd, 0);
    wedge_instance *z = instantiate(plain, pool, RT_OK);
    cr_assert_eq(z->mem->base, base, "the pooled memory was reused");
    for (uint64_t i = 0; i < MEM_BYTES; i++)
        if (z->mem->base[i] != 0)
            cr_assert_fail("byte %llu of a reused memory is 0x%02x, not 0", (unsigned long long)i, z->mem->base[i]);
    rt_instance_free(z);

    /* And the image module again, from the pool: the image's bytes. */
    wedge_instance *again = instantiate(m, pool, RT_OK);
    uint8_t *want = expected_memory(12388);
    cr_assert(memcmp(again->mem->base, want, MEM_BYTES) == 0, "image over a pooled memory differs");
    rt_instance_free(again);
    free(want);
    rt_module_unload(plain);
    rt_module_unload(m);
    rt_mempool_free(pool);
}

Test(rt_image, grow_and_reset_after_an_image)
{
    rt_module *m = image_module(12388, sizeof seg_a);
    wedge_instance *inst = instantiate(m, NULL, RT_OK);
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 2), MEM_PAGES);
    for (uint64_t i = MEM_BYTES; i < MEM_BYTES + 2 * 65536; i++)
        cr_assert_eq(inst->mem->base[i], 0, "grown page not zero");
    inst->mem->base[MEM_BYTES + 5] = 1;
    cr_assert(rt_memory_reset(inst->mem, MEM_PAGES));
    for (uint64_t i = 0; i < MEM_BYTES; i++)
        if (inst->mem->base[i] != 0)
            cr_assert_fail("byte %llu is 0x%02x after a reset", (unsigned long long)i, inst->mem->base[i]);
    cr_assert_eq(rt_mem_priv(inst->mem)->image_len, 0);
    rt_instance_free(inst);
    rt_module_unload(m);
}

Test(rt_image, a_segment_past_the_end_keeps_the_copy_and_its_trap)
{
    /* A ends 1 byte past the memory: applying the segments traps after
     * nothing (A is first), exactly as without images. */
    rt_module *m = image_module((uint32_t)(MEM_BYTES - sizeof seg_a + 1), sizeof seg_a);
    cr_assert_lt(m->image.fd, 0, "no image for a module whose segments trap");
    wedge_instance *inst = instantiate(m, NULL, RT_ERR_TRAP);
    if (inst)
        rt_instance_free(inst);
    rt_module_unload(m);
}

Test(rt_image, small_data_keeps_the_copy)
{
    rt_module *m = image_module(12388, 100);
    cr_assert_geq(m->image.fd, 0, "B alone spans 52 KiB + A: still an image");
    rt_module_unload(m);

    D = tm_desc();              /* the stock module: 4 bytes of data */
    rt_result res;
    rt_module *s = rt_module_wrap(&D, "small.so", &res);
    cr_assert_not_null(s);
    cr_assert_lt(s->image.fd, 0, "4 bytes of data: memcpy, no image");
    wedge_instance *inst = instantiate(s, NULL, RT_OK);
    uint32_t v;
    memcpy(&v, inst->mem->base + 8, 4);
    cr_assert_eq(v, 42);
    rt_instance_free(inst);
    rt_module_unload(s);
}
