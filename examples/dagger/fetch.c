/* fetch for Dagger: reads a URL (one line) from stdin://, GETs it through
 * an http:// or https:// stream and copies the raw response (status line,
 * headers, body) to stdout://.  The URL must be on the allow-list
 * (`wedge run --allow-http PATTERN`, a route's "allow-http").
 *   echo http://127.0.0.1:8000/ | wedge run --allow-http 'http://127.0.0.1:8000' fetch.wasm
 * Exit status: 0, or the first Dagger error negated (4: off the allow-list). */
#include "dagger.h"
#include "../common/http_get.h"

int dagger_main(void)
{
    char url[1024], req[1400], buf[4096];
    int in = dagger_open("stdin://", 0), out = dagger_open("stdout://", 0);
    if (in < 0 || out < 0)
        return 10;
    int n = dagger_read(in, url, sizeof url - 1);
    if (n <= 0)
        return 11;
    while (n > 0 && (url[n - 1] == '\n' || url[n - 1] == '\r' || url[n - 1] == ' '))
        n--;
    url[n] = 0;
    int len = http_get_request(url, n, req, sizeof req);
    if (len < 0)
        return -DAGGER_EURL;
    int h = dagger_open(url, 0);
    if (h < 0)
        return -h;
    if (dagger_write(h, req, len) != len)
        return 12;
    int r = dagger_flush(h);
    if (r < 0)
        return -r;
    while ((n = dagger_read(h, buf, sizeof buf)) > 0)
        dagger_write(out, buf, n);
    dagger_close(h);
    dagger_flush(out);
    return n < 0 ? -n : 0;
}
