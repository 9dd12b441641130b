/*
 * test_wasi.c — WASI preview1 host functions called directly on a fake
 * instance: args/environ layout, memory-backed stdio, files in a pre-opened
 * directory, clocks, poll (also yielding with serve's wait_yield hook), and
 * bad guest pointers (EFAULT, never a crash).
 * The jail's escape tests are in test_wasi_jail.c.
 */
#include "wasi_fake.h"

#include <time.h>

#include "runtime/rt_guest.h"
#include "runtime/rt_internal.h"
#include "util/util.h"

TestSuite(wasi, .init = fk_setup, .fini = fk_teardown);

/* ---- args / environ ---------------------------------------------------------- */

Test(wasi, args_layout)
{
    uint32_t pc = galloc(4), ps = galloc(4);
    cr_assert_eq(wasi_args_sizes_get(fk_inst, pc, ps), E_OK);
    cr_assert_eq(rd32(pc), 3);
    cr_assert_eq(rd32(ps), sizeof "prog" + sizeof "hello" + sizeof "");
    uint32_t vec = galloc(3 * 4), buf = galloc(rd32(ps));
    cr_assert_eq(wasi_args_get(fk_inst, vec, buf), E_OK);
    cr_assert_eq(rd32(vec), buf);
    cr_assert_str_eq((char *)G(rd32(vec)), "prog");
    cr_assert_str_eq((char *)G(rd32(vec + 4)), "hello");
    cr_assert_str_eq((char *)G(rd32(vec + 8)), "");
    cr_assert_eq(rd32(vec + 8), buf + 11);
}

Test(wasi, environ_layout)
{
    uint32_t pc = galloc(4), ps = galloc(4);
    cr_assert_eq(wasi_environ_sizes_get(fk_inst, pc, ps), E_OK);
    cr_assert_eq(rd32(pc), 2);
    cr_assert_eq(rd32(ps), sizeof "HOME=/sandbox" + sizeof "EMPTY=");
    uint32_t vec = galloc(2 * 4), buf = galloc(rd32(ps));
    cr_assert_eq(wasi_environ_get(fk_inst, vec, buf), E_OK);
    cr_assert_str_eq((char *)G(rd32(vec)), "HOME=/sandbox");
    cr_assert_str_eq((char *)G(rd32(vec + 4)), "EMPTY=");
}

/* ---- stdio -------------------------------------------------------------------- */

static uint32_t iov1(const char *s, uint32_t *iovs)
{
    uint32_t b = gstr(s);
    uint32_t v[2] = {b, (uint32_t)strlen(s)};
    *iovs = gput(v, 8);
    return b;
}

Test(wasi, stdout_memory_truncates)
{
    uint32_t iovs, nw = galloc(4);
    iov1("hello ", &iovs);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, nw), E_OK);
    cr_assert_eq(rd32(nw), 6);
    /* two iovecs in one call, crossing the 16-byte cap */
    uint32_t a = gstr("world, "), b = gstr("this is long");
    uint32_t v[4] = {a, 7, b, 12};
    iovs = gput(v, 16);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 2, nw), E_OK);
    cr_assert_eq(rd32(nw), 19, "dropped bytes still count as written");
    size_t len;
    bool trunc;
    const uint8_t *out = wasi_ctx_output(fk_ctx, 1, &len, &trunc);
    cr_assert_eq(len, 16);
    cr_assert(trunc);
    cr_assert_eq(memcmp(out, "hello world, thi", 16), 0);

    /* stderr has no cap */
    iov1("to stderr", &iovs);
    cr_assert_eq(wasi_fd_write(fk_inst, 2, iovs, 1, nw), E_OK);
    out = wasi_ctx_output(fk_ctx, 2, &len, &trunc);
    cr_assert_eq(len, 9);
    cr_assert_not(trunc);
    cr_assert_eq(memcmp(out, "to stderr", 9), 0);

    /* not seekable, and no read */
    uint32_t off = galloc(8);
    cr_assert_eq(wasi_fd_seek(fk_inst, 1, 0, 0, off), E_SPIPE);
    cr_assert_eq(wasi_fd_read(fk_inst, 1, iovs, 1, nw), E_BADF);
}

Test(wasi, stdin_from_buffer)
{
    uint32_t b1 = galloc(5), b2 = galloc(64), nr = galloc(4);
    uint32_t v[4] = {b1, 5, b2, 3};
    uint32_t iovs = gput(v, 16);
    cr_assert_eq(wasi_fd_read(fk_inst, 0, iovs, 2, nr), E_OK);
    cr_assert_eq(rd32(nr), 8);
    cr_assert_eq(memcmp(G(b1), "line ", 5), 0);
    cr_assert_eq(memcmp(G(b2), "one", 3), 0);
    uint32_t v2[2] = {b2, 64};
    iovs = gput(v2, 8);
    cr_assert_eq(wasi_fd_read(fk_inst, 0, iovs, 1, nr), E_OK);
    cr_assert_eq(rd32(nr), 10);
    cr_assert_eq(memcmp(G(b2), "\nline two\n", 10), 0);
    cr_assert_eq(wasi_fd_read(fk_inst, 0, iovs, 1, nr), E_OK);
    cr_assert_eq(rd32(nr), 0, "end of input");
}

