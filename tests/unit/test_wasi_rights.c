/*
 * test_wasi_rights.c — WASI preview1 rights on a fake instance: what
 * path_open trims (type, access mode, the directory's inheriting rights),
 * what every fd_* call (EBADF) and path_* call (EPERM) enforces, that
 * fd_fdstat_set_rights only drops, EISDIR for a directory opened for
 * writing, and the sock_* errors on descriptors that are not sockets.  The
 * cases follow what the official wasi-testsuite checks (directory_seek,
 * truncation_rights, path_open_preopen, sock_shutdown-*); the sockets of
 * --tcplisten are in test_wasi_sock.c.
 */
#include "wasi_fake.h"

TestSuite(wasi_rights, .init = fk_setup, .fini = fk_teardown);

#define RT(n) ((uint64_t)1 << (n))
enum {
    FD_DATASYNC = 0, FD_READ = 1, FD_SEEK = 2, FD_FDSTAT_SET_FLAGS = 3, FD_SYNC = 4, FD_TELL = 5, FD_WRITE = 6,
    FD_ADVISE = 7, FD_ALLOCATE = 8, PATH_CREATE_DIRECTORY = 9, PATH_CREATE_FILE = 10, PATH_LINK_SOURCE = 11,
    PATH_LINK_TARGET = 12, PATH_OPEN = 13, FD_READDIR = 14, PATH_READLINK = 15, PATH_RENAME_SOURCE = 16,
    PATH_RENAME_TARGET = 17, PATH_FILESTAT_GET = 18, PATH_FILESTAT_SET_SIZE = 19, PATH_FILESTAT_SET_TIMES = 20,
    FD_FILESTAT_GET = 21, FD_FILESTAT_SET_SIZE = 22, FD_FILESTAT_SET_TIMES = 23, PATH_SYMLINK = 24,
    PATH_REMOVE_DIRECTORY = 25, PATH_UNLINK_FILE = 26, POLL_FD_READWRITE = 27, SOCK_SHUTDOWN = 28,
    SOCK_ACCEPT = 29,
};
enum { O_CREAT_ = 1, O_DIRECTORY_ = 2, O_TRUNC_ = 8 };
enum { E_NOTSOCK = 57 };

/* What wasi-libc's open(O_RDONLY) asks for: everything but the rights
 * that need write access. */
/* Every right a file can have. */
#define FILE_RIGHTS                                                                                   \
    (RT(FD_DATASYNC) | RT(FD_READ) | RT(FD_SEEK) | RT(FD_FDSTAT_SET_FLAGS) | RT(FD_SYNC) | RT(FD_TELL) |  \
     RT(FD_WRITE) | RT(FD_ADVISE) | RT(FD_ALLOCATE) | RT(FD_FILESTAT_GET) | RT(FD_FILESTAT_SET_SIZE) |     \
     RT(FD_FILESTAT_SET_TIMES) | RT(POLL_FD_READWRITE))
#define LIBC_RDONLY (R_ALL & ~(RT(FD_DATASYNC) | RT(FD_WRITE) | RT(FD_ALLOCATE) | RT(FD_FILESTAT_SET_SIZE)))

static void fdstat(uint32_t fd, uint8_t *type, uint64_t *base, uint64_t *inh)
{
    uint32_t st = galloc(24);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, fd, st), E_OK, "fdstat of fd %u", fd);
    *type = G(st)[0];
    *base = rd64(st + 8);
    *inh = rd64(st + 16);
}

/* path_open(dirfd, path, oflags, base, inh); the errno, *fd the new fd. */
static uint32_t open_at(uint32_t dirfd, const char *path, uint32_t oflags, uint64_t base, uint64_t inh,
                        uint32_t *fd)
{
    uint32_t out = galloc(4);
    uint32_t rc = wasi_path_open(fk_inst, dirfd, 0, gstr(path), (uint32_t)strlen(path), oflags, base, inh, 0, out);
    *fd = rd32(out);
    return rc;
}

static void make_file(const char *name, const char *content)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", fk_root, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(content, f);
    fclose(f);
}

