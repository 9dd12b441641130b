/*
 * st_redis.c — the Redis backend of the store transport (hiredis): Redis
 * as a replicated store node.  Keys, for NAME and a blob of SHA-256 H (hex):
 *
 *   wedge:m:NAME     the manifest: an ST_MANIFEST payload (st_proto.c), so
 *                    a node decodes it with every check the TCP path has
 *   wedge:b:H        the blob's bytes (module or snapshot)
 *   wedge:s:H        SHA-256 of each 4 KiB chunk of the blob, concatenated:
 *                    every fetched range is checked chunk by chunk
 *   wedge:w:H:NAME   a working set (u32 little-endian pages)
 *
 * A push writes the blob and its sums before the manifest, so a manifest
 * never names a blob that is not there.  Ranges are fetched with pipelined
 * GETRANGE (all commands written, then all replies read).  The key file's
 * contents are the Redis password (AUTH): a wrong key is refused by Redis
 * and reported by the caller in one line (Redis itself does not log it).
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "st_internal.h"

enum { CHUNK = 4096 };

typedef struct redis_conn {
    redisContext *rc;
    char where[128];
} redis_conn;

static int rfail(char *err, const redis_conn *c, const char *what)
{
    snprintf(err, ST_ERR_LEN, "store redis://%s: %s", c->where, what);
    return -1;
}

/* A reply or the context's error as one line. */
static int rerr(char *err, const redis_conn *c, redisReply *r)
{
    if (!r)
        return rfail(err, c, c->rc->errstr[0] ? c->rc->errstr : "no reply (timed out or connection lost)");
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, ST_ERR_LEN, "store redis://%s: %.*s", c->where, (int)(r->len > 200 ? 200 : r->len), r->str);
        return -1;
    }
    return rfail(err, c, "unexpected reply type");
}

/* rerr, then frees the reply. */
static int rerr_free(char *err, const redis_conn *c, redisReply *r)
{
    rerr(err, c, r);
    if (r)
        freeReplyObject(r);
    return -1;
}

static void redis_close(void *state)
{
    redis_conn *c = state;
    if (c->rc)
        redisFree(c->rc);
    free(c);
}

static int redis_connect(const char *hostport, const st_key *key, int timeout_ms, void **state, char *err)
{
    redis_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, ST_ERR_LEN, "store redis://%s: out of memory", hostport);
        return -1;
    }
    snprintf(c->where, sizeof c->where, "%s", hostport);
    char host[256];
    const char *colon = strrchr(hostport, ':');
    size_t hl = colon ? (size_t)(colon - hostport) : 0;
    int port = colon ? atoi(colon + 1) : 0;
    if (!hl || hl >= sizeof host || port <= 0 || port > 65535) {
        rfail(err, c, "expected HOST:PORT");
        goto fail;
    }
    memcpy(host, hostport, hl);
    host[hl] = 0;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    c->rc = redisConnectWithTimeout(host, port, tv);
    if (!c->rc || c->rc->err) {
        rfail(err, c, c->rc ? c->rc->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(c->rc, tv);
    redisReply *r;
    if (key && key->len) {
        r = redisCommand(c->rc, "AUTH %b", key->bytes, key->len);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            if (r && (strstr(r->str, "WRONGPASS") || strstr(r->str, "invalid password")))
                rfail(err, c, "wrong key (Redis refused AUTH)");
            else if (r && strstr(r->str, "without any password"))
                rfail(err, c, "wrong key (this Redis has no password set)");
            else
                rerr(err, c, r);
            if (r)
                freeReplyObject(r);
            goto fail;
        }
        freeReplyObject(r);
    }
    r = redisCommand(c->rc, "PING");
    if (!r || r->type == REDIS_REPLY_ERROR) {
        rerr(err, c, r);
        if (r)
            freeReplyObject(r);
        goto fail;
    }
    freeReplyObject(r);
    *state = c;
    return 0;
fail:
    redis_close(c);
    return -1;
}

