/*
 * test_store_lazy.c — st_lazy_prefetch, the working-set batch both lazy
 * paths (`wedge run --fetch lazy`, lazy serve routes) share: runs of
 * consecutive pages in first-touch order, fetched straight into the
 * memory, pages outside it (a stale set) skipped, a failed fetch reported.
 * (Against a real store: tests/store/store_e2e.py, tests/serve/lazy_e2e.py.)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "store/st_transport.h"

#define PAGES 16

typedef struct seen {
    uint32_t calls, k;
    uint64_t offs[PAGES];
    size_t lens[PAGES];
    int fail;
} seen;

/* Fills each span with its page numbers, as a store would send them. */
static int fake_fetch(void *arg, const uint64_t *offs, const size_t *lens, uint8_t *const *dsts, uint32_t k)
{
    seen *s = arg;
    s->calls++;
    s->k = k;
    for (uint32_t i = 0; i < k; i++) {
        s->offs[i] = offs[i];
        s->lens[i] = lens[i];
        for (size_t p = 0; p < lens[i] / ST_WSET_PAGE; p++)
            memset(dsts[i] + p * ST_WSET_PAGE, (int)(offs[i] / ST_WSET_PAGE + p + 1), ST_WSET_PAGE);
    }
    return s->fail ? -1 : 0;
}

Test(store_lazy, working_set_runs_land_in_place_in_one_batch)
{
    static uint8_t mem[PAGES * ST_WSET_PAGE];
    const uint32_t pages[] = {3, 4, 5, 9, 1, 2, 100000, 15};
    seen s = {0};
    st_lazy_runs r;
    char err[ST_ERR_LEN];
    cr_assert_eq(st_lazy_prefetch(pages, 8, mem, sizeof mem, fake_fetch, &s, &r, err), 0);
    cr_assert_eq(s.calls, 1, "one batch");
    cr_assert_eq(r.runs, 4);
    cr_assert_eq(r.pages, 7, "the page outside the memory is skipped");
    const uint64_t want_off[] = {3, 9, 1, 15};
    const size_t want_len[] = {3, 1, 2, 1};
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(r.offs[i], want_off[i] * ST_WSET_PAGE, "run %u", i);
        cr_assert_eq(r.lens[i], want_len[i] * ST_WSET_PAGE, "run %u", i);
    }
    for (uint32_t p = 0; p < PAGES; p++) {
        int in = (p >= 1 && p <= 5) || p == 9 || p == 15;
        cr_assert_eq(mem[p * ST_WSET_PAGE + 100], in ? p + 1 : 0, "page %u", p);
    }
    st_lazy_runs_free(&r);
    cr_assert_null(r.offs);
}

Test(store_lazy, empty_set_fetches_nothing_and_failure_is_reported)
{
    static uint8_t mem[PAGES * ST_WSET_PAGE];
    seen s = {0};
    st_lazy_runs r;
    char err[ST_ERR_LEN];
    cr_assert_eq(st_lazy_prefetch(NULL, 0, mem, sizeof mem, fake_fetch, &s, &r, err), 0);
    cr_assert_eq(s.calls, 0);
    cr_assert_eq(r.runs, 0);
    const uint32_t pages[] = {2};
    s.fail = 1;
    cr_assert_eq(st_lazy_prefetch(pages, 1, mem, sizeof mem, fake_fetch, &s, &r, err), -1);
    cr_assert_null(r.offs, "nothing to free after a failure");
    cr_assert(strstr(err, "working set"), "%s", err);
}
