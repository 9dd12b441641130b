/*
 * fuzz_wasi_path.c — libFuzzer target for the WASI path jail
 * (src/wasi/wasi_path.c).  A guest path is resolved beneath a temporary
 * root whose tree is full of symbolic links that point outside it
 * (relative, absolute, dangling, looping, out-and-back-in).  The promises
 * checked for every input:
 *
 *   1. every descriptor wasi_jail_open / wasi_jail_parent hands back names
 *      something inside the root (read back through /proc/self/fd);
 *   2. O_CREAT never creates anything outside the root (the directory
 *      beside it is counted before and after);
 *   3. the kernel path (openat2 RESOLVE_BENEATH) and the portable walk
 *      agree: both fail, or both open the same inode;
 *   4. wasi_jail_check_link_target never accepts an absolute target or one
 *      that climbs above the root, judged lexically from the link's folder.
 *
 * Input: byte 0 picks the open flags, the rest (up to a NUL) is the path;
 * for promise 4 the path is split at the first '|' into linkpath|target.
 */
#define _GNU_SOURCE     /* O_PATH */
#include "wasi/wasi_path.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fw_base[PATH_MAX];      /* realpath of the temp directory */
static char fw_root_path[PATH_MAX]; /* fw_base/root */
static char fw_out_path[PATH_MAX];  /* fw_base/outside */
static int fw_root = -1;
static int fw_outside_entries;

static void fw_die(const char *what)
{
    perror(what);
    abort();
}

static void fw_mk(const char *rel, bool dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", fw_base, rel);
    if (dir) {
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            fw_die(p);
    } else {
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, "x", 1) != 1)
            fw_die(p);
        close(fd);
    }
}

static void fw_ln(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", fw_base, rel);
    if (symlink(target, p) != 0 && errno != EEXIST)
        fw_die(p);
}

static int fw_count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        fw_die(path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n++;
    closedir(d);
    return n;
}

static int fw_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* The tree goes when the fuzzer exits normally (a crash keeps it for a
 * look).  FTW_PHYS: never follow the links that point outside. */
static void fw_cleanup(void)
{
    if (fw_base[0])
        nftw(fw_base, fw_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fw_setup(void)
{
    char tmpl[] = "/tmp/fuzz_wasi_path.XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        fw_die("mkdtemp");
    if (realpath(tmpl, fw_base) == NULL)
        fw_die("realpath");
    fw_mk("root", true);
    fw_mk("outside", true);
    fw_mk("outside/secret", false);
    fw_mk("outside/sub", true);
    fw_mk("root/a", false);
    fw_mk("root/d", true);
    fw_mk("root/d/e", true);
    fw_mk("root/d/f", false);
    fw_ln("../outside", "root/out");
    fw_ln("../outside/secret", "root/secret");
    fw_ln("../outside/newfile", "root/escape");     /* dangling, outside */
    fw_ln("/tmp", "root/abs");
    fw_ln("/etc/passwd", "root/passwd");
    fw_ln("..", "root/up");
    fw_ln(".", "root/self");
    fw_ln("loop", "root/loop");
    fw_ln("nosuch", "root/dangling");
    fw_ln("../..", "root/d/back");
    fw_ln("../a", "root/d/ok");
    fw_ln("e", "root/d/rel");
    fw_ln("../../d/f", "root/d/e/deep");
    fw_ln("../d/../../outside/secret", "root/d/sneak");
    fw_ln("../../root/a", "root/d/outin");          /* leaves the root and comes back */
    fw_ln("../../../../../../../../..", "root/d/e/far");
    snprintf(fw_root_path, sizeof fw_root_path, "%s/root", fw_base);
    snprintf(fw_out_path, sizeof fw_out_path, "%s/outside", fw_base);
    fw_root = open(fw_root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fw_root < 0)
        fw_die(fw_root_path);
    fw_outside_entries = fw_count_entries(fw_out_path);
    atexit(fw_cleanup);
}

/* Where does fd point?  Aborts if it is outside the root. */
static void fw_check_inside(int fd, const char *what, const char *path)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        fw_die(link);
    target[n] = 0;
    size_t rl = strlen(fw_root_path);
    if (strncmp(target, fw_root_path, rl) == 0 && (target[rl] == 0 || target[rl] == '/'))
        return;
    fprintf(stderr, "JAIL ESCAPE: %s(\"%s\") gave fd %d -> %s (root %s)\n", what, path, fd, target,
            fw_root_path);
    abort();
}

/* Files created inside the root by O_CREAT are removed again, so every
 * input sees the same tree. */
static void fw_unlink_created(int fd)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return;
    target[n] = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        unlink(target);
}

static int fw_flags(uint8_t k)
{
    static const int acc[4] = {O_RDONLY, O_PATH, O_RDONLY | O_DIRECTORY, O_PATH | O_DIRECTORY};
    int f = acc[k & 3];
    if (k & 4)
        f |= O_NOFOLLOW;
    return f;
}