static int redis_manifest(void *state, const char *name, st_manifest *out, char *err)
{
    redis_conn *c = state;
    memset(out, 0, sizeof *out);
    redisReply *r = redisCommand(c->rc, "GET wedge:m:%s", name);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return rerr_free(err, c, r);
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return rfail(err, c, "no such name in this store");
    }
    st_msg m;
    const char *why = r->type == REDIS_REPLY_STRING ? st_decode(ST_MANIFEST, (const uint8_t *)r->str, r->len, &m)
                                                    : "manifest is not a string";
    if (!why && (m.u.manifest.name_len != strlen(name) || memcmp(m.u.manifest.name, name, m.u.manifest.name_len)))
        why = "manifest for another name";
    if (!why && m.u.manifest.n_extents &&
        !(out->extents = malloc(m.u.manifest.n_extents * sizeof *out->extents)))
        why = "out of memory";
    if (why) {
        freeReplyObject(r);
        return rfail(err, c, why);
    }
    strcpy(out->name, name);
    out->module = m.u.manifest.module;
    out->has_snap = m.u.manifest.has_snap;
    out->snap = m.u.manifest.snap;
    out->mem_pages = m.u.manifest.mem_pages;
    out->n_extents = m.u.manifest.n_extents;
    for (uint32_t i = 0; i < out->n_extents; i++)
        out->extents[i] = st_manifest_extent(&m, i);
    freeReplyObject(r);
    return 0;
}

static int redis_ranges(void *state, const st_blob_ref *blob, const st_range *want, uint32_t n, uint8_t *const *dst,
                        char *err)
{
    redis_conn *c = state;
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(blob->sha, hex);
    /* Each range widened to whole chunks, its bytes and their sums. */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c0 = want[i].off / CHUNK, c1 = (want[i].off + want[i].len - 1) / CHUNK;
        redisAppendCommand(c->rc, "GETRANGE wedge:b:%s %llu %llu", hex, (unsigned long long)(c0 * CHUNK),
                           (unsigned long long)((c1 + 1) * CHUNK - 1));
        redisAppendCommand(c->rc, "GETRANGE wedge:s:%s %llu %llu", hex, (unsigned long long)(c0 * ST_SHA_LEN),
                           (unsigned long long)((c1 + 1) * ST_SHA_LEN - 1));
    }
    const char *why = NULL;
    for (uint32_t i = 0; i < n; i++) {
        redisReply *d = NULL, *s = NULL;
        if (redisGetReply(c->rc, (void **)&d) != REDIS_OK || redisGetReply(c->rc, (void **)&s) != REDIS_OK) {
            if (d)
                freeReplyObject(d);
            /* The pipeline is broken: the context is unusable now. */
            return rfail(err, c, c->rc->errstr[0] ? c->rc->errstr : "no reply (timed out or connection lost)");
        }
        if (!why) {
            uint64_t c0 = want[i].off / CHUNK, c1 = (want[i].off + want[i].len - 1) / CHUNK;
            uint64_t start = c0 * CHUNK, end = (c1 + 1) * CHUNK;
            if (end > blob->size)
                end = blob->size;
            if (d->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING || (uint64_t)d->len != end - start ||
                (uint64_t)s->len != (c1 - c0 + 1) * ST_SHA_LEN)
                why = "blob missing or truncated in Redis (pushed again meanwhile?)";
            for (uint64_t k = c0; !why && k <= c1; k++) {
                uint64_t a = k * CHUNK - start, b = (k + 1) * CHUNK - start;
                if (b > end - start)
                    b = end - start;
                uint8_t sha[ST_SHA_LEN];
                st_sha256(d->str + a, (size_t)(b - a), sha);
                if (memcmp(sha, s->str + (k - c0) * ST_SHA_LEN, ST_SHA_LEN))
                    why = "range does not match its SHA-256 (corrupted)";
            }
            if (!why)
                memcpy(dst[i], d->str + (want[i].off - start), want[i].len);
        }
        freeReplyObject(d);
        freeReplyObject(s);
    }
    return why ? rfail(err, c, why) : 0;
}

