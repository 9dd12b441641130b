/* fetch for CommonWA: GETs the URL given as its first argument through an
 * http:// or https:// resource (Dagger's streams underneath) and copies
 * the raw response (status line, headers, body) to stdout.  The URL must
 * be on the allow-list (`wedge run --allow-http PATTERN`).
 *   wedge run --allow-http 'http://127.0.0.1:8000' fetch.wasm http://127.0.0.1:8000/
 * Exit status: 0, or the first CommonWA error negated (3: not allowed). */
#include "cwa.h"
#include "../common/http_get.h"

int cwa_main(void)
{
    char url[1024], req[1400], buf[4096];
    if (startup_arg_len() < 2)
        return 10;
    int n = startup_arg_at(1, url, sizeof url);
    if (n <= 0 || n >= (int)sizeof url)
        return -CWA_EINVAL;
    int len = http_get_request(url, n, req, sizeof req);
    if (len < 0)
        return -CWA_EINVAL;
    int fd = resource_open(url, n);
    if (fd < 0)
        return -fd;
    if (resource_write(fd, req, len) != len)
        return 12;
    int r = resource_flush(fd);
    if (r < 0)
        return -r;
    int out = io_get_stdout();
    while ((n = resource_read(fd, buf, sizeof buf)) > 0)
        resource_write(out, buf, n);
    resource_close(fd);
    return n < 0 ? -n : 0;
}