/* Memory-backed stdio (serve's request and response bodies) is a pipe, not
 * a terminal: isatty() in wasi-libc wants a character device without seek
 * rights, so the SQLite shell turned interactive when it was one. */
Test(wasi, memory_stdio_is_a_pipe_not_a_tty)
{
    uint32_t st = galloc(24);
    for (uint32_t fd = 0; fd < 3; fd++) {
        cr_assert_eq(wasi_fd_fdstat_get(fk_inst, fd, st), E_OK);
        cr_assert_eq(G(st)[0], 0, "fd %u: filetype unknown (a pipe), not a character device", fd);
        uint64_t rights = rd64(st + 8);
        cr_assert_eq(rights & ((1u << 2) | (1u << 5)), 0, "fd %u: no seek, no tell", fd);
    }
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, 77, st), E_BADF);
}

/* ---- pre-opens ------------------------------------------------------------------ */

Test(wasi, prestat)
{
    uint32_t ps = galloc(8), name = galloc(32);
    cr_assert_eq(wasi_fd_prestat_get(fk_inst, PRE, ps), E_OK);
    cr_assert_eq(G(ps)[0], 0);
    cr_assert_eq(rd32(ps + 4), 8);
    cr_assert_eq(wasi_fd_prestat_dir_name(fk_inst, PRE, name, 8), E_OK);
    cr_assert_eq(memcmp(G(name), "/sandbox", 8), 0);
    cr_assert_eq(wasi_fd_prestat_get(fk_inst, PRE + 1, ps), E_BADF);
    cr_assert_eq(wasi_fd_prestat_get(fk_inst, 1, ps), E_BADF);
    uint32_t st = galloc(24);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, PRE, st), E_OK);
    cr_assert_eq(G(st)[0], 3);                        /* directory */
    cr_assert_neq(rd64(st + 16), 0, "inheriting rights are what wasi-libc opens with");
}

/* ---- files ---------------------------------------------------------------------- */

Test(wasi, file_create_write_seek_read_stat)
{
    uint32_t fd;
    cr_assert_eq(fk_open("f.txt", 1 /* CREAT */ | 8 /* TRUNC */, R_ALL, 1, &fd), E_OK);
    cr_assert_geq(fd, 4);
    uint32_t iovs, nw = galloc(4);
    iov1("0123456789", &iovs);
    cr_assert_eq(wasi_fd_write(fk_inst, fd, iovs, 1, nw), E_OK);
    cr_assert_eq(rd32(nw), 10);

    uint32_t off = galloc(8);
    cr_assert_eq(wasi_fd_tell(fk_inst, fd, off), E_OK);
    cr_assert_eq(rd64(off), 10);
    cr_assert_eq(wasi_fd_seek(fk_inst, fd, (uint64_t)-4, 1 /* CUR */, off), E_OK);
    cr_assert_eq(rd64(off), 6);
    uint32_t b = galloc(16), nr = galloc(4);
    uint32_t v[2] = {b, 16};
    uint32_t riovs = gput(v, 8);
    cr_assert_eq(wasi_fd_read(fk_inst, fd, riovs, 1, nr), E_OK);
    cr_assert_eq(rd32(nr), 4);
    cr_assert_eq(memcmp(G(b), "6789", 4), 0);

    cr_assert_eq(wasi_fd_pread(fk_inst, fd, riovs, 1, 2, nr), E_OK);
    cr_assert_eq(rd32(nr), 8);
    cr_assert_eq(memcmp(G(b), "23456789", 8), 0);
    iov1("AB", &iovs);
    cr_assert_eq(wasi_fd_pwrite(fk_inst, fd, iovs, 1, 0, nw), E_OK);

    uint32_t fst = galloc(64);
    cr_assert_eq(wasi_fd_filestat_get(fk_inst, fd, fst), E_OK);
    cr_assert_eq(G(fst)[16], 4);                      /* regular file */
    cr_assert_eq(rd64(fst + 32), 10);                 /* size */
    cr_assert_eq(wasi_fd_filestat_set_size(fk_inst, fd, 3), E_OK);
    cr_assert_eq(wasi_fd_filestat_get(fk_inst, fd, fst), E_OK);
    cr_assert_eq(rd64(fst + 32), 3);
    cr_assert_eq(wasi_fd_sync(fk_inst, fd), E_OK);
    cr_assert_eq(wasi_fd_datasync(fk_inst, fd), E_OK);
    cr_assert_eq(wasi_fd_advise(fk_inst, fd, 0, 0, 1), E_OK);
    cr_assert_eq(wasi_fd_allocate(fk_inst, fd, 0, 100), E_OK);
    cr_assert_eq(wasi_fd_filestat_set_times(fk_inst, fd, 1000000000ull * 12345, 0, 1 /* ATIM */), E_OK);
    cr_assert_eq(wasi_fd_filestat_get(fk_inst, fd, fst), E_OK);
    cr_assert_eq(rd64(fst + 40), 1000000000ull * 12345);
    cr_assert_eq(wasi_fd_close(fk_inst, fd), E_OK);
    cr_assert_eq(wasi_fd_close(fk_inst, fd), E_BADF);

    /* the host sees it */
    char p[300];
    snprintf(p, sizeof p, "%s/f.txt", fk_root);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    char got[128] = {0};
    cr_assert_eq(fread(got, 1, sizeof got, f), 100);  /* fd_allocate grew it */
    fclose(f);
    cr_assert_eq(memcmp(got, "AB2", 3), 0);

    /* path_filestat_get through the path */
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, gstr("f.txt"), 5, fst), E_OK);
    cr_assert_eq(rd64(fst + 32), 100);
    cr_assert_eq(wasi_path_filestat_set_times(fk_inst, PRE, 1, gstr("f.txt"), 5, 0, 1000000000ull * 777,
                                              4 /* MTIM */), E_OK);
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, gstr("f.txt"), 5, fst), E_OK);
    cr_assert_eq(rd64(fst + 48), 1000000000ull * 777);
}

