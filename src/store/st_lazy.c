/*
 * st_lazy.c — a running node's lazy start from a store (st_transport.h),
 * shared by `wedge run --fetch lazy` and lazy `wedge serve` routes: the
 * snapshot's small state as a node cache file, and a recorded working set
 * fetched in one batch straight into the memory before it is registered
 * for faults (REAP's record-and-prefetch; no buffer, no copy per page).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt_remote.h"
#include "runtime/rt_uffd.h"
#include "st_transport.h"

int st_lazy_small_state(st_conn *c, const st_manifest *m, const char *dir, char *out, size_t cap, char *err)
{
    if (!m->n_extents) {
        snprintf(err, ST_ERR_LEN, "snapshot layout not usable lazily");
        return -1;
    }
    uint64_t mem_section = m->extents[0].file_off - 32; /* section head + first extent head */
    if (m->extents[0].file_off < 32 + 64 || mem_section > (64u << 20)) {
        snprintf(err, ST_ERR_LEN, "snapshot layout not usable lazily");
        return -1;
    }
    char hex[2 * ST_SHA_LEN + 1], tmp[4400];
    st_sha_hex(m->snap.sha, hex);
    int n = snprintf(out, cap, "%s/%s.small.snap", dir, hex);
    if (n < 0 || (size_t)n >= cap || (size_t)n + 64 > sizeof tmp) {
        snprintf(err, ST_ERR_LEN, "store cache path too long");
        return -1;
    }
    /* Unique per process and thread: two routes (or a route and a CLI run)
     * may write the same file at once; the rename makes either whole. */
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%lx", out, (long)getpid(), (unsigned long)pthread_self());
    uint8_t *prefix = malloc(mem_section), *small = malloc(mem_section + 16);
    st_range rg = {0, (uint32_t)mem_section, NULL};
    int rc = -1;
    if (!prefix || !small)
        snprintf(err, ST_ERR_LEN, "out of memory");
    else if (st_fetch_ranges(c, &m->snap, &rg, 1, &prefix, err) != 0)
        ;
    else if (!rt_snapshot_small_state(prefix, mem_section, m->mem_pages, small))
        snprintf(err, ST_ERR_LEN, "snapshot layout not usable lazily");
    else {
        FILE *f = fopen(tmp, "wb");
        int ok = f && fwrite(small, 1, mem_section + 16, f) == mem_section + 16;
        if (f && fclose(f) != 0)
            ok = 0;
        if (ok && rename(tmp, out) == 0)
            rc = 0;
        else {
            unlink(tmp);
            snprintf(err, ST_ERR_LEN, "%s: cannot write the store cache", dir);
        }
    }
    free(prefix);
    free(small);
    return rc;
}

int st_lazy_prefetch(const uint32_t *pages, uint32_t n, uint8_t *mem, uint64_t mem_size, st_lazy_fetch_fn fetch,
                     void *arg, st_lazy_runs *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return 0;
    uint64_t *offs = malloc(n * sizeof *offs);
    size_t *lens = malloc(n * sizeof *lens);
    uint8_t **dsts = malloc(n * sizeof *dsts);
    uint32_t runs = 0, used = 0;
    if (!offs || !lens || !dsts) {
        free(offs);
        free(lens);
        free(dsts);
        snprintf(err, ST_ERR_LEN, "out of memory for the working set");
        return -1;
    }
    /* Runs of consecutive pages, first-touch order kept between runs. */
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        while (j < n && pages[j] == pages[j - 1] + 1)
            j++;
        if (pages[j - 1] < mem_size / ST_WSET_PAGE && pages[i] <= pages[j - 1]) { /* else a stale set: skip */
            offs[runs] = (uint64_t)pages[i] * ST_WSET_PAGE;
            lens[runs] = (size_t)(j - i) * ST_WSET_PAGE;
            dsts[runs] = mem + offs[runs];
            runs++;
            used += j - i;
        }
        i = j;
    }
    int rc = runs ? fetch(arg, offs, lens, dsts, runs) : 0;
    free(dsts);
    if (rc != 0) {
        free(offs);
        free(lens);
        snprintf(err, ST_ERR_LEN, "fetching the working set failed");
        return -1;
    }
    out->offs = offs;
    out->lens = lens;
    out->runs = runs;
    out->pages = used;
    return 0;
}

int st_lazy_mark_present(rt_uffd *u, const st_lazy_runs *r)
{
    for (uint32_t k = 0; k < r->runs; k++)
        if (rt_uffd_mark_present(u, r->offs[k], r->lens[k]) != 0)
            return -1;
    return 0;
}

void st_lazy_runs_free(st_lazy_runs *r)
{
    free(r->offs);
    free(r->lens);
    memset(r, 0, sizeof *r);
}
