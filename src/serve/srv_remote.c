/*
 * srv_remote.c — fetching a store route's state when it loads (see
 * srv_remote.h).  Fetch "lazy" gets only the small state here; its memory
 * comes by page faults per request (srv_lazy.c).
 */
#include "srv_remote.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "runtime/rt_uffd.h"
#include "srv_lazy.h"
#include "srv_log.h"
#include "store/st_transport.h"

/* The node's record of a route's last successful fetch: DIR/ref-HEX with
 * HEX the SHA-256 of (URL, module-only), holding the two cached paths.  A
 * later load that cannot reach the store starts from those files (each
 * named by its content's hash, renamed into place only once whole and
 * checked), so a reload while the store is down keeps serving what this
 * node already had; a route never fetched still fails. */
static void ref_path(const char *dir, const char *url, bool module_only, char *out, size_t cap)
{
    char id[4200], hex[2 * ST_SHA_LEN + 1];
    uint8_t sha[ST_SHA_LEN];
    int n = snprintf(id, sizeof id, "%s\n%d", url, module_only);
    st_sha256(id, n > 0 ? (size_t)n : 0, sha);
    st_sha_hex(sha, hex);
    snprintf(out, cap, "%s/ref-%s", dir, hex);
}

static void ref_write(const char *ref, const char *module, const char *snap)
{
    char tmp[4300];
    /* Per thread: a route's retry (srv_refetch.h) may fetch while a reload does. */
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%lx", ref, (long)getpid(), (unsigned long)pthread_self());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    int ok = fprintf(f, "%s\n%s\n", module, snap) > 0;
    if (fclose(f) != 0 || !ok || rename(tmp, ref) != 0)
        unlink(tmp);
}

/* The cached paths of the last fetch, when both files are still there. */
static bool ref_read(const char *ref, char *module, size_t cap, char *snap, size_t snap_cap)
{
    FILE *f = fopen(ref, "r");
    if (!f)
        return false;
    bool ok = fgets(module, (int)cap, f) && fgets(snap, (int)snap_cap, f);
    fclose(f);
    if (!ok)
        return false;
    module[strcspn(module, "\n")] = 0;
    snap[strcspn(snap, "\n")] = 0;
    return access(module, R_OK) == 0 && (!snap[0] || access(snap, R_OK) == 0);
}

void srv_remote_remember(const srv_route *route, const char *module, const char *snap)
{
    cg_err cerr;
    char dir[4096], ref[4200];
    if (!cg_cache_root(dir, sizeof dir - 8, &cerr))
        return;
    strcat(dir, "/store");
    ref_path(dir, route->path, false, ref, sizeof ref);
    ref_write(ref, module, snap);
}

bool srv_remote_fetch(const srv_route *route, char *module, size_t cap, char *snap, size_t snap_cap,
                      srv_lazy **lazy, char *why, size_t why_cap)
{
    char err[ST_ERR_LEN];
    st_url u;
    st_key key;
    *lazy = NULL;
    if (st_node_open(route->path, route->store_key_file, &u, &key, err) != 0) {
        snprintf(why, why_cap, "%s", err);
        return false;
    }
    bool module_only = route->granularity && !strcmp(route->granularity, "module");
    bool want_lazy = route->fetch && !strcmp(route->fetch, "lazy") && !module_only;
    char uwhy[256];
    if (want_lazy && !rt_uffd_probe(uwhy, sizeof uwhy)) {
        srv_log(SRV_LOG_WARN, "route %s: %s; fetching eagerly", route->name, uwhy);
        want_lazy = false;
    }
    cg_err cerr;
    char dir[4096], ref[4200];
    if (!cg_cache_root(dir, sizeof dir - 8, &cerr)) {
        snprintf(why, why_cap, "%s", cerr.msg);
        return false;
    }
    strcat(dir, "/store");
    ref_path(dir, route->path, module_only, ref, sizeof ref);
    if (want_lazy) {
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            snprintf(why, why_cap, "%s: cannot create the store cache", dir);
            return false;
        }
        if (srv_lazy_open(route, dir, module, cap, snap, snap_cap, lazy, err, sizeof err)) {
            if (!*lazy) /* the whole snapshot was here already */
                ref_write(ref, module, snap);
            return true;
        }
    } else if (st_node_fetch(&u, &key, dir, module_only, SRV_REMOTE_TIMEOUT_MS, module, cap, snap, snap_cap, err) ==
               0) {
        ref_write(ref, module, snap);
        return true;
    }
    if (ref_read(ref, module, cap, snap, snap_cap)) {
        srv_log(SRV_LOG_WARN, "route %s: %s; starting from this node's cached copy", route->name, err);
        return true;
    }
    snprintf(why, why_cap, "%s", err);
    return false;
}