/* The first descriptor slots live in the context's own block; opening
 * past them moves the table to the heap, and every open file (before and
 * after the move) keeps working and is closed with the context. */
Test(wasi, many_open_files_outgrow_the_first_slots)
{
    enum { N = 20 };
    uint32_t fds[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d.txt", i);
        cr_assert_eq(fk_open(name, 1 /* CREAT */ | 8 /* TRUNC */, R_ALL, 1, &fds[i]), E_OK, "open %d", i);
        for (int j = 0; j < i; j++)
            cr_assert_neq(fds[i], fds[j]);
        uint32_t iovs, nw = galloc(4);
        iov1(name, &iovs);
        cr_assert_eq(wasi_fd_write(fk_inst, fds[i], iovs, 1, nw), E_OK);
    }
    uint32_t fst = galloc(64);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(wasi_fd_filestat_get(fk_inst, fds[i], fst), E_OK, "fd of file %d", i);
        cr_assert_eq(rd64(fst + 32), i < 10 ? 6 : 7, "size of file %d", i);
    }
    for (int i = 0; i < N; i += 2)
        cr_assert_eq(wasi_fd_close(fk_inst, fds[i]), E_OK);
}

Test(wasi, open_errors_and_rights)
{
    uint32_t fd;
    cr_assert_eq(fk_open("missing", 0, R_READ, 1, &fd), E_NOENT);
    cr_assert_eq(fk_open("x", 1, R_RW, 1, &fd), E_OK);
    cr_assert_eq(fk_open("x", 1 | 4 /* EXCL */, R_RW, 1, &fd), E_EXIST);
    cr_assert_eq(fk_open("x", 2 /* DIRECTORY */, R_READ, 1, &fd), E_NOTDIR);
    /* read-only descriptor: write refused by rights */
    cr_assert_eq(fk_open("x", 0, R_READ, 1, &fd), E_OK);
    uint32_t iovs, nw = galloc(4);
    iov1("no", &iovs);
    cr_assert_eq(wasi_fd_write(fk_inst, fd, iovs, 1, nw), E_BADF);
    /* a file is not a directory fd */
    uint32_t out = galloc(4);
    cr_assert_eq(wasi_path_open(fk_inst, fd, 0, gstr("y"), 1, 0, R_READ, 0, 0, out), E_NOTDIR);
    cr_assert_eq(wasi_path_open(fk_inst, 999, 0, gstr("y"), 1, 0, R_READ, 0, 0, out), E_BADF);
    /* the directory itself, even when write rights are asked for */
    cr_assert_eq(fk_open(".", 0, R_RW, 1, &fd), E_OK);
    uint32_t st = galloc(24);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, fd, st), E_OK);
    cr_assert_eq(G(st)[0], 3);
    /* NUL inside a path */
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, gput("x\0/..", 5), 5, 0, R_READ, 0, 0, out), E_ILSEQ);
    /* renumber */
    uint32_t fd2;
    cr_assert_eq(fk_open("x", 0, R_READ, 1, &fd2), E_OK);
    cr_assert_eq(wasi_fd_renumber(fk_inst, fd2, fd), E_OK);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, fd, st), E_OK);
    cr_assert_eq(G(st)[0], 4);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, fd2, st), E_BADF);
}

