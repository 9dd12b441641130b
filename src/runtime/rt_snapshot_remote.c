/*
 * rt_snapshot_remote.c — what remote instantiation needs of a snapshot file
 * (docs/snapshot-format.md) without holding all of it: where its memory
 * extents lie (a store's manifest), and the "small state" file — the same
 * snapshot with its memory section emptied, the memory left for a lazy
 * node to fill page by page (rt_uffd.h).
 */
#include <string.h>

#include "rt_internal.h"
#include "rt_remote.h"
#include "rt_snapshot_fmt.h"

bool rt_snapshot_file_extents(const uint8_t *file, size_t len, rt_snapshot_file_extent_fn fn, void *arg, uint32_t *pages,
                         char *why, size_t whylen)
{
    rt_snap_view v;
    if (!rt_snap_decode(file, len, WEDGE_ABI_VERSION, &v, why, whylen))
        return false;
    *pages = v.has_mem ? v.pages : 0;
    const uint8_t *p = v.extents;
    for (uint32_t k = 0; k < v.nextents; k++) {
        uint64_t off, n;
        const uint8_t *bytes;
        rt_snap_next_extent(&p, &off, &n, &bytes);
        fn(arg, off, (uint64_t)(bytes - file), n);
    }
    return true;
}

bool rt_snapshot_small_state(const uint8_t *prefix, size_t mem_section, uint32_t pages, uint8_t *out)
{
    if (mem_section < RT_SNAP_HEADER || mem_section % 8)
        return false;
    memcpy(out, prefix, mem_section);
    /* present, pages, no extents, reserved: every page reads as zero until
     * the lazy node puts its content in. */
    uint8_t *h = out + mem_section;
    memset(h, 0, 16);
    h[0] = 1;
    for (int i = 0; i < 4; i++)
        h[4 + i] = (uint8_t)(pages >> (8 * i));
    rt_snap_seal(out, mem_section + 16);
    return true;
}
