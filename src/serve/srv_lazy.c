/*
 * srv_lazy.c — lazy store routes under `wedge serve` (see srv_lazy.h): the
 * small state at load, per-request fault handling, the working set, and
 * the background fill of the node cache.
 *
 * Failing a fault: the handler thread (rt_uffd_linux.c) fails closed —
 * PROT_NONE over the memory, every waiter woken — rather than zero-filling
 * and poisoning a flag for the next preemption point: a zero page would be
 * *read* by the guest before any check could run, while an inaccessible
 * memory stops the very access that needed the missing bytes (a guest load
 * traps at once, a host call's copy gets EFAULT), and the outcome is then
 * replaced here whatever the guest made of it.  Each fetch gives up at the
 * store timeout or the request's deadline, whichever comes first.
 */
#define _GNU_SOURCE
#include "srv_lazy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rt_uffd.h"
#include "srv_log.h"
#include "srv_remote.h"
#include "srv_retry.h"
#include "srv_sandbox.h"
#include "store/st_transport.h"
#include "util/util.h"

#define SRV_LAZY_IDLE 4                 /* store connections kept between requests */

struct srv_lazy {
    const srv_route *route;
    st_url u;
    st_key key;
    char dir[4096];                     /* the node cache */
    st_blob_ref snap;
    st_extent *ext;
    uint32_t n_ext, pages;
    size_t grain;                       /* bytes per fault; 0: the whole memory */
    rt_module *mod;
    uint8_t hash[RT_SNAPSHOT_HASH_BYTES];
    char module_path[4200];
    _Atomic(rt_snapshot *) full;        /* the whole snapshot, once in the node cache */
    pthread_mutex_t mu;                 /* everything below */
    st_conn *idle[SRV_LAZY_IDLE];
    unsigned nidle;
    bool wset_known;                    /* asked the store (or recorded one) */
    uint32_t *wset, nwset;
    srv_retry bg;                       /* the fill of the node cache (its own lock) */
};

/* ---- at load ---------------------------------------------------------------- */

bool srv_lazy_open(const srv_route *route, const char *dir, char *module, size_t cap, char *small, size_t small_cap,
                   srv_lazy **out, char *why, size_t why_cap)
{
    char err[ST_ERR_LEN];
    *out = NULL;
    srv_lazy *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(why, why_cap, "out of memory");
        return false;
    }
    if (st_node_open(route->path, route->store_key_file, &z->u, &z->key, err) != 0) {
        snprintf(why, why_cap, "%s", err);
        free(z);
        return false;
    }
    st_conn *c = st_connect_retry(&z->u, &z->key, SRV_REMOTE_TIMEOUT_MS, ST_CONNECT_ATTEMPTS, err);
    st_manifest m;
    memset(&m, 0, sizeof m);
    bool ok = c && st_manifest_get(c, z->u.name, &m, err) == 0 &&
              st_cache_blob(c, &m.module, dir, ".wasm", module, cap, err) == 0;
    small[0] = 0;
    if (ok && m.has_snap) {
        char hex[2 * ST_SHA_LEN + 1];
        struct stat stt;
        st_sha_hex(m.snap.sha, hex);
        snprintf(small, small_cap, "%s/%s.snap", dir, hex);
        bool whole = stat(small, &stt) == 0 && S_ISREG(stt.st_mode) && (uint64_t)stt.st_size == m.snap.size;
        if (!whole && m.n_extents) {
            ok = st_lazy_small_state(c, &m, dir, small, small_cap, err) == 0;
            if (ok) {
                z->route = route;
                snprintf(z->dir, sizeof z->dir, "%s", dir);
                snprintf(z->module_path, sizeof z->module_path, "%s", module);
                z->snap = m.snap;
                z->ext = m.extents;         /* taken from the manifest */
                z->n_ext = m.n_extents;
                m.extents = NULL;
                m.n_extents = 0;
                z->pages = m.mem_pages;
                const char *g = route->granularity ? route->granularity : "page";
                z->grain = !strcmp(g, "instance")       ? 0
                           : !strncmp(g, "region:", 7) ? (size_t)atol(g + 7) * 1024
                                                        : RT_UFFD_PAGE;
                z->full = NULL;
                srv_retry_init(&z->bg);
                pthread_mutex_init(&z->mu, NULL);
                z->idle[z->nidle++] = c;    /* the first request's connection */
                c = NULL;
                *out = z;
                z = NULL;
            }
        } else if (!whole) {
            /* An all-zero memory: nothing to be lazy about. */
            ok = st_cache_blob(c, &m.snap, dir, ".snap", small, small_cap, err) == 0;
        }
    }
    st_manifest_free(&m);
    st_close(c);
    free(z);
    if (!ok)
        snprintf(why, why_cap, "%s", err);
    return ok;
}

