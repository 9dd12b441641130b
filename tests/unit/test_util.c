/*
 * test_util.c — src/util: the one whole-file reader and the one monotonic
 * clock every component uses.
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
