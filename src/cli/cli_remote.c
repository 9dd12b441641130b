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

#include "cli.h"
#include "compile/compile.h"
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

int cli_remote_fetch(const cli_remote_opts *r, char *module, size_t cap, char *snap, size_t snap_cap)
{
    char err[ST_ERR_LEN];
    st_url u;
    if (st_url_parse(r->url, 1, &u, err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    st_key key = {0};
    if (r->key_file) {
        const char *e = st_key_load(r->key_file, &key);
        if (e) {
            cli_error("%s: %s", r->key_file, e);
            return -1;
        }
    } else if (u.t == &st_tcp_transport) {
        cli_error("%s: --store-key-file F is required for wedge://", r->url);
        return -1;
    }
    if (r->fetch == CLI_FETCH_LAZY)
        fprintf(stderr, "wedge: %s: lazy fetch (userfaultfd) is not in this build yet; fetching eagerly\n", r->url);
    cg_err cerr;
    char dir[4096];
    if (!cg_cache_root(dir, sizeof dir - 8, &cerr)) {
        cli_error("%s", cerr.msg);
        return -1;
    }
    strcat(dir, "/store");
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
        /* "module" granularity: only the code; init runs locally. */
        if (rc == 0 && m.has_snap && !r->module_only)
            rc = st_cache_blob(c, &m.snap, dir, ".snap", snap, snap_cap, err);
        st_manifest_free(&m);
    }
    st_close(c);
    if (rc != 0)
        cli_error("%s", err);
    return rc;
}