void srv_lazy_bind(srv_lazy *z, rt_module *mod, const uint8_t hash[RT_SNAPSHOT_HASH_BYTES])
{
    if (!z)
        return;
    z->mod = mod;
    memcpy(z->hash, hash, RT_SNAPSHOT_HASH_BYTES);
}

void srv_lazy_free(srv_lazy *z)
{
    if (!z)
        return;
    srv_retry_join(&z->bg);
    rt_snapshot_free(atomic_load(&z->full));
    for (unsigned i = 0; i < z->nidle; i++)
        st_close(z->idle[i]);
    pthread_mutex_destroy(&z->mu);
    free(z->ext);
    free(z->wset);
    free(z);
}

/* ---- the node cache, filled in the background -------------------------------- */

static void *bg_fill(void *arg)
{
    srv_lazy *z = arg;
    char err[ST_ERR_LEN], path[4200];
    st_conn *c = st_connect_retry(&z->u, &z->key, SRV_REMOTE_TIMEOUT_MS, ST_CONNECT_ATTEMPTS, err);
    rt_snapshot *s = NULL;
    if (c && st_cache_blob(c, &z->snap, z->dir, ".snap", path, sizeof path, err) == 0) {
        rt_result res;
        memset(&res, 0, sizeof res);
        s = rt_snapshot_load(path, z->mod, z->hash, &res);
        if (!s)
            snprintf(err, sizeof err, "%s", res.msg);
    }
    st_close(c);
    if (s) {
        atomic_store(&z->full, s);
        srv_remote_remember(z->route, z->module_path, path);
        srv_log(SRV_LOG_INFO, "route %s: the whole snapshot is now in the node cache; requests restore it locally",
                z->route->name);
    } else {
        srv_log(SRV_LOG_WARN, "route %s: filling the node cache failed (%s); requests stay lazy", z->route->name,
                err);
    }
    srv_retry_done(&z->bg, s != NULL);
    return NULL;
}

/* Starts the fill unless it runs, is done, or failed too recently. */
static void bg_kick(srv_lazy *z)
{
    if (atomic_load(&z->full) || !z->mod)
        return;
    srv_retry_kick(&z->bg, bg_fill, z);
}

/* ---- per request ------------------------------------------------------------ */

typedef enum { OP_MEM, OP_WSET_GET, OP_WSET_PUT } lazy_op;

typedef struct op_args {
    const uint64_t *offs;
    const size_t *lens;
    uint8_t *const *dsts;
    uint32_t k;
    uint32_t **pages;
    const uint32_t *put;
    uint32_t n, *np;
} op_args;

/* A new session: the manifest again (a restarted store knows a blob by
 * its hash only after it was named), and the name must still be the
 * snapshot this route restored its small state from. */
static st_conn *fresh_conn(srv_lazy_req *r, char *err)
{
    srv_lazy *z = r->z;
    st_conn *c = st_connect(&z->u, &z->key, SRV_REMOTE_TIMEOUT_MS, err);
    if (!c)
        return NULL;
    st_manifest m;
    r->rounds++;
    if (st_manifest_get(c, z->u.name, &m, err) != 0) {
        st_close(c);
        return NULL;
    }
    bool same = m.has_snap && !memcmp(m.snap.sha, z->snap.sha, ST_SHA_LEN);
    st_manifest_free(&m);
    if (!same) {
        snprintf(err, ST_ERR_LEN, "store %s: %s now has other content than this route loaded (a reload picks it up)",
                 z->u.hostport, z->u.name);
        st_close(c);
        return NULL;
    }
    return c;
}