static long host_size(const char *name)
{
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", fk_root, name);
    cr_assert_eq(stat(p, &st), 0);
    return (long)st.st_size;
}

/* ---- 1. rights trimmed on path_open ------------------------------------------------- */

Test(wasi_rights, preopen_has_directory_rights_only)
{
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    cr_assert_eq(type, 3);
    /* what a directory is for (the testsuite's path_open_preopen list) */
    static const int dir_rights[] = {PATH_CREATE_DIRECTORY, PATH_CREATE_FILE, PATH_LINK_SOURCE, PATH_LINK_TARGET,
                                     PATH_OPEN, FD_READDIR, PATH_READLINK, PATH_RENAME_SOURCE, PATH_RENAME_TARGET,
                                     PATH_SYMLINK, PATH_REMOVE_DIRECTORY, PATH_UNLINK_FILE, PATH_FILESTAT_GET,
                                     PATH_FILESTAT_SET_TIMES, PATH_FILESTAT_SET_SIZE, FD_FILESTAT_GET,
                                     FD_FILESTAT_SET_TIMES};
    for (size_t i = 0; i < sizeof dir_rights / sizeof dir_rights[0]; i++) {
        cr_assert(base & RT(dir_rights[i]), "preopen lacks base right %d", dir_rights[i]);
        cr_assert(inh & RT(dir_rights[i]), "preopen lacks inheriting right %d", dir_rights[i]);
    }
    /* not file rights: a directory cannot seek, read bytes, write, truncate */
    static const int file_only[] = {FD_READ, FD_SEEK, FD_TELL, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE,
                                    FD_ADVISE, SOCK_ACCEPT, SOCK_SHUTDOWN};
    for (size_t i = 0; i < sizeof file_only / sizeof file_only[0]; i++)
        cr_assert_eq(base & RT(file_only[i]), 0, "preopen has base right %d", file_only[i]);
    /* but what it opens may read, write and seek */
    cr_assert_eq(inh & (RT(FD_READ) | RT(FD_WRITE) | RT(FD_SEEK) | RT(FD_FILESTAT_SET_SIZE)),
                 RT(FD_READ) | RT(FD_WRITE) | RT(FD_SEEK) | RT(FD_FILESTAT_SET_SIZE));
}

Test(wasi_rights, directory_opened_with_seek_has_no_seek)
{
    uint32_t fd, off = galloc(8);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("d"), 1), E_OK);
    cr_assert_eq(open_at(PRE, "d", O_DIRECTORY_, RT(FD_SEEK) | RT(FD_READDIR), R_ALL, &fd), E_OK);
    uint8_t type;
    uint64_t base, inh;
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(type, 3);
    cr_assert_eq(base & RT(FD_SEEK), 0, "a directory does not get FD_SEEK");
    cr_assert_neq(base & RT(FD_READDIR), 0);
    cr_assert_eq(wasi_fd_seek(fk_inst, fd, 0, 1, off), E_BADF);
    /* without O_DIRECTORY too */
    cr_assert_eq(open_at(PRE, "d", 0, R_ALL, R_ALL, &fd), E_OK);
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(type, 3);
    cr_assert_eq(base & (RT(FD_SEEK) | RT(FD_WRITE) | RT(FD_READ)), 0);
}

