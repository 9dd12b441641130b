/*
 * dagger_fake.h — a fake instance for calling the Dagger host module's
 * functions directly, as a linked guest would: 64 KiB of "linear memory",
 * one dagger context made from a config (host_fake.h), and the five calls
 * with URLs and data put into guest memory.  Used by test_dagger.c and
 * test_dagger_http.c.
 */
#ifndef WEDGE_TEST_DAGGER_FAKE_H
#define WEDGE_TEST_DAGGER_FAKE_H

#include "dagger/dagger.h"
#include "host_fake.h"

typedef uint32_t (*fn2)(wedge_instance *, uint32_t, uint32_t);
typedef uint32_t (*fn1)(wedge_instance *, uint32_t);
typedef uint32_t (*fn3)(wedge_instance *, uint32_t, uint32_t, uint32_t);

static void (*dg(const char *name))(void)
{
    return host_fake_fn(&dagger_host_module, name);
}

/* A fake instance whose only host context is Dagger's, made from cfg. */
static void fake_new(const dagger_config *cfg)
{
    host_fake_new(&dagger_host_module, cfg);
}

static void fake_free(void)
{
    host_fake_free(&dagger_host_module);
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
