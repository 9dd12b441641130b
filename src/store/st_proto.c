/*
 * st_proto.c — the store protocol codec (docs/store-protocol.md): frames to
 * and from bytes, no I/O.  The decoder is the one place bytes from the
 * network become values, so every length is checked against what is left
 * before it is used or multiplied, and a payload must be consumed exactly
 * (one accepted spelling per message).
 */
#include <string.h>

#include "store.h"

static const uint8_t MAGIC[4] = {'W', 'S', 'T', 'P'};

/* ---- little-endian bytes --------------------------------------------- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* A cursor over a payload: every take checks the bytes left. */
typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd;

static const uint8_t *take(rd *r, size_t n)
{
    if (n > r->left)
        return NULL;
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

#define TAKE(r, n, at, what)                                                                                           \
    do {                                                                                                               \
        if (!((at) = take((r), (n))))                                                                                  \
            return "truncated " what;                                                                                  \
    } while (0)

int st_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > ST_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static const char *get_name(rd *r, const char **name, uint32_t *len)
{
    const uint8_t *p;
    TAKE(r, 2, p, "name length");
    *len = get16(p);
    TAKE(r, *len, p, "name");
    *name = (const char *)p;
    return st_name_ok(*name, *len) ? NULL : "bad name (1..128 of A-Z a-z 0-9 . _ -, not starting with '.')";
}

static int zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ---- head ------------------------------------------------------------ */

const char *st_head_decode(const uint8_t head[ST_HEAD_SIZE], st_kind *kind, uint32_t *len)
{
    if (memcmp(head, MAGIC, 4) != 0)
        return "not a wedge store frame (bad magic)";
    if (head[4] != ST_PROTO_VERSION)
        return head[4] < ST_PROTO_VERSION
                   ? "peer speaks an older store protocol version (this side speaks 3, with MACed frames and "
                     "per-4-KiB range hashes): upgrade it"
                   : "peer speaks a newer store protocol version (this side speaks 3): upgrade this side";
    if (head[5] < ST_HELLO || head[5] > ST_BLOB)
        return "unknown frame kind";
    if (head[6] || head[7])
        return "reserved frame bits set";
    *kind = (st_kind)head[5];
    *len = get32(head + 8);
    if (*len > ST_MAX_PAYLOAD)
        return "frame larger than the protocol allows";
    return NULL;
}

/* ---- decode ---------------------------------------------------------- */

static const char *dec_manifest(rd *r, st_msg *m)
{
    const uint8_t *p;
    const char *e = get_name(r, &m->u.manifest.name, &m->u.manifest.name_len);
    if (e)
        return e;
    TAKE(r, 32 + 8 + 1 + 32 + 8 + 4 + 4, p, "manifest");
    memcpy(m->u.manifest.module.sha, p, 32);
    m->u.manifest.module.size = get64(p + 32);
    m->u.manifest.has_snap = p[40];
    memcpy(m->u.manifest.snap.sha, p + 41, 32);
    m->u.manifest.snap.size = get64(p + 73);
    m->u.manifest.mem_pages = get32(p + 81);
    uint32_t n = m->u.manifest.n_extents = get32(p + 85);
    if (m->u.manifest.has_snap > 1)
        return "bad snapshot flag";
    if (!m->u.manifest.has_snap && (!zero(p + 41, 32 + 8 + 4) || n))
        return "snapshot fields without a snapshot";
    if (m->u.manifest.mem_pages > 65536)
        return "memory larger than 4 GiB";
    if (n > r->left / 24)
        return "truncated extents";
    TAKE(r, (size_t)n * 24, m->u.manifest.raw, "extents");
    uint64_t mem = (uint64_t)m->u.manifest.mem_pages << 16, end = 0;
    for (uint32_t i = 0; i < n; i++) {
        st_extent x = st_manifest_extent(m, i);
        if (x.len == 0 || x.mem_off < end || x.mem_off > mem || x.len > mem - x.mem_off)
            return "extent outside the memory, empty or out of order";
        if (x.file_off > m->u.manifest.snap.size || x.len > m->u.manifest.snap.size - x.file_off)
            return "extent outside the snapshot file";
        end = x.mem_off + x.len;
    }
    return NULL;
}

static const char *dec_ranges(rd *r, st_msg *m, int with_data)
{
    const uint8_t *p;
    TAKE(r, 36, p, "ranges");
    memcpy(m->u.ranges.blob, p, 32);
    uint32_t n = m->u.ranges.count = get32(p + 32);
    if (n == 0 || n > ST_MAX_RANGES)
        return "range count outside 1..65536";
    m->u.ranges.raw = r->p;
    uint64_t total = 36;
    for (uint32_t i = 0; i < n; i++) {
        TAKE(r, with_data ? 16 : 12, p, "range");
        uint64_t off = get64(p);
        uint32_t len = get32(p + 8);
        if (len == 0 || off > UINT64_MAX - len)
            return "empty or wrapping range";
        total += st_item_head(len) + len;
        if (total > ST_MAX_PAYLOAD)
            return "ranges larger than one frame";
        if (with_data) {
            if (get32(p + 12))
                return "reserved range bits set";
            TAKE(r, st_item_head(len) - 16 + len, p, "range data");
        }
    }
    return NULL;
}

static const char *dec_wset(rd *r, st_msg *m, st_kind kind)
{
    const uint8_t *p;
    if (kind != ST_WSET) {
        const char *e = get_name(r, &m->u.wset.name, &m->u.wset.name_len);
        if (e)
            return e;
        TAKE(r, 32, p, "snapshot hash");
        memcpy(m->u.wset.snap, p, 32);
    }
    if (kind == ST_WSET_REQ)
        return NULL;
    TAKE(r, 4, p, "page count");
    uint32_t n = m->u.wset.count = get32(p);
    if (n > ST_MAX_WSET)
        return "working set too large";
    if (n > r->left / 4)
        return "truncated working set";
    TAKE(r, (size_t)n * 4, m->u.wset.raw, "working set");
    return NULL;
}

static const char *dec_push(rd *r, st_msg *m)
{
    const uint8_t *p;
    const char *e = get_name(r, &m->u.push.name, &m->u.push.name_len);
    if (e)
        return e;
    TAKE(r, 1 + 32 + 8 + 8 + 4, p, "push");
    m->u.push.which = p[0];
    memcpy(m->u.push.sha, p + 1, 32);
    m->u.push.total = get64(p + 33);
    m->u.push.off = get64(p + 41);
    m->u.push.len = get32(p + 49);
    if (m->u.push.which > ST_BLOB_SNAP)
        return "bad blob kind";
    if (m->u.push.off > m->u.push.total || m->u.push.len > m->u.push.total - m->u.push.off)
        return "push piece outside its blob";
    TAKE(r, m->u.push.len, m->u.push.data, "push data");
    return NULL;
}

const char *st_decode(st_kind kind, const uint8_t *buf, size_t len, st_msg *m)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    rd r = {buf, len};
    const uint8_t *p;
    const char *e = NULL;
    switch (kind) {
    case ST_HELLO:
        TAKE(&r, 4 + ST_NONCE_LEN, p, "hello");
        m->u.hello.version = get32(p);
        memcpy(m->u.hello.nonce, p + 4, ST_NONCE_LEN);
        break;
    case ST_CHALLENGE:
        TAKE(&r, ST_NONCE_LEN + ST_MAC_LEN, p, "challenge");
        memcpy(m->u.challenge.nonce, p, ST_NONCE_LEN);
        memcpy(m->u.challenge.mac, p + ST_NONCE_LEN, ST_MAC_LEN);
        break;
    case ST_AUTH:
        TAKE(&r, ST_MAC_LEN, p, "auth");
        memcpy(m->u.auth.mac, p, ST_MAC_LEN);
        break;
    case ST_OK:
        break;
    case ST_ERROR:
        TAKE(&r, 4, p, "error");
        m->u.error.code = get16(p);
        m->u.error.text_len = get16(p + 2);
        if (m->u.error.text_len > ST_TEXT_MAX)
            return "error text too long";
        TAKE(&r, m->u.error.text_len, p, "error text");
        for (uint32_t i = 0; i < m->u.error.text_len; i++)
            if (p[i] < 0x20 || p[i] > 0x7e)
                return "error text not printable";
        m->u.error.text = (const char *)p;
        break;
    case ST_MANIFEST_REQ:
        e = get_name(&r, &m->u.manifest_req.name, &m->u.manifest_req.name_len);
        break;
    case ST_MANIFEST:
        e = dec_manifest(&r, m);
        break;
    case ST_RANGES_REQ:
    case ST_RANGES:
        e = dec_ranges(&r, m, kind == ST_RANGES);
        break;
    case ST_WSET_PUT:
    case ST_WSET_REQ:
    case ST_WSET:
        e = dec_wset(&r, m, kind);
        break;
    case ST_PUSH:
        e = dec_push(&r, m);
        break;
    case ST_BLOB_REQ:
    case ST_BLOB:
        TAKE(&r, ST_BLOB_HEAD, p, "blob range");
        memcpy(m->u.blob.sha, p, ST_SHA_LEN);
        m->u.blob.off = get64(p + 32);
        m->u.blob.len = get32(p + 40);
        if (m->u.blob.len == 0 || m->u.blob.len > ST_BLOB_MAX || m->u.blob.off > UINT64_MAX - m->u.blob.len)
            return "empty, wrapping or oversized blob range";
        if (kind == ST_BLOB)
            TAKE(&r, m->u.blob.len, m->u.blob.data, "blob bytes");
        break;
    default:
        return "unknown frame kind";
    }
    if (e)
        return e;
    return r.left ? "trailing bytes in frame" : NULL;
}

