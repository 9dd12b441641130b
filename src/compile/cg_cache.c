/*
 * cg_cache.c — the compiled-object cache: content-keyed objects and the
 * file index.  It calls the compile driver (cg_cc.c) on a miss; the
 * version that keys it (cg_version.c) and the cache directory
 * (cg_support.c) sit below both.
 *
 * Concurrency: several wedge processes may compile the same module at
 * once.  Every file is written under a unique temporary name and renamed
 * into place (cg_tmp_name), so a reader sees either nothing or a complete
 * file; two writers of the same key produce identical content, last
 * rename wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cg_internal.h"

/* hex = SHA-256(compiler version, options, data): every cache key. */
static void cache_key(const cg_options *o, const void *data, size_t len, char hex[65])
{
    const char *ver = cg_compiler_version();
    char opts[64];
    /* $WEDGE_COLD (cg_plan.c) changes the code, so it is part of the key
     * when it forces a tier; the default adds nothing. */
    const char *cold = getenv("WEDGE_COLD");
    bool forced = cold && (strcmp(cold, "none") == 0 || strcmp(cold, "mixed") == 0 || strcmp(cold, "all") == 0);
    snprintf(opts, sizeof opts, "O%d;bounds%d%s%s", o->opt_level, o->bounds, forced ? ";cold=" : "",
             forced ? cold : "");
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
 * file changed in the last RACY_SECONDS before its bytes were read is
 * never entered.  The time that counts is the read, not the end of the
 * compile: a compile slower than RACY_SECONDS must not make a racy file
 * look settled. */
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
    char root[CG_PATH_MAX], key[CG_SUBPATH_MAX], target[256];
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

void cg_cache_remember_file(const struct stat *st, int64_t read_ns, const cg_options *o, const char *so_path)
{
    int64_t m_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    int64_t c_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    if (read_ns - (m_ns > c_ns ? m_ns : c_ns) <= (int64_t)RACY_SECONDS * 1000000000)
        return;
    char root[CG_PATH_MAX], key[CG_SUBPATH_MAX], dir[CG_SUBPATH_MAX], tmp[CG_SUBPATH_MAX + 100];
    cg_err err;
    const char *name = strrchr(so_path, '/');
    name = name ? name + 1 : so_path;
    if (!cg_cache_root(root, sizeof root, &err) || !file_key_path(st, o, key, sizeof key, root))
        return;
    snprintf(dir, sizeof dir, "%s/by-file", root);
    if (!cg_mkdirs(dir))
        return;
    cg_tmp_name(tmp, sizeof tmp, key);
    if (symlink(name, tmp) == 0 && rename(tmp, key) != 0)
        unlink(tmp);
}

bool cg_compile_cached(const uint8_t *wasm, size_t len, const char *src_name, const cg_options *o, char *so_path,
                       size_t so_path_cap, cg_err *err)
{
    char root[CG_PATH_MAX];
    if (!cg_cache_root(root, sizeof root, err))
        return false;
    char hex[65];
    cache_key(o, wasm, len, hex);
    int n = snprintf(so_path, so_path_cap, "%s/%s.so", root, hex);
    if (n < 0 || (size_t)n >= so_path_cap)
        return cg_fail(err, "cache path too long");
    if (access(so_path, R_OK) == 0)
        return true;
    char tmp[CG_SUBPATH_MAX];
    cg_tmp_name(tmp, sizeof tmp, so_path);
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
