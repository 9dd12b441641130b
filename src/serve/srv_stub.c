/*
 * srv_stub.c — the stand-in handler (see srv_stub.h): a queue and one
 * thread.  Replaced by the scheduler when sandboxes exist.
 */
#include "srv_stub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct item {
    struct item *next;
    const srv_request *req;
} item;

struct srv_stub {
    srv_listener *l;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *head, *tail;
    bool quit;
};

enum { STUB_MAX_FILE = 16 << 20, STUB_MAX_DELAY_MS = 5000 };

static const char not_wired[] = "function runtime not wired yet\n";

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The value of `name` in a query string, as an integer; -1 if absent. */
static long query_int(const char *q, size_t len, const char *name)
{
    size_t n = strlen(name);
    const char *end = q + len;
    for (const char *p = q; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > n && !memcmp(p, name, n) && p[n] == '=') {
            long v = 0;
            for (const char *d = p + n + 1; d < stop && *d >= '0' && *d <= '9' && v < 1000000; d++)
                v = v * 10 + (*d - '0');
            return v;
        }
        p = stop + 1;
    }
    return -1;
}

static void answer(srv_stub *stub, const srv_request *req)
{
    const http_request *h = req->http;
    long delay = query_int(h->query, h->query_len, "wedge_stub_delay_ms");
    if (delay > 0) {
        if (delay > STUB_MAX_DELAY_MS)
            delay = STUB_MAX_DELAY_MS;
        struct timespec ts = { .tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    const srv_route *r = req->route;
    if (!ends_with(r->path, ".txt")) {
        srv_complete(stub->l, req, 503, "text/plain", NULL, 0, not_wired, sizeof not_wired - 1);
        return;
    }
    if (h->body_len) {
        srv_complete(stub->l, req, 200, r->content_type, NULL, 0, h->body, h->body_len);
        return;
    }
    /* Sized by fstat, read whole: these are small test files. */
    FILE *f = fopen(r->path, "rb");
    struct stat sb;
    char *buf = NULL;
    size_t n = 0;
    bool ok = f && fstat(fileno(f), &sb) == 0 && sb.st_size >= 0 && sb.st_size <= STUB_MAX_FILE;
    if (ok && (buf = malloc((size_t)sb.st_size + 1))) {
        n = fread(buf, 1, (size_t)sb.st_size, f);
        ok = !ferror(f);
    } else {
        ok = false;
    }
    if (ok)
        srv_complete(stub->l, req, 200, r->content_type, NULL, 0, buf, n);
    else
        srv_complete(stub->l, req, 500, "text/plain", NULL, 0, "cannot read the route's file\n", 29);
    free(buf);
    if (f)
        fclose(f);
}

static void *stub_thread(void *arg)
{
    srv_stub *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->head && !st->quit)
            pthread_cond_wait(&st->cv, &st->mu);
        item *it = st->head;
        if (!it)
            break;      /* quit, and nothing left to answer */
        st->head = it->next;
        if (!st->head)
            st->tail = NULL;
        pthread_mutex_unlock(&st->mu);
        answer(st, it->req);
        free(it);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

srv_stub *srv_stub_new(srv_err *err)
{
    srv_stub *st = calloc(1, sizeof *st);
    if (!st) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    if (pthread_create(&st->thread, NULL, stub_thread, st) != 0) {
        pthread_mutex_destroy(&st->mu);
        pthread_cond_destroy(&st->cv);
        free(st);
        srv_fail(err, "serve: cannot start a thread");
        return NULL;
    }
    return st;
}

void srv_stub_attach(srv_stub *st, srv_listener *l)
{
    pthread_mutex_lock(&st->mu);
    st->l = l;
    pthread_mutex_unlock(&st->mu);
}

void srv_stub_dispatch(void *ud, const srv_request *req)
{
    srv_stub *st = ud;
    item *it = malloc(sizeof *it);
    if (!it) {
        srv_complete(st->l, req, 503, "text/plain", NULL, 0, "out of memory\n", 14);
        return;
    }
    it->next = NULL;
    it->req = req;
    pthread_mutex_lock(&st->mu);
    if (st->tail)
        st->tail->next = it;
    else
        st->head = it;
    st->tail = it;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

void srv_stub_free(srv_stub *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->quit = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->thread, NULL);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st);
}
