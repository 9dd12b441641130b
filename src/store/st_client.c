/*
 * st_client.c — a running node's side of the store, whatever the backend:
 * store URLs, picking the backend by scheme, and the requests that do not
 * depend on it (splitting ranges into frame-sized batches, fetching and
 * checking a whole blob).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "st_internal.h"
#include "util/util.h"

struct st_conn {
    const st_transport *t;
    void *state;
};

static const st_transport *const BACKENDS[] = {&st_tcp_transport, &st_redis_transport};

static const st_transport *backend_of(const char *s, size_t *prefix)
{
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++) {
        size_t n = strlen(BACKENDS[i]->scheme);
        if (!strncmp(s, BACKENDS[i]->scheme, n) && !strncmp(s + n, "://", 3)) {
            *prefix = n + 3;
            return BACKENDS[i];
        }
    }
    return NULL;
}

int st_url_is_store(const char *s)
{
    size_t n;
    return s && backend_of(s, &n) != NULL;
}

int st_url_parse(const char *s, int need_name, st_url *u, char *err)
{
    size_t pre;
    memset(u, 0, sizeof *u);
    u->t = backend_of(s, &pre);
    if (!u->t) {
        snprintf(err, ST_ERR_LEN, "%s: not a store URL (wedge://HOST:PORT or redis://HOST:PORT)", s);
        return -1;
    }
    const char *hp = s + pre, *slash = strchr(hp, '/');
    size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
    if (hl == 0 || hl >= sizeof u->hostport || !memchr(hp, ':', hl)) {
        snprintf(err, ST_ERR_LEN, "%s: expected %s://HOST:PORT%s", s, u->t->scheme, need_name ? "/NAME" : "");
        return -1;
    }
    memcpy(u->hostport, hp, hl);
    const char *name = slash ? slash + 1 : "";
    if (need_name || *name) {
        if (!st_name_ok(name, strlen(name))) {
            snprintf(err, ST_ERR_LEN, "%s: bad or missing NAME (1..128 of A-Z a-z 0-9 . _ -)", s);
            return -1;
        }
        strcpy(u->name, name);
    }
    return 0;
}

st_conn *st_connect(const st_url *u, const st_key *key, int timeout_ms, char *err)
{
    st_conn *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, ST_ERR_LEN, "store %s: out of memory", u->hostport);
        return NULL;
    }
    c->t = u->t;
    if (c->t->connect(u->hostport, key, timeout_ms > 0 ? timeout_ms : ST_TIMEOUT_MS_DEFAULT, &c->state, err) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

st_conn *st_connect_retry(const st_url *u, const st_key *key, int timeout_ms, int attempts, char *err)
{
    int wait_ms = 100;
    if (timeout_ms <= 0)
        timeout_ms = ST_TIMEOUT_MS_DEFAULT;
    for (int k = 1;; k++) {
        uint64_t t0 = ut_mono_ns();
        st_conn *c = st_connect(u, key, timeout_ms, err);
        if (c || k >= attempts || ut_mono_ns() - t0 > (uint64_t)timeout_ms * 500000u)
            return c;
        struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        wait_ms = wait_ms * 2 > 2000 ? 2000 : wait_ms * 2;
    }
}

void st_close(st_conn *c)
{
    if (c) {
        c->t->close(c->state);
        free(c);
    }
}

int st_manifest_get(st_conn *c, const char *name, st_manifest *out, char *err)
{
    return c->t->manifest(c->state, name, out, err);
}

void st_manifest_free(st_manifest *m)
{
    free(m->extents);
    m->extents = NULL;
    m->n_extents = 0;
}

/* Ranges per request: what one reply frame holds. */
int st_fetch_ranges(st_conn *c, const st_blob_ref *blob, const st_range *want, uint32_t n, uint8_t *const *dst,
                    char *err)
{
    const uint64_t cap = ST_MAX_PAYLOAD - 36;
    uint32_t i = 0;
    while (i < n) {
        uint64_t bytes = 0;
        uint32_t k = 0;
        while (i + k < n && k < ST_MAX_RANGES && bytes + st_item_head(want[i + k].len) + want[i + k].len <= cap) {
            if (want[i + k].off > blob->size || want[i + k].len > blob->size - want[i + k].off) {
                snprintf(err, ST_ERR_LEN, "range outside the blob");
                return -1;
            }
            bytes += st_item_head(want[i + k].len) + want[i + k].len;
            k++;
        }
        if (k == 0) {
            snprintf(err, ST_ERR_LEN, "a range larger than one frame");
            return -1;
        }
        if (c->t->ranges(c->state, blob, want + i, k, dst + i, err) != 0)
            return -1;
        i += k;
    }
    return 0;
}

int st_fetch_blob(st_conn *c, const st_blob_ref *blob, uint8_t *dst, char *err)
{
    if (c->t->blob && blob->size)
        return c->t->blob(c->state, blob, dst, err);
    enum { PIECE = 4u << 20 }; /* 15 of them fit one frame */
    uint32_t n = (uint32_t)((blob->size + PIECE - 1) / PIECE);
    if (blob->size > (uint64_t)UINT32_MAX * PIECE) {
        snprintf(err, ST_ERR_LEN, "blob too large");
        return -1;
    }
    st_range *rs = malloc((n ? n : 1) * sizeof *rs);
    uint8_t **dsts = malloc((n ? n : 1) * sizeof *dsts);
    int r = -1;
    if (!rs || !dsts) {
        snprintf(err, ST_ERR_LEN, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)i * PIECE;
        rs[i] = (st_range){off, (uint32_t)(blob->size - off < PIECE ? blob->size - off : PIECE), NULL};
        dsts[i] = dst + off;
    }
    if (n && st_fetch_ranges(c, blob, rs, n, dsts, err) != 0)
        goto out;
    uint8_t sha[ST_SHA_LEN];
    st_sha256(dst, blob->size, sha);
    if (memcmp(sha, blob->sha, ST_SHA_LEN) != 0) {
        snprintf(err, ST_ERR_LEN, "fetched blob does not match its SHA-256 (corrupted)");
        goto out;
    }
    r = 0;
out:
    free(rs);
    free(dsts);
    return r;
}

int st_push(st_conn *c, const char *name, st_blob_kind which, const uint8_t *data, size_t len, char *err)
{
    if (!st_name_ok(name, strlen(name))) {
        snprintf(err, ST_ERR_LEN, "%s: bad name (1..128 of A-Z a-z 0-9 . _ -)", name);
        return -1;
    }
    return c->t->push(c->state, name, which, data, len, err);
}

int st_wset_put(st_conn *c, const char *name, const uint8_t snap[ST_SHA_LEN], const uint32_t *pages, uint32_t n,
                char *err)
{
    return c->t->wset_put(c->state, name, snap, pages, n, err);
}

int st_wset_get(st_conn *c, const char *name, const uint8_t snap[ST_SHA_LEN], uint32_t **pages, uint32_t *n,
                char *err)
{
    return c->t->wset_get(c->state, name, snap, pages, n, err);
}