st_extent st_manifest_extent(const st_msg *m, uint32_t i)
{
    const uint8_t *p = m->u.manifest.raw + (size_t)i * 24;
    return (st_extent){get64(p), get64(p + 8), get64(p + 16)};
}

st_range st_range_at(const st_msg *m, uint32_t i)
{
    const uint8_t *p = m->u.ranges.raw + (size_t)i * 12;
    return (st_range){get64(p), get32(p + 8), NULL};
}

uint32_t st_wset_page(const st_msg *m, uint32_t i) { return get32(m->u.wset.raw + (size_t)i * 4); }

st_range st_ranges_item(const st_msg *m, uint32_t i, const uint8_t **sha)
{
    /* Items have variable length: walk from the first (decode checked them). */
    const uint8_t *p = m->u.ranges.raw;
    for (uint32_t k = 0; k < i; k++)
        p += st_item_head(get32(p + 8)) + get32(p + 8);
    if (sha)
        *sha = p + 16;
    uint32_t len = get32(p + 8);
    return (st_range){get64(p), len, p + st_item_head(len)};
}

st_range st_ranges_after(const st_range *g)
{
    const uint8_t *p = g->data + g->len;
    uint32_t len = get32(p + 8);
    return (st_range){get64(p), len, p + st_item_head(len)};
}

