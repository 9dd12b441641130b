/*
 * realprog.c — a WASI guest that behaves like the real programs of issue 10
 * item 6 (SQLite's shell, Lua): it asks isatty() about its stdio, reads
 * and writes files under pre-opened directories, writes until its stdout
 * breaks, and exits non-zero after printing why.  argv[1] picks the case
 * (under `wedge serve`: the first query value), argv[2] its argument.
 *
 *   tty            print "tty I O E" (isatty of fds 0, 1, 2) and the bytes on stdin
 *   cat PATH       copy PATH to stdout (exit 2 with the error if it cannot be opened)
 *   write PATH     create PATH with "written\n"; print "wrote" or the error
 *   flood          write to stdout until it fails; exit 7 with the error on stderr
 *   fail           print a reason on stdout and stderr, exit 3
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "tty";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(cmd, "tty")) {
        char buf[256];
        ssize_t n = read(0, buf, sizeof buf);
        printf("tty %d %d %d stdin %zd\n", isatty(0), isatty(1), isatty(2), n);
        return 0;
    }
    if (!strcmp(cmd, "cat")) {
        FILE *f = fopen(arg, "r");
        if (!f) {
            printf("cannot open %s: %s\n", arg, strerror(errno));
            return 2;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    if (!strcmp(cmd, "write")) {
        FILE *f = fopen(arg, "w");
        if (!f) {
            printf("cannot write %s: %s\n", arg, strerror(errno));
            return 0;
        }
        int ok = fputs("written\n", f) >= 0;
        ok &= fclose(f) == 0;
        printf(ok ? "wrote\n" : "write failed\n");
        return 0;
    }
    if (!strcmp(cmd, "flood")) {
        static char buf[4096];
        memset(buf, 'x', sizeof buf);
        for (;;)
            if (write(1, buf, sizeof buf) < 0) {
                fprintf(stderr, "flood: %s\n", strerror(errno));
                return 7;
            }
    }
    if (!strcmp(cmd, "fail")) {
        printf("cannot go on: the\tdatabase is locked\n");
        fprintf(stderr, "fail: giving up\n");
        return 3;
    }
    fprintf(stderr, "unknown case %s\n", cmd);
    return 1;
}
