/*
 * test_wasi_jail.c — every way out of a pre-opened directory must fail with
 * the errno documented in src/wasi/wasi_path.h, through both resolvers
 * (openat2 and the portable walk), and must leave the outside untouched.
 *
 * Layout (host):  base/sandbox  (pre-opened as fd 3)
 *                 base/outside/secret
 * Inside the sandbox the tests plant: dir a/, file f, and links
 *   etc -> /etc, up -> .., l1 -> l2 -> l3 -> ../outside, loop -> loop,
 *   a/out -> ../../outside/secret, dang -> ../outside/newfile, in -> a
 */
#include "wasi_fake.h"

#include <errno.h>

TestSuite(jail, .init = fk_setup, .fini = fk_teardown);

static void plant(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/a", fk_root);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/f", fk_root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("inside\n", f);
    fclose(f);
    static const char *const links[][2] = {
        {"etc", "/etc"}, {"up", ".."}, {"l1", "l2"}, {"l2", "l3"}, {"l3", "../outside"},
        {"loop", "loop"}, {"a/out", "../../outside/secret"}, {"dang", "../outside/newfile"}, {"in", "a"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", fk_root, links[i][0]);
        cr_assert_eq(symlink(links[i][1], p), 0, "symlink %s", p);
    }
}

/* The outside must be exactly as the fixture made it. */
static void outside_intact(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/secret", fk_outside);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "outside/secret was removed or renamed");
    char buf[32] = {0};
    cr_assert_not_null(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_assert_str_eq(buf, "top secret\n");
    int n = 0;
    DIR *d = opendir(fk_outside);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n++;
    closedir(d);
    cr_assert_eq(n, 3, "something was created in the outside directory");
}

static uint32_t P(const char *s) { return gstr(s); }

static uint32_t open_r(const char *path, uint32_t follow)
{
    uint32_t fd;
    return fk_open(path, 0, R_READ, follow, &fd);
}

/* Run `body` once with openat2 and once with the portable walk. */
#define BOTH_RESOLVERS(...) \
    for (int mode_ = 0; mode_ < 2; mode_++) { \
        wasi_jail_force_walk = mode_; \
        __VA_ARGS__ \
    } \
    wasi_jail_force_walk = 0

Test(jail, open_escapes)
{
    plant();
    BOTH_RESOLVERS({
        cr_assert_eq(open_r("../outside/secret", 1), E_NOTCAPABLE, "mode %d", mode_);
        cr_assert_eq(open_r("..", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("a/../../outside/secret", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("a/../a/../..", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("/etc/passwd", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("//etc/passwd", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("etc/passwd", 1), E_NOTCAPABLE, "symlink to /etc, mode %d", mode_);
        cr_assert_eq(open_r("etc/passwd", 0), E_NOTCAPABLE, "non-final links are always followed");
        cr_assert_eq(open_r("etc", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("up/outside/secret", 1), E_NOTCAPABLE, "symlink to ..");
        cr_assert_eq(open_r("up", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("l1/secret", 1), E_NOTCAPABLE, "symlink chain");
        cr_assert_eq(open_r("l1", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("a/out", 1), E_NOTCAPABLE, "relative link climbing out");
        cr_assert_eq(open_r("in/out", 1), E_NOTCAPABLE, "through a link to a dir, then out");
        cr_assert_eq(open_r("in/../up/outside", 1), E_NOTCAPABLE);
        cr_assert_eq(open_r("loop", 1), E_LOOP);
        cr_assert_eq(open_r("loop/x", 1), E_LOOP);

        /* O_CREAT through a dangling link that points outside */
        uint32_t fd;
        cr_assert_eq(fk_open("dang", 1, R_RW, 1, &fd), E_NOTCAPABLE, "mode %d", mode_);
        cr_assert_eq(fk_open("up/created", 1, R_RW, 1, &fd), E_NOTCAPABLE);
        cr_assert_eq(fk_open("../created", 1 | 4, R_RW, 1, &fd), E_NOTCAPABLE);
        cr_assert_eq(fk_open("dang", 1 | 4, R_RW, 1, &fd), E_EXIST, "O_EXCL does not follow, mode %d", mode_);

        /* what stays inside works, including ".." that does not climb out */
        cr_assert_eq(open_r("f", 1), E_OK, "mode %d", mode_);
        cr_assert_eq(open_r("a/../f", 1), E_OK);
        cr_assert_eq(open_r("./a/./../f", 1), E_OK);
        cr_assert_eq(open_r("in/../f", 1), E_OK);
        cr_assert_eq(open_r(".", 1), E_OK);
        cr_assert_eq(open_r("./", 1), E_OK);
        cr_assert_eq(open_r("a/", 1), E_OK);
        cr_assert_eq(open_r("in/", 0), E_OK, "a trailing slash follows the link");
        cr_assert_eq(open_r("f/", 1), E_NOTDIR);
        cr_assert_eq(open_r("", 1), E_NOENT);
        cr_assert_eq(open_r("missing/x", 1), E_NOENT);
    });
    outside_intact();
}

Test(jail, stat_readlink_times_escapes)
{
    plant();
    uint32_t st = galloc(64), buf = galloc(64), used = galloc(4);
    BOTH_RESOLVERS({
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, P("etc"), 3, st), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, P("etc"), 3, st), E_OK, "lstat of the link");
        cr_assert_eq(G(st)[16], 7);
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, P("up/outside"), 10, st), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, P("../outside/secret"), 17, st), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, P("/"), 1, st), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, P("."), 1, st), E_OK);
        cr_assert_eq(wasi_path_readlink(fk_inst, PRE, P("up/outside"), 10, buf, 64, used), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_readlink(fk_inst, PRE, P("etc"), 3, buf, 64, used), E_OK);
        cr_assert_eq(rd32(used), 4);
        cr_assert_eq(wasi_path_filestat_set_times(fk_inst, PRE, 1, P("etc"), 3, 0, 0, 8), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_set_times(fk_inst, PRE, 1, P("a/out"), 5, 0, 0, 8), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_filestat_set_times(fk_inst, PRE, 0, P("../outside/secret"), 17, 0, 0, 8),
                     E_NOTCAPABLE);
    });
    outside_intact();
}

Test(jail, name_operation_escapes)
{
    plant();
    BOTH_RESOLVERS({
        /* unlink */
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("../outside/secret"), 17), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("up/outside/secret"), 17), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("l1/secret"), 9), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("etc/passwd"), 10), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("/etc/passwd"), 11), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P(".."), 2), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("."), 1), E_NOTCAPABLE);
        /* mkdir */
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("../outside/new"), 14), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("up/outside/new"), 14), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("l3/new"), 6), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("."), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("a/.."), 4), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("./"), 2), E_NOTCAPABLE);
        /* rmdir */
        cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P("../outside"), 10), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P("."), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P(".."), 2), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P("a/.."), 4), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P("a/../.."), 7), E_NOTCAPABLE);
        /* rename, either side outside */
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("f"), 1, PRE, P("../outside/f"), 12), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("../outside/secret"), 17, PRE, P("stolen"), 6),
                     E_NOTCAPABLE);
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("l3/secret"), 9, PRE, P("stolen"), 6), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("f"), 1, PRE, P("up/outside/f"), 12), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("."), 1, PRE, P("x"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("a"), 1, PRE, P(".."), 2), E_NOTCAPABLE);
        /* hard links */
        cr_assert_eq(wasi_path_link(fk_inst, PRE, 0, P("../outside/secret"), 17, PRE, P("h"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_link(fk_inst, PRE, 1, P("a/out"), 5, PRE, P("h"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_link(fk_inst, PRE, 1, P("l1/secret"), 9, PRE, P("h"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_link(fk_inst, PRE, 0, P("f"), 1, PRE, P("../outside/h"), 12), E_NOTCAPABLE);
        /* symlinks whose target would leave, or placed outside */
        cr_assert_eq(wasi_path_symlink(fk_inst, P("/etc"), 4, PRE, P("s"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P(".."), 2, PRE, P("s"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("../outside"), 10, PRE, P("s"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("a/../../x"), 9, PRE, P("s"), 1), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("../../x"), 7, PRE, P("a/s"), 3), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("f"), 1, PRE, P("../outside/s"), 12), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("f"), 1, PRE, P("up/outside/s"), 12), E_NOTCAPABLE);
        cr_assert_eq(wasi_path_symlink(fk_inst, P("f"), 1, PRE, P("."), 1), E_NOTCAPABLE);
    });
    outside_intact();

    /* the same operations inside the jail work */
    cr_assert_eq(wasi_path_symlink(fk_inst, P("../f"), 4, PRE, P("a/s"), 3), E_OK, "../f from a/ stays inside");
    cr_assert_eq(open_r("a/s", 1), E_OK);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, P("in/new"), 6), E_OK);
    cr_assert_eq(wasi_path_rename(fk_inst, PRE, P("a/new"), 5, PRE, P("moved"), 5), E_OK);
    cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, P("moved/"), 6), E_OK);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("up"), 2), E_OK, "removing the link itself is fine");
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, P("etc"), 3), E_OK);
    struct stat st;
    cr_assert_eq(stat("/etc/passwd", &st), 0);
    outside_intact();
}

