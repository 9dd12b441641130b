/*
 * host_fake.h — a fake instance for calling one host module's functions
 * directly, as a linked guest would: 64 KiB of "linear memory", one context
 * of that module made from its config, and a bump allocator that puts
 * arguments into guest memory.  Used through dagger_fake.h (Dagger) and by
 * test_cwa.c (CommonWA); one module per test process at a time.
 */
#ifndef WEDGE_TEST_HOST_FAKE_H
#define WEDGE_TEST_HOST_FAKE_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

#define MEM (1u << 16)

static wedge_instance *inst;
static wedge_memory mem;
static rt_host_ctxs *hosts;
static void *ctx;
static uint32_t bump;

/* Host function `name` of m (the test fails if there is none). */
static void (*host_fake_fn(const rt_host_module *m, const char *name))(void)
{
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (!strcmp(m->funcs[i].name, name))
            return m->funcs[i].fn;
    cr_assert_fail("%s: no function %s", m->name, name);
    return NULL;
}

/* A fake instance whose only host context is m's, made from cfg. */
static void host_fake_new(const rt_host_module *m, const void *cfg)
{
    mem.base = calloc(1, MEM);
    cr_assert_not_null(mem.base);
    mem.size = mem.capacity = mem.max = MEM;
    mem.pages = mem.max_pages = 1;
    inst = calloc(1, sizeof *inst);
    cr_assert_not_null(inst);
    inst->mem = &mem;
    char err[200] = "";
    ctx = m->ctx_new(cfg, inst, err, sizeof err);
    cr_assert_not_null(ctx, "%s", err);
    hosts = calloc(1, sizeof *hosts + sizeof hosts->slot[0]);
    cr_assert_not_null(hosts);
    hosts->n = 1;
    hosts->slot[0].mod = m;
    hosts->slot[0].ctx = ctx;
    inst->host = hosts;
    bump = 64;
}

static void host_fake_free(const rt_host_module *m)
{
    m->ctx_free(ctx);
    free(hosts);
    free(inst);
    free(mem.base);
}

/* Copies p[0..n) into guest memory; its guest address. */
static uint32_t put(const void *p, size_t n)
{
    uint32_t at = bump;
    cr_assert(bump + n + 8 < MEM);
    memcpy(mem.base + at, p, n);
    bump = (uint32_t)((bump + n + 8) & ~7u);
    return at;
}

#endif
