/*
 * http_response.c — status reasons and serialising a whole response into
 * one buffer, so the listener can send it with as few writes as possible.
 */
#include "http_conn.h"

#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* RFC 9110 token characters (header names). */
static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            continue;
        if (!strchr("!#$%&'*+-.^_`|~", ch) || ch == 0)
            return false;
    }
    return true;
}

static bool is_safe_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return false;
    return true;
}

/* Headers the serialiser writes itself; a caller's copy would contradict it. */
static bool is_reserved(const char *s, size_t n)
{
    static const char *const names[] = { "content-length", "connection", "transfer-encoding", "date", "content-type" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !strncasecmp(s, names[i], n))
            return true;
    return false;
}

uint8_t *http_response_build(int status, const char *content_type,
                             const http_header *extra, size_t nextra,
                             const void *body, size_t body_len,
                             bool keep_alive, bool head, size_t *out_len)
{
    *out_len = 0;
    if (status < 100 || status > 999)
        status = 500;
    if (content_type && !is_safe_value(content_type, strlen(content_type)))
        content_type = NULL;
    /* The Date header changes once a second: formatting it per response
     * showed up in profiles of short functions.  Per thread, no lock. */
    static __thread time_t date_for = -1;
    static __thread char date[64];
    time_t now = time(NULL);
    if (now != date_for) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_for = now;
    }

    /* The head is put together by hand (memcpy and ut_put_u64): vfprintf
     * was a visible share of a short function's whole request. */
    char head_buf[512];
    const char *reason = http_status_reason(status);
    size_t rlen = strlen(reason), dlen = strlen(date), clen = content_type ? strlen(content_type) : 0;
    /* fixed text + status + reason + date + content type + length + connection */
    if (64 + 3 + rlen + dlen + 16 + clen + UT_U64_DIGITS + 24 > sizeof head_buf)
        return NULL;
    char *h = head_buf;
#define PUT(s, len) (memcpy(h, (s), (len)), h += (len))
#define PUT_LIT(lit) PUT(lit, sizeof lit - 1)
    PUT_LIT("HTTP/1.1 ");
    h = ut_put_u64(h, (uint64_t)status);
    *h++ = ' ';
    PUT(reason, rlen);
    PUT_LIT("\r\nDate: ");
    PUT(date, dlen);
    PUT_LIT("\r\n");
    if (content_type) {
        PUT_LIT("Content-Type: ");
        PUT(content_type, clen);
        PUT_LIT("\r\n");
    }
    PUT_LIT("Content-Length: ");
    h = ut_put_u64(h, (uint64_t)body_len);
    if (keep_alive)
        PUT_LIT("\r\nConnection: keep-alive\r\n");
    else
        PUT_LIT("\r\nConnection: close\r\n");
#undef PUT_LIT
#undef PUT
    size_t n = (size_t)(h - head_buf);
    size_t total = (size_t)n + 2 + (head ? 0 : body_len);
    for (size_t i = 0; i < nextra; i++) {
        const http_header *h = &extra[i];
        if (!is_token(h->name, h->name_len) || !is_safe_value(h->value, h->value_len) ||
            is_reserved(h->name, h->name_len))
            continue;
        if (h->name_len > SIZE_MAX / 4 || h->value_len > SIZE_MAX / 4 || total > SIZE_MAX / 2)
            return NULL;
        total += h->name_len + 2 + h->value_len + 2;
    }
    uint8_t *out = malloc(total);
    if (!out)
        return NULL;
    uint8_t *w = out;
    memcpy(w, head_buf, n);
    w += n;
    for (size_t i = 0; i < nextra; i++) {
        const http_header *h = &extra[i];
        if (!is_token(h->name, h->name_len) || !is_safe_value(h->value, h->value_len) ||
            is_reserved(h->name, h->name_len))
            continue;
        memcpy(w, h->name, h->name_len); w += h->name_len;
        *w++ = ':'; *w++ = ' ';
        memcpy(w, h->value, h->value_len); w += h->value_len;
        *w++ = '\r'; *w++ = '\n';
    }
    *w++ = '\r'; *w++ = '\n';
    if (!head && body_len) {
        memcpy(w, body, body_len);
        w += body_len;
    }
    *out_len = (size_t)(w - out);
    return out;
}