Test(wasi_rights, read_only_file_has_no_write_rights)
{
    uint32_t fd;
    make_file("r.txt", "hello");
    cr_assert_eq(open_at(PRE, "r.txt", 0, LIBC_RDONLY, LIBC_RDONLY, &fd), E_OK);
    uint8_t type;
    uint64_t base, inh;
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(type, 4);
    cr_assert_eq(base & (RT(FD_WRITE) | RT(FD_ALLOCATE) | RT(FD_FILESTAT_SET_SIZE)), 0);
    cr_assert_eq(base & (RT(FD_READ) | RT(FD_SEEK) | RT(FD_TELL)), RT(FD_READ) | RT(FD_SEEK) | RT(FD_TELL));
    /* and no directory rights on a file */
    cr_assert_eq(base & (RT(FD_READDIR) | RT(PATH_OPEN) | RT(PATH_CREATE_FILE)), 0);
    uint32_t b = gstr("xx"), v[2] = {b, 2}, iovs = gput(v, 8), nw = galloc(4);
    cr_assert_eq(wasi_fd_write(fk_inst, fd, iovs, 1, nw), E_BADF);
    cr_assert_eq(wasi_fd_filestat_set_size(fk_inst, fd, 0), E_BADF);
    cr_assert_eq(host_size("r.txt"), 5);

    /* asking for no rights at all gives none (wasmtime and the testsuite agree) */
    cr_assert_eq(open_at(PRE, "r.txt", 0, 0, 0, &fd), E_OK);
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(base, 0);
    cr_assert_eq(inh, 0);
}

Test(wasi_rights, inheriting_rights_are_intersected)
{
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    /* the directory may no longer hand out FD_WRITE */
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, PRE, base, inh & ~RT(FD_WRITE)), E_OK);
    uint32_t fd;
    cr_assert_eq(open_at(PRE, "new.txt", O_CREAT_, R_ALL, R_ALL, &fd), E_OK);
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(base & RT(FD_WRITE), 0, "base trimmed to the parent's inheriting rights");
    cr_assert_eq(inh & RT(FD_WRITE), 0, "inheriting trimmed too");
    uint32_t b = gstr("xx"), v[2] = {b, 2}, iovs = gput(v, 8), nw = galloc(4);
    cr_assert_eq(wasi_fd_write(fk_inst, fd, iovs, 1, nw), E_BADF);

    /* a subdirectory inherits the narrower set, and hands down no more */
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("sub"), 3), E_OK);
    uint32_t dfd;
    cr_assert_eq(open_at(PRE, "sub", O_DIRECTORY_, R_ALL, R_ALL, &dfd), E_OK);
    fdstat(dfd, &type, &base, &inh);
    cr_assert_eq(inh & RT(FD_WRITE), 0);
    cr_assert_neq(inh & RT(FD_READ), 0);
    cr_assert_eq(open_at(dfd, "f", O_CREAT_, R_ALL, R_ALL, &fd), E_OK);
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(base & RT(FD_WRITE), 0);
}

/* ---- 2. rights enforced -------------------------------------------------------------- */

Test(wasi_rights, set_rights_only_drops)
{
    uint32_t fd;
    make_file("f", "abc");
    cr_assert_eq(open_at(PRE, "f", 0, RT(FD_READ) | RT(FD_SEEK), 0, &fd), E_OK);
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, RT(FD_READ) | RT(FD_SEEK) | RT(FD_WRITE), 0),
                 E_NOTCAPABLE);
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, RT(FD_READ), RT(FD_READ)), E_NOTCAPABLE,
                 "inheriting cannot grow either");
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, RT(FD_READ), 0), E_OK);
    uint8_t type;
    uint64_t base, inh;
    fdstat(fd, &type, &base, &inh);
    cr_assert_eq(base, RT(FD_READ));
    uint32_t off = galloc(8);
    cr_assert_eq(wasi_fd_seek(fk_inst, fd, 1, 0, off), E_BADF);
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, RT(FD_READ) | RT(FD_SEEK), 0), E_NOTCAPABLE,
                 "a dropped right does not come back");
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, 999, 0, 0), E_BADF);
}

