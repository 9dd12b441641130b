/*
 * dagger_fetch.c — a Dagger guest (no WASI, no libc) for the http(s)
 * tests, under `wedge run` (tests/cli/dagger_http.sh) and `wedge serve`
 * (tests/serve/dagger_e2e.py): its input (stdin://, the request body under
 * serve) is a URL on the first line and then a raw HTTP request; it logs
 * the URL on log://?prefix=fetch, opens it, writes the request, flushes,
 * and copies the raw response to stdout://.  A failing call writes
 * "ERR <call> <code>" to stdout:// and stderr:// and makes the exit status
 * 1, so the tests see which call failed and how.
 */
#include "dagger.h"

/* The input goes after "open ", so the log line needs no copy (no libc:
 * no memcpy to copy with). */
static char line[65536 + 5] = "open ", out[65536];
static char *const in = line + 5;

static int put(int sd, const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return dagger_write(sd, s, n);
}

static void num(char *p, int v)
{
    char tmp[12];
    int n = 0, neg = v < 0;
    unsigned u = neg ? 0u - (unsigned)v : (unsigned)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (neg)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    *p = 0;
}

static int se = -1;

static int fail(int so, const char *call, int code)
{
    char line[48] = "ERR ";
    int i = 4;
    while (*call)
        line[i++] = *call++;
    line[i++] = ' ';
    num(line + i, code);
    put(so, line);
    put(so, "\n");
    put(se, line);
    put(se, "\n");
    return 1;
}

int dagger_main(void)
{
    int si = dagger_open("stdin://", 0), so = dagger_open("stdout://", 0);
    int len = 0, n;
    while (len < 65535 && (n = dagger_read(si, in + len, 65535 - len)) > 0)
        len += n;
    int nl = 0;
    while (nl < len && in[nl] != '\n')
        nl++;
    se = dagger_open("stderr://", 0);
    int lg = dagger_open("log://?prefix=fetch", 0);
    dagger_write(lg, line, nl + 5);     /* "open URL": one write, one log line */
    int sd = dagger_open(in, nl);
    if (sd < 0)
        return fail(so, "open", sd);
    int w = dagger_write(sd, in + nl + 1, len > nl ? len - nl - 1 : 0);
    if (w < 0)
        return fail(so, "write", w);
    int f = dagger_flush(sd);
    if (f < 0)
        return fail(so, "flush", f);
    while ((n = dagger_read(sd, out, (int)sizeof out)) > 0)
        dagger_write(so, out, n);
    if (n < 0)
        return fail(so, "read", n);
    return dagger_close(sd) == 0 ? 0 : fail(so, "close", -1);
}
