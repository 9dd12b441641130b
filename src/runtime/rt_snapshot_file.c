/*
 * rt_snapshot_file.c — a snapshot to and from its file
 * (docs/snapshot-format.md; the bytes are rt_snapshot_fmt.c's job).
 *
 * Save writes a temporary file next to the target and renames it, so a
 * reader never sees half a snapshot.  Load reads the whole file, lets the
 * format decoder check everything the file alone can tell, then checks it
 * against the module it is for (hash, and every count, type, index and
 * size against the descriptor, in case two modules ever share a hash by a
 * caller's mistake), and builds the memory image from the extents.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"
#include "rt_snapshot_fmt.h"
#include "util/util.h"

/* ---- save ------------------------------------------------------------------------- */

static void rt_save_body(rt_snap_writer *w, const rt_snapshot *s, const uint8_t *mem, const rt_os_image_part *parts,
                         size_t nparts)
{
    static const uint8_t zero[8];
    rt_snap_put_u32(w, s->nglobals);
    rt_snap_put_u32(w, 0);
    for (uint32_t k = 0; k < s->nglobals; k++) {
        rt_snap_put(w, &s->globals[k].valtype, 1);
        rt_snap_put(w, zero, 7);
        rt_snap_put(w, s->globals[k].bytes, 16);
    }
    rt_snap_put_u32(w, s->ntables);
    rt_snap_put_u32(w, 0);
    for (uint32_t k = 0; k < s->ntables; k++) {
        rt_snap_put(w, &s->tables[k].elemtype, 1);
        rt_snap_put(w, zero, 3);
        rt_snap_put_u32(w, s->tables[k].size);
        for (uint32_t j = 0; j < s->tables[k].size; j++)
            rt_snap_put_u32(w, s->tables[k].idx[j]);
        rt_snap_pad8(w);
    }
    rt_snap_put_u32(w, s->ndatas);
    rt_snap_put_u32(w, s->nelems);
    rt_snap_put(w, s->data_dropped, s->ndatas);
    rt_snap_put(w, s->elem_dropped, s->nelems);
    rt_snap_pad8(w);
    /* Host modules' own state, from their snapshot hooks. */
    rt_snap_put_u32(w, s->nhosts);
    rt_snap_put_u32(w, 0);
    for (uint32_t k = 0; k < s->nhosts; k++) {
        uint32_t nlen = (uint32_t)strlen(s->hosts[k].name);
        rt_snap_put_u32(w, nlen);
        rt_snap_put_u32(w, 0);
        rt_snap_put_u64(w, s->hosts[k].len);
        rt_snap_put(w, s->hosts[k].name, nlen);
        rt_snap_pad8(w);
        rt_snap_put(w, s->hosts[k].bytes, s->hosts[k].len);
        rt_snap_pad8(w);
    }
    rt_snap_put_u32(w, s->has_mem);
    rt_snap_put_u32(w, s->pages);
    rt_snap_put_u32(w, (uint32_t)nparts);
    rt_snap_put_u32(w, 0);
    for (size_t k = 0; k < nparts; k++) {
        rt_snap_put_u64(w, parts[k].off);
        rt_snap_put_u64(w, parts[k].len);
        rt_snap_put(w, mem + parts[k].off, parts[k].len);
        rt_snap_pad8(w);
    }
}

bool rt_snapshot_save(const rt_snapshot *s, const char *path, rt_result *res)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) {
        rt_fail(res, RT_ERR_RESOURCE, "%s: path too long", path);
        return false;
    }
    const uint8_t *mem = NULL;
    rt_os_image_part *parts = NULL;
    size_t nparts = 0;
    if (s->image.len) {
        mem = rt_os_image_view(s->image.fd, s->image.len);
        if (!mem) {
            rt_fail(res, RT_ERR_RESOURCE, "%s: cannot read the snapshot's memory image", path);
            return false;
        }
        nparts = rt_snapshot_extents(mem, s->image.len, &parts);
        if (nparts == SIZE_MAX) {
            rt_os_release((void *)mem, s->image.len);
            rt_fail(res, RT_ERR_RESOURCE, "%s: out of memory", path);
            return false;
        }
    }
    FILE *f = fopen(tmp, "wb");
    bool ok = false;
    int err = 0;
    if (f) {
        rt_snap_writer w;
        rt_snap_begin(&w, f);
        rt_save_body(&w, s, mem, parts, nparts);
        ok = rt_snap_finish(&w, WEDGE_ABI_VERSION, s->module_hash);
        err = errno;
        if (fclose(f) != 0 && ok) {
            ok = false;
            err = errno;
        }
        if (ok && rename(tmp, path) != 0) {
            ok = false;
            err = errno;
        }
        if (!ok)
            unlink(tmp);
    } else {
        err = errno;
    }
    free(parts);
    if (mem)
        rt_os_release((void *)mem, s->image.len);
    if (!ok)
        rt_fail(res, RT_ERR_RESOURCE, "%s: cannot write: %s", path, strerror(err ? err : EIO));
    return ok;
}

