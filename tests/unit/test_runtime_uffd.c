/*
 * test_runtime_uffd.c — lazy memory (rt_uffd.h, os/rt_uffd_linux.c): pages
 * appear on first touch from the fetch callback at the chosen grain, the
 * first-touch order is recorded, system calls reading or writing untouched
 * pages work, installed pages never fault, and a failing fetch closes the
 * range (EFAULT) instead of exposing pages that were never fetched.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/rt_uffd.h"

#define PAGES 64
static uint8_t *mem;
static int fail_from = PAGES; /* pages at or after this fail to fetch */

static int fetch(void *arg, uint64_t off, uint8_t *dst, size_t len)
{
    (void)arg;
    if (off / RT_UFFD_PAGE + len / RT_UFFD_PAGE > (size_t)fail_from)
        return -1;
    for (size_t i = 0; i < len; i++)
        dst[i] = (uint8_t)((off + i) / RT_UFFD_PAGE + 1);
    return 0;
}

static rt_uffd *open_or_skip(size_t grain)
{
    mem = mmap(NULL, PAGES * RT_UFFD_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    char err[256];
    rt_uffd *u = rt_uffd_open(mem, PAGES * RT_UFFD_PAGE, grain, 1, fetch, NULL, err, sizeof err);
    if (!u) {
        fprintf(stderr, "SKIP 1 test: %s\n", err);
        cr_skip_test("%s", err);
    }
    return u;
}

Test(uffd, probe_agrees_with_open)
{
    char why[256] = "";
    int ok = rt_uffd_probe(why, sizeof why);
    mem = mmap(NULL, PAGES * RT_UFFD_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char err[256];
    rt_uffd *u = rt_uffd_open(mem, PAGES * RT_UFFD_PAGE, 0, 0, fetch, NULL, err, sizeof err);
    cr_assert_eq(ok, u != NULL, "probe %d (%s), open %s", ok, why, u ? "ok" : err);
    if (!ok)
        cr_assert(strstr(why, "userfaultfd"), "the reason names userfaultfd: %s", why);
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
}

Test(uffd, pages_appear_on_first_touch_at_the_grain_in_first_touch_order)
{
    rt_uffd *u = open_or_skip(4 * RT_UFFD_PAGE);
    rt_uffd_stats st;
    rt_uffd_get_stats(u, &st);
    cr_assert_eq(st.faults, 0);
    cr_assert_eq(mem[10 * RT_UFFD_PAGE + 5], 11);
    rt_uffd_get_stats(u, &st);
    cr_assert_eq(st.faults, 1);
    cr_assert_eq(st.pages_installed, 4); /* the 16 KiB block 8..11 */
    cr_assert_eq(mem[11 * RT_UFFD_PAGE], 12);
    cr_assert_eq(mem[8 * RT_UFFD_PAGE], 9);
    rt_uffd_get_stats(u, &st);
    cr_assert_eq(st.faults, 1, "pages of a fetched block do not fault again");
    cr_assert_eq(mem[3 * RT_UFFD_PAGE], 4);
    mem[40 * RT_UFFD_PAGE] += 1;
    cr_assert_eq(mem[40 * RT_UFFD_PAGE], 42);
    uint32_t n;
    const uint32_t *t = rt_uffd_touched(u, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(t[0], 10);
    cr_assert_eq(t[1], 3);
    cr_assert_eq(t[2], 40);
    cr_assert_not(rt_uffd_failed(u));
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
}

Test(uffd, system_calls_on_untouched_pages_are_served)
{
    rt_uffd *u = open_or_skip(RT_UFFD_PAGE);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    /* The kernel reads an untouched page (write() from guest memory). */
    cr_assert_eq(write(p[1], mem + 20 * RT_UFFD_PAGE, 100), 100);
    uint8_t b[100];
    cr_assert_eq(read(p[0], b, 100), 100);
    cr_assert_eq(b[0], 21);
    cr_assert_eq(b[99], 21);
    /* The kernel writes into an untouched page (read() into guest memory). */
    cr_assert_eq(write(p[1], "hello", 5), 5);
    cr_assert_eq(read(p[0], mem + 30 * RT_UFFD_PAGE + 10, 5), 5);
    cr_assert(memcmp(mem + 30 * RT_UFFD_PAGE + 10, "hello", 5) == 0);
    cr_assert_eq(mem[30 * RT_UFFD_PAGE], 31, "the rest of the page was fetched, not zero");
    close(p[0]);
    close(p[1]);
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
}

Test(uffd, installed_pages_never_fault)
{
    rt_uffd *u = open_or_skip(RT_UFFD_PAGE);
    static uint8_t data[2 * RT_UFFD_PAGE];
    memset(data, 0xee, sizeof data);
    cr_assert_eq(rt_uffd_install(u, 50 * RT_UFFD_PAGE, data, sizeof data), 0);
    cr_assert_eq(mem[50 * RT_UFFD_PAGE], 0xee);
    cr_assert_eq(mem[51 * RT_UFFD_PAGE + 4095], 0xee);
    rt_uffd_stats st;
    rt_uffd_get_stats(u, &st);
    cr_assert_eq(st.faults, 0);
    cr_assert_eq(st.pages_installed, 2);
    cr_assert_neq(rt_uffd_install(u, 1, data, RT_UFFD_PAGE), 0, "unaligned install refused");
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
}

Test(uffd, a_failed_fetch_closes_the_range)
{
    fail_from = 32;
    rt_uffd *u = open_or_skip(RT_UFFD_PAGE);
    cr_assert_eq(mem[5 * RT_UFFD_PAGE], 6);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    errno = 0;
    cr_assert_eq(write(p[1], mem + 40 * RT_UFFD_PAGE, 10), -1);
    cr_assert_eq(errno, EFAULT);
    cr_assert(rt_uffd_failed(u));
    close(p[0]);
    close(p[1]);
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
    fail_from = PAGES;
}

Test(uffd, pages_written_before_open_and_marked_present_keep_their_bytes)
{
    mem = mmap(NULL, PAGES * RT_UFFD_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    /* A prefetch straight into the memory: pages 5 and 6, before registering. */
    memset(mem + 5 * RT_UFFD_PAGE, 0xAB, 2 * RT_UFFD_PAGE);
    char err[256];
    rt_uffd *u = rt_uffd_open(mem, PAGES * RT_UFFD_PAGE, 0, 1, fetch, NULL, err, sizeof err);
    if (!u) {
        fprintf(stderr, "SKIP 1 test: %s\n", err);
        cr_skip_test("%s", err);
    }
    cr_assert_eq(rt_uffd_mark_present(u, 5 * RT_UFFD_PAGE, 2 * RT_UFFD_PAGE), 0);
    cr_assert_neq(rt_uffd_mark_present(u, (PAGES - 1) * RT_UFFD_PAGE, 2 * RT_UFFD_PAGE), 0, "a range past the end");
    /* The whole range as the grain: one fault fills every page but the marked ones. */
    cr_assert_eq(mem[0], 1);
    cr_assert_eq(mem[5 * RT_UFFD_PAGE + 7], 0xAB);
    cr_assert_eq(mem[6 * RT_UFFD_PAGE], 0xAB);
    cr_assert_eq(mem[7 * RT_UFFD_PAGE], 8);
    rt_uffd_stats st;
    rt_uffd_get_stats(u, &st);
    cr_assert_eq(st.faults, 1);
    cr_assert_eq(st.pages_installed, PAGES - 2);
    rt_uffd_close(u);
    munmap(mem, PAGES * RT_UFFD_PAGE);
}