Test(wasi_rights, truncation_needs_path_filestat_set_size)
{
    uint32_t fd;
    make_file("t", "0123456789");
    cr_assert_eq(open_at(PRE, "t", O_TRUNC_, 0, 0, &fd), E_OK);
    cr_assert_eq(host_size("t"), 0);
    make_file("t", "0123456789");
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, PRE, base, inh & ~RT(FD_FILESTAT_SET_SIZE)), E_OK);
    cr_assert_eq(open_at(PRE, "t", O_TRUNC_, 0, 0, &fd), E_OK, "truncating needs no fd right");
    make_file("t", "0123456789");
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, PRE, base & ~RT(PATH_FILESTAT_SET_SIZE),
                                           inh & ~RT(FD_FILESTAT_SET_SIZE)), E_OK);
    fdstat(PRE, &type, &base, &inh);
    cr_assert_eq(base & RT(PATH_FILESTAT_SET_SIZE), 0);
    uint32_t out = galloc(4);
    memset(G(out), 0xAB, 4);
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, gstr("t"), 1, O_TRUNC_, 0, 0, 0, out), E_PERM);
    cr_assert_eq(rd32(out), 0xABABABABu, "no descriptor written on failure");
    cr_assert_eq(host_size("t"), 10, "the file was not truncated");
    cr_assert_eq(open_at(PRE, "t", 0, 0, 0, &fd), E_OK, "opening without O_TRUNC still works");
}

/* Every path call against a directory fd that lacks exactly its right. */
Test(wasi_rights, path_calls_check_the_directory)
{
    make_file("a", "x");
    cr_assert_eq(symlink("a", strcat(strcpy((char[400]){0}, fk_root), "/ln")), 0);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("emptydir"), 8), E_OK);
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    static const int rights[] = {PATH_OPEN, PATH_CREATE_FILE, PATH_CREATE_DIRECTORY, PATH_UNLINK_FILE,
                                 PATH_REMOVE_DIRECTORY, PATH_FILESTAT_GET, PATH_FILESTAT_SET_TIMES,
                                 PATH_RENAME_SOURCE, PATH_RENAME_TARGET, PATH_SYMLINK, PATH_READLINK,
                                 PATH_LINK_SOURCE, PATH_LINK_TARGET};
    for (size_t i = 0; i < sizeof rights / sizeof rights[0]; i++) {
        int r = rights[i];
        uint32_t d, fd;
        /* a fresh handle on the sandbox with one right less */
        cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, base, inh, &d), E_OK);
        cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, d, base & ~RT(r), inh), E_OK);
        uint32_t fst = galloc(64), buf = galloc(64), used = galloc(4), rc;
        switch (r) {
        case PATH_OPEN: rc = open_at(d, "a", 0, 0, 0, &fd); break;
        case PATH_CREATE_FILE: rc = open_at(d, "b", O_CREAT_, 0, 0, &fd); break;
        case PATH_CREATE_DIRECTORY: rc = wasi_path_create_directory(fk_inst, d, gstr("nd"), 2); break;
        case PATH_UNLINK_FILE: rc = wasi_path_unlink_file(fk_inst, d, gstr("a"), 1); break;
        case PATH_REMOVE_DIRECTORY: rc = wasi_path_remove_directory(fk_inst, d, gstr("emptydir"), 8); break;
        case PATH_FILESTAT_GET: rc = wasi_path_filestat_get(fk_inst, d, 0, gstr("a"), 1, fst); break;
        case PATH_FILESTAT_SET_TIMES:
            rc = wasi_path_filestat_set_times(fk_inst, d, 0, gstr("a"), 1, 0, 0, 2 /* ATIM_NOW */);
            break;
        case PATH_RENAME_SOURCE: rc = wasi_path_rename(fk_inst, d, gstr("a"), 1, PRE, gstr("c"), 1); break;
        case PATH_RENAME_TARGET: rc = wasi_path_rename(fk_inst, PRE, gstr("a"), 1, d, gstr("c"), 1); break;
        case PATH_SYMLINK: rc = wasi_path_symlink(fk_inst, gstr("a"), 1, d, gstr("s"), 1); break;
        case PATH_READLINK: rc = wasi_path_readlink(fk_inst, d, gstr("ln"), 2, buf, 64, used); break;
        case PATH_LINK_SOURCE: rc = wasi_path_link(fk_inst, d, 0, gstr("a"), 1, PRE, gstr("h"), 1); break;
        default: rc = wasi_path_link(fk_inst, PRE, 0, gstr("a"), 1, d, gstr("h"), 1); break;
        }
        cr_assert_eq(rc, E_PERM, "right %d: errno %u", r, rc);
        cr_assert_eq(wasi_fd_close(fk_inst, d), E_OK);
    }
    /* nothing happened on the host */
    cr_assert_eq(host_size("a"), 1);
    char p[400];
    snprintf(p, sizeof p, "%s/emptydir", fk_root);
    cr_assert_eq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/b", fk_root);
    cr_assert_neq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/c", fk_root);
    cr_assert_neq(access(p, F_OK), 0);
}

