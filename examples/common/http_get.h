/* http_get.h — builds the raw HTTP/1.1 GET request a Dagger or CommonWA
 * http(s):// stream expects, for the fetch examples (no libc: plain loops).
 * The host sends it to the URL's host and port and takes the path from the
 * request line, so the request names the URL's path and Host. */
#ifndef EXAMPLES_HTTP_GET_H
#define EXAMPLES_HTTP_GET_H

static int hg_put(char *out, int at, int cap, const char *s, int n)
{
    for (int i = 0; i < n && at < cap; i++)
        out[at++] = s[i];
    return at;
}

static int hg_len(const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return n;
}

/* The request for url[0..n) into out[0..cap); its length, or -1 when the
 * URL has no "://" or the request does not fit. */
static int http_get_request(const char *url, int n, char *out, int cap)
{
    int host = -1;
    for (int i = 0; i + 2 < n; i++)
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            host = i + 3;
            break;
        }
    if (host < 0)
        return -1;
    int path = host;
    while (path < n && url[path] != '/' && url[path] != '?')
        path++;
    int at = hg_put(out, 0, cap, "GET ", 4);
    if (path == n || url[path] == '?')
        at = hg_put(out, at, cap, "/", 1);
    at = hg_put(out, at, cap, url + path, n - path);
    static const char mid[] = " HTTP/1.1\r\nHost: ";
    at = hg_put(out, at, cap, mid, hg_len(mid));
    at = hg_put(out, at, cap, url + host, path - host);
    static const char tail[] = "\r\nConnection: close\r\n\r\n";
    at = hg_put(out, at, cap, tail, hg_len(tail));
    return at < cap ? at : -1;
}

#endif