/* One store request on the request's connection: a stale idle connection
 * (the store restarted since) is replaced by a fresh one once; gives up
 * at the request's deadline.  0, or -1 with r->err set (first failure). */
static int lazy_op_run(srv_lazy_req *r, lazy_op op, const op_args *a)
{
    srv_lazy *z = r->z;
    char err[ST_ERR_LEN];
    for (int attempt = 0;; attempt++) {
        if (ut_mono_ns() >= r->kill_ns) {
            r->timed_out = true;
            snprintf(err, sizeof err, "the request's deadline passed while fetching from store %s", z->u.hostport);
            break;
        }
        if (!r->conn && !(r->conn = fresh_conn(r, err)))
            break;
        int rc = op == OP_MEM       ? st_fetch_mem(r->conn, &z->snap, z->ext, z->n_ext, a->offs, a->lens, a->dsts, a->k,
                                                   err)
                 : op == OP_WSET_GET ? st_wset_get(r->conn, z->u.name, z->snap.sha, a->pages, a->np, err)
                                     : st_wset_put(r->conn, z->u.name, z->snap.sha, a->put, a->n, err);
        r->rounds++;
        if (rc == 0) {
            r->reused = false;
            return 0;
        }
        st_close(r->conn);
        r->conn = NULL;
        if (!r->reused || attempt)
            break;
        r->reused = false;
    }
    if (!r->err[0])
        snprintf(r->err, sizeof r->err, "%s", err);
    return -1;
}

/* The fault handler's callback (its thread): one grain of memory. */
static int fault_fetch(void *arg, uint64_t off, uint8_t *dst, size_t len)
{
    op_args a = {.offs = &off, .lens = &len, .dsts = &dst, .k = 1};
    return lazy_op_run(arg, OP_MEM, &a);
}

const rt_snapshot *srv_lazy_begin(srv_lazy *z, const rt_snapshot *small, uint64_t kill_ns, srv_lazy_req *r)
{
    memset(r, 0, sizeof *r);
    rt_snapshot *full = atomic_load(&z->full);
    if (full)
        return full;
    r->z = z;
    r->kill_ns = kill_ns;
    r->t0 = ut_mono_ns();
    return small;
}

/* st_lazy_prefetch's fetch: on the request's connection, with its retry. */
static int wset_fetch(void *arg, const uint64_t *offs, const size_t *lens, uint8_t *const *dsts, uint32_t k)
{
    op_args a = {.offs = offs, .lens = lens, .dsts = dsts, .k = k};
    return lazy_op_run(arg, OP_MEM, &a);
}

bool srv_lazy_attach(srv_lazy_req *r, wedge_instance *inst)
{
    srv_lazy *z = r->z;
    wedge_memory *mem = inst->mem;
    if (!mem || mem->size != (uint64_t)z->pages * WEDGE_WASM_PAGE) {
        snprintf(r->err, sizeof r->err, "the restored memory is not the snapshot's size");
        return false;
    }
    pthread_mutex_lock(&z->mu);
    if (z->nidle) {
        r->conn = z->idle[--z->nidle];
        r->reused = true;
    }
    bool known = z->wset_known;
    pthread_mutex_unlock(&z->mu);
    if (!known) {
        uint32_t *pages = NULL, n = 0;
        op_args a = {.pages = &pages, .np = &n};
        if (lazy_op_run(r, OP_WSET_GET, &a) != 0)
            return false;
        pthread_mutex_lock(&z->mu);
        if (!z->wset_known) {
            z->wset = pages;
            z->nwset = n;
            z->wset_known = true;
            pages = NULL;
        }
        pthread_mutex_unlock(&z->mu);
        free(pages);
    }
    /* Once known, the set is never changed or freed before srv_lazy_free. */
    pthread_mutex_lock(&z->mu);
    const uint32_t *ws = z->wset;
    uint32_t nws = z->nwset;
    pthread_mutex_unlock(&z->mu);
    /* The working set straight into the memory before it is registered
     * for faults (REAP's record-and-prefetch, st_lazy_prefetch). */
    st_lazy_runs runs;
    char err[ST_ERR_LEN];
    uint64_t t0 = ut_mono_ns();
    if (st_lazy_prefetch(ws, nws, mem->base, mem->size, wset_fetch, r, &runs, err) != 0) {
        if (!r->err[0])
            snprintf(r->err, sizeof r->err, "%s", err);
        return false;
    }
    r->prefetch_ns[0] = ut_mono_ns() - t0;
    r->prefetched = runs.pages;
    r->prefetch_bytes = (uint64_t)runs.pages * ST_WSET_PAGE;
    t0 = ut_mono_ns();
    r->uffd = rt_uffd_open(mem->base, mem->size, z->grain, 1, fault_fetch, r, err, sizeof err);
    bool ok = r->uffd != NULL;
    if (!ok)
        snprintf(r->err, sizeof r->err, "%s", err);
    else if (st_lazy_mark_present(r->uffd, &runs) != 0) {
        snprintf(r->err, sizeof r->err, "cannot put the working set in");
        ok = false;
    }
    r->prefetch_ns[1] = ut_mono_ns() - t0;
    st_lazy_runs_free(&runs);
    return ok;
}

