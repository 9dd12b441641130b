/*
 * cli_remote.c — `wedge run wedge://HOST:PORT/NAME` (or redis://): the
 * running node's side of remote instantiation for the CLI.  The module and
 * snapshot are fetched into the node cache (content-addressed, under the
 * compile cache directory's store/), each checked against its SHA-256
 * before anything runs; a later run of the same content reads the cache
 * and sends only the manifest request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/wedge_abi.h"
#include "cli.h"
#include "compile/compile.h"
#include "runtime/rt_remote.h"
#include "runtime/rt_uffd.h"
#include "store/st_transport.h"

bool cli_remote_is_url(const char *s) { return st_url_is_store(s) != 0; }

int cli_parse_fetch(const char *s)
{
    if (!strcmp(s, "eager"))
        return CLI_FETCH_EAGER;
    if (!strcmp(s, "lazy"))
        return CLI_FETCH_LAZY;
    return -1;
}

int cli_parse_granularity(const char *s)
{
    if (!strcmp(s, "page") || !strcmp(s, "instance") || !strcmp(s, "module"))
        return 0;
    if (!strncmp(s, "region:", 7)) {
        char *end;
        long kib = strtol(s + 7, &end, 10);
        /* Whole pages, at most 64 MiB per fault. */
        if (!*end && kib >= 4 && kib <= 65536 && kib % 4 == 0)
            return 0;
    }
    return -1;
}

/* ---- lazy: memory by page fault (rt_uffd.h) ------------------------------ */

/* The one lazy instance of this process (the CLI runs one). */
typedef struct cli_lazy {
    bool on;
    st_url u;
    st_key key;
    char name[ST_NAME_MAX + 1];
    st_blob_ref snap;
    st_extent *ext;
    uint32_t next, pages;
    size_t grain;
    st_conn *conn;              /* the fault handler's own session */
    rt_uffd *uffd;
    bool had_wset;
    char err[ST_ERR_LEN];       /* the first fetch failure, for the report */
} cli_lazy;
static cli_lazy lazy;

/* Fetches spans [offs[i], offs[i]+lens[i]) of memory into dsts[i] (zero
 * where no extent lies) in one pipelined batch; the first failure is kept
 * for the report. */
static int lazy_fetch_spans(cli_lazy *z, const uint64_t *offs, const size_t *lens, uint8_t *const *dsts, uint32_t k)
{
    char err[ST_ERR_LEN];
    int r = st_fetch_mem(z->conn, &z->snap, z->ext, z->next, offs, lens, dsts, k, err);
    if (r != 0 && !z->err[0])
        snprintf(z->err, sizeof z->err, "%s", err);
    return r;
}

/* The fault handler's callback: one grain of memory.  On its thread. */
static int lazy_fetch(void *arg, uint64_t off, uint8_t *dst, size_t len)
{
    return lazy_fetch_spans(arg, &off, &len, &dst, 1);
}

/* The snapshot's small state (everything but memory) as a file in the node
 * cache, and the lazy state for cli_remote_attach.  0, or -1 after a line. */
