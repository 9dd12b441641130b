/*
 * http_conn.c — per-connection request parsing on llhttp.
 *
 * llhttp hands us spans (URL, header names and values, body) possibly split
 * across reads, so everything we keep is copied into two per-request
 * buffers: `text` (target, header names and values, each NUL-terminated)
 * and `body`.  Headers are recorded as offsets into `text` while it may
 * still grow and turned into pointers when the request is complete.  The
 * buffers keep their capacity between requests of a connection, so a
 * keep-alive connection stops allocating after its first request.
 *
 * The parser is paused in on_message_complete, which is what makes
 * http_conn_parse() stop after exactly one request.
 */
#include "http_conn.h"

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct hdr_off {
    uint32_t name_off, name_len, value_off, value_len;
} hdr_off;

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

struct http_conn {
    llhttp_t parser;
    http_limits lim;
    buf text;                   /* target + header names/values, NUL-terminated each */
    buf body;
    hdr_off *hdrs;
    size_t nhdrs, hdrs_cap;
    http_header *views;         /* pointer form of hdrs, built at completion */
    size_t views_cap;
    size_t target_len, header_bytes;
    bool in_field;              /* last span was a header name */
    bool value_open;            /* the current header's value is not NUL-terminated yet */
    bool in_message;
    bool complete;              /* a request is being handed out (parser paused) */
    bool upgrade_done;          /* CONNECT/Upgrade: nothing after this request is HTTP */
    bool want_continue;         /* Expect: 100-continue seen and the body is still to come */
    /* head_scan: our own look at the raw bytes of the request head (see
     * scan_head); reset for each request by http_conn_done */
    bool head_started, head_done;
    uint8_t head_prev[2];       /* the two bytes before, most recent last */
    int err_status;
    const char *err_reason;
};

/* ---- buffers --------------------------------------------------------------- */

/* Grows b to hold `more` more bytes, never beyond `limit` total.  Returns
 * 0, or the HTTP status for the failure (caller reports it). */
static int buf_reserve(buf *b, size_t more, size_t limit, int over_status)
{
    if (more > limit || b->len > limit - more)
        return over_status;
    size_t need = b->len + more;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > limit)
        cap = limit;
    char *p = realloc(b->p, cap);
    if (!p)
        return 503;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_append(buf *b, const char *at, size_t n, size_t limit, int over_status)
{
    int st = buf_reserve(b, n, limit, over_status);
    if (st)
        return st;
    if (n)
        memcpy(b->p + b->len, at, n);
    b->len += n;
    return 0;
}

/* ---- llhttp callbacks -------------------------------------------------------- */

static http_conn *conn_of(llhttp_t *p) { return (http_conn *)p->data; }

/* Records the failure and makes llhttp stop with HPE_USER. */
static int fail(http_conn *c, int status, const char *reason)
{
    c->err_status = status;
    c->err_reason = reason;
    return HPE_USER;
}

/* The text buffer holds the target, the header bytes, one NUL per string
 * and finally a copy of the path; its cap is derived from the limits so
 * that only the limit checks in the callbacks decide the status. */
static size_t text_limit(const http_conn *c)
{
    return 2 * (c->lim.max_url + 1) + c->lim.max_header_bytes + 2 * c->lim.max_headers + 2;
}

static int on_message_begin(llhttp_t *p)
{
    http_conn *c = conn_of(p);
    c->in_message = true;
    c->text.len = c->body.len = 0;
    c->nhdrs = 0;
    c->target_len = c->header_bytes = 0;
    c->in_field = c->value_open = false;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    if (n > c->lim.max_url || c->target_len > c->lim.max_url - n)
        return fail(c, 414, "request-target too long");
    int st = buf_append(&c->text, at, n, text_limit(c), 414);
    if (st)
        return fail(c, st, "out of memory");
    c->target_len += n;
    return 0;
}

static int on_url_complete(llhttp_t *p)
{
    http_conn *c = conn_of(p);
    int st = buf_append(&c->text, "", 1, text_limit(c), 414);
    return st ? fail(c, st, "out of memory") : 0;
}

static int close_value(http_conn *c)
{
    if (!c->value_open)
        return 0;
    c->value_open = false;
    /* Trailing whitespace is not part of a field value (RFC 9110 §5.5);
     * the value is last in text, so trimming is shortening. */
    hdr_off *h = &c->hdrs[c->nhdrs - 1];
    while (h->value_len && (c->text.p[c->text.len - 1] == ' ' || c->text.p[c->text.len - 1] == '\t')) {
        h->value_len--;
        c->text.len--;
    }
    int st = buf_append(&c->text, "", 1, text_limit(c), 431);
    return st ? fail(c, st, st == 431 ? "headers too large" : "out of memory") : 0;
}