/* Parse a readdir buffer; returns how many of `names` were seen. */
static int readdir_find(uint32_t buf, uint32_t used, const char *const *names, int n, uint8_t *types)
{
    int seen = 0;
    uint32_t p = 0;
    while (p + 24 <= used) {
        uint32_t namlen = rd32(buf + p + 16);
        uint8_t type = G(buf + p)[20];
        if (p + 24 + namlen > used)
            break;
        for (int i = 0; i < n; i++)
            if (strlen(names[i]) == namlen && memcmp(G(buf + p + 24), names[i], namlen) == 0) {
                seen++;
                types[i] = type;
            }
        p += 24 + namlen;
    }
    return seen;
}

Test(wasi, readdir)
{
    uint32_t fd;
    cr_assert_eq(fk_open("a", 1, R_RW, 1, &fd), E_OK);
    cr_assert_eq(fk_open("bb", 1, R_RW, 1, &fd), E_OK);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("sub"), 3), E_OK);
    uint32_t dfd;
    cr_assert_eq(fk_open(".", 2, R_READ, 1, &dfd), E_OK);

    const char *names[] = {"a", "bb", "sub", ".", ".."};
    uint8_t types[5] = {0};
    uint32_t buf = galloc(4096), used = galloc(4);
    cr_assert_eq(wasi_fd_readdir(fk_inst, dfd, buf, 4096, 0, used), E_OK);
    cr_assert_lt(rd32(used), 4096);
    cr_assert_eq(readdir_find(buf, rd32(used), names, 5, types), 5);
    cr_assert_eq(types[0], 4);
    cr_assert_eq(types[2], 3);

    /* a small buffer: fill it, then continue from the last whole entry's cookie */
    int total = 0;
    uint64_t cookie = 0;
    for (int round = 0; round < 20; round++) {
        cr_assert_eq(wasi_fd_readdir(fk_inst, dfd, buf, 40, cookie, used), E_OK);
        uint32_t u = rd32(used), p = 0;
        while (p + 24 <= u && p + 24 + rd32(buf + p + 16) <= u) {
            cookie = rd64(buf + p);
            total++;
            p += 24 + rd32(buf + p + 16);
        }
        if (u < 40)
            break;
    }
    cr_assert_eq(total, 5, "each entry exactly once across calls");

    /* readdir on a file */
    cr_assert_eq(fk_open("a", 0, R_READ, 1, &fd), E_OK);
    cr_assert_eq(wasi_fd_readdir(fk_inst, fd, buf, 4096, 0, used), E_NOTDIR);
    /* also on the pre-open itself */
    cr_assert_eq(wasi_fd_readdir(fk_inst, PRE, buf, 4096, 0, used), E_OK);
    cr_assert_eq(readdir_find(buf, rd32(used), names, 5, types), 5);
}

Test(wasi, rename_unlink_mkdir_rmdir_links)
{
    uint32_t fd;
    cr_assert_eq(fk_open("old", 1, R_RW, 1, &fd), E_OK);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("d"), 1), E_OK);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, gstr("d"), 1), E_EXIST);
    cr_assert_eq(wasi_path_rename(fk_inst, PRE, gstr("old"), 3, PRE, gstr("d/new"), 5), E_OK);
    cr_assert_eq(fk_open("old", 0, R_READ, 1, &fd), E_NOENT);
    cr_assert_eq(fk_open("d/new", 0, R_READ, 1, &fd), E_OK);
    cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, gstr("d"), 1), E_NOTEMPTY);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("d"), 1), E_ISDIR);

    /* symlink inside, readlink, follow */
    cr_assert_eq(wasi_path_symlink(fk_inst, gstr("d/new"), 5, PRE, gstr("ln"), 2), E_OK);
    uint32_t buf = galloc(64), used = galloc(4);
    cr_assert_eq(wasi_path_readlink(fk_inst, PRE, gstr("ln"), 2, buf, 64, used), E_OK);
    cr_assert_eq(rd32(used), 5);
    cr_assert_eq(memcmp(G(buf), "d/new", 5), 0);
    cr_assert_eq(wasi_path_readlink(fk_inst, PRE, gstr("ln"), 2, buf, 3, used), E_OK);
    cr_assert_eq(rd32(used), 3);
    cr_assert_eq(wasi_path_readlink(fk_inst, PRE, gstr("d"), 1, buf, 64, used), E_INVAL);
    uint32_t fst = galloc(64);
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, gstr("ln"), 2, fst), E_OK);
    cr_assert_eq(G(fst)[16], 7, "no-follow stat sees the link");
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 1, gstr("ln"), 2, fst), E_OK);
    cr_assert_eq(G(fst)[16], 4, "follow stat sees the file");
    cr_assert_eq(fk_open("ln", 0, R_READ, 0, &fd), E_LOOP, "O_NOFOLLOW on a link");
    cr_assert_eq(wasi_path_filestat_set_times(fk_inst, PRE, 0, gstr("ln"), 2, 0, 0, 8 /* MTIM_NOW */), E_OK);

    /* hard links */
    cr_assert_eq(wasi_path_link(fk_inst, PRE, 0, gstr("d/new"), 5, PRE, gstr("hard"), 4), E_OK);
    cr_assert_eq(wasi_path_link(fk_inst, PRE, 1, gstr("ln"), 2, PRE, gstr("hard2"), 5), E_OK);
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, gstr("hard2"), 5, fst), E_OK);
    cr_assert_eq(G(fst)[16], 4);
    cr_assert_eq(rd64(fst + 24), 3);                  /* nlink */

    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("ln"), 2), E_OK);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("hard"), 4), E_OK);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("hard2"), 5), E_OK);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("d/new"), 5), E_OK);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, gstr("d/new"), 5), E_NOENT);
    cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, gstr("d/"), 2), E_OK);
    cr_assert_eq(wasi_path_remove_directory(fk_inst, PRE, gstr("d"), 1), E_NOENT);
}

