/*
 * test_wasi_run.c — WASI through a real wasi-libc guest: a C program built
 * with clang --target=wasm32-wasi, run by `wedge run --dir`, uses stdio,
 * files, directories, stat, getenv, argv, clocks and nanosleep, and tries
 * to leave its pre-opened directory.  Skipped when clang cannot build
 * wasm32-wasi.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char guest_src[] =
    "#include <dirent.h>\n"
    "#include <errno.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <sys/stat.h>\n"
    "#include <time.h>\n"
    "#include <unistd.h>\n"
    "static void try_open(const char *p) {\n"
    "    FILE *f = fopen(p, \"r\");\n"
    "    printf(\"open %s: %s\\n\", p, f ? \"OPENED\" : strerror(errno));\n"
    "    if (f) fclose(f);\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "    printf(\"argc %d %s %s\\n\", argc, argv[1], argv[2]);\n"
    "    printf(\"env %s\\n\", getenv(\"WEDGE_T\") ? getenv(\"WEDGE_T\") : \"none\");\n"
    "    struct timespec a, b, s = {0, 30000000};\n"
    "    clock_gettime(CLOCK_MONOTONIC, &a);\n"
    "    nanosleep(&s, NULL);\n"
    "    clock_gettime(CLOCK_MONOTONIC, &b);\n"
    "    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;\n"
    "    printf(\"slept %s\\n\", ms >= 29 ? \"ok\" : \"short\");\n"
    "    printf(\"realtime %s\\n\", time(NULL) > 1600000000 ? \"ok\" : \"bad\");\n"
    "    FILE *f = fopen(\"/box/in.txt\", \"r\");\n"
    "    char line[64] = {0};\n"
    "    if (!f || !fgets(line, sizeof line, f)) { printf(\"read failed\\n\"); return 1; }\n"
    "    fclose(f);\n"
    "    printf(\"in %s\", line);\n"
    "    if (mkdir(\"/box/sub\", 0755) != 0) { perror(\"mkdir\"); return 1; }\n"
    "    f = fopen(\"/box/sub/out.txt\", \"w\");\n"
    "    if (!f) { perror(\"fopen w\"); return 1; }\n"
    "    for (int i = 0; i < 1000; i++) fprintf(f, \"%d\\n\", i);\n"
    "    fclose(f);\n"
    "    struct stat st;\n"
    "    if (stat(\"/box/sub/out.txt\", &st) != 0) { perror(\"stat\"); return 1; }\n"
    "    printf(\"size %lld\\n\", (long long)st.st_size);\n"
    "    if (rename(\"/box/sub/out.txt\", \"/box/sub/renamed.txt\") != 0) { perror(\"rename\"); return 1; }\n"
    "    DIR *d = opendir(\"/box/sub\");\n"
    "    struct dirent *e;\n"
    "    while (d && (e = readdir(d))) if (e->d_name[0] != '.') printf(\"entry %s\\n\", e->d_name);\n"
    "    if (d) closedir(d);\n"
    "    try_open(\"/box/../outside/secret\");\n"
    "    try_open(\"/box/link_out/secret\");\n"
    "    try_open(\"/box/link_etc/passwd\");\n"
    "    try_open(\"/etc/passwd\");\n"
    "    printf(\"unlink out %s\\n\", unlink(\"/box/link_out/secret\") ? strerror(errno) : \"DONE\");\n"
    "    printf(\"mkdir out %s\\n\", mkdir(\"/box/link_out/new\", 0755) ? strerror(errno) : \"DONE\");\n"
    "    printf(\"symlink out %s\\n\", symlink(\"/etc\", \"/box/mine\") ? strerror(errno) : \"DONE\");\n"
    "    fprintf(stderr, \"bye\\n\");\n"
    "    return 7;\n"
    "}\n";

static char tmp[64];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    if (tmp[0])
        nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

TestSuite(wasi_run, .fini = cleanup);

Test(wasi_run, wasi_libc_program_in_a_jail)
{
    char path[256], cmd[1024];
    snprintf(tmp, sizeof tmp, "/tmp/wedge-wasirun-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    snprintf(path, sizeof path, "%s/g.c", tmp);
    write_file(path, guest_src);
    snprintf(cmd, sizeof cmd, "clang --target=wasm32-wasi -O1 %s/g.c -o %s/g.wasm 2>/dev/null", tmp, tmp);
    if (system(cmd) != 0)
        cr_skip_test("clang cannot build wasm32-wasi here");

    snprintf(path, sizeof path, "%s/box", tmp);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/outside", tmp);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/outside/secret", tmp);
    write_file(path, "secret\n");
    snprintf(path, sizeof path, "%s/box/in.txt", tmp);
    write_file(path, "hello from the host\n");
    snprintf(path, sizeof path, "%s/box/link_out", tmp);
    cr_assert_eq(symlink("../outside", path), 0);
    snprintf(path, sizeof path, "%s/box/link_etc", tmp);
    cr_assert_eq(symlink("/etc", path), 0);

    snprintf(cmd, sizeof cmd, "%s run --dir %s/box::/box --env WEDGE_T=yes %s/g.wasm one two 2>%s/err",
             WEDGE_EXE, tmp, tmp, tmp);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 7, "exit status; output:\n%s", out);

    static const char *const want[] = {
        "argc 3 one two\n",
        "env yes\n",
        "slept ok\n",
        "realtime ok\n",
        "in hello from the host\n",
        "size 3890\n",
        "entry renamed.txt\n",
        "open /box/../outside/secret: Capabilities insufficient\n",
        "open /box/link_out/secret: Capabilities insufficient\n",
        "open /box/link_etc/passwd: Capabilities insufficient\n",
        "open /etc/passwd: Capabilities insufficient\n",
        "unlink out Capabilities insufficient\n",
        "mkdir out Capabilities insufficient\n",
        "symlink out Capabilities insufficient\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect_not_null(strstr(out, want[i]), "missing \"%s\" in:\n%s", want[i], out);

    /* the host side */
    snprintf(path, sizeof path, "%s/box/sub/renamed.txt", tmp);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 3890);
    snprintf(path, sizeof path, "%s/outside/secret", tmp);
    cr_assert_eq(stat(path, &st), 0, "the outside file survived");
    snprintf(path, sizeof path, "%s/outside/new", tmp);
    cr_assert_neq(stat(path, &st), 0, "nothing was created outside");
    snprintf(path, sizeof path, "%s/err", tmp);
    FILE *e = fopen(path, "r");
    cr_assert_not_null(e);
    char eb[64] = {0};
    cr_assert_not_null(fgets(eb, sizeof eb, e));
    fclose(e);
    cr_assert_str_eq(eb, "bye\n");
}
