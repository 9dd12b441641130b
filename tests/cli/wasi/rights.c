/*
 * rights.c — a wasm32-wasi guest for tests/cli/wasi.sh: the WASI preview1
 * cases the official wasi-testsuite checks where wedge used to be wrong,
 * made with raw <wasi/api.h> calls against the pre-opened directory named
 * by argv[1]: rights trimmed on path_open (directory_seek), enforced on path
 * calls (truncation_rights), the pre-open's rights and EISDIR
 * (path_open_preopen), rights narrowed through inheritance, and the sock_*
 * errors on what is not a socket (sock_shutdown-invalid_fd / -not_sock).
 * Prints "ok: CASE" or "FAIL: CASE: what" per check; the exit status is the
 * number of failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int failures;

#define CHECK(name, cond, ...)                         \
    do {                                               \
        if (cond) {                                    \
            printf("ok: %s\n", name);                  \
        } else {                                       \
            printf("FAIL: %s: ", name);                \
            printf(__VA_ARGS__);                       \
            printf("\n");                              \
            failures++;                                \
        }                                              \
    } while (0)

static __wasi_fd_t find_preopen(const char *name)
{
    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0)
            return (__wasi_fd_t)-1;
        char buf[256];
        if (ps.u.dir.pr_name_len >= sizeof buf)
            continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) != 0)
            continue;
        buf[ps.u.dir.pr_name_len] = '\0';
        if (strcmp(buf, name) == 0)
            return fd;
    }
}

static __wasi_fdstat_t stat_of(__wasi_fd_t fd)
{
    __wasi_fdstat_t st;
    memset(&st, 0, sizeof st);
    if (__wasi_fd_fdstat_get(fd, &st) != 0)
        printf("fdstat of %u failed\n", fd);
    return st;
}

static __wasi_errno_t open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t of, __wasi_rights_t base,
                              __wasi_rights_t inh, __wasi_fd_t *fd)
{
    return __wasi_path_open(dir, 0, path, of, base, inh, 0, fd);
}

static void make_file(__wasi_fd_t dir, const char *name, const char *text)
{
    __wasi_fd_t fd;
    if (open_at(dir, name, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_WRITE, 0, &fd) != 0) {
        printf("cannot create %s\n", name);
        exit(100);
    }
    __wasi_ciovec_t v = {(const uint8_t *)text, strlen(text)};
    __wasi_size_t n;
    (void)__wasi_fd_write(fd, &v, 1, &n);
    (void)__wasi_fd_close(fd);
}

static __wasi_filesize_t size_of(__wasi_fd_t dir, const char *name)
{
    __wasi_filestat_t st;
    if (__wasi_path_filestat_get(dir, 0, name, &st) != 0)
        return (__wasi_filesize_t)-1;
    return st.size;
}

/* The testsuite's list of what every directory must allow. */
static const __wasi_rights_t dir_needs =
    __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_LINK_SOURCE |
    __WASI_RIGHTS_PATH_LINK_TARGET | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR |
    __WASI_RIGHTS_PATH_READLINK | __WASI_RIGHTS_PATH_RENAME_SOURCE | __WASI_RIGHTS_PATH_RENAME_TARGET |
    __WASI_RIGHTS_PATH_SYMLINK | __WASI_RIGHTS_PATH_REMOVE_DIRECTORY | __WASI_RIGHTS_PATH_UNLINK_FILE |
    __WASI_RIGHTS_PATH_FILESTAT_GET | __WASI_RIGHTS_PATH_FILESTAT_SET_TIMES | __WASI_RIGHTS_FD_FILESTAT_GET |
    __WASI_RIGHTS_FD_FILESTAT_SET_TIMES;

