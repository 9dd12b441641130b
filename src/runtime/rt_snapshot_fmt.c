/*
 * rt_snapshot_fmt.c — the snapshot file format: checksum, decoding with
 * every length and offset checked, and the streaming writer.  The layout
 * is documented in docs/snapshot-format.md; all integers little-endian,
 * every section 8-aligned.
 *
 * The decoder reads an untrusted file: every count is checked against the
 * bytes that remain before it is multiplied, every offset against the
 * memory size without overflow, and every padding byte must be zero so a
 * file has exactly one accepted spelling.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_snapshot_fmt.h"

/* ---- checksum ------------------------------------------------------------------- */

#define RT_SNAP_P1 0x9E3779B185EBCA87ull
#define RT_SNAP_P2 0xC2B2AE3D27D4EB4Full
#define RT_SNAP_P3 0x165667B19E3779F9ull

static uint64_t rt_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint32_t rt_snap_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t rt_snap_u64(const uint8_t *p) { return rt_snap_u32(p) | (uint64_t)rt_snap_u32(p + 4) << 32; }

static void rt_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void rt_le64(uint8_t *p, uint64_t v)
{
    rt_le32(p, (uint32_t)v);
    rt_le32(p + 4, (uint32_t)(v >> 32));
}

static void rt_snap_block(rt_snap_sum *s, const uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        s->lane[i] = rt_rotl(s->lane[i] + rt_snap_u64(p + 8 * i) * RT_SNAP_P2, 31) * RT_SNAP_P1;
}

void rt_snap_sum_init(rt_snap_sum *s)
{
    memset(s, 0, sizeof *s);
    s->lane[0] = RT_SNAP_P1 + RT_SNAP_P2;
    s->lane[1] = RT_SNAP_P2;
    s->lane[2] = 0;
    s->lane[3] = 0 - RT_SNAP_P1;
}

void rt_snap_sum_update(rt_snap_sum *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->total += n;
    if (s->nbuf) {
        size_t take = 32 - s->nbuf < n ? 32 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        n -= take;
        if (s->nbuf < 32)
            return;
        rt_snap_block(s, s->buf);
        s->nbuf = 0;
    }
    for (; n >= 32; p += 32, n -= 32)
        rt_snap_block(s, p);
    memcpy(s->buf, p, n);
    s->nbuf = n;
}

uint64_t rt_snap_sum_final(rt_snap_sum *s)
{
    uint64_t h = rt_rotl(s->lane[0], 1) + rt_rotl(s->lane[1], 7) + rt_rotl(s->lane[2], 12) + rt_rotl(s->lane[3], 18);
    h += s->total * RT_SNAP_P3;
    for (size_t i = 0; i < s->nbuf; i++)
        h = rt_rotl(h ^ (s->buf[i] * RT_SNAP_P3), 11) * RT_SNAP_P1;
    h ^= h >> 33;
    h *= RT_SNAP_P2;
    h ^= h >> 29;
    h *= RT_SNAP_P3;
    h ^= h >> 32;
    return h;
}

uint64_t rt_snap_checksum(const uint8_t *file, size_t len)
{
    rt_snap_sum s;
    rt_snap_sum_init(&s);
    if (len > RT_SNAP_HEADER)
        rt_snap_sum_update(&s, file + RT_SNAP_HEADER, len - RT_SNAP_HEADER);
    rt_snap_sum_update(&s, file, len < RT_SNAP_OFF_CHECKSUM ? len : RT_SNAP_OFF_CHECKSUM);
    return rt_snap_sum_final(&s);
}

void rt_snap_seal(uint8_t *file, size_t len)
{
    if (len < RT_SNAP_HEADER)
        return;
    rt_le64(file + 48, len);
    rt_le64(file + RT_SNAP_OFF_CHECKSUM, rt_snap_checksum(file, len));
}

/* ---- decoding -------------------------------------------------------------------- */

typedef struct rt_rd {
    const uint8_t *p, *end;
    char *why;
    size_t whylen;
} rt_rd;

static bool rt_rd_fail(rt_rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool rt_rd_fail(rt_rd *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, r->whylen, fmt, ap);
    va_end(ap);
    return false;
}

static size_t rt_rd_left(const rt_rd *r) { return (size_t)(r->end - r->p); }

