/*
 * cg_support.c — the cache directory and the support folder in it (the
 * embedded ABI headers and libsledge.a that cc compiles and links
 * against), and the write-to-a-temporary-name-then-rename rule both the
 * support folder and the cache (cg_cache.c) follow.  Below the cache and
 * the compile driver: it calls neither.
 *
 * Concurrency: several wedge processes may write the same folder at once.
 * Every file is written under a unique temporary name and renamed into
 * place, so a reader sees either nothing or a complete file; two writers
 * of the same file produce identical content, last rename wins.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg_internal.h"

bool cg_mkdirs(const char *path)
{
    char tmp[CG_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return false;
            tmp[i] = c;
        }
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool cg_cache_root(char *dir, size_t cap, cg_err *err)
{
    const char *e = getenv("WEDGE_CACHE_DIR");
    int n;
    if (e && *e) {
        n = snprintf(dir, cap, "%s", e);
    } else if ((e = getenv("XDG_CACHE_HOME")) && *e) {
        n = snprintf(dir, cap, "%s/wedge", e);
    } else if ((e = getenv("HOME")) && *e) {
        n = snprintf(dir, cap, "%s/.cache/wedge", e);
    } else {
        return cg_fail(err, "no cache directory: set WEDGE_CACHE_DIR or HOME");
    }
    if (n < 0 || (size_t)n >= cap)
        return cg_fail(err, "cache directory path too long");
    if (!cg_mkdirs(dir))
        return cg_fail(err, "%s: cannot create cache directory: %s", dir, strerror(errno));
    return true;
}

static atomic_uint cg_tmp_counter;

void cg_tmp_name(char *out, size_t cap, const char *path)
{
    unsigned k = atomic_fetch_add(&cg_tmp_counter, 1);
    snprintf(out, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k);
}

static bool cg_write_atomic(const char *path, const unsigned char *data, unsigned long len, cg_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && (unsigned long)st.st_size == len)
        return true;
    char tmp[CG_SUBPATH_MAX];
    cg_tmp_name(tmp, sizeof tmp, path);
    FILE *fp = fopen(tmp, "wb");
    if (fp == NULL)
        return cg_fail(err, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok = fwrite(data, 1, len, fp) == len;
    if (fclose(fp) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        unlink(tmp);
        return cg_fail(err, "%s: cannot write", path);
    }
    return true;
}

bool cg_support_dir(char *dir, size_t cap, cg_err *err)
{
    char root[CG_PATH_MAX];
    if (!cg_cache_root(root, sizeof root, err))
        return false;
    int n = snprintf(dir, cap, "%s/support-%s", root, cg_compiler_version());
    if (n < 0 || (size_t)n >= cap || (size_t)n + 32 >= CG_PATH_MAX)
        return cg_fail(err, "cache directory path too long");
    if (!cg_mkdirs(dir))
        return cg_fail(err, "%s: cannot create: %s", dir, strerror(errno));
    char p[CG_SUBPATH_MAX];
    snprintf(p, sizeof p, "%s/wedge_abi.h", dir);
    if (!cg_write_atomic(p, wedge_embed_abi_h, wedge_embed_abi_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_ops.h", dir);
    if (!cg_write_atomic(p, wedge_embed_ops_h, wedge_embed_ops_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_simd.h", dir);
    if (!cg_write_atomic(p, wedge_embed_simd_h, wedge_embed_simd_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_simd_x86.h", dir);
    if (!cg_write_atomic(p, wedge_embed_simd_x86_h, wedge_embed_simd_x86_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/libsledge.a", dir);
    return cg_write_atomic(p, wedge_embed_libsledge_a, wedge_embed_libsledge_a_len, err);
}