static void preopen_and_eisdir(__wasi_fd_t pre)
{
    __wasi_fdstat_t st = stat_of(pre);
    CHECK("preopen is a directory", st.fs_filetype == __WASI_FILETYPE_DIRECTORY, "type %u", st.fs_filetype);
    CHECK("preopen base rights", (st.fs_rights_base & dir_needs) == dir_needs, "base %llx",
          (unsigned long long)st.fs_rights_base);
    CHECK("preopen has no FD_SEEK", !(st.fs_rights_base & __WASI_RIGHTS_FD_SEEK), "base %llx",
          (unsigned long long)st.fs_rights_base);
    __wasi_rights_t inh_needs = dir_needs | __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |
                                __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |
                                __WASI_RIGHTS_POLL_FD_READWRITE;
    CHECK("preopen inheriting rights", (st.fs_rights_inheriting & inh_needs) == inh_needs, "inheriting %llx",
          (unsigned long long)st.fs_rights_inheriting);

    __wasi_fd_t fd;
    __wasi_errno_t e;
    e = open_at(pre, ".", 0, st.fs_rights_base, st.fs_rights_inheriting, &fd);
    CHECK("open . with the preopen's rights", e == 0, "errno %u", e);
    e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, st.fs_rights_base, st.fs_rights_inheriting, &fd);
    CHECK("open . O_DIRECTORY with the preopen's rights", e == 0, "errno %u", e);
    e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd);
    CHECK("open . O_DIRECTORY, no rights", e == 0, "errno %u", e);
    e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, &fd);
    CHECK("open . O_DIRECTORY, FD_READ", e == 0, "errno %u", e);
    e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &fd);
    CHECK("open . O_DIRECTORY, FD_READ|FD_WRITE is EISDIR", e == __WASI_ERRNO_ISDIR, "errno %u", e);
}

static void directory_seek(__wasi_fd_t pre)
{
    __wasi_errno_t e = __wasi_path_create_directory(pre, "seekdir");
    __wasi_fd_t fd;
    e = e ? e : open_at(pre, "seekdir", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_SEEK, 0, &fd);
    CHECK("open a directory asking for FD_SEEK", e == 0, "errno %u", e);
    if (e)
        return;
    __wasi_filesize_t pos;
    e = __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos);
    CHECK("fd_seek on a directory is EBADF", e == __WASI_ERRNO_BADF, "errno %u", e);
    __wasi_fdstat_t st = stat_of(fd);
    CHECK("the directory has no FD_SEEK", !(st.fs_rights_base & __WASI_RIGHTS_FD_SEEK), "base %llx",
          (unsigned long long)st.fs_rights_base);
    (void)__wasi_fd_close(fd);
    (void)__wasi_path_remove_directory(pre, "seekdir");
}

static void truncation_rights(__wasi_fd_t pre)
{
    /* on a copy of the pre-open, so the rights dropped here stay here */
    __wasi_fdstat_t pst = stat_of(pre);
    __wasi_fd_t dir, fd;
    __wasi_errno_t e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, pst.fs_rights_base, pst.fs_rights_inheriting, &dir);
    if (e) {
        CHECK("truncation: open the scratch dir", 0, "errno %u", e);
        return;
    }
    make_file(dir, "trunc", "0123456789");
    __wasi_fdstat_t st = stat_of(dir);
    CHECK("a directory has no FD_FILESTAT_SET_SIZE", !(st.fs_rights_base & __WASI_RIGHTS_FD_FILESTAT_SET_SIZE),
          "base %llx", (unsigned long long)st.fs_rights_base);
    CHECK("a directory has PATH_FILESTAT_SET_SIZE", st.fs_rights_base & __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE,
          "base %llx", (unsigned long long)st.fs_rights_base);
    e = open_at(dir, "trunc", __WASI_OFLAGS_TRUNC, 0, 0, &fd);
    CHECK("O_TRUNC with the right", e == 0 && size_of(dir, "trunc") == 0, "errno %u", e);
    if (!e)
        (void)__wasi_fd_close(fd);
    make_file(dir, "trunc", "0123456789");
    e = __wasi_fd_fdstat_set_rights(dir, st.fs_rights_base & ~__WASI_RIGHTS_PATH_FILESTAT_SET_SIZE,
                                    st.fs_rights_inheriting & ~__WASI_RIGHTS_FD_FILESTAT_SET_SIZE);
    CHECK("drop PATH_FILESTAT_SET_SIZE", e == 0, "errno %u", e);
    st = stat_of(dir);
    CHECK("the drop took effect", !(st.fs_rights_base & __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE), "base %llx",
          (unsigned long long)st.fs_rights_base);
    e = open_at(dir, "trunc", __WASI_OFLAGS_TRUNC, 0, 0, &fd);
    CHECK("O_TRUNC without PATH_FILESTAT_SET_SIZE is EPERM", e == __WASI_ERRNO_PERM, "errno %u", e);
    CHECK("and the file keeps its bytes", size_of(dir, "trunc") == 10, "size %llu",
          (unsigned long long)size_of(dir, "trunc"));
    e = __wasi_fd_fdstat_set_rights(dir, st.fs_rights_base | __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE,
                                    st.fs_rights_inheriting);
    CHECK("fd_fdstat_set_rights cannot add a right", e == __WASI_ERRNO_NOTCAPABLE, "errno %u", e);
    (void)__wasi_path_unlink_file(dir, "trunc");
    (void)__wasi_fd_close(dir);
}