void st_chunk_hashes(const uint8_t *data, uint32_t len, uint8_t *out)
{
    for (uint32_t at = 0; at < len; at += ST_CHUNK, out += ST_SHA_LEN)
        st_sha256(data + at, len - at < ST_CHUNK ? len - at : ST_CHUNK, out);
}

const char *st_chunks_verify(const uint8_t *sha, const uint8_t *data, uint32_t len)
{
    uint8_t got[ST_SHA_LEN];
    for (uint32_t at = 0; at < len; at += ST_CHUNK, sha += ST_SHA_LEN) {
        st_sha256(data + at, len - at < ST_CHUNK ? len - at : ST_CHUNK, got);
        if (memcmp(got, sha, ST_SHA_LEN) != 0)
            return "range does not match its SHA-256 (corrupted in transfer)";
    }
    return NULL;
}

const char *st_ranges_verify(const st_msg *m)
{
    const uint8_t *p = m->u.ranges.raw;
    for (uint32_t k = 0; k < m->u.ranges.count; k++) {
        uint32_t len = get32(p + 8);
        const char *e = st_chunks_verify(p + 16, p + st_item_head(len), len);
        if (e)
            return e;
        p += st_item_head(len) + len;
    }
    return NULL;
}

/* ---- encode ---------------------------------------------------------- */