static int lazy_prepare(st_conn *c, const st_url *u, const st_key *key, const st_manifest *m, const char *dir,
                        const cli_remote_opts *r, char *snap, size_t snap_cap)
{
    char err[ST_ERR_LEN], hex[2 * ST_SHA_LEN + 1];
    uint64_t mem_section = m->extents[0].file_off - 32; /* section head + first extent head */
    if (m->extents[0].file_off < 32 + 64 || mem_section > (64u << 20)) {
        cli_error("%s: snapshot layout not usable lazily", r->url);
        return -1;
    }
    uint8_t *prefix = malloc(mem_section), *small = malloc(mem_section + 16);
    st_range rg = {0, (uint32_t)mem_section, NULL};
    int rc = -1;
    if (!prefix || !small)
        cli_error("out of memory");
    else if (st_fetch_ranges(c, &m->snap, &rg, 1, &prefix, err) != 0)
        cli_error("%s", err);
    else if (!rt_snapshot_small_state(prefix, mem_section, m->mem_pages, small))
        cli_error("%s: snapshot layout not usable lazily", r->url);
    else {
        st_sha_hex(m->snap.sha, hex);
        int n = snprintf(snap, snap_cap, "%s/%s.small.snap", dir, hex);
        FILE *f = n > 0 && (size_t)n < snap_cap ? fopen(snap, "wb") : NULL;
        int ok = f && fwrite(small, 1, mem_section + 16, f) == mem_section + 16;
        if (f && fclose(f) != 0)
            ok = 0;
        if (!ok)
            cli_error("%s: cannot write to the store cache", snap);
        else
            rc = 0;
    }
    free(prefix);
    free(small);
    if (rc)
        return rc;
    memset(&lazy, 0, sizeof lazy);
    lazy.u = *u;
    lazy.key = *key;
    snprintf(lazy.name, sizeof lazy.name, "%s", u->name);
    lazy.snap = m->snap;
    lazy.pages = m->mem_pages;
    lazy.next = m->n_extents;
    lazy.ext = malloc(m->n_extents * sizeof *lazy.ext);
    if (!lazy.ext) {
        cli_error("out of memory");
        return -1;
    }
    memcpy(lazy.ext, m->extents, m->n_extents * sizeof *lazy.ext);
    const char *g = r->granularity ? r->granularity : "page";
    lazy.grain = !strcmp(g, "instance") ? 0 : !strncmp(g, "region:", 7) ? (size_t)atol(g + 7) * 1024 : RT_UFFD_PAGE;
    lazy.on = true;
    return 0;
}

