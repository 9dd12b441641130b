/*
 * compile_fixture.h — the scaffolding test_compile.c and test_compile_big.c
 * share: a temporary folder per test process (cf_dir), which also holds
 * the compile cache unless WEDGE_CACHE_DIR says otherwise, removed at the
 * end; and reading a whole file or failing the test.
 */
#ifndef TEST_COMPILE_FIXTURE_H
#define TEST_COMPILE_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

static char cf_dir[256];

static void cf_setup(void)
{
    snprintf(cf_dir, sizeof cf_dir, "/tmp/wedge-test-compile-%ld", (long)getpid());
    mkdir(cf_dir, 0755);
    if (getenv("WEDGE_CACHE_DIR") == NULL) {
        char c[300];
        snprintf(c, sizeof c, "%s/cache", cf_dir);
        setenv("WEDGE_CACHE_DIR", c, 1);
    }
}

static void cf_teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cf_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", cf_dir);
}

/* The whole file, NUL-terminated; the test fails if it cannot be read. */
static inline uint8_t *cf_read_all(const char *path, size_t *len)
{
    uint8_t *buf = ut_read_file(path, SIZE_MAX, len);
    cr_assert_not_null(buf, "cannot read %s: %s", path, strerror(errno));
    return buf;
}

#endif