/* ---- clocks, random, poll, misc ----------------------------------------------- */

Test(wasi, clocks_and_random)
{
    uint32_t t = galloc(8);
    for (uint32_t id = 0; id < 4; id++) {
        cr_assert_eq(wasi_clock_time_get(fk_inst, id, 1, t), E_OK);
        cr_assert_neq(rd64(t), 0);
        cr_assert_eq(wasi_clock_res_get(fk_inst, id, t), E_OK);
        cr_assert_gt(rd64(t), 0);
    }
    cr_assert_eq(wasi_clock_time_get(fk_inst, 4, 1, t), E_INVAL);
    cr_assert_eq(wasi_clock_time_get(fk_inst, 0, 1, t), E_OK);
    cr_assert_gt(rd64(t), 1600000000ull * 1000000000ull, "realtime is wall-clock time");

    uint32_t r = galloc(64);
    cr_assert_eq(wasi_random_get(fk_inst, r, 64), E_OK);
    int nonzero = 0;
    for (int i = 0; i < 64; i++)
        nonzero += G(r)[i] != 0;
    cr_assert_gt(nonzero, 32);
    cr_assert_eq(wasi_sched_yield(fk_inst), E_OK);
    cr_assert_eq(wasi_proc_raise(fk_inst, 9), 52 /* ENOSYS */);
}

Test(wasi, poll_oneoff_sleeps_on_a_clock)
{
    /* one 20 ms relative clock subscription */
    uint8_t sub[48] = {0};
    uint64_t ud = 0x1234, timeout = 20000000;
    memcpy(sub, &ud, 8);
    sub[8] = 0;                                       /* clock */
    memcpy(sub + 24, &timeout, 8);
    uint32_t in = gput(sub, 48), out = galloc(32), n = galloc(4);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 1, n), E_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    cr_assert_geq(ms, 19.0);
    cr_assert_eq(rd32(n), 1);
    cr_assert_eq(rd64(out), 0x1234);
    cr_assert_eq(G(out)[10], 0);

    /* a clock plus a ready memory stdin: returns at once with the fd event */
    uint8_t subs[96] = {0};
    memcpy(subs, sub, 48);
    timeout = 5000000000ull;
    memcpy(subs + 24, &timeout, 8);
    ud = 7;
    memcpy(subs + 48, &ud, 8);
    subs[56] = 1;                                     /* fd_read */
    in = gput(subs, 96);
    out = galloc(64);
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 2, n), E_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    cr_assert_lt(b.tv_sec - a.tv_sec, 2);
    cr_assert_eq(rd32(n), 1);
    cr_assert_eq(rd64(out), 7);
    cr_assert_eq(rd64(out + 16), 18, "bytes available on stdin");
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 0, n), E_INVAL);
}

/* ---- bad pointers ---------------------------------------------------------------- */