/* Payload size of m, or UINT64_MAX when it cannot be sent. */
static uint64_t payload_size(const st_msg *m)
{
    switch (m->kind) {
    case ST_HELLO: return 4 + ST_NONCE_LEN;
    case ST_CHALLENGE: return ST_NONCE_LEN + ST_MAC_LEN;
    case ST_AUTH: return ST_MAC_LEN;
    case ST_OK: return 0;
    case ST_ERROR: return 4 + (m->u.error.text_len > ST_TEXT_MAX ? ST_TEXT_MAX : m->u.error.text_len);
    case ST_MANIFEST_REQ:
        return st_name_ok(m->u.manifest_req.name, m->u.manifest_req.name_len) ? 2 + m->u.manifest_req.name_len
                                                                               : UINT64_MAX;
    case ST_MANIFEST:
        if (!st_name_ok(m->u.manifest.name, m->u.manifest.name_len))
            return UINT64_MAX;
        return 2 + m->u.manifest.name_len + 89 + (uint64_t)m->u.manifest.n_extents * 24;
    case ST_RANGES_REQ:
    case ST_RANGES: {
        if (m->u.ranges.count == 0 || m->u.ranges.count > ST_MAX_RANGES)
            return UINT64_MAX;
        uint64_t n = 36;
        for (uint32_t i = 0; i < m->u.ranges.count; i++)
            n += m->kind == ST_RANGES ? st_item_head(m->u.ranges.ranges[i].len) + m->u.ranges.ranges[i].len : 12;
        return n;
    }
    case ST_WSET_PUT:
    case ST_WSET_REQ:
    case ST_WSET: {
        uint64_t n = 0;
        if (m->kind != ST_WSET) {
            if (!st_name_ok(m->u.wset.name, m->u.wset.name_len))
                return UINT64_MAX;
            n += 2 + m->u.wset.name_len + 32;
        }
        if (m->kind != ST_WSET_REQ) {
            if (m->u.wset.count > ST_MAX_WSET)
                return UINT64_MAX;
            n += 4 + (uint64_t)m->u.wset.count * 4;
        }
        return n;
    }
    case ST_PUSH:
        if (!st_name_ok(m->u.push.name, m->u.push.name_len))
            return UINT64_MAX;
        return 2 + m->u.push.name_len + 53 + (uint64_t)m->u.push.len;
    case ST_BLOB_REQ:
    case ST_BLOB:
        if (m->u.blob.len == 0 || m->u.blob.len > ST_BLOB_MAX)
            return UINT64_MAX;
        return ST_BLOB_HEAD + (m->kind == ST_BLOB ? (uint64_t)m->u.blob.len : 0);
    }
    return UINT64_MAX;
}

size_t st_encoded_size(const st_msg *m)
{
    uint64_t n = payload_size(m);
    return n > ST_MAX_PAYLOAD ? 0 : (size_t)n + ST_HEAD_SIZE;
}

