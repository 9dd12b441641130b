/*
 * test_dagger.c — the Dagger host module (src/dagger/) called through its
 * function table, as a linked guest would: descriptors, every local
 * scheme and its errors, the file jail, bad guest pointers and lengths,
 * descriptor exhaustion, and the linker names ("dagger", "env", "sync").
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dagger_fake.h"

static char root[64], outside[128], sandbox[128];
static int out_fd, log_fd;
static char out_path[128], log_path[128];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/wedge-dagger-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(sandbox, sizeof sandbox, "%s/sandbox", root);
    snprintf(outside, sizeof outside, "%s/outside", root);
    cr_assert_eq(mkdir(sandbox, 0755), 0);
    cr_assert_eq(mkdir(outside, 0755), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/in.txt", sandbox);
    write_file(p, "file contents\n");
    snprintf(p, sizeof p, "%s/secret", outside);
    write_file(p, "top secret\n");
    snprintf(p, sizeof p, "%s/link", sandbox);
    cr_assert_eq(symlink("/etc/passwd", p), 0);
    snprintf(out_path, sizeof out_path, "%s/stdout", root);
    snprintf(log_path, sizeof log_path, "%s/log", root);
    out_fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert(out_fd >= 0 && log_fd >= 0);

    static wasi_preopen pre;
    pre.host_path = sandbox;
    pre.guest_path = "/data";
    dagger_config cfg = {.stdio_fd = {-1, out_fd, out_fd}, .log_fd = log_fd, .npreopens = 1, .preopens = &pre};
    fake_new(&cfg);
}

static void teardown(void)
{
    fake_free();
    close(out_fd);
    close(log_fd);
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(dagger, .init = setup, .fini = teardown);

Test(dagger, descriptors_from_zero_lowest_free_reused)
{
    cr_assert_eq(d_open("stdout://"), 0);
    cr_assert_eq(d_open("stderr://"), 1);
    cr_assert_eq(d_open("random://"), 2);
    cr_assert_eq(d_close(1), 0);
    cr_assert_eq(d_close(1), DAGGER_EBADF, "closed twice");
    cr_assert_eq(d_open("fd://2"), 1, "the lowest free descriptor again");
    cr_assert_eq(d_flush(1), 0);
    cr_assert_eq(d_flush(7), DAGGER_EBADF);
    cr_assert_eq(((fn1)dg("sync"))(inst, 0), 0, "sync is flush");
    cr_assert_eq(d_write(9, "x"), DAGGER_EBADF);
    cr_assert_eq(d_close(-1), DAGGER_EBADF);
}

Test(dagger, stdio_log_and_random)
{
    int32_t o = d_open("stdout://"), f1 = d_open("fd://1");
    cr_assert_eq(d_write(o, "one "), 4);
    cr_assert_eq(d_write(f1, "two\n"), 4);
    char buf[64];
    cr_assert_eq(d_read(o, buf, 4), DAGGER_EPERM, "stdout is write-only");
    slurp(out_path, buf, sizeof buf);
    cr_assert_str_eq(buf, "one two\n");

    int32_t lg = d_open("log://?prefix=app");
    cr_assert_eq(d_write(lg, "started\n"), 8);
    cr_assert_eq(d_write(lg, "no newline"), 10);
    int32_t plain = d_open("log://");
    cr_assert_eq(d_write(plain, "x"), 1);
    slurp(log_path, buf, sizeof buf);
    cr_assert_str_eq(buf, "app: started\napp: no newline\nlog: x\n", "one line per write");

    int32_t r = d_open("random://");
    char a[32] = {0}, b[32] = {0};
    cr_assert_eq(d_read(r, a, 32), 32);
    cr_assert_eq(d_read(r, b, 32), 32);
    cr_assert_neq(memcmp(a, b, 32), 0);
    cr_assert_eq(d_write(r, "x"), DAGGER_EPERM);
}

Test(dagger, url_errors)
{
    cr_assert_eq(d_open("stdout"), DAGGER_EURL, "no scheme separator");
    cr_assert_eq(d_open("://x"), DAGGER_EURL, "empty scheme");
    cr_assert_eq(d_open("gopher://x"), DAGGER_ESCHEME);
    cr_assert_eq(d_open("http://example.com/"), DAGGER_EPERM, "no allow-list: every URL refused");
    cr_assert_eq(d_open("fd://3"), DAGGER_EOPEN, "no other host descriptor");
    cr_assert_eq(d_open("fd://x"), DAGGER_EURL);
    cr_assert_eq(d_open("stdout://extra"), DAGGER_EURL);
    cr_assert_eq(d_open("file:///data/in.txt?mode=x"), DAGGER_EURL);
    cr_assert_eq(d_open("STDOUT://"), 0, "schemes are case-insensitive");
}

Test(dagger, url_length_nul_and_the_2018_form)
{
    /* Length 0: NUL-terminated; a length past the NUL stops at it. */
    cr_assert_eq(d_open_n("stdout://", 0), 0);
    cr_assert_eq(d_open_n("stdout://", 40), 1, "read up to the first NUL");
    cr_assert_eq(d_open_n("stdout://garbage", 9), 2, "read up to the length");
    /* No NUL anywhere up to the end of memory. */
    memset(mem.base + MEM - 16, 'a', 16);
    cr_assert_eq(((fn2)dg("open"))(inst, MEM - 16, 0), (uint32_t)DAGGER_EFAULT);
    /* A URL longer than DAGGER_URL_MAX. */
    char *longu = malloc(DAGGER_URL_MAX + 16);
    memcpy(longu, "log://?prefix=", 14);
    memset(longu + 14, 'p', DAGGER_URL_MAX);
    longu[DAGGER_URL_MAX + 14] = 0;
    uint32_t at = put(longu, DAGGER_URL_MAX + 15);
    cr_assert_eq(((fn2)dg("open"))(inst, at, 0), (uint32_t)DAGGER_EURL);
    cr_assert_eq(((fn2)dg("open"))(inst, at, DAGGER_URL_MAX + 14), (uint32_t)DAGGER_EURL);
    free(longu);
}