Test(wasi, bad_pointers_are_efault)
{
    const uint32_t end = FAKE_MEM;
    uint32_t ok = galloc(64), iovs;
    iov1("x", &iovs);
    /* the iovec array, a buffer in it, and the result pointer */
    cr_assert_eq(wasi_fd_write(fk_inst, 1, end - 4, 1, ok), E_FAULT);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 0x20000000, ok), E_FAULT);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, end - 2), E_FAULT);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, 0xFFFFFFFF), E_FAULT);
    uint32_t v[2] = {end - 10, 0xFFFFFFF0};           /* ptr + len wraps in 32 bits */
    uint32_t bad = gput(v, 8);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, bad, 1, ok), E_FAULT);
    cr_assert_eq(wasi_fd_read(fk_inst, 0, bad, 1, ok), E_FAULT);
    size_t len;
    wasi_ctx_output(fk_ctx, 1, &len, NULL);
    cr_assert_eq(len, 0, "nothing written on EFAULT");

    cr_assert_eq(wasi_args_get(fk_inst, end - 4, ok), E_FAULT);
    cr_assert_eq(wasi_args_get(fk_inst, ok, end - 3), E_FAULT);
    cr_assert_eq(wasi_args_sizes_get(fk_inst, end, ok), E_FAULT);
    cr_assert_eq(wasi_environ_get(fk_inst, 0xFFFFFFFF, ok), E_FAULT);
    cr_assert_eq(wasi_environ_sizes_get(fk_inst, ok, end - 1), E_FAULT);
    cr_assert_eq(wasi_clock_time_get(fk_inst, 1, 0, end - 7), E_FAULT);
    cr_assert_eq(wasi_clock_res_get(fk_inst, 1, end), E_FAULT);
    cr_assert_eq(wasi_random_get(fk_inst, end - 10, 11), E_FAULT);
    cr_assert_eq(wasi_random_get(fk_inst, 10, 0xFFFFFFFF), E_FAULT);
    cr_assert_eq(wasi_fd_fdstat_get(fk_inst, 1, end - 23), E_FAULT);
    cr_assert_eq(wasi_fd_filestat_get(fk_inst, PRE, end - 63), E_FAULT);
    cr_assert_eq(wasi_fd_prestat_get(fk_inst, PRE, end - 7), E_FAULT);
    cr_assert_eq(wasi_fd_prestat_dir_name(fk_inst, PRE, end - 4, 8), E_FAULT);
    cr_assert_eq(wasi_fd_seek(fk_inst, 1, 0, 0, end - 4), E_FAULT);
    cr_assert_eq(wasi_fd_readdir(fk_inst, PRE, end - 100, 200, 0, ok), E_FAULT);
    cr_assert_eq(wasi_fd_readdir(fk_inst, PRE, ok, 8, 0, end), E_FAULT);
    cr_assert_eq(wasi_poll_oneoff(fk_inst, end - 48, ok, 2, ok), E_FAULT);
    cr_assert_eq(wasi_poll_oneoff(fk_inst, ok, ok, 0x10000000, ok), E_FAULT);

    uint32_t p = gstr("file");
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, end - 2, 4, 1, R_RW, 0, 0, ok), E_FAULT);
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, p, 0xFFFFFFFF, 1, R_RW, 0, 0, ok), E_FAULT);
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, p, 4, 1, R_RW, 0, 0, end - 1), E_FAULT);
    cr_assert_eq(wasi_path_create_directory(fk_inst, PRE, end - 1, 2), E_FAULT);
    cr_assert_eq(wasi_path_unlink_file(fk_inst, PRE, 0xFFFFFFFF, 1), E_FAULT);
    cr_assert_eq(wasi_path_rename(fk_inst, PRE, p, 4, PRE, end, 1), E_FAULT);
    cr_assert_eq(wasi_path_symlink(fk_inst, end, 5, PRE, p, 4), E_FAULT);
    cr_assert_eq(wasi_path_readlink(fk_inst, PRE, p, 4, end - 2, 4, ok), E_FAULT);
    cr_assert_eq(wasi_path_filestat_get(fk_inst, PRE, 0, p, 4, end - 8), E_FAULT);
    cr_assert_eq(wasi_path_link(fk_inst, PRE, 0, end - 1, 4, PRE, p, 4), E_FAULT);

    /* a very long (but addressable) path */
    uint32_t big = galloc(8000);
    memset(G(big), 'a', 8000);
    cr_assert_eq(wasi_path_open(fk_inst, PRE, 0, big, 8000, 0, R_READ, 0, 0, ok), E_NAMETOOLONG);

    /* no memory at all, or no WASI context */
    fk_inst->mem = NULL;
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, ok), E_FAULT);
    fk_inst->mem = &fk_mem;
    fk_inst->host = NULL;
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, ok), E_BADF);
    cr_assert_eq(wasi_args_sizes_get(fk_inst, ok, ok), 52 /* ENOSYS */);
    fk_inst->host = fk_hosts;
}

/* ---- stdio on host descriptors ------------------------------------------------------ */