Test(jail, direct_resolver_edge_cases)
{
    int root = open(fk_root, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(root, 0);
    plant();
    BOTH_RESOLVERS({
        int fd, parent;
        const char *name;
        cr_assert_eq(wasi_jail_open(root, "", O_RDONLY, 0, &fd), E_NOENT);
        cr_assert_eq(wasi_jail_open(root, "////", O_RDONLY, 0, &fd), E_NOTCAPABLE);
        cr_assert_eq(fd, -1);
        cr_assert_eq(wasi_jail_open(root, "a//..//f", O_RDONLY, 0, &fd), E_OK, "mode %d", mode_);
        close(fd);
        cr_assert_eq(wasi_jail_open(root, "a/../../sandbox/f", O_RDONLY, 0, &fd), E_NOTCAPABLE,
                     "climbing out and back in is still out");
        cr_assert_eq(wasi_jail_parent(root, "x", &parent, &name), E_OK);
        cr_assert_str_eq(name, "x");
        close(parent);
        cr_assert_eq(wasi_jail_parent(root, "a/b//", &parent, &name), E_OK);
        cr_assert_str_eq(name, "b//");
        close(parent);
        cr_assert_eq(wasi_jail_parent(root, "up/x", &parent, &name), E_NOTCAPABLE);
        cr_assert_eq(wasi_jail_parent(root, "a/..", &parent, &name), E_NOTCAPABLE);
        cr_assert_eq(wasi_jail_parent(root, "", &parent, &name), E_NOENT);
        cr_assert_eq(parent, -1);

        /* a long chain of links within the limit resolves; a deep path too */
        char p[600];
        for (int i = 0; i < 30; i++) {
            char lp[600], tgt[32];
            snprintf(lp, sizeof lp, "%s/c%d", fk_root, i);
            snprintf(tgt, sizeof tgt, i == 29 ? "f" : "c%d", i + 1);
            unlink(lp);
            cr_assert_eq(symlink(tgt, lp), 0);
        }
        cr_assert_eq(wasi_jail_open(root, "c0", O_RDONLY, 0, &fd), E_OK, "mode %d", mode_);
        close(fd);
        snprintf(p, sizeof p, "%s", "a/");
        for (int i = 0; i < 100; i++)
            strcat(p, "./");
        strcat(p, "../f");
        cr_assert_eq(wasi_jail_open(root, p, O_RDONLY, 0, &fd), E_OK);
        close(fd);
    });
    close(root);

    cr_assert_eq(wasi_jail_check_link_target("a/b/../c", "x"), E_OK);
    cr_assert_eq(wasi_jail_check_link_target("../x", "d/e/l"), E_OK);
    cr_assert_eq(wasi_jail_check_link_target("../../../x", "d/e/l"), E_NOTCAPABLE);
    cr_assert_eq(wasi_jail_check_link_target("", "l"), E_NOENT);
    outside_intact();
}

/* Random paths over a planted tree: no descriptor either resolver returns
 * may lie outside the sandbox (checked through /proc/self/fd), and both
 * resolvers must give the same answer. */
static bool fd_inside(int fd, const char *real_root)
{
    char pp[64], tgt[4096];
    snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(pp, tgt, sizeof tgt - 1);
    cr_assert_gt(k, 0);
    tgt[k] = '\0';
    size_t rl = strlen(real_root);
    return strncmp(tgt, real_root, rl) == 0 && (tgt[rl] == '\0' || tgt[rl] == '/');
}

Test(jail, random_paths_agree_and_stay_inside)
{
    static const char *const comps[] = {"..", ".", "a", "up", "etc", "l1", "", "loop", "in", "f",
                                        "out", "dang", "c0", "missing"};
    plant();
    char real_root[4096];
    cr_assert_not_null(realpath(fk_root, real_root));
    int root = open(fk_root, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(root, 0);
    unsigned seed = 12345;
    int opened = 0;
    for (int it = 0; it < 20000; it++) {
        char path[256] = "";
        seed = seed * 1103515245u + 12345u;
        int n = 1 + (int)((seed >> 16) % 6);
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            if (k)
                strcat(path, (seed >> 8) % 5 ? "/" : "//");
            strcat(path, comps[(seed >> 16) % (sizeof comps / sizeof comps[0])]);
        }
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 7 == 0)
            strcat(path, "/");
        int flags = ((seed >> 20) & 1 ? O_NOFOLLOW : 0) | ((seed >> 21) % 3 == 0 ? O_PATH : O_RDONLY);
        uint32_t rc[2];
        for (int m = 0; m < 2; m++) {
            int fd;
            wasi_jail_force_walk = m;
            rc[m] = wasi_jail_open(root, path, flags, 0, &fd);
            if (rc[m] == 0) {
                cr_assert(fd_inside(fd, real_root), "'%s' (mode %d) left the sandbox", path, m);
                close(fd);
                opened++;
            }
        }
        cr_assert_eq(rc[0], rc[1], "'%s' flags %#x: openat2 says %u, the walk %u", path, flags, rc[0], rc[1]);
        int parent;
        const char *name;
        if (wasi_jail_parent(root, path, &parent, &name) == 0) {
            cr_assert(fd_inside(parent, real_root), "parent of '%s' left the sandbox", path);
            close(parent);
        }
    }
    wasi_jail_force_walk = 0;
    close(root);
    cr_assert_gt(opened, 1000, "the generator should also produce paths that resolve");
    outside_intact();
}