/* n bytes, or a failure naming `what`. */
static const uint8_t *rt_rd_take(rt_rd *r, uint64_t n, const char *what)
{
    if (n > rt_rd_left(r)) {
        rt_rd_fail(r, "%s runs past the end of the file", what);
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static bool rt_rd_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Padding to the next 8-byte boundary of the file; must be zero. */
static bool rt_rd_pad8(rt_rd *r, const uint8_t *start, const char *what)
{
    size_t off = (size_t)(r->p - start), pad = (8 - off % 8) % 8;
    const uint8_t *q = rt_rd_take(r, pad, what);
    if (!q)
        return false;
    if (!rt_rd_zero(q, pad))
        return rt_rd_fail(r, "%s: non-zero padding", what);
    return true;
}

static bool rt_valtype_known(uint8_t t)
{
    return t == 0x7F || t == 0x7E || t == 0x7D || t == 0x7C || t == 0x7B || t == 0x70 || t == 0x6F;
}

static bool rt_decode_globals(rt_rd *r, rt_snap_view *v)
{
    const uint8_t *h = rt_rd_take(r, 8, "global count");
    if (!h)
        return false;
    v->nglobals = rt_snap_u32(h);
    if (rt_snap_u32(h + 4))
        return rt_rd_fail(r, "globals: reserved field not zero");
    if (v->nglobals > rt_rd_left(r) / RT_SNAP_GLOBAL_BYTES)
        return rt_rd_fail(r, "%u globals run past the end of the file", v->nglobals);
    v->globals = rt_rd_take(r, (uint64_t)v->nglobals * RT_SNAP_GLOBAL_BYTES, "globals");
    for (uint32_t k = 0; k < v->nglobals; k++) {
        const uint8_t *g = v->globals + (size_t)k * RT_SNAP_GLOBAL_BYTES;
        if (!rt_valtype_known(g[0]))
            return rt_rd_fail(r, "global %u: unknown value type 0x%02x", k, g[0]);
        if (!rt_rd_zero(g + 1, 7))
            return rt_rd_fail(r, "global %u: non-zero padding", k);
        /* Bytes past the value's width are zero: one spelling per value. */
        size_t width = g[0] == 0x7B ? 16 : g[0] == 0x7E || g[0] == 0x7C ? 8 : 4;
        if (!rt_rd_zero(g + 8 + width, 16 - width))
            return rt_rd_fail(r, "global %u: stray bytes after its value", k);
        if (g[0] == 0x6F && rt_snap_u32(g + 8) != RT_SNAP_NULL_FUNC)
            return rt_rd_fail(r, "global %u: a non-null externref cannot be in a snapshot", k);
    }
    return true;
}

static bool rt_decode_tables(rt_rd *r, const uint8_t *start, rt_snap_view *v)
{
    const uint8_t *h = rt_rd_take(r, 8, "table count");
    if (!h)
        return false;
    v->ntables = rt_snap_u32(h);
    if (rt_snap_u32(h + 4))
        return rt_rd_fail(r, "tables: reserved field not zero");
    if (v->ntables > rt_rd_left(r) / 8)
        return rt_rd_fail(r, "%u tables run past the end of the file", v->ntables);
    v->tables = r->p;
    for (uint32_t k = 0; k < v->ntables; k++) {
        const uint8_t *t = rt_rd_take(r, 8, "table header");
        if (!t)
            return false;
        if (t[0] != 0x70 && t[0] != 0x6F)
            return rt_rd_fail(r, "table %u: unknown element type 0x%02x", k, t[0]);
        if (!rt_rd_zero(t + 1, 3))
            return rt_rd_fail(r, "table %u: non-zero padding", k);
        uint32_t size = rt_snap_u32(t + 4);
        if (size > rt_rd_left(r) / 4)
            return rt_rd_fail(r, "table %u: %u elements run past the end of the file", k, size);
        const uint8_t *idx = rt_rd_take(r, (uint64_t)size * 4, "table elements");
        if (t[0] == 0x6F)
            for (uint32_t j = 0; j < size; j++)
                if (rt_snap_u32(idx + 4 * (size_t)j) != RT_SNAP_NULL_FUNC)
                    return rt_rd_fail(r, "table %u: a non-null externref cannot be in a snapshot", k);
        if (!rt_rd_pad8(r, start, "table elements"))
            return false;
    }
    return true;
}

static bool rt_decode_segments(rt_rd *r, const uint8_t *start, rt_snap_view *v)
{
    const uint8_t *h = rt_rd_take(r, 8, "segment counts");
    if (!h)
        return false;
    v->ndatas = rt_snap_u32(h);
    v->nelems = rt_snap_u32(h + 4);
    if ((uint64_t)v->ndatas + v->nelems > rt_rd_left(r))
        return rt_rd_fail(r, "%u data and %u element segment flags run past the end of the file", v->ndatas,
                          v->nelems);
    v->data_dropped = rt_rd_take(r, v->ndatas, "data segment flags");
    v->elem_dropped = rt_rd_take(r, v->nelems, "element segment flags");
    for (uint32_t k = 0; k < v->ndatas; k++)
        if (v->data_dropped[k] > 1)
            return rt_rd_fail(r, "data segment %u: dropped flag %u is not 0 or 1", k, v->data_dropped[k]);
    for (uint32_t k = 0; k < v->nelems; k++)
        if (v->elem_dropped[k] > 1)
            return rt_rd_fail(r, "element segment %u: dropped flag %u is not 0 or 1", k, v->elem_dropped[k]);
    return rt_rd_pad8(r, start, "segment flags");
}

/* Host-module state: `u32 count, u32 0`, then per module `u32 name length,
 * u32 0, u64 state length, name, padding, state, padding`. */
static bool rt_decode_hosts(rt_rd *r, const uint8_t *start, rt_snap_view *v)
{
    const uint8_t *h = rt_rd_take(r, 8, "host state count");
    if (!h)
        return false;
    v->nhosts = rt_snap_u32(h);
    if (rt_snap_u32(h + 4))
        return rt_rd_fail(r, "host state: reserved field not zero");
    if (v->nhosts > rt_rd_left(r) / 16)
        return rt_rd_fail(r, "%u host states run past the end of the file", v->nhosts);
    v->hosts = r->p;
    for (uint32_t k = 0; k < v->nhosts; k++) {
        const uint8_t *e = rt_rd_take(r, 16, "host state header");
        if (!e)
            return false;
        uint32_t nlen = rt_snap_u32(e);
        uint64_t dlen = rt_snap_u64(e + 8);
        if (rt_snap_u32(e + 4))
            return rt_rd_fail(r, "host state %u: reserved field not zero", k);
        if (nlen == 0 || nlen > 255)
            return rt_rd_fail(r, "host state %u: module name of %u bytes", k, nlen);
        const uint8_t *name = rt_rd_take(r, nlen, "host module name");
        if (!name || !rt_rd_pad8(r, start, "host module name"))
            return false;
        for (uint32_t i = 0; i < nlen; i++)
            if (name[i] < 0x20 || name[i] > 0x7E)
                return rt_rd_fail(r, "host state %u: module name is not printable", k);
        if (!rt_rd_take(r, dlen, "host state bytes") || !rt_rd_pad8(r, start, "host state bytes"))
            return false;
    }
    return true;
}

static bool rt_decode_memory(rt_rd *r, const uint8_t *start, rt_snap_view *v)
{
    const uint8_t *h = rt_rd_take(r, 16, "memory header");
    if (!h)
        return false;
    uint32_t present = rt_snap_u32(h);
    v->pages = rt_snap_u32(h + 4);
    v->nextents = rt_snap_u32(h + 8);
    if (present > 1 || rt_snap_u32(h + 12))
        return rt_rd_fail(r, "memory header: bad presence flag or reserved field");
    v->has_mem = present;
    if (v->pages > RT_MAX_PAGES)
        return rt_rd_fail(r, "memory of %u pages is larger than 4 GiB", v->pages);
    if (!present && (v->pages || v->nextents))
        return rt_rd_fail(r, "no memory, yet %u pages and %u extents", v->pages, v->nextents);
    if (v->nextents > rt_rd_left(r) / 16)
        return rt_rd_fail(r, "%u extents run past the end of the file", v->nextents);
    uint64_t mem_bytes = (uint64_t)v->pages * RT_PAGE_SIZE, prev_end = 0;
    v->extents = r->p;
    for (uint32_t k = 0; k < v->nextents; k++) {
        const uint8_t *e = rt_rd_take(r, 16, "extent header");
        if (!e)
            return false;
        uint64_t off = rt_snap_u64(e), len = rt_snap_u64(e + 8);
        if (len == 0)
            return rt_rd_fail(r, "extent %u is empty", k);
        if (off > mem_bytes || len > mem_bytes - off)
            return rt_rd_fail(r, "extent %u (offset %llu, %llu bytes) lies outside the memory of %u pages", k,
                              (unsigned long long)off, (unsigned long long)len, v->pages);
        if (k && off < prev_end)
            return rt_rd_fail(r, "extent %u (offset %llu) overlaps or precedes the extent before it", k,
                              (unsigned long long)off);
        prev_end = off + len;
        if (!rt_rd_take(r, len, "extent bytes") || !rt_rd_pad8(r, start, "extent bytes"))
            return false;
    }
    v->image_len = (prev_end + RT_OS_PAGE - 1) & ~(uint64_t)(RT_OS_PAGE - 1);
    return true;
}

bool rt_snap_decode(const uint8_t *buf, size_t len, uint32_t abi, rt_snap_view *v, char *why, size_t whylen)
{
    memset(v, 0, sizeof *v);
    rt_rd r = {buf, buf + len, why, whylen};
    if (len < 8 || memcmp(buf, RT_SNAP_MAGIC, 8) != 0)
        return rt_rd_fail(&r, "not a wedge snapshot (bad magic)");
    if (len < RT_SNAP_HEADER)
        return rt_rd_fail(&r, "truncated: %zu bytes, shorter than the %u-byte header", len, RT_SNAP_HEADER);
    v->format = rt_snap_u32(buf + 8);
    if (v->format != RT_SNAP_FORMAT)
        return rt_rd_fail(&r, "snapshot format version %u, this wedge reads version %u", v->format, RT_SNAP_FORMAT);
    uint64_t flen = rt_snap_u64(buf + 48);
    if (flen != len)
        return rt_rd_fail(&r, "%s: %zu bytes, the header says %llu", flen > len ? "truncated" : "trailing bytes",
                          len, (unsigned long long)flen);
    if (rt_snap_checksum(buf, len) != rt_snap_u64(buf + RT_SNAP_OFF_CHECKSUM))
        return rt_rd_fail(&r, "corrupted (checksum mismatch)");
    v->abi = rt_snap_u32(buf + 12);
    if (v->abi != abi)
        return rt_rd_fail(&r, "made for module ABI version %u, this wedge has %u; take the snapshot again", v->abi,
                          abi);
    memcpy(v->module_hash, buf + 16, RT_SNAP_HASH_BYTES);
    r.p = buf + RT_SNAP_HEADER;
    if (!rt_decode_globals(&r, v) || !rt_decode_tables(&r, buf, v) || !rt_decode_segments(&r, buf, v) ||
        !rt_decode_hosts(&r, buf, v) ||
        !rt_decode_memory(&r, buf, v))
        return false;
    if (r.p != r.end)
        return rt_rd_fail(&r, "%zu unexpected bytes after the memory section", rt_rd_left(&r));
    return true;
}

void rt_snap_next_table(const uint8_t **p, rt_snap_table_it *t)
{
    const uint8_t *q = *p;
    t->elemtype = q[0];
    t->size = rt_snap_u32(q + 4);
    t->idx = q + 8;
    *p = q + 8 + (((uint64_t)t->size * 4 + 7) & ~(uint64_t)7);
}

void rt_snap_next_host(const uint8_t **p, const char **name, uint32_t *name_len, const uint8_t **bytes,
                       uint64_t *len)
{
    const uint8_t *q = *p;
    *name_len = rt_snap_u32(q);
    *len = rt_snap_u64(q + 8);
    *name = (const char *)(q + 16);
    *bytes = q + 16 + ((*name_len + 7u) & ~7u);
    *p = *bytes + ((*len + 7) & ~(uint64_t)7);
}

void rt_snap_next_extent(const uint8_t **p, uint64_t *off, uint64_t *len, const uint8_t **bytes)
{
    const uint8_t *q = *p;
    *off = rt_snap_u64(q);
    *len = rt_snap_u64(q + 8);
    *bytes = q + 16;
    *p = q + 16 + ((*len + 7) & ~(uint64_t)7);
}

/* ---- writing ------------------------------------------------------------------------ */

void rt_snap_begin(rt_snap_writer *w, FILE *f)
{
    w->f = f;
    w->len = RT_SNAP_HEADER;
    w->err = false;
    rt_snap_sum_init(&w->sum);
    uint8_t zero[RT_SNAP_HEADER] = {0};
    if (fwrite(zero, 1, sizeof zero, f) != sizeof zero)
        w->err = true;
}

void rt_snap_put(rt_snap_writer *w, const void *p, size_t n)
{
    if (!n || w->err)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->err = true;
    rt_snap_sum_update(&w->sum, p, n);
    w->len += n;
}

void rt_snap_put_u32(rt_snap_writer *w, uint32_t v)
{
    uint8_t b[4];
    rt_le32(b, v);
    rt_snap_put(w, b, 4);
}

void rt_snap_put_u64(rt_snap_writer *w, uint64_t v)
{
    uint8_t b[8];
    rt_le64(b, v);
    rt_snap_put(w, b, 8);
}

void rt_snap_pad8(rt_snap_writer *w)
{
    static const uint8_t zero[8];
    rt_snap_put(w, zero, (8 - w->len % 8) % 8);
}

bool rt_snap_finish(rt_snap_writer *w, uint32_t abi, const uint8_t module_hash[RT_SNAP_HASH_BYTES])
{
    uint8_t h[RT_SNAP_HEADER] = {0};
    memcpy(h, RT_SNAP_MAGIC, 8);
    rt_le32(h + 8, RT_SNAP_FORMAT);
    rt_le32(h + 12, abi);
    memcpy(h + 16, module_hash, RT_SNAP_HASH_BYTES);
    rt_le64(h + 48, w->len);
    rt_snap_sum_update(&w->sum, h, RT_SNAP_OFF_CHECKSUM);
    rt_le64(h + RT_SNAP_OFF_CHECKSUM, rt_snap_sum_final(&w->sum));
    if (w->err || fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h)
        return false;
    return true;
}
