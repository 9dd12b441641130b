/*
 * srv_listen_complete.c — the completion queue: srv_complete() from any
 * thread, taken by the listener thread (see srv_listen_internal.h).
 */
#include "srv_listen_internal.h"

#include <stdlib.h>
#include <unistd.h>

#include "srv_log.h"

void srv_complete(srv_listener *l, const srv_request *req, int status, const char *content_type,
                  const http_header *extra, size_t nextra, const void *body, size_t body_len)
{
    /* req lives inside its conn, which stays allocated until this
     * completion has been processed, so its fallback node is ours to use. */
    conn *c = (conn *)((char *)req - offsetof(conn, req));
    /* When stopping, say so: the listener closes after this response anyway. */
    bool keep_alive = req->http->keep_alive && !atomic_load(&l->stop_requested);
    size_t n = 0;
    uint8_t *bytes = http_response_build(status, content_type, extra, nextra, body, body_len,
                                         keep_alive, req->http->head, &n);
    done *d = bytes ? malloc(sizeof *d) : NULL;
    if (d) {
        *d = (done){ .bytes = bytes, .len = n, .owned = true };
    } else {
        free(bytes);
        d = &c->fallback;
        *d = (done){ .bytes = srv_listen_oom_response, .len = srv_listen_oom_len };
        keep_alive = false;
        status = 503;
    }
    d->slot = (uint32_t)req->token;
    d->gen = (uint32_t)(req->token >> 32);
    d->status = status;
    d->keep_alive = keep_alive;
    d->next = NULL;
    pthread_mutex_lock(&l->mu);
    bool was_empty = !l->q_head;
    if (l->q_tail)
        l->q_tail->next = d;
    else
        l->q_head = d;
    l->q_tail = d;
    pthread_mutex_unlock(&l->mu);
    /* Made on the listener's own thread (its runner or its dispatch): the
     * loop takes the queue right after, no eventfd needed. */
    if (srv_listen_tls_self == l) {
        l->local_done = true;
        return;
    }
    /* Only the completion that finds the queue empty wakes the listener:
     * a non-empty queue has not been taken yet, and whoever made it
     * non-empty writes (or has written) the eventfd, after which the
     * listener takes everything queued.  Under load this saves a syscall
     * and a wake-up per response. */
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(l->wake_fd, &one, sizeof one);
        (void)w;    /* the counter can only saturate, and then a wake-up is pending anyway */
    }
}

void srv_listen_done_free(done *d)
{
    if (d->owned) {
        free((void *)d->bytes);
        free(d);
    }
}

void srv_listen_take_completions(srv_listener *l)
{
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof v);
    (void)r;
    srv_listen_take_queue(l);
}

void srv_listen_take_queue(srv_listener *l)
{
    l->local_done = false;
    pthread_mutex_lock(&l->mu);
    done *d = l->q_head;
    l->q_head = l->q_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (d) {
        done *next = d->next;
        conn *c = d->slot < l->nslots ? l->slots[d->slot] : NULL;
        if (!c || c->gen != d->gen || !c->in_flight) {
            srv_log(SRV_LOG_ERROR, "completion for a request that is not in flight (slot %u)", d->slot);
            srv_listen_done_free(d);
            d = next;
            continue;
        }
        c->in_flight = false;
        l->in_flight--;
        srv_listen_count_status(l, d->status);
        if (c->orphan) {
            /* Its client left: still one access-log line (499 when the
             * scheduler cancelled it), no bytes sent. */
            srv_listen_access_log(l, c, c->req.http, c->req.route, d->status, 0, c->req.arrival_ns, c->req.id);
            srv_listen_done_free(d);
            srv_conn_free(l, c);
            d = next;
            continue;
        }
        bool keep_alive = d->keep_alive;
        srv_listen_access_log(l, c, c->req.http, c->req.route, d->status, d->len, c->req.arrival_ns, c->req.id);
        bool ok = srv_conn_queue(l, c, d->bytes, d->len);
        srv_listen_done_free(d);
        if (ok) {
            http_conn_done(c->http);
            /* A port dropped by a reload meanwhile: this was its last answer. */
            if (!keep_alive || l->draining || c->lp->removed)
                c->close_after = true;
            srv_conn_settle(l, c);
        }
        d = next;
    }
}
