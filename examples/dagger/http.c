/* An HTTP function for `wedge serve` in Dagger: the request body is
 * stdin://, the response body stdout://, lines on log:// go to the
 * server's log with the request id.  Answers the body upper-cased. */
#include "dagger.h"

int dagger_main(void)
{
    int in = dagger_open("stdin://", 0), out = dagger_open("stdout://", 0);
    int log = dagger_open("log://?prefix=upper", 0);
    if (in < 0 || out < 0 || log < 0)
        return 1;
    char buf[1024];
    int n, total = 0;
    while ((n = dagger_read(in, buf, sizeof buf)) > 0) {
        for (int i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (char)(buf[i] - 'a' + 'A');
        if (dagger_write(out, buf, n) != n)
            return 1;
        total += n;
    }
    dagger_write(log, total ? "upper-cased the body" : "empty body", total ? 20 : 10);
    return n < 0 ? -n : 0;
}
