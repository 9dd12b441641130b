/*
 * st_mem.c — a snapshot's linear memory fetched by memory offset (not by
 * file offset): the lazy fault handlers of `wedge run` and `wedge serve`
 * ask for pages of memory, the store serves byte ranges of the .snap blob.
 * The manifest's extents map one to the other; memory no extent covers is
 * zero and costs no bytes on the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_transport.h"

/* The first extent (sorted by mem_off) that ends after off. */
static uint32_t first_extent_after(const st_extent *ext, uint32_t n_ext, uint64_t off)
{
    uint32_t lo = 0, hi = n_ext;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (ext[mid].mem_off + ext[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The ranges of the blob that hold memory [off, off+len), at most 4 MiB
 * each (one extent may span a whole region), with where each goes (dst is
 * the memory at off).  Only counts when rs is NULL. */
static uint32_t mem_ranges(const st_extent *ext, uint32_t n_ext, uint64_t off, size_t len, uint8_t *dst, st_range *rs,
                           uint8_t **ds)
{
    enum { PIECE = 4u << 20 };
    uint32_t lo = first_extent_after(ext, n_ext, off);
    uint32_t n = 0;
    for (uint32_t k = lo; k < n_ext && ext[k].mem_off < off + len; k++) {
        const st_extent *x = &ext[k];
        uint64_t a = x->mem_off > off ? x->mem_off : off;
        uint64_t b = x->mem_off + x->len < off + len ? x->mem_off + x->len : off + len;
        for (; a < b; a += PIECE, n++) {
            if (!rs)
                continue;
            uint64_t e = b - a < PIECE ? b : a + PIECE;
            rs[n] = (st_range){x->file_off + (a - x->mem_off), (uint32_t)(e - a), NULL};
            ds[n] = dst + (a - off);
        }
    }
    return n;
}

/* Zeroes what of dst (memory [off, off+len)) no extent covers: the rest
 * is about to be overwritten by the fetch, so it is not written twice (on
 * fresh memory that would also fault every page in once more). */
static void zero_gaps(const st_extent *ext, uint32_t n_ext, uint64_t off, size_t len, uint8_t *dst)
{
    uint64_t at = off, end = off + len;
    uint32_t lo = first_extent_after(ext, n_ext, off);
    for (uint32_t k = lo; k < n_ext && at < end; k++) {
        const st_extent *x = &ext[k];
        if (x->mem_off + x->len <= at)
            continue;
        if (x->mem_off >= end)
            break;
        if (x->mem_off > at)
            memset(dst + (at - off), 0, (size_t)(x->mem_off - at));
        at = x->mem_off + x->len;
    }
    if (at < end)
        memset(dst + (at - off), 0, (size_t)(end - at));
}

int st_fetch_mem(st_conn *c, const st_blob_ref *snap, const st_extent *ext, uint32_t n_ext, const uint64_t *offs,
                 const size_t *lens, uint8_t *const *dsts, uint32_t k, char *err)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k; i++) {
        zero_gaps(ext, n_ext, offs[i], lens[i], dsts[i]);
        n += mem_ranges(ext, n_ext, offs[i], lens[i], NULL, NULL, NULL);
    }
    if (!n)
        return 0;
    st_range *rs = malloc(n * sizeof *rs);
    uint8_t **ds = malloc(n * sizeof *ds);
    int r = -1;
    if (rs && ds) {
        uint32_t at = 0;
        for (uint32_t i = 0; i < k; i++)
            at += mem_ranges(ext, n_ext, offs[i], lens[i], dsts[i], rs + at, ds + at);
        r = st_fetch_ranges(c, snap, rs, n, ds, err);
    } else {
        snprintf(err, ST_ERR_LEN, "out of memory");
    }
    free(rs);
    free(ds);
    return r;
}