size_t st_encode_blob_head(const st_msg *m, uint8_t *buf, size_t cap)
{
    size_t total = st_encoded_size(m);
    if (m->kind != ST_BLOB || total == 0 || cap < ST_HEAD_SIZE + ST_BLOB_HEAD)
        return 0;
    memcpy(buf, MAGIC, 4);
    buf[4] = ST_PROTO_VERSION;
    buf[5] = ST_BLOB;
    buf[6] = buf[7] = 0;
    put32(buf + 8, (uint32_t)(total - ST_HEAD_SIZE));
    memcpy(buf + ST_HEAD_SIZE, m->u.blob.sha, 32);
    put64(buf + ST_HEAD_SIZE + 32, m->u.blob.off);
    put32(buf + ST_HEAD_SIZE + 40, m->u.blob.len);
    return ST_HEAD_SIZE + ST_BLOB_HEAD;
}

size_t st_encode_ranges_head(const uint8_t blob[ST_SHA_LEN], uint32_t count, uint64_t plen, uint8_t *buf, size_t cap)
{
    if (count == 0 || count > ST_MAX_RANGES || plen < 36 || plen > ST_MAX_PAYLOAD || cap < ST_HEAD_SIZE + 36)
        return 0;
    memcpy(buf, MAGIC, 4);
    buf[4] = ST_PROTO_VERSION;
    buf[5] = ST_RANGES;
    buf[6] = buf[7] = 0;
    put32(buf + 8, (uint32_t)plen);
    memcpy(buf + ST_HEAD_SIZE, blob, 32);
    put32(buf + ST_HEAD_SIZE + 32, count);
    return ST_HEAD_SIZE + 36;
}

static uint8_t *put_name(uint8_t *p, const char *name, uint32_t len)
{
    put16(p, (uint16_t)len);
    memcpy(p + 2, name, len);
    return p + 2 + len;
}