/* ---- load ------------------------------------------------------------------------- */

static rt_snapshot *rt_load_fail(rt_snapshot *s, uint8_t *buf, rt_result *res, const char *path, const char *fmt,
                                 ...) __attribute__((format(printf, 5, 6)));
static rt_snapshot *rt_load_fail(rt_snapshot *s, uint8_t *buf, rt_result *res, const char *path, const char *fmt,
                                 ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rt_snapshot_free(s);
    free(buf);
    rt_fail(res, RT_ERR_LOAD, "%s: %s", path, why);
    return NULL;
}

static void rt_hex8(char *out, const uint8_t *h)
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Function index `idx` (from a table or global) is valid in m. */
static bool rt_idx_ok(const wedge_module_desc *d, uint32_t idx)
{
    return idx == RT_SNAP_NULL_FUNC || idx < d->nimported_funcs + d->nfuncs;
}

/* Takes `buf` (freed on every way out). */
static rt_snapshot *rt_snapshot_decode_for(uint8_t *buf, size_t len, const char *path, rt_module *m,
                                           const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES], rt_result *res)
{
    rt_snap_view v;
    char why[200];
    if (!rt_snap_decode(buf, len, WEDGE_ABI_VERSION, &v, why, sizeof why))
        return rt_load_fail(NULL, buf, res, path, "%s", why);
    if (memcmp(v.module_hash, module_hash, RT_SNAPSHOT_HASH_BYTES) != 0) {
        char a[17], b[17];
        rt_hex8(a, v.module_hash);
        rt_hex8(b, module_hash);
        return rt_load_fail(NULL, buf, res, path, "made from another module (SHA-256 %s..., this module is %s...)", a,
                            b);
    }
    const wedge_module_desc *d = m->desc;
    if (d->nimported_mems || d->nimported_tables)
        return rt_load_fail(NULL, buf, res, path, "the module imports its memory or a table");
    if (v.nglobals != d->nglobals || v.ntables != d->ntables || v.ndatas != d->ndatas || v.nelems != d->nelems ||
        v.has_mem != (d->nmems == 1))
        return rt_load_fail(NULL, buf, res, path, "does not match the module's globals, tables, segments or memory");

    rt_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return rt_load_fail(NULL, buf, res, path, "out of memory");
    s->module = m;
    s->image.fd = -1;
    memcpy(s->module_hash, module_hash, RT_SNAPSHOT_HASH_BYTES);
    s->ndatas = v.ndatas;
    s->nelems = v.nelems;
    s->has_mem = v.has_mem;
    s->pages = v.pages;
    s->globals = calloc(v.nglobals ? v.nglobals : 1, sizeof *s->globals);
    s->tables = calloc(v.ntables ? v.ntables : 1, sizeof *s->tables);
    s->data_dropped = malloc(v.ndatas ? v.ndatas : 1);
    s->elem_dropped = malloc(v.nelems ? v.nelems : 1);
    if (!s->globals || !s->tables || !s->data_dropped || !s->elem_dropped)
        return rt_load_fail(s, buf, res, path, "out of memory");
    memcpy(s->data_dropped, v.data_dropped, v.ndatas);
    memcpy(s->elem_dropped, v.elem_dropped, v.nelems);
    /* Host state is checked by its own module when an instance is
     * restored (rt_snapshot_apply): it does not know the linker here. */
    if (v.nhosts && !(s->hosts = calloc(v.nhosts, sizeof *s->hosts)))
        return rt_load_fail(s, buf, res, path, "out of memory");
    const uint8_t *hp = v.hosts;
    for (uint32_t k = 0; k < v.nhosts; k++) {
        const char *name;
        uint32_t nlen;
        const uint8_t *hb;
        uint64_t hlen;
        rt_snap_next_host(&hp, &name, &nlen, &hb, &hlen);
        rt_snap_host *h = &s->hosts[k];
        h->name = malloc(nlen + 1);
        h->bytes = malloc(hlen ? (size_t)hlen : 1);
        s->nhosts++;
        if (!h->name || !h->bytes)
            return rt_load_fail(s, buf, res, path, "out of memory");
        memcpy(h->name, name, nlen);
        h->name[nlen] = 0;
        memcpy(h->bytes, hb, (size_t)hlen);
        h->len = (size_t)hlen;
    }

    for (uint32_t k = 0; k < v.nglobals; k++) {
        const uint8_t *g = v.globals + (size_t)k * RT_SNAP_GLOBAL_BYTES;
        if (g[0] != d->globals[k].valtype)
            return rt_load_fail(s, buf, res, path, "global %u has type 0x%02x, the module's has 0x%02x",
                                d->nimported_globals + k, g[0], d->globals[k].valtype);
        if (g[0] == 0x70 && !rt_idx_ok(d, rt_snap_u32(g + 8)))
            return rt_load_fail(s, buf, res, path, "global %u: function index %u out of range",
                                d->nimported_globals + k, rt_snap_u32(g + 8));
        s->globals[k].valtype = g[0];
        memcpy(s->globals[k].bytes, g + 8, 16);
        s->nglobals++;
    }
    const uint8_t *tp = v.tables;
    for (uint32_t k = 0; k < v.ntables; k++) {
        rt_snap_table_it t;
        rt_snap_next_table(&tp, &t);
        const wedge_desc_limits *lim = &d->tables[k];
        uint32_t ti = d->nimported_tables + k;
        if (t.elemtype != lim->elemtype)
            return rt_load_fail(s, buf, res, path, "table %u has element type 0x%02x, the module's has 0x%02x", ti,
                                t.elemtype, lim->elemtype);
        if (t.size < lim->min || (lim->has_max && t.size > lim->max))
            return rt_load_fail(s, buf, res, path, "table %u has %u elements, outside the module's limits", ti,
                                t.size);
        rt_snap_table *st = &s->tables[k];
        st->idx = malloc((size_t)(t.size ? t.size : 1) * sizeof *st->idx);
        if (!st->idx)
            return rt_load_fail(s, buf, res, path, "out of memory");
        s->ntables++;
        st->elemtype = t.elemtype;
        st->size = t.size;
        for (uint32_t j = 0; j < t.size; j++) {
            st->idx[j] = rt_snap_u32(t.idx + 4 * (size_t)j);
            if (!rt_idx_ok(d, st->idx[j]))
                return rt_load_fail(s, buf, res, path, "table %u element %u: function index %u out of range", ti, j,
                                    st->idx[j]);
        }
    }
    if (v.has_mem) {
        const wedge_desc_limits *ml = &d->mems[0];
        if (v.pages < ml->min || (ml->has_max && v.pages > ml->max))
            return rt_load_fail(s, buf, res, path, "memory of %u pages is outside the module's limits (%u..%u)",
                                v.pages, ml->min, ml->has_max ? ml->max : RT_MAX_PAGES);
        rt_os_image_part *parts = calloc(v.nextents ? v.nextents : 1, sizeof *parts);
        if (!parts)
            return rt_load_fail(s, buf, res, path, "out of memory");
        const uint8_t *ep = v.extents;
        for (uint32_t k = 0; k < v.nextents; k++)
            rt_snap_next_extent(&ep, &parts[k].off, &parts[k].len, &parts[k].bytes);
        bool ok = rt_image_from_parts(&s->image, v.image_len, parts, v.nextents);
        free(parts);
        if (!ok)
            return rt_load_fail(s, buf, res, path, "cannot make the memory image (%llu bytes)",
                                (unsigned long long)v.image_len);
    }
    free(buf);
    return s;
}

rt_snapshot *rt_snapshot_load(const char *path, rt_module *m, const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES],
                              rt_result *res)
{
    size_t len = 0;
    uint8_t *buf = ut_read_file(path, SIZE_MAX, &len);
    if (!buf)
        return rt_load_fail(NULL, NULL, res, path, "cannot read: %s", strerror(errno));
    return rt_snapshot_decode_for(buf, len, path, m, module_hash, res);
}

rt_snapshot *rt_snapshot_from_bytes(const uint8_t *bytes, size_t len, const char *name, rt_module *m,
                                    const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES], rt_result *res)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return rt_load_fail(NULL, NULL, res, name, "out of memory");
    memcpy(buf, bytes, len);
    return rt_snapshot_decode_for(buf, len, name, m, module_hash, res);
}
