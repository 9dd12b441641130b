/*
 * dagger_fake.h — a fake instance for calling the Dagger host module's
 * functions directly, as a linked guest would: 64 KiB of "linear memory",
 * one dagger context made from a config, and helpers that put URLs and
 * data into guest memory.  Used by test_dagger.c and test_dagger_http.c.
 */
#ifndef WEDGE_TEST_DAGGER_FAKE_H
#define WEDGE_TEST_DAGGER_FAKE_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dagger/dagger.h"

#define MEM (1u << 16)

static wedge_instance *inst;
static wedge_memory mem;
static rt_host_ctxs *hosts;
static void *ctx;
static uint32_t bump;

typedef uint32_t (*fn2)(wedge_instance *, uint32_t, uint32_t);
typedef uint32_t (*fn1)(wedge_instance *, uint32_t);
typedef uint32_t (*fn3)(wedge_instance *, uint32_t, uint32_t, uint32_t);

static void (*dg(const char *name))(void)
{
    for (uint32_t i = 0; i < dagger_host_module.nfuncs; i++)
        if (!strcmp(dagger_host_module.funcs[i].name, name))
            return dagger_host_module.funcs[i].fn;
    cr_assert_fail("no function %s", name);
    return NULL;
}

/* A fake instance whose only host context is Dagger's, made from cfg. */
static void fake_new(const dagger_config *cfg)
{
    mem.base = calloc(1, MEM);
    mem.size = mem.capacity = mem.max = MEM;
    mem.pages = mem.max_pages = 1;
    inst = calloc(1, sizeof *inst);
    inst->mem = &mem;
    char err[200] = "";
    ctx = dagger_host_module.ctx_new(cfg, inst, err, sizeof err);
    cr_assert_not_null(ctx, "%s", err);
    hosts = calloc(1, sizeof *hosts + sizeof hosts->slot[0]);
    hosts->n = 1;
    hosts->slot[0].mod = &dagger_host_module;
    hosts->slot[0].ctx = ctx;
    inst->host = hosts;
    bump = 64;
}

static void fake_free(void)
{
    dagger_host_module.ctx_free(ctx);
    free(hosts);
    free(inst);
    free(mem.base);
}

static uint32_t put(const void *p, size_t n)
{
    uint32_t at = bump;
    cr_assert(bump + n + 8 < MEM);
    memcpy(mem.base + at, p, n);
    bump = (uint32_t)((bump + n + 8) & ~7u);
    return at;
}
static int32_t d_open_n(const char *url, uint32_t len) { return (int32_t)((fn2)dg("open"))(inst, put(url, strlen(url) + 1), len); }
static int32_t d_open(const char *url) { return d_open_n(url, (uint32_t)strlen(url)); }
static int32_t d_close(int32_t sd) { return (int32_t)((fn1)dg("close"))(inst, (uint32_t)sd); }
static int32_t d_flush(int32_t sd) { return (int32_t)((fn1)dg("flush"))(inst, (uint32_t)sd); }
static int32_t d_write(int32_t sd, const char *s)
{
    return (int32_t)((fn3)dg("write"))(inst, (uint32_t)sd, put(s, strlen(s)), (uint32_t)strlen(s));
}
static int32_t d_read(int32_t sd, char *buf, uint32_t len)
{
    uint32_t at = put("", 0);
    bump += len + 8;
    cr_assert(bump < MEM);
    int32_t n = (int32_t)((fn3)dg("read"))(inst, (uint32_t)sd, at, len);
    if (n > 0)
        memcpy(buf, mem.base + at, (size_t)n);
    return n;
}

#endif