bool srv_lazy_finish(srv_lazy_req *r, unsigned long long id, bool deadline, srv_outcome *out)
{
    srv_lazy *z = r->z;
    rt_uffd_stats st;
    memset(&st, 0, sizeof st);
    bool failed = r->err[0] != 0, attached = r->uffd != NULL;
    if (r->uffd) {
        rt_uffd_get_stats(r->uffd, &st);
        failed = failed || rt_uffd_failed(r->uffd);
    }
    /* The first complete run records its working set for later starts. */
    uint32_t n = 0;
    const uint32_t *t = r->uffd && !failed ? rt_uffd_touched(r->uffd, &n) : NULL;
    pthread_mutex_lock(&z->mu);
    bool record = n && z->wset_known && !z->nwset;
    uint32_t *copy = record ? malloc(n * sizeof *copy) : NULL;
    if (copy) {
        memcpy(copy, t, n * sizeof *copy);
        z->wset = copy;
        z->nwset = n;
    }
    pthread_mutex_unlock(&z->mu);
    rt_uffd_close(r->uffd);
    r->uffd = NULL;
    if (copy) {
        op_args a = {.put = copy, .n = n};
        char keep[sizeof r->err];
        memcpy(keep, r->err, sizeof keep);
        if (lazy_op_run(r, OP_WSET_PUT, &a) != 0)
            srv_log(SRV_LOG_WARN, "route %s: working set not recorded at the store: %s", z->route->name, r->err);
        memcpy(r->err, keep, sizeof keep);
    }
    if (failed) {
        deadline = deadline || r->timed_out;
        srv_log(SRV_LOG_WARN, "request %llu: route %s: fetching memory from the store failed: %s (answers %d)", id,
                z->route->name, r->err[0] ? r->err : "fault not served", deadline ? 504 : 502);
        out->timed_out = deadline;
        srv_outcome_error(out, deadline ? 504 : 502, deadline ? "store timeout" : "store error");
    } else if (attached) {
        srv_log(SRV_LOG_INFO,
                "request %llu: route %s: lazy: %llu faults, %llu fetches, %llu bytes by faults, %u working-set "
                "pages prefetched (fetched in %llu us, memory registered in %llu us), %llu store requests",
                id, z->route->name, (unsigned long long)st.faults, (unsigned long long)st.fetch_calls,
                (unsigned long long)st.bytes_fetched, r->prefetched, (unsigned long long)r->prefetch_ns[0] / 1000,
                (unsigned long long)r->prefetch_ns[1] / 1000, (unsigned long long)r->rounds);
    }
    pthread_mutex_lock(&z->mu);
    if (r->conn && !failed && z->nidle < SRV_LAZY_IDLE) {
        z->idle[z->nidle++] = r->conn;
        r->conn = NULL;
    }
    pthread_mutex_unlock(&z->mu);
    st_close(r->conn);
    r->conn = NULL;
    if (!failed && attached)
        bg_kick(z);
    return failed;
}
