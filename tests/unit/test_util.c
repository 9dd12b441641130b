/*
 * test_util.c — src/util: the one whole-file reader, the one monotonic
 * clock every component uses, and the sliced wait of poll_oneoff and
 * runtime_msleep.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static char path[64];

static void make_file(size_t n)
{
    strcpy(path, "/tmp/wedge-util-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    for (size_t i = 0; i < n; i++) {
        char c = (char)('a' + i % 26);
        cr_assert_eq(write(fd, &c, 1), 1);
    }
    close(fd);
}

static void drop_file(void)
{
    if (path[0])
        unlink(path);
}

TestSuite(util, .fini = drop_file);

Test(util, reads_a_whole_file_with_a_nul_after_it)
{
    make_file(100000);
    size_t len = 0;
    uint8_t *b = ut_read_file(path, SIZE_MAX, &len);
    cr_assert_not_null(b, "%s", strerror(errno));
    cr_assert_eq(len, 100000);
    cr_assert_eq(b[0], 'a');
    cr_assert_eq(b[99999], (uint8_t)('a' + 99999 % 26));
    cr_assert_eq(b[len], 0);
    free(b);
}

Test(util, empty_file)
{
    make_file(0);
    size_t len = 1;
    uint8_t *b = ut_read_file(path, SIZE_MAX, &len);
    cr_assert_not_null(b);
    cr_assert_eq(len, 0);
    cr_assert_eq(b[0], 0);
    free(b);
}

Test(util, refuses_a_file_over_the_limit_with_efbig)
{
    make_file(11);
    size_t len;
    uint8_t *b = ut_read_file(path, 11, &len);
    cr_assert_not_null(b);
    free(b);
    errno = 0;
    cr_assert_null(ut_read_file(path, 10, &len));
    cr_assert_eq(errno, EFBIG);
}

Test(util, missing_file_and_directory_give_their_errno)
{
    size_t len;
    errno = 0;
    cr_assert_null(ut_read_file("/nonexistent/wedge", SIZE_MAX, &len));
    cr_assert_eq(errno, ENOENT);
    errno = 0;
    cr_assert_null(ut_read_file("/tmp", SIZE_MAX, &len));
    cr_assert_eq(errno, EISDIR);
}

/* A file whose size stat does not tell (procfs says 0): read by growing. */
Test(util, reads_a_file_of_unknown_size)
{
    size_t len = 0;
    uint8_t *b = ut_read_file("/proc/self/status", SIZE_MAX, &len);
    cr_assert_not_null(b, "%s", strerror(errno));
    cr_assert_gt(len, 0);
    cr_assert_eq(strlen((char *)b), len);
    cr_assert_not_null(strstr((char *)b, "Name:"));
    free(b);
}

Test(util, monotonic_clock_moves_forward)
{
    uint64_t a = ut_mono_ns();
    usleep(2000);
    uint64_t b = ut_mono_ns();
    cr_assert_geq(b - a, 2000000u);
    cr_assert_lt(b - a, 2000000000u);
}

/* ---- ut_wait_until ------------------------------------------------------------------ */

static int yields;
static int yield_pipe = -1;     /* >= 0: the 5th yield writes a byte here */
static void count_yield(void)
{
    if (++yields == 5 && yield_pipe >= 0)
        cr_assert_eq(write(yield_pipe, "x", 1), 1);
}

Test(util, wait_until_sleeps_to_the_time_in_one_wait_without_a_hook)
{
    uint64_t t0 = ut_mono_ns();
    cr_assert_eq(ut_wait_until(NULL, 0, t0 + 20000000u, NULL), 0);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_geq(dt, 20000000u);
    cr_assert_lt(dt, 2000000000u);
    t0 = ut_mono_ns();
    cr_assert_eq(ut_wait_until(NULL, 0, 0, NULL), 0, "a time in the past: no wait");
    cr_assert_lt(ut_mono_ns() - t0, 500000000u);
}

Test(util, wait_until_yields_between_slices_and_still_ends_at_the_time)
{
    yields = 0;
    uint64_t t0 = ut_mono_ns();
    cr_assert_eq(ut_wait_until(NULL, 0, t0 + 200000000u, count_yield), 0);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_geq(dt, 200000000u);
    /* 1 ms slices: about 200 yields; a loaded machine (CI, sanitizers)
     * oversleeps a slice by tens of ms, so only a few are sure. */
    cr_assert_geq(yields, 3, "only %d yields in %llu ns", yields, (unsigned long long)dt);
    cr_assert_leq((uint64_t)yields, dt / 1000000u + 1, "a yield per slice at most (%d)", yields);
}

Test(util, wait_until_returns_when_a_descriptor_is_ready)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    /* Becomes readable during the 5th yield: the wait ends there, long
     * before its 5 s. */
    yields = 0;
    yield_pipe = p[1];
    uint64_t t0 = ut_mono_ns();
    cr_assert_eq(ut_wait_until(&pfd, 1, t0 + 5000000000u, count_yield), 1);
    cr_assert(pfd.revents & POLLIN);
    cr_assert_eq(yields, 5);
    cr_assert_lt(ut_mono_ns() - t0, 2000000000u);
    /* Without a hook: ready at once, however far the time. */
    yield_pipe = -1;
    pfd.revents = 0;
    cr_assert_eq(ut_wait_until(&pfd, 1, UINT64_MAX, NULL), 1);
    /* Nothing to read and the time passed: 0. */
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    cr_assert_eq(ut_wait_until(&pfd, 1, ut_mono_ns() + 5000000u, count_yield), 0);
    close(p[0]);
    close(p[1]);
}

Test(util, put_u64_writes_the_decimal_digits_and_returns_the_end)
{
    static const struct { uint64_t v; const char *s; } cases[] = {
        { 0, "0" }, { 7, "7" }, { 10, "10" }, { 404, "404" }, { 4096, "4096" },
        { 1000000007u, "1000000007" }, { UINT64_MAX, "18446744073709551615" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UT_U64_DIGITS + 1];
        memset(buf, '#', sizeof buf);
        char *end = ut_put_u64(buf, cases[i].v);
        cr_assert_eq((size_t)(end - buf), strlen(cases[i].s), "length for %s", cases[i].s);
        cr_assert(!memcmp(buf, cases[i].s, strlen(cases[i].s)), "digits for %s", cases[i].s);
        if (end < buf + sizeof buf)
            cr_assert_eq(*end, '#', "nothing written past the digits of %s", cases[i].s);
    }
}