Test(wasi_host_stdio, writes_to_a_host_fd)
{
    char path[] = "/tmp/wedge-wasi-out-XXXXXX";
    int hfd = mkstemp(path);
    cr_assert_geq(hfd, 0);
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.stdio[0].host_fd = -1;
    cfg.stdio[1].host_fd = hfd;
    cfg.stdio[2].host_fd = -1;
    fk_setup_cfg(&cfg);
    uint32_t iovs, nw = galloc(4);
    iov1("via host", &iovs);
    cr_assert_eq(wasi_fd_write(fk_inst, 1, iovs, 1, nw), E_OK);
    cr_assert_eq(rd32(nw), 8);
    uint32_t nr = galloc(4);
    cr_assert_eq(wasi_fd_read(fk_inst, 0, iovs, 1, nr), E_OK);
    cr_assert_eq(rd32(nr), 0, "empty memory stdin is at end");
    cr_assert_eq(wasi_fd_close(fk_inst, 1), E_OK);
    fk_teardown();
    char got[16] = {0};
    cr_assert_eq(pread(hfd, got, sizeof got, 0), 8);
    cr_assert_str_eq(got, "via host");
    cr_assert_eq(close(hfd), 0, "wasi does not close a host stdio fd");
    unlink(path);
}

/* ---- poll_oneoff with a wait_yield hook (serve) ------------------------------------------ */

static int poll_yields;
static int poll_pipe = -1;      /* >= 0: the 5th yield writes a byte here */
static void poll_yield(void)
{
    if (++poll_yields == 5 && poll_pipe >= 0)
        cr_assert_eq(write(poll_pipe, "ab", 2), 2);
}

Test(wasi_yield, poll_oneoff_yields_while_it_waits_with_the_same_results)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.stdio[0].host_fd = p[0];
    cfg.stdio[1].host_fd = -1;
    cfg.stdio[2].host_fd = -1;
    cfg.wait_yield = poll_yield;
    fk_setup_cfg(&cfg);

    /* A 200 ms clock: the exact event, after 200 ms, with the hook called
     * between the slices (about 200; a loaded machine oversleeps a slice
     * by tens of ms, so only a few are sure). */
    uint8_t subs[96] = {0};
    uint64_t ud = 0x1234, timeout = 200000000;
    memcpy(subs, &ud, 8);
    memcpy(subs + 24, &timeout, 8);
    uint32_t in = gput(subs, 48), out = galloc(64), n = galloc(4);
    uint64_t t0 = ut_mono_ns();
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 1, n), E_OK);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_geq(dt, 200000000u);
    cr_assert_eq(rd32(n), 1);
    cr_assert_eq(rd64(out), 0x1234);
    cr_assert_eq(G(out)[10], 0, "a clock event");
    cr_assert_geq(poll_yields, 3, "only %d yields in %llu ns", poll_yields, (unsigned long long)dt);

    /* fd_read on the host pipe beside a 5 s clock: the bytes written
     * during the 5th yield end the wait with the fd event and its count. */
    timeout = 5000000000ull;
    memcpy(subs + 24, &timeout, 8);
    ud = 7;
    memcpy(subs + 48, &ud, 8);
    subs[56] = 1;                                     /* fd_read, fd 0 */
    in = gput(subs, 96);
    poll_yields = 0;
    poll_pipe = p[1];
    t0 = ut_mono_ns();
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 2, n), E_OK);
    poll_pipe = -1;
    cr_assert_lt(ut_mono_ns() - t0, 2000000000u);
    cr_assert_eq(poll_yields, 5);
    cr_assert_eq(rd32(n), 1);
    cr_assert_eq(rd64(out), 7);
    cr_assert_eq(G(out)[10], 1, "an fd_read event");
    cr_assert_eq(rd64(out + 16), 2, "bytes available");

    /* Past the deadline: the timeout trap, however long the clock. */
    char c[2];
    cr_assert_eq(read(p[0], c, 2), 2);
    t0 = ut_mono_ns();
    wasi_ctx_set_deadline(fk_ctx, t0 + 100000000);
    poll_yields = 0;
    rt_trap_scope sc;
    if (RT_TRAP_SCOPE_TRY(&sc))
        wasi_poll_oneoff(fk_inst, in, out, 2, n);
    rt_trap_scope_leave(&sc);
    dt = ut_mono_ns() - t0;
    cr_assert_eq(sc.trap, WEDGE_TRAP_TIMEOUT);
    cr_assert_geq(dt, 100000000u);
    cr_assert_lt(dt, 2000000000u);
    cr_assert_geq(poll_yields, 2);
    fk_teardown();
    close(p[0]);
    close(p[1]);
}

/* ---- WASI through a linker ------------------------------------------------------------ */

