/*
 * wasi_fake.h — a fake instance for calling WASI host functions directly:
 * 1 MiB of "linear memory", a wasi_ctx with a temporary directory
 * pre-opened as fd 3 ("/sandbox"), and helpers to put data into guest
 * memory.  Used by test_wasi.c and test_wasi_jail.c.
 */
#ifndef WEDGE_TEST_WASI_FAKE_H
#define WEDGE_TEST_WASI_FAKE_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi.h"
#include "wasi/wasi_host.h"
#include "wasi/wasi_path.h"

#define FAKE_MEM (1u << 20)
#define PRE 3u                       /* the pre-opened sandbox */

/* WASI errno values the tests check (wasi_snapshot_preview1 numbering). */
enum { E_OK = 0, E_BADF = 8, E_EXIST = 20, E_FAULT = 21, E_ILSEQ = 25, E_INVAL = 28, E_ISDIR = 31,
       E_LOOP = 32, E_NAMETOOLONG = 37, E_NOENT = 44, E_NOTDIR = 54, E_NOTEMPTY = 55, E_PERM = 63, E_SPIPE = 70,
       E_NOTCAPABLE = 76 };

static wedge_instance *fk_inst;
static wedge_memory fk_mem;
static wasi_ctx *fk_ctx;
static rt_host_ctxs *fk_hosts;       /* fk_inst->host: WASI in slot 0, as a linker would make it */
static char fk_root[256];            /* the sandbox (host path) */
static char fk_outside[256];         /* a sibling directory that must stay unreachable */
static uint32_t fk_bump;
static bool fk_readonly;             /* set before fk_setup: the sandbox is pre-opened read-only */

static inline uint8_t *G(uint32_t p) { return fk_mem.base + p; }

/* Copy bytes into guest memory; returns their guest address. */
static inline uint32_t gput(const void *p, size_t n)
{
    uint32_t at = fk_bump;
    cr_assert(fk_bump + n + 8 < FAKE_MEM);
    memcpy(G(at), p, n);
    fk_bump = (uint32_t)((fk_bump + n + 7) & ~7u);
    return at;
}
static inline uint32_t gstr(const char *s) { return gput(s, strlen(s)); }
static inline uint32_t galloc(size_t n)
{
    uint32_t at = fk_bump;
    cr_assert(fk_bump + n + 8 < FAKE_MEM);
    memset(G(at), 0, n);
    fk_bump = (uint32_t)((fk_bump + n + 7) & ~7u);
    return at;
}
static inline uint32_t rd32(uint32_t p) { uint32_t v; memcpy(&v, G(p), 4); return v; }
static inline uint64_t rd64(uint32_t p) { uint64_t v; memcpy(&v, G(p), 8); return v; }

static int fk_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static inline void fk_setup_cfg(wasi_config *cfg)
{
    char base[] = "/tmp/wedge-wasi-XXXXXX";
    cr_assert_not_null(mkdtemp(base));
    snprintf(fk_root, sizeof fk_root, "%s/sandbox", base);
    snprintf(fk_outside, sizeof fk_outside, "%s/outside", base);
    cr_assert_eq(mkdir(fk_root, 0755), 0);
    cr_assert_eq(mkdir(fk_outside, 0755), 0);
    char secret[300];
    snprintf(secret, sizeof secret, "%s/secret", fk_outside);
    FILE *f = fopen(secret, "w");
    cr_assert_not_null(f);
    fputs("top secret\n", f);
    fclose(f);

    static wasi_preopen pre;
    pre.host_path = fk_root;
    pre.guest_path = "/sandbox";
    pre.readonly = fk_readonly;
    cfg->npreopens = 1;
    cfg->preopens = &pre;

    char err[256];
    fk_ctx = wasi_ctx_new(cfg, err, sizeof err);
    cr_assert_not_null(fk_ctx, "wasi_ctx_new: %s", err);

    fk_mem.base = calloc(1, FAKE_MEM);
    fk_mem.size = fk_mem.capacity = fk_mem.max = FAKE_MEM;
    fk_mem.pages = fk_mem.max_pages = FAKE_MEM / 65536;
    fk_inst = calloc(1, sizeof *fk_inst);
    fk_inst->mem = &fk_mem;
    fk_hosts = calloc(1, sizeof *fk_hosts + sizeof fk_hosts->slot[0]);
    cr_assert_not_null(fk_hosts);
    fk_hosts->n = 1;
    fk_hosts->slot[0].mod = &wasi_host_module;
    fk_hosts->slot[0].ctx = fk_ctx;
    fk_inst->host = fk_hosts;
    fk_bump = 64;                    /* keep address 0 unused */
}

static inline void fk_setup(void)
{
    static const char *const argv[] = {"prog", "hello", ""};
    static const char *const envp[] = {"HOME=/sandbox", "EMPTY="};
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argc = 3;
    cfg.argv = argv;
    cfg.envc = 2;
    cfg.envp = envp;
    cfg.stdio[0].host_fd = -1;
    cfg.stdio[0].in_buf = (const uint8_t *)"line one\nline two\n";
    cfg.stdio[0].in_len = 18;
    cfg.stdio[1].host_fd = -1;
    cfg.stdio[1].out_limit = 16;
    cfg.stdio[2].host_fd = -1;
    fk_setup_cfg(&cfg);
}

static inline void fk_teardown(void)
{
    wasi_jail_force_walk = 0;
    wasi_ctx_free(fk_ctx);
    free(fk_hosts);
    free(fk_mem.base);
    free(fk_inst);
    char base[256];
    snprintf(base, sizeof base, "%s", fk_root);
    *strrchr(base, '/') = '\0';
    nftw(base, fk_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Open guest `path` under the sandbox; returns the WASI errno, *fd the fd. */
static inline uint32_t fk_open(const char *path, uint32_t oflags, uint64_t rights, uint32_t follow, uint32_t *fd)
{
    uint32_t out = galloc(4);
    uint32_t rc = wasi_path_open(fk_inst, PRE, follow, gstr(path), (uint32_t)strlen(path), oflags, rights,
                                 rights, 0, out);
    *fd = rd32(out);
    return rc;
}

#define R_READ ((uint64_t)1 << 1 | (uint64_t)1 << 14)
#define R_WRITE ((uint64_t)1 << 6)
#define R_RW (R_READ | R_WRITE)
#define R_ALL (((uint64_t)1 << 30) - 1)   /* every right: path_open trims it to the type's */

#endif
