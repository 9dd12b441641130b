/*
 * srv_static.c — static routes (see srv_static.h).
 */
#include "srv_static.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

bool srv_static_is(const srv_route *route)
{
    static const char suffix[] = ".txt";
    size_t n = strlen(route->path), m = sizeof suffix - 1;
    return n >= m && !strcmp(route->path + n - m, suffix);
}

void srv_static_load(srv_fn *fn)
{
    const char *path = fn->route->path;
    fn->kind = SRV_FN_BROKEN;
    /* A regular file only: a FIFO or device would block the load or never
     * end; the size bound is checked again by the read itself. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(fn->broken, sizeof fn->broken, "%s: cannot open: %s", path, strerror(errno));
        return;
    }
    size_t len = 0;
    uint8_t *buf = S_ISREG(sb.st_mode) ? ut_read_file(path, SRV_STATIC_MAX, &len) : NULL;
    if (!buf) {
        if (!S_ISREG(sb.st_mode) || errno == EFBIG)
            snprintf(fn->broken, sizeof fn->broken, "%s: not a regular file of at most %zu MiB", path,
                     SRV_STATIC_MAX >> 20);
        else
            snprintf(fn->broken, sizeof fn->broken, "%s: cannot read: %s", path, strerror(errno));
        return;
    }
    fn->static_body = buf;
    fn->static_len = len;
    fn->kind = SRV_FN_STATIC;
}

int srv_static_answer(srv_listener *l, const srv_fn *fn, const srv_request *req)
{
    const char *m = req->http->method;
    if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
        static const char body[] = "method not allowed: a static route answers GET and HEAD\n";
        http_header allow = { .name = "Allow", .name_len = 5, .value = "GET, HEAD", .value_len = 9 };
        srv_complete(l, req, 405, "text/plain", &allow, 1, body, sizeof body - 1);
        return 405;
    }
    /* HEAD: the listener sends the headers only. */
    srv_complete(l, req, 200, fn->route->content_type, NULL, 0, fn->static_body, fn->static_len);
    return 200;
}