Test(dagger, bad_pointers_and_lengths)
{
    fn2 op = (fn2)dg("open");
    fn3 rd = (fn3)dg("read"), wr = (fn3)dg("write");
    cr_assert_eq(op(inst, MEM + 1, 0), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(op(inst, MEM - 2, 8), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(op(inst, 0xFFFFFFFF, 0xFFFFFFFF), (uint32_t)DAGGER_EFAULT);
    int32_t r = d_open("random://"), o = d_open("stdout://");
    cr_assert_eq(rd(inst, (uint32_t)r, MEM - 4, 8), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(rd(inst, (uint32_t)r, 0xFFFFFFF0, 0x20), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(wr(inst, (uint32_t)o, 16, 0xFFFFFFFF), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(wr(inst, (uint32_t)o, MEM, 1), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(wr(inst, (uint32_t)o, MEM, 0), 0, "an empty range at the end is fine");
    inst->mem = NULL;
    cr_assert_eq(op(inst, 0, 0), (uint32_t)DAGGER_EFAULT, "no memory at all");
    inst->mem = &mem;
}

Test(dagger, file_streams_stay_inside_the_directories)
{
    char buf[64] = {0};
    int32_t f = d_open("file:///data/in.txt");
    cr_assert_geq(f, 0);
    cr_assert_eq(d_read(f, buf, sizeof buf - 1), 14);
    cr_assert_str_eq(buf, "file contents\n");
    cr_assert_eq(d_read(f, buf, 8), 0, "end of stream");
    cr_assert_eq(d_write(f, "x"), DAGGER_EPERM, "read is the default mode");

    int32_t w = d_open("file:///data/new.txt?mode=w");
    cr_assert_geq(w, 0);
    cr_assert_eq(d_write(w, "abc"), 3);
    cr_assert_eq(d_read(w, buf, 3), DAGGER_EPERM);
    d_close(w);
    int32_t a = d_open("file:///data/new.txt?mode=a");
    cr_assert_eq(d_write(a, "def"), 3);
    d_close(a);
    char p[256];
    snprintf(p, sizeof p, "%s/new.txt", sandbox);
    slurp(p, buf, sizeof buf);
    cr_assert_str_eq(buf, "abcdef");

    cr_assert_eq(d_open("file:///data/../outside/secret"), DAGGER_EPERM, "..");
    cr_assert_eq(d_open("file:///data/link"), DAGGER_EPERM, "absolute symbolic link");
    cr_assert_eq(d_open("file:///etc/passwd"), DAGGER_EPERM, "outside every directory");
    cr_assert_eq(d_open("file:///database/x"), DAGGER_EPERM, "a prefix, not a directory");
    cr_assert_eq(d_open("file:///data/missing"), DAGGER_EOPEN);
    cr_assert_eq(d_open("file:///data"), DAGGER_EOPEN, "a directory is not a stream");
    cr_assert_eq(d_open("file://data/in.txt"), DAGGER_EURL, "relative");
}

Test(dagger, descriptor_exhaustion_is_an_error)
{
    int32_t last = -1;
    for (int i = 0; i < DAGGER_MAX_STREAMS; i++) {
        last = d_open("random://");
        cr_assert_eq(last, i);
        bump = 64;                   /* reuse the scratch memory */
    }
    cr_assert_eq(d_open("random://"), DAGGER_EMFILE);
    cr_assert_eq(d_close(500), 0);
    cr_assert_eq(d_open("random://"), 500);
}

/* Never called: the descriptor only needs one per type. */
static void no_tramp(const wedge_funcref *f, const wedge_value *a, wedge_value *r) { (void)f, (void)a, (void)r; }

Test(dagger, linked_as_dagger_and_env)
{
    rt_result res;
    rt_linker *lk = rt_linker_new(&res);
    cr_assert_not_null(lk);
    cr_assert_geq(rt_linker_add_host(lk, &dagger_host_module, NULL, &res), 0, "%s", res.msg);
    cr_assert(rt_linker_alias(lk, "env", &dagger_host_module, &res), "%s", res.msg);
    static const wedge_desc_type types[] = {{"ii:i", no_tramp}, {"i:i", no_tramp}};
    static const wedge_desc_import imps[] = {
        {.module = "env", .module_len = 3, .name = "open", .name_len = 4, .kind = 0, .type = 0},
        {.module = "dagger", .module_len = 6, .name = "sync", .name_len = 4, .kind = 0, .type = 1}};
    uint32_t ids[2];
    wedge_module_desc d = {.abi_version = WEDGE_ABI_VERSION, .bounds = WEDGE_BOUNDS_GUARD,
                           .compiler_version = "test", .ntypes = 2, .types = types, .type_ids = ids,
                           .nimports = 2, .imports = imps, .nimported_funcs = 2, .start = -1};
    rt_module *m = rt_module_wrap(&d, "d.wasm", &res);
    cr_assert_not_null(m, "%s", res.msg);
    cr_assert_eq(rt_linker_check(lk, m, &res), RT_OK, "%s", res.msg);
    rt_module_unload(m);
    rt_linker_free(lk);
}