static void read_only_and_inheritance(__wasi_fd_t pre)
{
    make_file(pre, "ro", "abc");
    __wasi_fd_t fd;
    __wasi_rights_t rd = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                         __WASI_RIGHTS_FD_FILESTAT_GET;
    __wasi_errno_t e = open_at(pre, "ro", 0, rd, 0, &fd);
    if (e) {
        CHECK("open ro", 0, "errno %u", e);
        return;
    }
    __wasi_fdstat_t st = stat_of(fd);
    CHECK("a read-only file has no write rights",
          !(st.fs_rights_base & (__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)), "base %llx",
          (unsigned long long)st.fs_rights_base);
    __wasi_ciovec_t v = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    e = __wasi_fd_write(fd, &v, 1, &n);
    CHECK("fd_write without FD_WRITE is EBADF", e == __WASI_ERRNO_BADF, "errno %u", e);
    (void)__wasi_fd_close(fd);

    /* a directory that may not hand out FD_WRITE: nothing below it writes */
    __wasi_fdstat_t pst = stat_of(pre);
    __wasi_fd_t dir;
    e = open_at(pre, ".", __WASI_OFLAGS_DIRECTORY, pst.fs_rights_base,
                pst.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE, &dir);
    e = e ? e : open_at(dir, "ro", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, __WASI_RIGHTS_FD_WRITE, &fd);
    if (e) {
        CHECK("open through a narrowed directory", 0, "errno %u", e);
        return;
    }
    st = stat_of(fd);
    CHECK("rights are the intersection with the parent's inheriting rights",
          !(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) && !(st.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE),
          "base %llx inheriting %llx", (unsigned long long)st.fs_rights_base,
          (unsigned long long)st.fs_rights_inheriting);
    (void)__wasi_fd_close(fd);
    (void)__wasi_fd_close(dir);
    (void)__wasi_path_unlink_file(pre, "ro");
}

static void sock_errors(__wasi_fd_t pre)
{
    __wasi_errno_t e = __wasi_sock_shutdown(1234, __WASI_SDFLAGS_RD);
    CHECK("sock_shutdown on a bad fd is EBADF", e == __WASI_ERRNO_BADF, "errno %u", e);
    e = __wasi_sock_shutdown(pre, __WASI_SDFLAGS_RD);
    CHECK("sock_shutdown on a directory is ENOTSOCK", e == __WASI_ERRNO_NOTSOCK, "errno %u", e);
    e = __wasi_sock_shutdown(2, __WASI_SDFLAGS_WR);
    CHECK("sock_shutdown on stderr is ENOTSOCK", e == __WASI_ERRNO_NOTSOCK, "errno %u", e);
    __wasi_fd_t fd;
    e = __wasi_sock_accept(pre, 0, &fd);
    CHECK("sock_accept on a directory is ENOTSOCK", e == __WASI_ERRNO_NOTSOCK, "errno %u", e);
    e = __wasi_sock_accept(1234, 0, &fd);
    CHECK("sock_accept on a bad fd is EBADF", e == __WASI_ERRNO_BADF, "errno %u", e);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rights.wasm PREOPEN-NAME\n");
        return 100;
    }
    __wasi_fd_t pre = find_preopen(argv[1]);
    if (pre == (__wasi_fd_t)-1) {
        fprintf(stderr, "no pre-opened directory named %s\n", argv[1]);
        return 100;
    }
    preopen_and_eisdir(pre);
    directory_seek(pre);
    truncation_rights(pre);
    read_only_and_inheritance(pre);
    sock_errors(pre);
    return failures;
}
