/*
 * dagger_http.c — http:// and https:// streams through libcurl's multi
 * interface: the allow-list check at open (and again for the final URL at
 * flush), the raw request the guest wrote turned into a curl transfer,
 * and the wait for it, driven here so that it ends at the request's time
 * limit or the instance's deadline, whichever comes first.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dagger_internal.h"
#include "util/util.h"

static pthread_once_t dg_curl_once = PTHREAD_ONCE_INIT;
static bool dg_curl_ok;

/* curl_global_init is not thread-safe: once, whichever thread opens first. */
static void dg_curl_init(void)
{
    dg_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* True if the matching pattern names `port` itself (":PORT" not followed
 * by another digit): only then may a denied port be reached. */
static bool dg_pattern_names_port(const char *pat, long port)
{
    char want[16];
    int n = snprintf(want, sizeof want, ":%ld", port);
    for (const char *p = strstr(pat, want); p; p = strstr(p + 1, want))
        if (!isdigit((unsigned char)p[n]))
            return true;
    return false;
}

int dagger_http_check(const dagger_ctx *ctx, const char *url, char *canon, size_t cap)
{
    CURLU *h = curl_url();
    if (!h)
        return DAGGER_EIO;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL, *pass = NULL;
    int rc = DAGGER_EURL;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    /* user:password@ only ever serves to make a URL look like another. */
    if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK)
        goto out;
    curl_url_get(h, CURLUPART_QUERY, &query, 0);
    for (char *c = scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    bool https = !strcmp(scheme, "https");
    if (!https && strcmp(scheme, "http")) {
        rc = DAGGER_ESCHEME;
        goto out;
    }
    long pn = strtol(port, NULL, 10);
    bool dflt = pn == (https ? 443 : 80);
    int origin_len = snprintf(canon, cap, "%s://%s%s%s", scheme, host, dflt ? "" : ":", dflt ? "" : port);
    int n = snprintf(canon + (origin_len > 0 ? origin_len : 0), cap - (size_t)(origin_len > 0 ? origin_len : 0),
                     "%s%s%s", path, query ? "?" : "", query ? query : "");
    if (origin_len < 0 || n < 0 || (size_t)origin_len + (size_t)n >= cap)
        goto out;
    rc = DAGGER_EPERM;
    bool denied_port = false;
    for (int i = 0; i < ctx->ndeny_ports; i++)
        denied_port |= ctx->deny_ports[i] == pn;
    for (int i = 0; i < ctx->nallow_http; i++) {
        const char *pat = ctx->allow_http[i];
        const char *auth = strstr(pat, "://");
        bool origin_only = auth && !strchr(auth + 3, '/');
        bool match;
        if (origin_only) {
            /* Compare the origin alone: cut canon there for a moment. */
            char keep = canon[origin_len];
            canon[origin_len] = 0;
            match = fnmatch(pat, canon, 0) == 0;
            canon[origin_len] = keep;
        } else {
            match = fnmatch(pat, canon, 0) == 0;
        }
        if (match && (!denied_port || dg_pattern_names_port(pat, pn))) {
            rc = 0;
            break;
        }
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(h);
    return rc;
}

int dagger_http_open(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s)
{
    pthread_once(&dg_curl_once, dg_curl_init);
    if (!dg_curl_ok)
        return DAGGER_EIO;
    /* The whole URL as the guest wrote it, as a C string for curl. */
    size_t n = (size_t)(u->rest + u->rest_len - u->scheme) + (u->query ? 1 + u->query_len : 0);
    char *raw = malloc(n + 1);
    char *canon = malloc(DAGGER_URL_MAX + 1);
    dagger_http *h = calloc(1, sizeof *h);
    int rc = DAGGER_EIO;
    if (raw && canon && h) {
        memcpy(raw, u->scheme, n);
        raw[n] = 0;
        rc = memchr(raw, 0, n) ? DAGGER_EURL : dagger_http_check(ctx, raw, canon, DAGGER_URL_MAX + 1);
    }
    free(raw);
    if (rc != 0) {
        free(canon);
        free(h);
        return rc;
    }
    h->url = canon;
    s->kind = DG_HTTP;
    s->http = h;
    s->can_read = s->can_write = true;
    return 0;
}

int32_t dagger_http_write(dagger_http *h, const uint8_t *buf, uint32_t len)
{
    if (h->sent)
        return DAGGER_EPERM;
    if (len > DAGGER_HTTP_REQ_MAX - h->req_len)
        return DAGGER_ETOOBIG;
    if (h->req_len + len > h->req_cap) {
        size_t cap = h->req_cap ? h->req_cap : 1024;
        while (cap < h->req_len + len)
            cap *= 2;
        uint8_t *grown = realloc(h->req, cap);
        if (!grown)
            return DAGGER_EIO;
        h->req = grown;
        h->req_cap = cap;
    }
    if (len)
        memcpy(h->req + h->req_len, buf, len);
    h->req_len += len;
    return (int32_t)len;
}

/* Every response byte, headers included (CURLOPT_HEADER), up to the limit. */
static size_t dg_on_data(char *p, size_t sz, size_t nm, void *arg)
{
    dagger_http *h = arg;
    size_t n = sz * nm;
    if (n > DAGGER_HTTP_RESP_MAX - h->resp_len) {
        h->too_big = true;
        return 0;                       /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (h->resp_len + n > h->resp_cap) {
        size_t cap = h->resp_cap ? h->resp_cap : 4096;
        while (cap < h->resp_len + n)
            cap *= 2;
        uint8_t *grown = realloc(h->resp, cap);
        if (!grown)
            return 0;
        h->resp = grown;
        h->resp_cap = cap;
    }
    memcpy(h->resp + h->resp_len, p, n);
    h->resp_len += n;
    return n;
}

static bool dg_tchar(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The parts of a raw request, pointing into it. */
typedef struct dg_req {
    char method[32];
    const char *target;
    size_t target_len;
    struct curl_slist *headers;         /* owned */
    const uint8_t *body;
    size_t body_len;
} dg_req;

/* One line of req [*pos, ...) without its CR LF; false at the end. */
static bool dg_line(const dagger_http *h, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= h->req_len)
        return false;
    const char *p = (const char *)h->req + *pos;
    const char *nl = memchr(p, '\n', h->req_len - *pos);
    size_t n = nl ? (size_t)(nl - p) : h->req_len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n && p[n - 1] == '\r')
        n--;
    *line = p;
    *len = n;
    return true;
}

/* "METHOD TARGET HTTP/1.x", header lines, a blank line (or the end), the
 * body.  Content-Length (if any) cuts the body; curl frames it itself, so
 * the guest's Content-Length, Transfer-Encoding and Expect are dropped. */
static int dg_parse(const dagger_http *h, dg_req *r)
{
    memset(r, 0, sizeof *r);
    size_t pos = 0;
    const char *l;
    size_t n;
    if (!dg_line(h, &pos, &l, &n))
        return DAGGER_EOPEN;
    size_t m = 0;
    while (m < n && dg_tchar((unsigned char)l[m]))
        m++;
    if (m == 0 || m >= sizeof r->method || m >= n || l[m] != ' ')
        return DAGGER_EOPEN;
    memcpy(r->method, l, m);
    r->target = l + m + 1;
    const char *sp = memchr(r->target, ' ', n - m - 1);
    if (!sp || sp == r->target || (size_t)(l + n - sp - 1) < 7 || memcmp(sp + 1, "HTTP/1.", 7) != 0)
        return DAGGER_EOPEN;
    r->target_len = (size_t)(sp - r->target);
    for (size_t i = 0; i < r->target_len; i++)
        if ((unsigned char)r->target[i] <= 0x20 || r->target[i] == 0x7f)
            return DAGGER_EOPEN;
    long long clen = -1;
    while (dg_line(h, &pos, &l, &n) && n) {
        const char *colon = memchr(l, ':', n);
        if (!colon || colon == l)
            goto bad;
        for (const char *c = l; c < colon; c++)
            if (!dg_tchar((unsigned char)*c))
                goto bad;
        for (size_t i = 0; i < n; i++)
            if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
                goto bad;
        size_t nl = (size_t)(colon - l);
        if (nl == 14 && !strncasecmp(l, "Content-Length", 14)) {
            char num[24];
            const char *v = colon + 1;
            size_t vl = (size_t)(l + n - v);
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            if (!vl || vl >= sizeof num)
                goto bad;
            memcpy(num, v, vl);
            num[vl] = 0;
            char *e;
            clen = strtoll(num, &e, 10);
            if (clen < 0 || (*e && *e != ' ' && *e != '\t'))
                goto bad;
            continue;
        }
        if ((nl == 17 && !strncasecmp(l, "Transfer-Encoding", 17)) || (nl == 6 && !strncasecmp(l, "Expect", 6)))
            continue;
        char *line = strndup(l, n);
        struct curl_slist *more = line ? curl_slist_append(r->headers, line) : NULL;
        free(line);
        if (!more)
            goto bad;
        r->headers = more;
    }
    /* curl adds "Expect: 100-continue" to big bodies; an empty one stops it. */
    struct curl_slist *more = curl_slist_append(r->headers, "Expect:");
    if (!more)
        goto bad;
    r->headers = more;
    r->body = h->req + pos;
    r->body_len = h->req_len - pos;
    if (clen >= 0) {
        if ((unsigned long long)clen > r->body_len)
            goto bad;                   /* the guest promised more than it wrote */
        r->body_len = (size_t)clen;
    }
    return 0;
bad:
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    return DAGGER_EOPEN;
}

/* Where the request goes: the open URL's origin + the target when it is a
 * path, else the open URL; checked against the allow-list again. */
static int dg_final_url(const dagger_ctx *ctx, const dagger_http *h, const dg_req *r, char *out, size_t cap)
{
    if (r->target_len == 0 || r->target[0] != '/')
        return snprintf(out, cap, "%s", h->url) < (int)cap ? 0 : DAGGER_EURL;
    const char *auth = strstr(h->url, "://") + 3;
    size_t olen = strcspn(auth, "/?") + (size_t)(auth - h->url);
    char *joined = malloc(olen + r->target_len + 1);
    if (!joined)
        return DAGGER_EIO;
    memcpy(joined, h->url, olen);
    memcpy(joined + olen, r->target, r->target_len);
    joined[olen + r->target_len] = 0;
    int rc = dagger_http_check(ctx, joined, out, cap);
    free(joined);
    return rc;
}

static int dg_curl_error(CURLcode c, const dagger_http *h)
{
    if (h->too_big)
        return DAGGER_ETOOBIG;
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT: return DAGGER_ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE: case CURLE_URL_MALFORMAT:
        return DAGGER_EOPEN;
    case CURLE_FILESIZE_EXCEEDED: return DAGGER_ETOOBIG;
    default: return DAGGER_EIO;
    }
}

/* Runs one transfer to its end, its time limit or the deadline.  The
 * multi interface lets this loop own the wait: curl_multi_poll sleeps at
 * most until the earlier of the two bounds, so no system call blocks past
 * the deadline, and with a wait_yield hook at most DAGGER_HTTP_POLL_MS
 * before the host may run other work on this thread.  *deadline_hit: the
 * instance's deadline (not the request's own limit) ended it. */
static CURLcode dg_transfer(const dagger_ctx *ctx, CURL *e, bool *deadline_hit)
{
    *deadline_hit = false;
    CURLM *m = curl_multi_init();
    if (!m)
        return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(m, e) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    uint64_t limit = ut_mono_ns() + (uint64_t)ctx->http_timeout_ms * 1000000u;
    CURLcode result = CURLE_OPERATION_TIMEDOUT;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            result = CURLE_RECV_ERROR;
            break;
        }
        if (!running) {
            int left;
            CURLMsg *msg;
            while ((msg = curl_multi_info_read(m, &left)))
                if (msg->msg == CURLMSG_DONE)
                    result = msg->data.result;
            break;
        }
        uint64_t now = ut_mono_ns(), end = limit;
        if (ctx->deadline_ns && ctx->deadline_ns < end)
            end = ctx->deadline_ns;
        if (now >= end) {
            *deadline_hit = ctx->deadline_ns && ctx->deadline_ns <= limit;
            result = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        uint64_t wait = (end - now + 999999u) / 1000000u, most = ctx->wait_yield ? DAGGER_HTTP_POLL_MS : 1000;
        curl_multi_poll(m, NULL, 0, wait > most ? (int)most : (int)wait, NULL);
        if (ctx->wait_yield)
            ctx->wait_yield();
    }
    curl_multi_remove_handle(m, e);
    curl_multi_cleanup(m);
    return result;
}

