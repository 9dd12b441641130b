/*
 * fuzz_store_proto.c — libFuzzer target for the store protocol decoder
 * (src/store/st_proto.c): any bytes, as a hostile peer may send them.  The
 * first 12 bytes are a frame head, the rest its payload (the head's length
 * is ignored so the fuzzer can reach every payload decoder).  A decoded
 * message must re-encode to the very same bytes (one accepted spelling),
 * and every item accessor must stay inside the input; ASan/UBSan catch the
 * rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static uint8_t out[1 << 20];

static const uint8_t *span_at, *span_end;

static void span_check(void *arg, const uint8_t *q, size_t k)
{
    (void)arg;
    if (q < span_at || k > (size_t)(span_end - q))
        abort();
    span_at = q + k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < ST_HEAD_SIZE)
        return 0;
    st_kind kind;
    uint32_t len;
    uint8_t head[ST_HEAD_SIZE];
    memcpy(head, data, ST_HEAD_SIZE);
    if (st_head_decode(head, &kind, &len) != NULL)
        return 0;
    st_msg m;
    const uint8_t *p = data + ST_HEAD_SIZE;
    size_t n = size - ST_HEAD_SIZE;
    /* The MAC's span walk runs before decoding (on any bytes): every span
     * it gives lies inside the payload, in order. */
    span_at = p;
    span_end = p + n;
    st_frame_spans(kind, p, n, span_check, NULL);
    if (st_decode(kind, p, n, &m) != NULL)
        return 0;

    /* Touch every item through the accessors; rebuild encodable arrays. */
    static st_extent ext[1 << 14];
    static st_range rng[ST_MAX_RANGES];
    static uint32_t pages[1 << 18];
    st_msg e = m;
    switch (kind) {
    case ST_MANIFEST:
        if (m.u.manifest.n_extents > sizeof ext / sizeof ext[0])
            return 0;
        for (uint32_t i = 0; i < m.u.manifest.n_extents; i++)
            ext[i] = st_manifest_extent(&m, i);
        e.u.manifest.extents = ext;
        break;
    case ST_RANGES_REQ:
        for (uint32_t i = 0; i < m.u.ranges.count; i++)
            rng[i] = st_range_at(&m, i);
        e.u.ranges.ranges = rng;
        break;
    case ST_RANGES: {
        for (uint32_t i = 0; i < m.u.ranges.count; i++) {
            const uint8_t *sha;
            rng[i] = st_ranges_item(&m, i, &sha);
            /* One hash per 4 KiB chunk, all inside the payload, right
             * before the item's bytes. */
            if (sha < p || sha + (size_t)ST_SHA_LEN * st_chunks(rng[i].len) > p + n || rng[i].data < p ||
                rng[i].data + rng[i].len > p + n || sha + st_item_head(rng[i].len) - 16 != rng[i].data)
                abort();
            /* Walking in order gives the same items. */
            if (i > 0) {
                st_range g = st_ranges_after(&rng[i - 1]);
                if (g.off != rng[i].off || g.len != rng[i].len || g.data != rng[i].data)
                    abort();
            }
        }
        e.u.ranges.ranges = rng;
        /* Re-encoding recomputes the hashes: only a verified frame can
         * come back byte for byte. */
        if (st_ranges_verify(&m) != NULL)
            return 0;
        break;
    }
    case ST_WSET_PUT:
    case ST_WSET:
        if (m.u.wset.count > sizeof pages / sizeof pages[0])
            return 0;
        for (uint32_t i = 0; i < m.u.wset.count; i++)
            pages[i] = st_wset_page(&m, i);
        e.u.wset.pages = pages;
        break;
    default:
        break;
    }
    size_t k = st_encode(&e, out, sizeof out);
    if (n + ST_HEAD_SIZE > sizeof out)
        return 0;
    if (k != n + ST_HEAD_SIZE || memcmp(out + ST_HEAD_SIZE, p, n) != 0)
        abort();
    return 0;
}
