/*
 * st_node.c — a running node's eager fetch from a store (st_transport.h):
 * shared by `wedge run wedge://...` and `wedge serve` routes whose path is
 * a store URL, so both find the same content-addressed cache files.
 */
#include <stdio.h>
#include <string.h>

#include "st_transport.h"

int st_node_open(const char *url, const char *key_file, st_url *u, st_key *key, char *err)
{
    if (st_url_parse(url, 1, u, err) != 0)
        return -1;
    memset(key, 0, sizeof *key);
    if (key_file) {
        const char *e = st_key_load(key_file, key);
        if (e) {
            snprintf(err, ST_ERR_LEN, "%s: %s", key_file, e);
            return -1;
        }
    } else if (u->t == &st_tcp_transport) {
        snprintf(err, ST_ERR_LEN, "%s: a store key file (--store-key-file F) is required for wedge://", url);
        return -1;
    }
    return 0;
}

int st_node_fetch(const st_url *u, const st_key *key, const char *dir, int module_only, int timeout_ms,
                  char *module, size_t cap, char *snap, size_t snap_cap, char *err)
{
    st_conn *c = st_connect_retry(u, key, timeout_ms, ST_CONNECT_ATTEMPTS, err);
    if (!c)
        return -1;
    st_manifest m;
    int rc = st_manifest_get(c, u->name, &m, err);
    if (rc == 0) {
        snap[0] = 0;
        rc = st_cache_blob(c, &m.module, dir, ".wasm", module, cap, err);
        if (rc == 0 && m.has_snap && !module_only)
            rc = st_cache_blob(c, &m.snap, dir, ".snap", snap, snap_cap, err);
        st_manifest_free(&m);
    }
    st_close(c);
    return rc;
}
