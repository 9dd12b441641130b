/* cat for Dagger: copies the stream named by a fixed list of URLs to
 * stdout://, and reports each step on log://.  Built with
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--export=dagger_main
 * (no WASI, no libc).  Exit status: 0, or the first error (negated). */
#include "dagger.h"

static int len(const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return n;
}

static int say(int sd, const char *s)
{
    return dagger_write(sd, s, len(s));
}

int dagger_main(void)
{
    int out = dagger_open("stdout://", 0);
    int log = dagger_open("log://?prefix=cat", 0);
    if (out < 0 || log < 0)
        return 10;
    say(out, "hello from dagger\n");
    int in = dagger_open("file:///data/in.txt", 19);
    if (in < 0) {
        say(log, "cannot open /data/in.txt");
        return -in;
    }
    char buf[256];
    int n, total = 0;
    while ((n = dagger_read(in, buf, sizeof buf)) > 0) {
        dagger_write(out, buf, n);
        total += n;
    }
    dagger_close(in);
    /* Two random bytes must come back from random://, never an error. */
    int rnd = dagger_open("random://", 0);
    if (rnd < 0 || dagger_read(rnd, buf, 2) != 2)
        return 11;
    dagger_close(rnd);
    say(log, total ? "copied" : "empty");
    dagger_flush(out);
    return n < 0 ? -n : 0;
}