static int count_header_bytes(http_conn *c, size_t n)
{
    if (n > c->lim.max_header_bytes || c->header_bytes > c->lim.max_header_bytes - n)
        return fail(c, 431, "headers too large");
    c->header_bytes += n;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    int rc = count_header_bytes(c, n);
    if (rc)
        return rc;
    if (!c->in_field) {
        /* a new header starts */
        if ((rc = close_value(c)))
            return rc;
        if (c->nhdrs >= c->lim.max_headers)
            return fail(c, 431, "too many headers");
        if (c->nhdrs == c->hdrs_cap) {
            size_t cap = c->hdrs_cap ? c->hdrs_cap * 2 : 16;
            if (cap > c->lim.max_headers)
                cap = c->lim.max_headers;
            hdr_off *h = realloc(c->hdrs, cap * sizeof *h);
            if (!h)
                return fail(c, 503, "out of memory");
            c->hdrs = h;
            c->hdrs_cap = cap;
        }
        c->hdrs[c->nhdrs++] = (hdr_off){ .name_off = (uint32_t)c->text.len };
        c->in_field = true;
    }
    int st = buf_append(&c->text, at, n, text_limit(c), 431);
    if (st)
        return fail(c, st, st == 431 ? "headers too large" : "out of memory");
    c->hdrs[c->nhdrs - 1].name_len += (uint32_t)n;
    return 0;
}

/* RFC 9110 token characters: what a header name may be made of. */
static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int on_header_field_complete(llhttp_t *p)
{
    http_conn *c = conn_of(p);
    if (!c->nhdrs)
        return fail(c, 400, "empty header name");
    hdr_off *h = &c->hdrs[c->nhdrs - 1];
    /* llhttp lets some odd names through; a name is a token or the request is bad. */
    if (h->name_len == 0)
        return fail(c, 400, "empty header name");
    for (uint32_t i = 0; i < h->name_len; i++)
        if (!is_tchar((unsigned char)c->text.p[h->name_off + i]))
            return fail(c, 400, "invalid header name");
    int st = buf_append(&c->text, "", 1, text_limit(c), 431);
    if (st)
        return fail(c, st, st == 431 ? "headers too large" : "out of memory");
    c->in_field = false;
    /* The value starts right after the name's NUL, even if it turns out
     * empty and on_header_value is never called. */
    c->hdrs[c->nhdrs - 1].value_off = (uint32_t)c->text.len;
    c->value_open = true;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    if (!c->nhdrs)
        return fail(c, 400, "header value without a name");
    int rc = count_header_bytes(c, n);
    if (rc)
        return rc;
    int st = buf_append(&c->text, at, n, text_limit(c), 431);
    if (st)
        return fail(c, st, st == 431 ? "headers too large" : "out of memory");
    c->hdrs[c->nhdrs - 1].value_len += (uint32_t)n;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    return close_value(conn_of(p));
}