static int simple(redis_conn *c, redisReply *r, char *err)
{
    if (!r || r->type == REDIS_REPLY_ERROR) {
        rerr(err, c, r);
        if (r)
            freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* Publishes a blob: bytes and chunk sums; the manifest is updated after. */
static int put_blob(redis_conn *c, const uint8_t *data, size_t len, uint8_t sha[ST_SHA_LEN], char *err)
{
    st_sha256(data, len, sha);
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(sha, hex);
    size_t chunks = (len + CHUNK - 1) / CHUNK;
    uint8_t *sums = malloc(chunks ? chunks * ST_SHA_LEN : 1);
    if (!sums)
        return rfail(err, c, "out of memory");
    for (size_t k = 0; k < chunks; k++)
        st_sha256(data + k * CHUNK, len - k * CHUNK < CHUNK ? len - k * CHUNK : CHUNK, sums + k * ST_SHA_LEN);
    int r = simple(c, redisCommand(c->rc, "SET wedge:b:%s %b", hex, data, len), err);
    if (r == 0)
        r = simple(c, redisCommand(c->rc, "SET wedge:s:%s %b", hex, sums, chunks * ST_SHA_LEN), err);
    free(sums);
    return r;
}

/* The manifest as stored, or a fresh one for name. */
static int get_or_new_manifest(redis_conn *c, const char *name, st_manifest *m, char *err)
{
    if (redis_manifest(c, name, m, err) == 0)
        return 0;
    if (!strstr(err, "no such name"))
        return -1;
    memset(m, 0, sizeof *m);
    strcpy(m->name, name);
    return 0;
}

static int redis_push(void *state, const char *name, st_blob_kind which, const uint8_t *data, size_t len, char *err)
{
    redis_conn *c = state;
    st_manifest man;
    if (get_or_new_manifest(c, name, &man, err) != 0)
        return -1;
    st_blob_ref ref = {.size = len};
    if (put_blob(c, data, len, ref.sha, err) != 0)
        goto fail;
    st_manifest_free(&man);
    if (which == ST_BLOB_MODULE) {
        /* A new module drops the old snapshot: it was taken from another one. */
        memset(&man, 0, sizeof man);
        strcpy(man.name, name);
        man.module = ref;
    } else {
        if (!man.module.size) {
            rfail(err, c, "push the module before its snapshot");
            goto fail;
        }
        man.has_snap = 1;
        man.snap = ref;
        st_snap_extents(data, len, &man);
    }
    st_msg m = {.kind = ST_MANIFEST};
    m.u.manifest.name = name;
    m.u.manifest.name_len = (uint32_t)strlen(name);
    m.u.manifest.module = man.module;
    m.u.manifest.has_snap = (uint8_t)man.has_snap;
    m.u.manifest.snap = man.snap;
    m.u.manifest.mem_pages = man.mem_pages;
    m.u.manifest.n_extents = man.n_extents;
    m.u.manifest.extents = man.extents;
    size_t n = st_encoded_size(&m);
    uint8_t *b = n ? malloc(n) : NULL;
    if (!b || st_encode(&m, b, n) != n) {
        free(b);
        rfail(err, c, "manifest cannot be encoded");
        goto fail;
    }
    int r = simple(c, redisCommand(c->rc, "SET wedge:m:%s %b", name, b + ST_HEAD_SIZE, n - ST_HEAD_SIZE), err);
    free(b);
    st_manifest_free(&man);
    return r;
fail:
    st_manifest_free(&man);
    return -1;
}

static int redis_wset_put(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], const uint32_t *pages,
                          uint32_t n, char *err)
{
    redis_conn *c = state;
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(snap, hex);
    uint8_t *b = malloc(n ? (size_t)n * 4 : 1);
    if (!b)
        return rfail(err, c, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)(pages[i] >> (8 * k));
    int r = simple(c, redisCommand(c->rc, "SET wedge:w:%s:%s %b", hex, name, b, (size_t)n * 4), err);
    free(b);
    return r;
}

static int redis_wset_get(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], uint32_t **pages,
                          uint32_t *n, char *err)
{
    redis_conn *c = state;
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(snap, hex);
    *pages = NULL;
    *n = 0;
    redisReply *r = redisCommand(c->rc, "GET wedge:w:%s:%s", hex, name);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return rerr_free(err, c, r);
    int ret = 0;
    if (r->type == REDIS_REPLY_STRING) {
        if (r->len % 4 || (size_t)r->len / 4 > ST_MAX_WSET)
            ret = rfail(err, c, "working set damaged");
        else if (r->len && !(*pages = malloc((size_t)r->len)))
            ret = rfail(err, c, "out of memory");
        else {
            const uint8_t *p = (const uint8_t *)r->str;
            *n = (uint32_t)(r->len / 4);
            for (uint32_t i = 0; i < *n; i++)
                (*pages)[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                              (uint32_t)p[4 * i + 3] << 24;
        }
    }
    freeReplyObject(r);
    return ret;
}

const st_transport st_redis_transport = {
    .scheme = "redis",
    .connect = redis_connect,
    .manifest = redis_manifest,
    .ranges = redis_ranges,
    .push = redis_push,
    .wset_put = redis_wset_put,
    .wset_get = redis_wset_get,
    .close = redis_close,
};