/* Resolves "module"."name" with signature `sig` through a linker that has
 * WASI only (rt_link_resolve + rt_link_check, as instantiation does). */
static bool resolve(const char *module, const char *name, const char *sig, rt_extern *ext)
{
    wedge_desc_type type = {.sig = sig};
    uint32_t type_id = rt_type_intern(sig);
    wedge_module_desc d;
    memset(&d, 0, sizeof d);
    d.types = &type;
    d.ntypes = 1;
    d.type_ids = &type_id;
    wedge_desc_import imp;
    memset(&imp, 0, sizeof imp);
    imp.module = module;
    imp.module_len = (uint32_t)strlen(module);
    imp.name = name;
    imp.name_len = (uint32_t)strlen(name);
    imp.kind = 0;
    rt_result res;
    rt_linker *lk = rt_linker_new(&res);
    cr_assert_not_null(lk);
    cr_assert_eq(rt_linker_add_host(lk, &wasi_host_module, NULL, &res), 0, "%s", res.msg);
    int slot;
    bool ok = rt_link_resolve(lk, &d, &imp, ext, &slot, &res) == RT_OK && rt_link_check(&d, &imp, ext, &res) == RT_OK;
    cr_assert(!ok || slot == 0, "a WASI function comes from WASI's slot");
    rt_linker_free(lk);
    return ok;
}

Test(wasi, resolve_names)
{
    rt_extern ext;
    cr_assert(resolve("wasi_snapshot_preview1", "fd_write", "iiii:i", &ext));
    cr_assert_eq(ext.kind, 0);
    cr_assert_not_null(ext.u.func.ref);
    cr_assert_eq(ext.u.func.ref->fn, (void (*)(void))wasi_fd_write);
    cr_assert_eq(ext.u.func.ref->type_id, rt_type_intern("iiii:i"));
    cr_assert(resolve("wasi_snapshot_preview1", "proc_exit", "i:", &ext));
    cr_assert_not(resolve("wasi_snapshot_preview1", "proc_exit", "I:", &ext), "wrong signature");
    cr_assert(resolve("wasi_snapshot_preview1", "path_open", "iiiiiIIii:i", &ext));
    cr_assert(resolve("wasi_snapshot_preview1", "sched_yield", ":i", &ext));
    cr_assert_not(resolve("wasi_snapshot_preview1", "fd_writ", "iiii:i", &ext));
    cr_assert_not(resolve("wasi_snapshot_preview1", "fd_writex", "iiii:i", &ext));
    cr_assert_not(resolve("wasi_unstable", "fd_write", "iiii:i", &ext));
    cr_assert_not(resolve("env", "fd_write", "iiii:i", &ext));
}

Test(wasi, sledge_names_use_the_current_instance)
{
    sledge_abi__current_wasm_module_instance = fk_inst;
    uint32_t pc = galloc(4), ps = galloc(4);
    cr_assert_eq(sledge_abi__wasi_snapshot_preview1_args_sizes_get(pc, ps), E_OK);
    cr_assert_eq(rd32(pc), 3);
    sledge_abi__current_wasm_module_instance = NULL;
}

/* ---- calls that end the guest call ------------------------------------------------- */

Test(wasi, proc_exit_unwinds_with_the_code)
{
    rt_trap_scope sc;
    if (RT_TRAP_SCOPE_TRY(&sc))
        wasi_proc_exit(fk_inst, 42);
    rt_trap_scope_leave(&sc);
    cr_assert_eq(sc.trap, WEDGE_TRAP_EXIT);
    cr_assert_eq(sc.exit_code, 42);
}

Test(wasi, sleep_past_the_deadline_traps)
{
    uint64_t t0 = ut_mono_ns();
    wasi_ctx_set_deadline(fk_ctx, t0 + 30000000);    /* 30 ms from now */

    uint8_t sub[48] = {0};
    uint64_t timeout = 10000000;                      /* 10 ms: before the deadline, fine */
    memcpy(sub + 24, &timeout, 8);
    uint32_t in = gput(sub, 48), out = galloc(32), n = galloc(4);
    cr_assert_eq(wasi_poll_oneoff(fk_inst, in, out, 1, n), E_OK);

    timeout = 5000000000ull;                          /* 5 s: cut at the deadline */
    memcpy(G(in) + 24, &timeout, 8);
    rt_trap_scope sc;
    if (RT_TRAP_SCOPE_TRY(&sc))
        wasi_poll_oneoff(fk_inst, in, out, 1, n);
    rt_trap_scope_leave(&sc);
    uint64_t t1 = ut_mono_ns();
    cr_assert_eq(sc.trap, WEDGE_TRAP_TIMEOUT);
    cr_assert_geq(t1 - t0, 30000000u);
    cr_assert_lt(t1 - t0, 2000000000u);
}