int32_t dagger_http_flush(dagger_ctx *ctx, dagger_http *h)
{
    if (h->sent)
        return 0;
    h->sent = true;                     /* one request per stream, whatever happens */
    dg_req r;
    int rc = dg_parse(h, &r);
    if (rc != 0)
        return h->err = rc;
    char *url = malloc(DAGGER_URL_MAX + 1);
    CURL *e = url ? curl_easy_init() : NULL;
    if (!e) {
        free(url);
        curl_slist_free_all(r.headers);
        return DAGGER_EIO;
    }
    rc = dg_final_url(ctx, h, &r, url, DAGGER_URL_MAX + 1);
    bool deadline_hit = false;
    if (rc == 0) {
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ctx->http_timeout_ms);
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DAGGER_HTTP_RESP_MAX);
        curl_easy_setopt(e, CURLOPT_HEADER, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dg_on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r.headers);
        if (ctx->ca_file)
            curl_easy_setopt(e, CURLOPT_CAINFO, ctx->ca_file);
        if (!strcmp(r.method, "HEAD"))
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        else if (r.body_len || strcmp(r.method, "GET"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method);
        if (r.body_len) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r.body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)r.body);
        }
        CURLcode c = dg_transfer(ctx, e, &deadline_hit);
        rc = c == CURLE_OK ? 0 : dg_curl_error(c, h);
    }
    curl_easy_cleanup(e);
    curl_slist_free_all(r.headers);
    free(url);
    if (rc != 0) {
        h->resp_len = 0;                /* nothing half-received is readable */
        h->err = rc;
        if (deadline_hit)
            rt_trap(WEDGE_TRAP_TIMEOUT);        /* as WASI's poll_oneoff: the request is over */
    }
    return rc;
}

int32_t dagger_http_read(dagger_ctx *ctx, dagger_http *h, uint8_t *buf, uint32_t len)
{
    if (!h->sent) {
        int32_t rc = dagger_http_flush(ctx, h);
        if (rc != 0)
            return rc;
    }
    if (h->err)
        return h->err;
    size_t left = h->resp_len - h->resp_off;
    size_t n = left < len ? left : len;
    if (n)
        memcpy(buf, h->resp + h->resp_off, n);
    h->resp_off += n;
    return (int32_t)n;
}

void dagger_http_free(dagger_http *h)
{
    if (!h)
        return;
    free(h->url);
    free(h->req);
    free(h->resp);
    free(h);
}