int cli_remote_attach(wedge_memory *mem)
{
    if (!lazy.on)
        return 0;
    char err[ST_ERR_LEN];
    if ((uint64_t)lazy.pages * 65536 != mem->size) {
        cli_error("%s: restored memory is not the snapshot's size", lazy.name);
        return -1;
    }
    lazy.conn = st_connect(&lazy.u, &lazy.key, ST_TIMEOUT_MS_DEFAULT, err);
    if (!lazy.conn) {
        cli_error("%s", err);
        return -1;
    }
    if (mem->size == 0)
        return 0;
    lazy.uffd = rt_uffd_open(mem->base, mem->size, lazy.grain, 1, lazy_fetch, &lazy, err, sizeof err);
    if (!lazy.uffd) {
        cli_error("%s: %s", lazy.name, err);
        return -1;
    }
    /* A working set recorded by an earlier start: fetch it in one batch
     * and put it in before the first instruction (REAP). */
    uint32_t *pages = NULL, n = 0;
    if (st_wset_get(lazy.conn, lazy.name, lazy.snap.sha, &pages, &n, err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    lazy.had_wset = n > 0;
    /* Runs of consecutive pages (first-touch order kept between runs), all
     * fetched in one batch, then put in. */
    uint8_t *buf = n ? malloc((size_t)n * RT_UFFD_PAGE) : NULL;
    uint64_t *offs = n ? malloc(n * sizeof *offs) : NULL;
    size_t *lens = n ? malloc(n * sizeof *lens) : NULL;
    uint8_t **dsts = n ? malloc(n * sizeof *dsts) : NULL;
    uint32_t runs = 0;
    int rc = n && (!buf || !offs || !lens || !dsts) ? -1 : 0;
    for (uint32_t i = 0, used = 0; i < n && rc == 0;) {
        uint32_t j = i + 1;
        while (j < n && pages[j] == pages[j - 1] + 1)
            j++;
        if (pages[j - 1] < mem->size / RT_UFFD_PAGE && pages[i] <= pages[j - 1]) { /* else a stale set: skip */
            offs[runs] = (uint64_t)pages[i] * RT_UFFD_PAGE;
            lens[runs] = (size_t)(j - i) * RT_UFFD_PAGE;
            dsts[runs++] = buf + (size_t)used * RT_UFFD_PAGE;
            used += j - i;
        }
        i = j;
    }
    if (rc == 0 && runs && lazy_fetch_spans(&lazy, offs, lens, dsts, runs) != 0)
        rc = -1;
    for (uint32_t r = 0; r < runs && rc == 0; r++)
        if (rt_uffd_install(lazy.uffd, offs[r], dsts[r], lens[r]) != 0)
            rc = -1;
    free(offs);
    free(lens);
    free(dsts);
    free(buf);
    free(pages);
    if (rc)
        cli_error("%s: prefetching the working set failed: %s", lazy.name, lazy.err[0] ? lazy.err : "out of memory");
    return rc;
}

int cli_remote_finish(void)
{
    if (!lazy.on)
        return 0;
    int rc = 0;
    char err[ST_ERR_LEN];
    if (lazy.uffd) {
        rt_uffd_stats st;
        rt_uffd_get_stats(lazy.uffd, &st);
        if (getenv("WEDGE_STORE_STATS"))
            fprintf(stderr, "wedge: lazy %s: %llu faults, %llu fetches, %llu bytes fetched, %llu pages in\n",
                    lazy.name, (unsigned long long)st.faults, (unsigned long long)st.fetch_calls,
                    (unsigned long long)st.bytes_fetched, (unsigned long long)st.pages_installed);
        if (rt_uffd_failed(lazy.uffd)) {
            cli_error("%s: fetching memory from the store failed: %s", lazy.name, lazy.err);
            rc = -1;
        }
        uint32_t n;
        const uint32_t *t = rt_uffd_touched(lazy.uffd, &n);
        /* The first start records its working set for the next ones. */
        if (!rc && !lazy.had_wset && n && st_wset_put(lazy.conn, lazy.name, lazy.snap.sha, t, n, err) != 0)
            fprintf(stderr, "wedge: %s: working set not recorded: %s\n", lazy.name, err);
        rt_uffd_close(lazy.uffd);
    }
    st_close(lazy.conn);
    free(lazy.ext);
    memset(&lazy, 0, sizeof lazy);
    return rc;
}

int cli_remote_fetch(const cli_remote_opts *r, char *module, size_t cap, char *snap, size_t snap_cap)
{
    char err[ST_ERR_LEN];
    st_url u;
    st_key key;
    if (st_node_open(r->url, r->key_file, &u, &key, err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    bool want_lazy = r->fetch == CLI_FETCH_LAZY && !r->module_only;
    char why[256];
    if (want_lazy && !rt_uffd_probe(why, sizeof why)) {
        fprintf(stderr, "wedge: %s: %s; fetching eagerly\n", r->url, why);
        want_lazy = false;
    }
    cg_err cerr;
    char dir[4096];
    if (!cg_cache_root(dir, sizeof dir - 8, &cerr)) {
        cli_error("%s", cerr.msg);
        return -1;
    }
    strcat(dir, "/store");
    /* Eager (and "module"): the fetch `wedge serve` routes share. */
    if (!want_lazy) {
        int rc = st_node_fetch(&u, &key, dir, r->module_only, ST_TIMEOUT_MS_DEFAULT, module, cap, snap, snap_cap, err);
        if (rc != 0)
            cli_error("%s", err);
        return rc;
    }
    st_conn *c = st_connect(&u, &key, ST_TIMEOUT_MS_DEFAULT, err);
    if (!c) {
        cli_error("%s", err);
        return -1;
    }
    st_manifest m;
    int rc = st_manifest_get(c, u.name, &m, err);
    if (rc == 0) {
        rc = st_cache_blob(c, &m.module, dir, ".wasm", module, cap, err);
        snap[0] = 0;
        /* Lazy: the snapshot's small state now, its memory by page faults. */
        if (rc == 0 && m.has_snap && m.n_extents) {
            int lr = lazy_prepare(c, &u, &key, &m, dir, r, snap, snap_cap);
            st_manifest_free(&m);
            st_close(c);
            return lr;
        }
        if (rc == 0 && m.has_snap)
            rc = st_cache_blob(c, &m.snap, dir, ".snap", snap, snap_cap, err);
        st_manifest_free(&m);
    }
    st_close(c);
    if (rc != 0)
        cli_error("%s", err);
    return rc;
}
