/*
 * test_cwa.c — the CommonWA host module (src/cwa/) called through its
 * function table, as a linked guest would: every call with good input,
 * bad pointers and lengths for every call that takes one, the schemes
 * (log, random, null, zero, stdio, file inside the directories, unknown
 * ones), the error codes, argv/env as given, memory-backed stdio, the
 * deadline and the wait_yield hook on runtime_msleep, and the linker names
 * ("cwa", "env").
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cwa/cwa.h"
#include "runtime/rt_guest.h"
#include "util/util.h"

#include "host_fake.h"

static char dir[64], log_path[128];
static int log_fd;

static void (*cw(const char *name))(void)
{
    return host_fake_fn(&cwa_host_module, name);
}
typedef uint32_t (*f0)(wedge_instance *);
typedef uint32_t (*f1)(wedge_instance *, uint32_t);
typedef uint32_t (*f2)(wedge_instance *, uint32_t, uint32_t);
typedef uint32_t (*f3)(wedge_instance *, uint32_t, uint32_t, uint32_t);
typedef uint32_t (*f4)(wedge_instance *, uint32_t, uint32_t, uint32_t, uint32_t);
typedef void (*v1)(wedge_instance *, uint32_t);
typedef void (*v3)(wedge_instance *, uint32_t, uint32_t, uint32_t);
typedef uint64_t (*g0)(wedge_instance *);
#define C0(n) ((int32_t)((f0)cw(n))(inst))
#define C1(n, a) ((int32_t)((f1)cw(n))(inst, (a)))
#define C2(n, a, b) ((int32_t)((f2)cw(n))(inst, (a), (b)))
#define C3(n, a, b, c) ((int32_t)((f3)cw(n))(inst, (uint32_t)(a), (b), (c)))
#define C4(n, a, b, c, d) ((int32_t)((f4)cw(n))(inst, (a), (b), (c), (d)))

static uint32_t room(size_t n)
{
    uint32_t at = bump;
    bump = (uint32_t)((bump + n + 8) & ~7u);
    cr_assert(bump < MEM);
    return at;
}
static int32_t r_open(const char *url) { return C2("resource_open", put(url, strlen(url)), (uint32_t)strlen(url)); }
static int32_t r_write(int32_t fd, const char *s)
{
    return C3("resource_write", fd, put(s, strlen(s)), (uint32_t)strlen(s));
}

static const char *const args[] = {"prog.wasm", "one", "two words"};
static const char *const envs[] = {"HOME=/data", "EMPTY=", "LONG=0123456789abcdef"};
static const uint8_t body[] = "request body";

static void make(const dagger_config *streams)
{
    cwa_config cfg = {.argc = 3, .argv = args, .envc = 3, .envp = envs, .streams = *streams};
    host_fake_new(&cwa_host_module, &cfg);
}

static wasi_preopen pre[2];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/wedge-cwa-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char p[128];
    snprintf(p, sizeof p, "%s/in.txt", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("file contents\n", f);
    fclose(f);
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert(log_fd >= 0);
    pre[0] = (wasi_preopen){.host_path = dir, .guest_path = "/data"};
    pre[1] = (wasi_preopen){.host_path = dir, .guest_path = "/ro", .readonly = true};
    /* serve's form: memory stdio, log lines to a descriptor here. */
    dagger_config streams = {.stdio_fd = {-1, -1, -1}, .log_fd = log_fd, .in_buf = body,
                             .in_len = sizeof body - 1, .out_limit = {0, 64, 64}, .npreopens = 2, .preopens = pre};
    make(&streams);
}