static void fw_open_both(const char *path, int flags)
{
    int fd[2] = {-1, -1};
    uint32_t rc[2];
    for (int m = 0; m < 2; m++) {
        wasi_jail_force_walk = m;
        rc[m] = wasi_jail_open(fw_root, path, flags, 0, &fd[m]);
        if (rc[m] == 0)
            fw_check_inside(fd[m], m ? "walk open" : "openat2 open", path);
    }
    wasi_jail_force_walk = 0;
    if ((rc[0] == 0) != (rc[1] == 0)) {
        fprintf(stderr, "JAIL DISAGREEMENT: \"%s\" flags %#x: openat2 errno %u, walk errno %u\n", path, flags,
                rc[0], rc[1]);
        abort();
    }
    if (rc[0] == 0) {
        struct stat a, b;
        if (fstat(fd[0], &a) != 0 || fstat(fd[1], &b) != 0)
            fw_die("fstat");
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
            fprintf(stderr, "JAIL DISAGREEMENT: \"%s\": openat2 and walk opened different files\n", path);
            abort();
        }
        close(fd[0]);
        close(fd[1]);
    }
}

static void fw_create(const char *path, bool walk, bool excl)
{
    int fd = -1;
    wasi_jail_force_walk = walk;
    uint32_t rc = wasi_jail_open(fw_root, path, O_RDWR | O_CREAT | (excl ? O_EXCL : 0), 0644, &fd);
    wasi_jail_force_walk = 0;
    if (rc == 0) {
        fw_check_inside(fd, "create", path);
        fw_unlink_created(fd);
        close(fd);
    }
    if (fw_count_entries(fw_out_path) != fw_outside_entries) {
        fprintf(stderr, "JAIL ESCAPE: create(\"%s\") made a file outside the root\n", path);
        abort();
    }
}

static void fw_parent(const char *path, bool walk)
{
    int pfd = -1;
    const char *name = NULL;
    wasi_jail_force_walk = walk;
    uint32_t rc = wasi_jail_parent(fw_root, path, &pfd, &name);
    wasi_jail_force_walk = 0;
    if (rc == 0) {
        fw_check_inside(pfd, "parent", path);
        if (name == NULL || name < path || name > path + strlen(path)) {
            fprintf(stderr, "wasi_jail_parent(\"%s\"): name outside the path\n", path);
            abort();
        }
        close(pfd);
    }
}

/* Lexical oracle for wasi_jail_check_link_target: from the folder of
 * linkpath, does target ever climb above the root? */
static bool fw_link_escapes(const char *target, const char *linkpath)
{
    if (target[0] == '/')
        return true;
    /* The link's name is the last non-empty component; a name of "." or
     * ".." is refused by wasi_jail_parent, so nothing to judge. */
    size_t ll = strlen(linkpath);
    while (ll > 0 && linkpath[ll - 1] == '/')
        ll--;
    size_t dl = ll;
    while (dl > 0 && linkpath[dl - 1] != '/')
        dl--;
    size_t nl = ll - dl;
    if ((nl == 1 && linkpath[dl] == '.') || (nl == 2 && linkpath[dl] == '.' && linkpath[dl + 1] == '.'))
        return false;
    long depth = 0;
    const char *parts[2] = {linkpath, target};
    size_t lens[2] = {dl, strlen(target)};
    for (int k = 0; k < 2; k++) {
        const char *s = parts[k], *end = s + lens[k];
        while (s < end) {
            const char *e = memchr(s, '/', (size_t)(end - s));
            size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
            if (n == 2 && s[0] == '.' && s[1] == '.') {
                /* A linkpath that itself climbs out is refused when its
                 * parent is opened; only the target is judged here. */
                if (--depth < 0)
                    return k == 1;
            } else if (n > 0 && !(n == 1 && s[0] == '.')) {
                depth++;
            }
            s += n + (e != NULL);
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fw_root < 0)
        fw_setup();
    if (size < 1 || size > WASI_PATH_MAX + 1)
        return 0;
    uint8_t k = data[0];
    char path[WASI_PATH_MAX + 2];
    size_t n = size - 1;
    memcpy(path, data + 1, n);
    path[n] = 0;                /* a NUL inside ends the path early */

    fw_open_both(path, fw_flags(k));
    fw_parent(path, k & 8);
    if (k & 16)
        fw_create(path, k & 8, k & 32);

    char *bar = strchr(path, '|');
    if (bar != NULL) {
        *bar = 0;
        const char *linkpath = path, *target = bar + 1;
        if (wasi_jail_check_link_target(target, linkpath) == 0 && fw_link_escapes(target, linkpath)) {
            fprintf(stderr, "LINK TARGET ACCEPTED: \"%s\" at \"%s\" climbs above the root\n", target, linkpath);
            abort();
        }
    }
    return 0;
}