static int on_headers_complete(llhttp_t *p)
{
    http_conn *c = conn_of(p);
    int rc = close_value(c);
    if (rc)
        return rc;
    if (p->http_major != 1)
        return fail(c, 505, "HTTP version not supported");
    /* RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
     * framing (an HTTP/1.0 hop before us did not see a chunked body, so it
     * and we would disagree on where this request ends: a smuggling path).
     * llhttp would read it as chunked and keep the connection alive. */
    if (p->http_minor == 0 && (p->flags & F_TRANSFER_ENCODING))
        return fail(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->lim.max_body)
        return fail(c, 413, "body too large");
    /* RFC 9112 §3.2: an HTTP/1.1 request must carry Host. */
    if (p->http_minor >= 1) {
        size_t hosts = 0;
        for (size_t i = 0; i < c->nhdrs; i++)
            if (c->hdrs[i].name_len == 4 && !strncasecmp(c->text.p + c->hdrs[i].name_off, "host", 4))
                hosts++;
        if (hosts != 1)
            return fail(c, 400, hosts ? "more than one Host header" : "missing Host header");
        /* RFC 9110 §10.1.1: the only expectation is 100-continue. */
        for (size_t i = 0; i < c->nhdrs; i++) {
            const hdr_off *h = &c->hdrs[i];
            if (h->name_len != 6 || strncasecmp(c->text.p + h->name_off, "expect", 6))
                continue;
            if (h->value_len != 12 || strncasecmp(c->text.p + h->value_off, "100-continue", 12))
                return fail(c, 417, "unsupported expectation");
            c->want_continue = (p->flags & F_CHUNKED) || p->content_length > 0;
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    int st = buf_append(&c->body, at, n, c->lim.max_body, 413);
    return st ? fail(c, st, st == 413 ? "body too large" : "out of memory") : 0;
}

static int on_message_complete(llhttp_t *p)
{
    http_conn *c = conn_of(p);
    c->want_continue = false;   /* the body is here: no interim response needed */
    c->in_message = false;
    c->complete = true;
    /* CONNECT or Upgrade: we speak no other protocol, so this request is
     * answered and the connection closes after it. */
    if (p->upgrade)
        c->upgrade_done = true;
    /* Stop here: the caller answers this request before we look at the next. */
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- public ------------------------------------------------------------------- */

void http_limits_defaults(http_limits *l)
{
    l->max_url = HTTP_DEFAULT_MAX_URL;
    l->max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES;
    l->max_headers = HTTP_DEFAULT_MAX_HEADERS;
    l->max_body = HTTP_DEFAULT_MAX_BODY;
}

http_conn *http_conn_new(const http_limits *limits)
{
    http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->lim = *limits;
    /* Offsets are 32-bit: keep every limit well inside that. */
    if (c->lim.max_url > (1u << 28)) c->lim.max_url = 1u << 28;
    if (c->lim.max_header_bytes > (1u << 28)) c->lim.max_header_bytes = 1u << 28;
    if (c->lim.max_headers > (1u << 16)) c->lim.max_headers = 1u << 16;
    if (c->lim.max_headers == 0) c->lim.max_headers = 1;
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    return c;
}

void http_conn_free(http_conn *c)
{
    if (!c)
        return;
    free(c->text.p);
    free(c->body.p);
    free(c->hdrs);
    free(c->views);
    free(c);
}

/* Where the path begins in a target whose part before any '?' is t[0..end).
 * Origin form ("/a/b"): 0.  Absolute form ("http://host:8080/a/b"), which
 * RFC 9112 §3.2.2 says a server must accept (proxies send it): after the
 * scheme and authority; end when there is no path.  Routing ignores the
 * authority, as it ignores Host. */
static size_t path_start(const char *t, size_t end)
{
    static const char *const schemes[] = { "http://", "https://" };
    for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
        size_t n = strlen(schemes[k]);
        if (end >= n && strncasecmp(t, schemes[k], n) == 0) {
            const char *slash = memchr(t + n, '/', end - n);
            return slash ? (size_t)(slash - t) : end;
        }
    }
    return 0;
}

static bool fill_request(http_conn *c, http_request *req)
{
    /* A NUL-terminated copy of the path goes last, before any pointer into
     * text is taken (appending may move it). */
    const char *q = memchr(c->text.p, '?', c->target_len);
    size_t end = q ? (size_t)(q - c->text.p) : c->target_len;
    size_t start = path_start(c->text.p, end);
    size_t path_len = end - start;
    size_t path_off = c->text.len;
    if (buf_reserve(&c->text, (path_len ? path_len : 1) + 1, text_limit(c), 503))
        return false;
    if (path_len)       /* after the reserve: p may have moved */
        memcpy(c->text.p + path_off, c->text.p + start, path_len);
    else
        c->text.p[path_off + path_len++] = '/';     /* "http://host" and "http://host?q" */
    c->text.p[path_off + path_len] = '\0';
    c->text.len += path_len + 1;
    if (c->nhdrs > c->views_cap) {
        http_header *v = realloc(c->views, c->nhdrs * sizeof *v);
        if (!v)
            return false;
        c->views = v;
        c->views_cap = c->nhdrs;
    }
    const char *t = c->text.p;
    for (size_t i = 0; i < c->nhdrs; i++) {
        hdr_off *h = &c->hdrs[i];
        c->views[i] = (http_header){
            .name = t + h->name_off, .name_len = h->name_len,
            .value = t + h->value_off, .value_len = h->value_len,
        };
    }
    llhttp_t *p = &c->parser;
    memset(req, 0, sizeof *req);
    req->method = llhttp_method_name((llhttp_method_t)p->method);
    /* The target is always first in text and NUL-terminated (on_url_complete);
     * llhttp rejects a request line without one. */
    req->target = t;
    req->target_len = c->target_len;
    req->path = t + path_off;
    req->path_len = path_len;
    if (q) {
        req->query = t + end + 1;           /* up to the target's NUL */
        req->query_len = c->target_len - end - 1;
    } else {
        req->query = t + c->target_len;     /* the target's NUL: "" */
        req->query_len = 0;
    }
    req->headers = c->views;
    req->nheaders = c->nhdrs;
    req->body = c->body.len ? (const uint8_t *)c->body.p : NULL;
    req->body_len = c->body.len;
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    req->keep_alive = llhttp_should_keep_alive(p) && !c->upgrade_done;
    req->head = p->method == HTTP_HEAD;
    return true;
}

/* llhttp accepts obsolete line folding (a header line starting with a
 * space or tab continues the previous value) and its callbacks cannot tell
 * a fold from a value split across reads.  A fold is a smuggling tool
 * ("Transfer-Encoding:\r\n chunked" is chunked to llhttp, empty to a
 * proxy that does not fold), and RFC 9112 §5.2 lets a server reject it, so
 * we look for it in the raw bytes: within the head of the request (from
 * its first byte, after the blank lines llhttp skips, to the CRLF CRLF
 * that ends it) an LF followed by SP or HT is a fold.  The head is scanned
 * once, as it arrives; bytes after its end (the body, the next request)
 * are not looked at.  False on a fold. */
static bool scan_head(http_conn *c, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && !c->head_done; i++) {
        uint8_t b = data[i];
        if (!c->head_started) {
            if (b == '\r' || b == '\n')
                continue;
            c->head_started = true;
        }
        if (c->head_prev[1] == '\n' && (b == ' ' || b == '\t'))
            return false;
        if (c->head_prev[0] == '\n' && c->head_prev[1] == '\r' && b == '\n')
            c->head_done = true;
        c->head_prev[0] = c->head_prev[1];
        c->head_prev[1] = b;
    }
    return true;
}

http_next http_conn_parse(http_conn *c, const uint8_t *data, size_t len, size_t *used, http_request *req)
{
    *used = 0;
    if (c->err_status)
        return HTTP_PARSE_ERROR;
    if (c->complete || c->upgrade_done || len == 0)
        return HTTP_PARSE_MORE;
    if (!scan_head(c, data, len)) {
        *used = len;
        c->err_status = 400;
        c->err_reason = "obsolete line folding in the header";
        c->in_message = false;
        return HTTP_PARSE_ERROR;
    }
    llhttp_errno_t e = llhttp_execute(&c->parser, (const char *)data, len);
    if (e == HPE_OK) {
        *used = len;
        return HTTP_PARSE_MORE;
    }
    const char *pos = llhttp_get_error_pos(&c->parser);
    if (pos && pos >= (const char *)data && pos <= (const char *)data + len)
        *used = (size_t)(pos - (const char *)data);
    else
        *used = len;
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        c->complete = true;
        c->upgrade_done |= e == HPE_PAUSED_UPGRADE;
        if (!fill_request(c, req)) {
            c->err_status = 503;
            c->err_reason = "out of memory";
            return HTTP_PARSE_ERROR;
        }
        return HTTP_PARSE_REQUEST;
    }
    if (!c->err_status) {
        c->err_status = 400;
        c->err_reason = "malformed request";
    }
    c->in_message = false;
    return HTTP_PARSE_ERROR;
}

void http_conn_done(http_conn *c)
{
    if (!c->complete)
        return;
    c->complete = false;
    c->text.len = c->body.len = 0;
    c->nhdrs = 0;
    c->head_started = c->head_done = false;
    c->head_prev[0] = c->head_prev[1] = 0;
    if (!c->upgrade_done)
        llhttp_resume(&c->parser);
}

bool http_conn_want_continue(http_conn *c)
{
    bool w = c->want_continue;
    c->want_continue = false;
    return w;
}

bool http_conn_in_message(const http_conn *c)
{
    return c->in_message;
}

int http_conn_error(const http_conn *c, const char **reason)
{
    if (reason)
        *reason = c->err_reason ? c->err_reason : "";
    return c->err_status;
}

const http_header *http_request_header(const http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name_len == n && !strncasecmp(req->headers[i].name, name, n))
            return &req->headers[i];
    return NULL;
}