/* Every fd call on a file descriptor that lacks exactly its right. */
Test(wasi_rights, fd_calls_check_the_descriptor)
{
    make_file("f", "0123456789");
    static const int rights[] = {FD_READ, FD_WRITE, FD_SEEK, FD_SYNC, FD_DATASYNC, FD_FDSTAT_SET_FLAGS,
                                 FD_FILESTAT_GET, FD_FILESTAT_SET_SIZE, FD_FILESTAT_SET_TIMES, FD_ADVISE,
                                 FD_ALLOCATE};
    uint32_t b = galloc(16), v[2] = {b, 4}, iovs = gput(v, 8), n = galloc(4), off = galloc(8),
             fst = galloc(64);
    for (size_t i = 0; i < sizeof rights / sizeof rights[0]; i++) {
        int r = rights[i];
        uint32_t fd, rc;
        uint8_t type;
        uint64_t base, inh;
        cr_assert_eq(open_at(PRE, "f", 0, R_ALL, 0, &fd), E_OK);
        fdstat(fd, &type, &base, &inh);
        cr_assert_neq(base & RT(r), 0, "a file opened with every right has right %d", r);
        cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, base & ~RT(r), 0), E_OK);
        switch (r) {
        case FD_READ: rc = wasi_fd_read(fk_inst, fd, iovs, 1, n); break;
        case FD_WRITE: rc = wasi_fd_write(fk_inst, fd, iovs, 1, n); break;
        case FD_SEEK: rc = wasi_fd_seek(fk_inst, fd, 1, 0 /* SET */, off); break;
        case FD_SYNC: rc = wasi_fd_sync(fk_inst, fd); break;
        case FD_DATASYNC: rc = wasi_fd_datasync(fk_inst, fd); break;
        case FD_FDSTAT_SET_FLAGS: rc = wasi_fd_fdstat_set_flags(fk_inst, fd, 0); break;
        case FD_FILESTAT_GET: rc = wasi_fd_filestat_get(fk_inst, fd, fst); break;
        case FD_FILESTAT_SET_SIZE: rc = wasi_fd_filestat_set_size(fk_inst, fd, 1); break;
        case FD_FILESTAT_SET_TIMES: rc = wasi_fd_filestat_set_times(fk_inst, fd, 0, 0, 2); break;
        case FD_ADVISE: rc = wasi_fd_advise(fk_inst, fd, 0, 0, 0); break;
        default: rc = wasi_fd_allocate(fk_inst, fd, 0, 100); break;
        }
        cr_assert_eq(rc, E_BADF, "right %d: errno %u", r, rc);
        cr_assert_eq(wasi_fd_close(fk_inst, fd), E_OK);
    }
    cr_assert_eq(host_size("f"), 10);

    /* pread/pwrite need FD_SEEK besides FD_READ/FD_WRITE; tell needs TELL or SEEK */
    uint32_t fd;
    cr_assert_eq(open_at(PRE, "f", 0, R_ALL & ~RT(FD_SEEK), 0, &fd), E_OK);
    cr_assert_eq(wasi_fd_pread(fk_inst, fd, iovs, 1, 0, n), E_BADF);
    cr_assert_eq(wasi_fd_pwrite(fk_inst, fd, iovs, 1, 0, n), E_BADF);
    cr_assert_eq(wasi_fd_tell(fk_inst, fd, off), E_OK, "FD_TELL is enough for fd_tell");
    cr_assert_eq(wasi_fd_seek(fk_inst, fd, 0, 1 /* CUR */, off), E_OK);
    cr_assert_eq(wasi_fd_seek(fk_inst, fd, 2, 1 /* CUR */, off), E_BADF);
    cr_assert_eq(wasi_fd_fdstat_set_rights(fk_inst, fd, (R_ALL & ~(RT(FD_SEEK) | RT(FD_TELL))) & FILE_RIGHTS, 0),
                 E_OK);
    cr_assert_eq(wasi_fd_tell(fk_inst, fd, off), E_BADF);

    /* fd_readdir needs FD_READDIR on the directory */
    uint32_t d;
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, base & ~RT(FD_READDIR), inh, &d), E_OK);
    uint32_t buf = galloc(256), used = galloc(4);
    cr_assert_eq(wasi_fd_readdir(fk_inst, d, buf, 256, 0, used), E_BADF);
}

