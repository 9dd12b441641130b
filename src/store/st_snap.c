/*
 * st_snap.c — the memory extents of a snapshot file, for a store's
 * manifest: where in the .snap blob each run of linear memory lies, so a
 * lazy node can fetch pages as byte ranges.  The format is the runtime's
 * (rt_remote.h); a file it refuses gets a manifest without extents (nodes
 * then fetch it whole, and their own load refuses it with the reason).
 */
#include <stdlib.h>

#include "runtime/rt_remote.h"
#include "st_internal.h"

typedef struct collect {
    st_manifest *man;
    uint32_t cap;
    int oom;
} collect;

static void add(void *arg, uint64_t mem_off, uint64_t file_off, uint64_t len)
{
    collect *c = arg;
    st_manifest *m = c->man;
    if (c->oom)
        return;
    if (m->n_extents == c->cap) {
        uint32_t cap = c->cap ? 2 * c->cap : 64;
        st_extent *e = realloc(m->extents, cap * sizeof *e);
        if (!e) {
            c->oom = 1;
            return;
        }
        m->extents = e;
        c->cap = cap;
    }
    m->extents[m->n_extents++] = (st_extent){mem_off, file_off, len};
}

void st_snap_extents(const uint8_t *snap, size_t len, st_manifest *man)
{
    man->mem_pages = 0;
    man->n_extents = 0;
    man->extents = NULL;
    collect c = {man, 0, 0};
    char why[256];
    uint32_t pages = 0;
    if (!snap || !rt_snapshot_file_extents(snap, len, add, &c, &pages, why, sizeof why) || c.oom) {
        free(man->extents);
        man->extents = NULL;
        man->n_extents = 0;
        return;
    }
    man->mem_pages = pages;
}
