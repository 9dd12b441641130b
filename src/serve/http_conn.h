/*
 * http_conn.h — HTTP/1.1 request parsing for one connection, on llhttp, and
 * response serialisation.  No sockets here: bytes in, requests out, so the
 * layer can be unit-tested and fuzzed on its own.
 *
 * One request at a time: http_conn_parse() stops after each complete
 * request and reports how many input bytes it used; the rest (pipelined
 * requests) stays with the caller and is offered again after
 * http_conn_done().  So responses go out in request order by construction.
 *
 * Ownership: http_conn_new() returns a connection the caller owns
 * (http_conn_free).  A returned http_request points into the connection's
 * per-request buffers and stays valid until http_conn_done() (or _free);
 * the parser copies what it keeps, so input bytes may be discarded once
 * consumed.
 *
 * Errors: HTTP_PARSE_ERROR with the status to answer (400, 413, 414, 417, 431, 505)
 * from http_conn_error(); the connection must then be closed after that
 * response.  Running out of memory is reported as 503 and allocates nothing.
 */
#ifndef WEDGE_HTTP_CONN_H
#define WEDGE_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_limits {
    size_t max_url;             /* request-target bytes; 414 beyond */
    size_t max_header_bytes;    /* all header names and values; 431 beyond */
    size_t max_headers;         /* header count; 431 beyond */
    size_t max_body;            /* body bytes (Content-Length or chunked); 413 beyond */
} http_limits;

#define HTTP_DEFAULT_MAX_URL            8192u
#define HTTP_DEFAULT_MAX_HEADER_BYTES   16384u
#define HTTP_DEFAULT_MAX_HEADERS        100u
#define HTTP_DEFAULT_MAX_BODY           (1u << 20)

typedef struct http_header {
    const char *name;           /* NUL-terminated, as sent (case preserved) */
    const char *value;          /* NUL-terminated, surrounding whitespace removed */
    size_t name_len, value_len;
} http_header;

typedef struct http_request {
    const char *method;         /* "GET", "POST", ... (static) */
    const char *target;         /* the request-target as sent */
    size_t target_len;
    const char *path;           /* target up to '?', without "http://authority" in absolute form (NUL-terminated copy) */
    size_t path_len;
    const char *query;          /* after '?', "" if none */
    size_t query_len;
    const http_header *headers;
    size_t nheaders;
    const uint8_t *body;        /* de-chunked; NULL when empty */
    size_t body_len;
    uint8_t http_major, http_minor;
    bool keep_alive;            /* the client allows another request after this one */
    bool head;                  /* HEAD: the response carries no body */
} http_request;

typedef enum http_next {
    HTTP_PARSE_MORE = 0,        /* all input used, no complete request yet */
    HTTP_PARSE_REQUEST,         /* *req filled; call http_conn_done() after answering */
    HTTP_PARSE_ERROR,           /* answer http_conn_error() and close */
} http_next;

typedef struct http_conn http_conn;

void http_limits_defaults(http_limits *l);

/* NULL when out of memory.  `limits` is copied. */
http_conn *http_conn_new(const http_limits *limits);
void http_conn_free(http_conn *c);

/* Parses from data[0..len).  *used is set to the bytes consumed (always, even
 * on HTTP_PARSE_ERROR).  Must not be called between HTTP_PARSE_REQUEST and
 * http_conn_done(). */
http_next http_conn_parse(http_conn *c, const uint8_t *data, size_t len, size_t *used, http_request *req);

/* Releases the current request's memory and lets parsing go on. */
void http_conn_done(http_conn *c);

/* True once when the request being received asked for "Expect:
 * 100-continue" and its body has not arrived: the caller should send
 * "HTTP/1.1 100 Continue" (an over-limit body is refused with 413 instead,
 * before this is ever true). */
bool http_conn_want_continue(http_conn *c);

/* True while some bytes of a request have arrived but not all of it. */
bool http_conn_in_message(const http_conn *c);

/* After HTTP_PARSE_ERROR: the status to answer and a short static reason. */
int http_conn_error(const http_conn *c, const char **reason);

/* Looks up a header by name, case-insensitively; NULL if absent.  A
 * repeated header gives its first occurrence: the fields one looks up
 * (Content-Type, Host, ...) are singletons, which a request may not repeat
 * (RFC 9110 §5.3), and taking the first is the common convention (CGI
 * servers, Go's Header.Get).  The one lookup for every part of serve. */
const http_header *http_request_header(const http_request *req, const char *name);

/* ---- responses (http_response.c) ------------------------------------------ */

/* "Not Found" for 404 etc.; "Unknown" for codes it does not know. */
const char *http_status_reason(int status);

/* Serialises a whole response into a new malloc'd buffer (caller frees),
 * or NULL when out of memory.  Writes the status line, Date, Content-Type
 * (when content_type is not NULL), the extra headers, Content-Length and
 * Connection (keep-alive or close), then the body unless `head`.  Extra
 * headers whose name is not an HTTP token or whose value holds CR, LF or NUL
 * are left out: they may come from guests. */
uint8_t *http_response_build(int status, const char *content_type,
                             const http_header *extra, size_t nextra,
                             const void *body, size_t body_len,
                             bool keep_alive, bool head, size_t *out_len);

#endif
