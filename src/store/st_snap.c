/*
 * st_snap.c — the memory extents of a snapshot file, for a store's
 * manifest: where in the .snap blob each run of linear memory lies, so a
 * lazy node can fetch pages as byte ranges.
 *
 * The snapshot format (docs/snapshot-format.md) belongs to the runtime's
 * snapshot code, which is not on this branch yet: until it is, a manifest
 * carries no extents and nodes fetch snapshots whole (eager).
 */
#include "st_internal.h"

void st_snap_extents(const uint8_t *snap, size_t len, st_manifest *man)
{
    (void)snap;
    (void)len;
    man->mem_pages = 0;
    man->n_extents = 0;
    man->extents = NULL;
}