size_t st_encode(const st_msg *m, uint8_t *buf, size_t cap)
{
    size_t total = st_encoded_size(m);
    if (total == 0 || total > cap)
        return 0;
    memcpy(buf, MAGIC, 4);
    buf[4] = ST_PROTO_VERSION;
    buf[5] = (uint8_t)m->kind;
    buf[6] = buf[7] = 0;
    put32(buf + 8, (uint32_t)(total - ST_HEAD_SIZE));
    uint8_t *p = buf + ST_HEAD_SIZE;
    switch (m->kind) {
    case ST_HELLO:
        put32(p, m->u.hello.version);
        memcpy(p + 4, m->u.hello.nonce, ST_NONCE_LEN);
        break;
    case ST_CHALLENGE:
        memcpy(p, m->u.challenge.nonce, ST_NONCE_LEN);
        memcpy(p + ST_NONCE_LEN, m->u.challenge.mac, ST_MAC_LEN);
        break;
    case ST_AUTH:
        memcpy(p, m->u.auth.mac, ST_MAC_LEN);
        break;
    case ST_OK:
        break;
    case ST_ERROR: {
        uint32_t n = m->u.error.text_len > ST_TEXT_MAX ? ST_TEXT_MAX : m->u.error.text_len;
        put16(p, m->u.error.code);
        put16(p + 2, (uint16_t)n);
        /* Only printable bytes travel: the peer logs this text as one line. */
        for (uint32_t i = 0; i < n; i++) {
            char c = m->u.error.text[i];
            p[4 + i] = (uint8_t)(c >= 0x20 && c <= 0x7e ? c : '?');
        }
        break;
    }
    case ST_MANIFEST_REQ:
        put_name(p, m->u.manifest_req.name, m->u.manifest_req.name_len);
        break;
    case ST_MANIFEST:
        p = put_name(p, m->u.manifest.name, m->u.manifest.name_len);
        memcpy(p, m->u.manifest.module.sha, 32);
        put64(p + 32, m->u.manifest.module.size);
        p[40] = m->u.manifest.has_snap ? 1 : 0;
        memcpy(p + 41, m->u.manifest.snap.sha, 32);
        put64(p + 73, m->u.manifest.snap.size);
        put32(p + 81, m->u.manifest.mem_pages);
        put32(p + 85, m->u.manifest.n_extents);
        p += 89;
        for (uint32_t i = 0; i < m->u.manifest.n_extents; i++, p += 24) {
            put64(p, m->u.manifest.extents[i].mem_off);
            put64(p + 8, m->u.manifest.extents[i].file_off);
            put64(p + 16, m->u.manifest.extents[i].len);
        }
        break;
    case ST_RANGES_REQ:
    case ST_RANGES:
        memcpy(p, m->u.ranges.blob, 32);
        put32(p + 32, m->u.ranges.count);
        p += 36;
        for (uint32_t i = 0; i < m->u.ranges.count; i++) {
            const st_range *g = &m->u.ranges.ranges[i];
            put64(p, g->off);
            put32(p + 8, g->len);
            if (m->kind == ST_RANGES_REQ) {
                p += 12;
                continue;
            }
            put32(p + 12, 0);
            st_chunk_hashes(g->data, g->len, p + 16);
            p += st_item_head(g->len);
            memcpy(p, g->data, g->len);
            p += g->len;
        }
        break;
    case ST_WSET_PUT:
    case ST_WSET_REQ:
    case ST_WSET:
        if (m->kind != ST_WSET) {
            p = put_name(p, m->u.wset.name, m->u.wset.name_len);
            memcpy(p, m->u.wset.snap, 32);
            p += 32;
        }
        if (m->kind != ST_WSET_REQ) {
            put32(p, m->u.wset.count);
            p += 4;
            for (uint32_t i = 0; i < m->u.wset.count; i++, p += 4)
                put32(p, m->u.wset.pages[i]);
        }
        break;
    case ST_PUSH:
        p = put_name(p, m->u.push.name, m->u.push.name_len);
        p[0] = m->u.push.which;
        memcpy(p + 1, m->u.push.sha, 32);
        put64(p + 33, m->u.push.total);
        put64(p + 41, m->u.push.off);
        put32(p + 49, m->u.push.len);
        if (m->u.push.len)
            memcpy(p + 53, m->u.push.data, m->u.push.len);
        break;
    case ST_BLOB_REQ:
    case ST_BLOB:
        memcpy(p, m->u.blob.sha, 32);
        put64(p + 32, m->u.blob.off);
        put32(p + 40, m->u.blob.len);
        if (m->kind == ST_BLOB)
            memcpy(p + ST_BLOB_HEAD, m->u.blob.data, m->u.blob.len);
        break;
    }
    return total;
}

/* ---- what a frame MAC covers ----------------------------------------- */

void st_frame_spans(st_kind kind, const uint8_t *p, size_t len, void (*fn)(void *arg, const uint8_t *p, size_t n),
                    void *arg)
{
    if (kind == ST_BLOB) {
        /* The bytes after the blob head are checked by the whole-blob hash
         * (named in the MACed manifest). */
        fn(arg, p, len < ST_BLOB_HEAD ? len : ST_BLOB_HEAD);
        return;
    }
    if (kind != ST_RANGES || len < 36) {
        fn(arg, p, len);
        return;
    }
    /* RANGES: the blob hash, the count and each item's offset, length and
     * chunk hashes, not its bytes (the MACed hashes cover them).  A
     * payload whose items do not fit is covered whole from there on; the
     * decoder refuses it anyway. */
    fn(arg, p, 36);
    size_t at = 36;
    uint32_t n = get32(p + 32);
    for (uint32_t i = 0; i < n && len - at >= 16; i++) {
        uint32_t l = get32(p + at + 8);
        uint64_t h = st_item_head(l);
        if (h > len - at)
            break;
        fn(arg, p + at, (size_t)h);
        at += (size_t)h;
        if (l > len - at)
            break;
        at += l;
    }
    if (at < len)
        fn(arg, p + at, len - at);
}
