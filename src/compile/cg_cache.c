/*
 * cg_cache.c — the compiled-object cache, the compiler version that keys
 * it, and the support folder (embedded headers + libsledge.a) that cc
 * compiles and links against.
 *
 * Concurrency: several wedge processes may compile the same module at
 * once.  Every file is written under a unique temporary name and renamed
 * into place, so a reader sees either nothing or a complete file; two
 * writers of the same key produce identical content, last rename wins.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cg_internal.h"

#ifndef WEDGE_VERSION
#define WEDGE_VERSION "0"
#endif

static char cg_version[128];
static pthread_once_t cg_version_once = PTHREAD_ONCE_INIT;

static void cg_version_init(void)
{
    cg_sha256 s;
    uint8_t h[32];
    char hex[65];
    cg_sha256_init(&s);
    cg_sha256_update(&s, CG_CODEGEN_REV, strlen(CG_CODEGEN_REV));
    /* The compiler's own sources and the ABI headers and libsledge it
     * embeds, hashed at build time: any codegen change is a new key. */
    cg_sha256_update(&s, wedge_codegen_hash, strlen(wedge_codegen_hash));
    cg_sha256_final(&s, h);
    cg_hex(h, 8, hex);
    snprintf(cg_version, sizeof cg_version, "wedge-%s-%s-%s", WEDGE_VERSION, CG_CODEGEN_REV, hex);
}

const char *cg_compiler_version(void)
{
    pthread_once(&cg_version_once, cg_version_init);
    return cg_version;
}

bool cg_mkdirs(const char *path)
{
    char tmp[4096];
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

/* A unique temporary name next to `path`. */
static void tmp_name(char *out, size_t cap, const char *path)
{
    unsigned k = atomic_fetch_add(&cg_tmp_counter, 1);
    snprintf(out, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k);
}

static bool write_atomic(const char *path, const unsigned char *data, unsigned long len, cg_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && (unsigned long)st.st_size == len)
        return true;
    char tmp[4200];
    tmp_name(tmp, sizeof tmp, path);
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
    char root[4096];
    if (!cg_cache_root(root, sizeof root, err))
        return false;
    int n = snprintf(dir, cap, "%s/support-%s", root, cg_compiler_version());
    if (n < 0 || (size_t)n >= cap || (size_t)n + 32 >= 4096)
        return cg_fail(err, "cache directory path too long");
    if (!cg_mkdirs(dir))
        return cg_fail(err, "%s: cannot create: %s", dir, strerror(errno));
    char p[4200];
    snprintf(p, sizeof p, "%s/wedge_abi.h", dir);
    if (!write_atomic(p, wedge_embed_abi_h, wedge_embed_abi_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_ops.h", dir);
    if (!write_atomic(p, wedge_embed_ops_h, wedge_embed_ops_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_simd.h", dir);
    if (!write_atomic(p, wedge_embed_simd_h, wedge_embed_simd_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/wedge_simd_x86.h", dir);
    if (!write_atomic(p, wedge_embed_simd_x86_h, wedge_embed_simd_x86_h_len, err))
        return false;
    snprintf(p, sizeof p, "%s/libsledge.a", dir);
    return write_atomic(p, wedge_embed_libsledge_a, wedge_embed_libsledge_a_len, err);
}

/* hex = SHA-256(compiler version, options, data): every cache key. */
static void cache_key(const cg_options *o, const void *data, size_t len, char hex[65])
{
    const char *ver = cg_compiler_version();
    char opts[64];
    snprintf(opts, sizeof opts, "O%d;bounds%d", o->opt_level, o->bounds);
    cg_sha256 s;
    uint8_t h[32];
    cg_sha256_init(&s);
    cg_sha256_update(&s, ver, strlen(ver) + 1);
    cg_sha256_update(&s, opts, strlen(opts) + 1);
    cg_sha256_update(&s, data, len);
    cg_sha256_final(&s, h);
    cg_hex(h, 32, hex);
}

/* ---- the file index ------------------------------------------------------
 * `wedge run m.wasm` used to read and hash the whole module on every run
 * (SHA-256 of a 1 MiB module: ~8 ms, most of such a run).  The index maps
 * a file's identity and change times to the object its content compiled
 * to: by-file/<sha256(version, options, dev, ino, size, mtime, ctime)> is
 * a symbolic link to the object's name.  Any write to a file changes its
 * ctime, so a changed file misses and is hashed again.  File times have a
 * coarse clock tick, though: a file written twice within one tick, at the
 * same size, would keep its key.  So, like git's "racily clean" rule, a
 * file changed in the last RACY_SECONDS is never entered. */
enum { RACY_SECONDS = 2 };

static bool file_key_path(const struct stat *st, const cg_options *o, char *out, size_t cap, const char *root)
{
    uint64_t id[8] = {
        (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
        (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
        (uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec, 0,
    };
    char hex[65];
    cache_key(o, id, sizeof id, hex);
    int n = snprintf(out, cap, "%s/by-file/%s", root, hex);
    return n > 0 && (size_t)n < cap;
}

bool cg_cache_lookup_file(const struct stat *st, const cg_options *o, char *so_path, size_t so_path_cap)
{
    char root[4096], key[4200], target[256];
    cg_err err;
    if (!cg_cache_root(root, sizeof root, &err) || !file_key_path(st, o, key, sizeof key, root))
        return false;
    ssize_t n = readlink(key, target, sizeof target - 1);
    if (n <= 0 || (size_t)n >= sizeof target - 1)
        return false;
    target[n] = 0;
    if (strchr(target, '/'))    /* only names in the cache directory are ever written */
        return false;
    int k = snprintf(so_path, so_path_cap, "%s/%s", root, target);
    return k > 0 && (size_t)k < so_path_cap && access(so_path, R_OK) == 0;
}

void cg_cache_remember_file(const struct stat *st, const cg_options *o, const char *so_path)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    int64_t m_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    int64_t c_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    if (now_ns - (m_ns > c_ns ? m_ns : c_ns) <= (int64_t)RACY_SECONDS * 1000000000)
        return;
    char root[4096], key[4200], dir[4200], tmp[4300];
    cg_err err;
    const char *name = strrchr(so_path, '/');
    name = name ? name + 1 : so_path;
    if (!cg_cache_root(root, sizeof root, &err) || !file_key_path(st, o, key, sizeof key, root))
        return;
    snprintf(dir, sizeof dir, "%s/by-file", root);
    if (!cg_mkdirs(dir))
        return;
    tmp_name(tmp, sizeof tmp, key);
    if (symlink(name, tmp) == 0 && rename(tmp, key) != 0)
        unlink(tmp);
}

bool cg_compile_cached(const uint8_t *wasm, size_t len, const char *src_name, const cg_options *o, char *so_path,
                       size_t so_path_cap, cg_err *err)
{
    char root[4096];
    if (!cg_cache_root(root, sizeof root, err))
        return false;
    char hex[65];
    cache_key(o, wasm, len, hex);
    int n = snprintf(so_path, so_path_cap, "%s/%s.so", root, hex);
    if (n < 0 || (size_t)n >= so_path_cap)
        return cg_fail(err, "cache path too long");
    if (access(so_path, R_OK) == 0)
        return true;
    char tmp[4200];
    tmp_name(tmp, sizeof tmp, so_path);
    if (!cg_compile(wasm, len, src_name, tmp, o, err)) {
        unlink(tmp);
        return false;
    }
    if (rename(tmp, so_path) != 0) {
        unlink(tmp);
        return cg_fail(err, "%s: cannot move into the cache: %s", so_path, strerror(errno));
    }
    return true;
}
