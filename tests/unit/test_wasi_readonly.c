/*
 * test_wasi_readonly.c — a read-only pre-opened directory (serve's route
 * "dirs" without ":rw"): reading works; every call that would change
 * something beneath it fails (EROFS for an open for writing, EPERM for a
 * missing path right), for subdirectories opened from it too, and nothing
 * changes on the host.
 */
#include "wasi_fake.h"

static void ro_setup(void)
{
    fk_readonly = true;
    fk_setup();
}

static void ro_teardown(void)
{
    fk_teardown();
    fk_readonly = false;
}

TestSuite(wasi_readonly, .init = ro_setup, .fini = ro_teardown);

enum { O_CREAT_ = 1, O_DIRECTORY_ = 2, O_TRUNC_ = 8 };
enum { E_ROFS = 69 };
#define RD ((uint64_t)1 << 1)
#define WR ((uint64_t)1 << 6)

static uint32_t open_at(uint32_t dirfd, const char *path, uint32_t oflags, uint64_t base, uint32_t *fd)
{
    uint32_t out = galloc(4);
    uint32_t rc = wasi_path_open(fk_inst, dirfd, 0, gstr(path), (uint32_t)strlen(path), oflags, base, R_ALL, 0, out);
    *fd = rd32(out);
    return rc;
}

static bool host_exists(const char *name)
{
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", fk_root, name);
    return stat(p, &st) == 0;
}

Test(wasi_readonly, reads_but_never_writes)
{
    char p[400];
    snprintf(p, sizeof p, "%s/in.txt", fk_root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("data\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/sub", fk_root);
    cr_assert_eq(mkdir(p, 0755), 0);

    uint32_t fd, dfd;
    cr_assert_eq(open_at(PRE, "in.txt", 0, RD, &fd), E_OK);
    uint32_t buf = galloc(16), iov[2] = {buf, 16}, nr = galloc(4);
    cr_assert_eq(wasi_fd_read(fk_inst, fd, gput(iov, 8), 1, nr), E_OK);
    cr_assert_eq(rd32(nr), 5);

    cr_assert_eq(open_at(PRE, "in.txt", 0, RD | WR, &fd), E_ROFS, "open for writing");
    cr_assert_eq(open_at(PRE, "new.txt", O_CREAT_, RD | WR, &fd), E_PERM, "create");
    cr_assert_eq(open_at(PRE, "in.txt", O_TRUNC_, RD, &fd), E_PERM, "truncate");
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("d"), 1), E_PERM);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("in.txt"), 6), E_PERM);
    cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, gstr("sub"), 3), E_PERM);
    cr_assert_eq(wasi_path_rename(fk_inst, PRE, gstr("in.txt"), 6, PRE, gstr("x"), 1), E_PERM);
    cr_assert_eq(wasi_path_symlink(fk_inst, gstr("in.txt"), 6, PRE, gstr("l"), 1), E_PERM);

    /* A subdirectory opened from it is read-only as well. */
    cr_assert_eq(open_at(PRE, "sub", O_DIRECTORY_, RD, &dfd), E_OK);
    cr_assert_eq(open_at(dfd, "f", O_CREAT_, RD | WR, &fd), E_PERM, "create beneath a subdirectory");
    cr_assert_eq(wasi_path_create_directory(fk_inst, dfd, gstr("d"), 1), E_PERM);

    cr_assert(host_exists("in.txt") && host_exists("sub"));
    cr_assert(!host_exists("new.txt") && !host_exists("d") && !host_exists("x") && !host_exists("l") &&
              !host_exists("sub/f") && !host_exists("sub/d"));
}