static void teardown(void)
{
    host_fake_free(&cwa_host_module);
    close(log_fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cwa, .init = setup, .fini = teardown);

Test(cwa, every_spec_function_is_there_with_its_type)
{
    static const char *const want[][2] = {
        {"resource_open", "ii:i"}, {"resource_close", "i:"}, {"resource_read", "iii:i"},
        {"resource_write", "iii:i"}, {"resource_flush", "i:i"}, {"io_get_stdin", ":i"}, {"io_get_stdout", ":i"},
        {"io_get_stderr", ":i"}, {"log_write", "iii:"}, {"env_get", "iiii:i"}, {"runtime_exit", "i:"},
        {"runtime_spec_major", ":i"}, {"runtime_spec_minor", ":i"}, {"runtime_name", "ii:i"},
        {"runtime_msleep", "i:"}, {"startup_arg_len", ":i"}, {"startup_arg_at", "iii:i"}, {"time_now", ":I"},
        {"random_i32", ":i"}, {"random_i64", ":I"}};
    cr_assert_eq(cwa_host_module.nfuncs, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (uint32_t k = 0; k < cwa_host_module.nfuncs; k++)
            if (!strcmp(cwa_host_module.funcs[k].name, want[i][0])) {
                cr_assert_str_eq(cwa_host_module.funcs[k].sig, want[i][1], "%s", want[i][0]);
                found = true;
            }
        cr_assert(found, "%s missing", want[i][0]);
    }
    cr_assert_str_eq(cwa_host_module.name, "cwa");
}

Test(cwa, startup_args_and_env_are_the_ones_given)
{
    cr_assert_eq(C0("startup_arg_len"), 3);
    uint32_t out = room(32);
    cr_assert_eq(C3("startup_arg_at", 2, out, 32), 9);
    cr_assert_eq(memcmp(mem.base + out, "two words", 9), 0);
    cr_assert_eq(C3("startup_arg_at", 2, out, 3), 3, "truncated to the buffer");
    cr_assert_eq(C3("startup_arg_at", 3, out, 32), CWA_EINVAL, "past the last");
    cr_assert_eq(C3("startup_arg_at", -1, out, 32), CWA_EINVAL);
    cr_assert_eq(C3("startup_arg_at", 0, MEM - 4, 8), CWA_EINVAL, "bad buffer");

    uint32_t k = put("HOME", 4), v = room(64);
    cr_assert_eq(C4("env_get", k, 4, v, 64), 5);
    cr_assert_eq(memcmp(mem.base + v, "/data", 5), 0);
    uint32_t v2 = put("xxxx", 4);
    cr_assert_eq(C4("env_get", put("LONG", 4), 4, v2, 4), 16, "too small: the size needed");
    cr_assert_eq(memcmp(mem.base + v2, "xxxx", 4), 0, "nothing written");
    cr_assert_eq(C4("env_get", put("EMPTY", 5), 5, v, 64), 0);
    cr_assert_eq(C4("env_get", put("HOM", 3), 3, v, 64), CWA_ENOTFOUND, "a prefix is not a key");
    cr_assert_eq(C4("env_get", put("HOME=", 5), 5, v, 64), CWA_ENOTFOUND);
    cr_assert_eq(C4("env_get", put("HO\0E", 4), 4, v, 64), CWA_ENOTFOUND);
    cr_assert_eq(C4("env_get", MEM - 2, 4, v, 64), CWA_EINVAL, "bad key");
    cr_assert_eq(C4("env_get", k, 4, MEM - 2, 64), CWA_EINVAL, "bad value buffer");
    cr_assert_eq(C4("env_get", k, 0xFFFFFFFF, v, 64), CWA_EINVAL);
}

Test(cwa, runtime_time_random)
{
    cr_assert_eq(C0("runtime_spec_major"), CWA_SPEC_MAJOR);
    cr_assert_eq(C0("runtime_spec_minor"), CWA_SPEC_MINOR);
    uint32_t out = room(32);
    cr_assert_eq(C2("runtime_name", out, 32), 5);
    cr_assert_eq(memcmp(mem.base + out, "wedge", 5), 0);
    cr_assert_eq(C2("runtime_name", out, 4), CWA_EINVAL, "buffer too small");
    cr_assert_eq(C2("runtime_name", MEM - 2, 32), CWA_EINVAL, "bad buffer");
    int64_t t = (int64_t)((g0)cw("time_now"))(inst);
    cr_assert(t >= (int64_t)time(NULL) - 2 && t <= (int64_t)time(NULL));
    int diff = 0;
    int32_t a = C0("random_i32");
    for (int i = 0; i < 8; i++) {
        int32_t b = C0("random_i32");
        cr_assert_geq(b, 0);
        diff += b != a;
        cr_assert_geq((int64_t)((g0)cw("random_i64"))(inst), 0);
    }
    cr_assert_gt(diff, 0, "random_i32 is not constant");
    uint64_t t0 = ut_mono_ns();
    ((v1)cw("runtime_msleep"))(inst, 20);
    cr_assert_geq(ut_mono_ns() - t0, 20000000u);
    ((v1)cw("runtime_msleep"))(inst, 0xFFFFFFFFu);  /* negative: no sleep */
}

static int msleep_yields;
static void msleep_yield(void) { msleep_yields++; }

/* serve's form: the streams' wait_yield hook is called between the
 * sleep's slices, the sleep is as long, and the deadline still traps. */
Test(cwa, runtime_msleep_yields_with_a_hook)
{
    host_fake_free(&cwa_host_module);
    dagger_config streams = {.stdio_fd = {-1, -1, -1}, .log_fd = log_fd, .wait_yield = msleep_yield};
    make(&streams);
    uint64_t t0 = ut_mono_ns();
    ((v1)cw("runtime_msleep"))(inst, 200);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_geq(dt, 200000000u);
    /* About 200 slices; a loaded machine oversleeps one by tens of ms. */
    cr_assert_geq(msleep_yields, 3, "only %d yields in %llu ns", msleep_yields, (unsigned long long)dt);

    host_fake_free(&cwa_host_module);
    t0 = ut_mono_ns();
    streams.deadline_ns = t0 + 100000000u;
    make(&streams);
    msleep_yields = 0;
    rt_trap_scope sc;
    if (RT_TRAP_SCOPE_TRY(&sc))
        ((v1)cw("runtime_msleep"))(inst, 5000);
    rt_trap_scope_leave(&sc);
    dt = ut_mono_ns() - t0;
    cr_assert_eq(sc.trap, WEDGE_TRAP_TIMEOUT);
    cr_assert_geq(dt, 100000000u);
    cr_assert_lt(dt, 2000000000u);
    cr_assert_geq(msleep_yields, 2);
}

Test(cwa, schemes_and_their_errors)
{
    int32_t fd = r_open("null://");
    cr_assert_geq(fd, 0);
    uint32_t buf = room(16);
    cr_assert_eq(C3("resource_read", fd, buf, 16), 0, "null:// reads nothing");
    cr_assert_eq(r_write(fd, "gone"), 4);
    int32_t z = r_open("zero://");
    memset(mem.base + buf, 7, 16);
    cr_assert_eq(C3("resource_read", z, buf, 16), 16);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(mem.base[buf + i], 0);
    int32_t r = r_open("random://");
    cr_assert_eq(C3("resource_read", r, buf, 16), 16);
    cr_assert_eq(r_write(r, "x"), CWA_EPERM, "random:// is read-only");
    int32_t l = r_open("log://?prefix=test");
    cr_assert_eq(r_write(l, "hello, world!"), 13);
    cr_assert_eq(C1("resource_flush", l), 0);
    cr_assert_eq(C3("resource_read", l, buf, 16), CWA_EPERM);

    int32_t f = r_open("file:///data/in.txt");
    cr_assert_eq(C3("resource_read", f, buf, 16), 14);
    cr_assert_eq(memcmp(mem.base + buf, "file contents\n", 14), 0);
    cr_assert_eq(C3("resource_read", f, buf, 16), 0, "end of the file");
    cr_assert_eq(r_open("file:///data/missing"), CWA_ENOTFOUND);
    cr_assert_eq(r_open("file:///etc/passwd"), CWA_EPERM, "outside the directories");
    cr_assert_eq(r_open("file:///data/../../etc/passwd"), CWA_EPERM, "the jail");
    cr_assert_eq(r_open("file:///ro/new.txt?mode=w"), CWA_EPERM, "a read-only directory");
    cr_assert_eq(r_open("gopher://x"), CWA_EINVAL, "unknown scheme");
    cr_assert_eq(r_open("no scheme"), CWA_EINVAL, "bad URL");
    cr_assert_eq(r_open("fd://7"), CWA_ENOTFOUND);
    cr_assert_eq(r_open("http://example.com/"), CWA_EPERM, "no allow-list: every URL refused");

    char log[256] = "";
    cr_assert_geq(pread(log_fd, log, sizeof log - 1, 0), 0);
    cr_assert(strstr(log, "test: hello, world!\n"), "log: %s", log);
    ((v1)cw("resource_close"))(inst, (uint32_t)f);
    cr_assert_eq(C3("resource_read", f, buf, 16), CWA_EINVAL, "closed");
    ((v1)cw("resource_close"))(inst, 999);          /* nothing to report, nothing happens */
    cr_assert_eq(r_open("null://"), f, "the lowest free descriptor is reused");
}

Test(cwa, bad_pointers_and_descriptors_for_every_call)
{
    int32_t fd = r_open("zero://");
    cr_assert_eq(C2("resource_open", MEM - 3, 8), CWA_EINVAL);
    cr_assert_eq(C2("resource_open", 0xFFFFFFF0u, 0x20), CWA_EINVAL);
    cr_assert_eq(C3("resource_read", fd, MEM - 3, 8), CWA_EINVAL);
    cr_assert_eq(C3("resource_read", fd, 0, 0xFFFFFFFFu), CWA_EINVAL);
    cr_assert_eq(C3("resource_write", fd, MEM - 3, 8), CWA_EINVAL);
    cr_assert_eq(C3("resource_read", 77, 64, 8), CWA_EINVAL, "not open");
    cr_assert_eq(C3("resource_write", -1, 64, 8), CWA_EINVAL);
    cr_assert_eq(C1("resource_flush", 77), CWA_EINVAL);
    ((v3)cw("log_write"))(inst, 6, MEM - 3, 8);      /* ignored: no result to report it in */
    ((v3)cw("log_write"))(inst, 6, 0xFFFFFFFFu, 0xFFFFFFFFu);
    char log[64] = "";
    cr_assert_eq(pread(log_fd, log, sizeof log, 0), 0, "nothing logged: %s", log);
}

Test(cwa, stdio_is_memory_under_serve)
{
    int32_t in = C0("io_get_stdin"), out = C0("io_get_stdout"), err = C0("io_get_stderr");
    cr_assert(in >= 0 && out >= 0 && err >= 0 && in != out && out != err);
    cr_assert_eq(C0("io_get_stdout"), out, "the same descriptor each time");
    uint32_t buf = room(64);
    cr_assert_eq(C3("resource_read", in, buf, 64), (int32_t)sizeof body - 1);
    cr_assert_eq(memcmp(mem.base + buf, body, sizeof body - 1), 0);
    cr_assert_eq(r_write(out, "response"), 8);
    cr_assert_eq(r_write(err, "oops\n"), 5);
    cr_assert_eq(r_write(in, "x"), CWA_EPERM);
    size_t len;
    bool trunc;
    const uint8_t *o = cwa_instance_output(inst, 1, &len, &trunc);
    cr_assert(o && len == 8 && !memcmp(o, "response", 8) && !trunc);
    o = cwa_instance_output(inst, 2, &len, &trunc);
    cr_assert(o && len == 5 && !memcmp(o, "oops\n", 5));
    ((v1)cw("resource_close"))(inst, (uint32_t)out);
    int32_t again = C0("io_get_stdout");
    cr_assert_geq(again, 0, "reopened after close");
    ((v3)cw("log_write"))(inst, 1, put("bad thing", 9), 9);
    ((v3)cw("log_write"))(inst, 42, put("odd level", 9), 9);
    char log[256] = "";
    cr_assert_geq(pread(log_fd, log, sizeof log - 1, 0), 0);
    cr_assert(strstr(log, "error: bad thing\n") && strstr(log, "level 42: odd level\n"), "log: %s", log);
}

Test(cwa, descriptor_exhaustion_is_an_error)
{
    int32_t last = 0, n = 0;
    while ((last = r_open("null://")) >= 0)
        n++;
    cr_assert_eq(last, CWA_EUNKNOWN);
    cr_assert_eq(n, DAGGER_MAX_STREAMS);
}

Test(cwa, null_context_and_config)
{
    /* An instance without a CommonWA context (or no memory): errors, no crash. */
    wedge_instance bare;
    memset(&bare, 0, sizeof bare);
    cr_assert_eq((int32_t)((f2)cw("resource_open"))(&bare, 0, 0), CWA_EINVAL);
    cr_assert_eq((int32_t)((f0)cw("io_get_stdin"))(&bare), CWA_EINVAL);
    cr_assert_eq((int32_t)((f0)cw("startup_arg_len"))(&bare), 0);
    char err[100];
    void *c = cwa_host_module.ctx_new(NULL, &bare, err, sizeof err);
    cr_assert_not_null(c, "NULL config: defaults");
    cwa_host_module.ctx_free(c);
}
