/* cat for CommonWA: copies each file named on the command line (a
 * file:/// URL inside a pre-opened directory, e.g. `wedge run --dir
 * data::/data cat.wasm file:///data/in.txt`) to stdout.  Exit status: 0,
 * or the first error negated (4 = not found, 3 = not allowed). */
#include "cwa.h"

int cwa_main(void)
{
    int out = io_get_stdout();
    char url[512], buf[4096];
    for (int i = 1; i < startup_arg_len(); i++) {
        int n = startup_arg_at(i, url, sizeof url);
        int fd = n > 0 ? resource_open(url, n) : CWA_EINVAL;
        if (fd < 0) {
            log_write(1, url, n > 0 ? n : 0);
            return -fd;
        }
        while ((n = resource_read(fd, buf, sizeof buf)) > 0)
            if (resource_write(out, buf, n) != n)
                return 1;
        resource_close(fd);
        if (n < 0)
            return -n;
    }
    return 0;
}