/* ---- 3. EISDIR ------------------------------------------------------------------------ */

Test(wasi_rights, directory_opened_for_writing_is_eisdir)
{
    uint32_t fd;
    uint8_t type;
    uint64_t base, inh;
    fdstat(PRE, &type, &base, &inh);
    cr_assert_eq(open_at(PRE, ".", 0, base, inh, &fd), E_OK, "same rights as the preopen");
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, base, inh, &fd), E_OK, "what open_scratch_directory does");
    cr_assert_eq(open_at(PRE, ".", 0, 0, 0, &fd), E_OK);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, 0, 0, &fd), E_OK);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, RT(FD_READ), 0, &fd), E_OK);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, RT(FD_READ) | RT(FD_WRITE), 0, &fd), E_ISDIR);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_, RT(FD_WRITE), 0, &fd), E_ISDIR);
    cr_assert_eq(open_at(PRE, ".", O_DIRECTORY_ | O_TRUNC_, RT(FD_READ), 0, &fd), E_ISDIR);
    /* a file with O_DIRECTORY is ENOTDIR, whatever the rights */
    make_file("f", "x");
    cr_assert_eq(open_at(PRE, "f", O_DIRECTORY_, RT(FD_READ) | RT(FD_WRITE), 0, &fd), E_NOTDIR);
    cr_assert_eq(host_size("f"), 1);
}

/* ---- 4. sock_* on what is not a socket ------------------------------------------------- */

Test(wasi_rights, sock_calls_on_non_sockets)
{
    uint32_t fd;
    make_file("f", "x");
    cr_assert_eq(open_at(PRE, "f", 0, R_ALL, 0, &fd), E_OK);
    uint32_t b = galloc(8), v[2] = {b, 8}, iovs = gput(v, 8), n = galloc(4), fl = galloc(4);
    const uint32_t not_socks[] = {0, 1, 2, PRE, fd};
    for (size_t i = 0; i < sizeof not_socks / sizeof not_socks[0]; i++) {
        uint32_t s = not_socks[i];
        cr_assert_eq(wasi_sock_shutdown(fk_inst, s, 3), E_NOTSOCK, "fd %u", s);
        cr_assert_eq(wasi_sock_accept(fk_inst, s, 0, n), E_NOTSOCK, "fd %u", s);
        cr_assert_eq(wasi_sock_recv(fk_inst, s, iovs, 1, 0, n, fl), E_NOTSOCK, "fd %u", s);
        cr_assert_eq(wasi_sock_send(fk_inst, s, iovs, 1, 0, n), E_NOTSOCK, "fd %u", s);
    }
    const uint32_t bad[] = {fd + 1, 999, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t s = bad[i];
        cr_assert_eq(wasi_sock_shutdown(fk_inst, s, 3), E_BADF, "fd %u", s);
        cr_assert_eq(wasi_sock_accept(fk_inst, s, 0, n), E_BADF, "fd %u", s);
        cr_assert_eq(wasi_sock_recv(fk_inst, s, iovs, 1, 0, n, fl), E_BADF, "fd %u", s);
        cr_assert_eq(wasi_sock_send(fk_inst, s, iovs, 1, 0, n), E_BADF, "fd %u", s);
    }
    cr_assert_eq(wasi_fd_close(fk_inst, fd), E_OK);
    cr_assert_eq(wasi_sock_shutdown(fk_inst, fd, 3), E_BADF, "a closed fd");
}
