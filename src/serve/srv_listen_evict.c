/*
 * srv_listen_evict.c — eviction policy at --max-connections: which
 * connection makes room for a new client, and the rate-limited log of it
 * (see srv_listen_internal.h).
 */
#include "srv_listen_internal.h"

#include <sys/socket.h>
#include <unistd.h>

#include "srv_log.h"

/* At most one line a second, not one per connection (the sweep reports
 * the rest). */
void srv_listen_log_evictions(srv_listener *l, uint64_t now)
{
    if ((l->evicted == l->evicted_logged && l->evicted_slow == l->evicted_slow_logged) ||
        now - l->evict_logged_ms < 1000)
        return;
    if (l->evicted != l->evicted_logged)
        srv_log(SRV_LOG_WARN, "connection limit (%u) reached; closed %llu idle connection(s) to make room",
                l->nslots, (unsigned long long)(l->evicted - l->evicted_logged));
    if (l->evicted_slow != l->evicted_slow_logged)
        srv_log(SRV_LOG_WARN, "connection limit (%u) reached; closed %llu slow request(s) (arriving for over "
                "%u ms) to make room", l->nslots, (unsigned long long)(l->evicted_slow - l->evicted_slow_logged),
                SRV_SLOW_REQUEST_MS);
    l->evicted_logged = l->evicted;
    l->evicted_slow_logged = l->evicted_slow;
    l->evict_logged_ms = now;
}

/* At the connection limit a new client takes the slot of one that is not
 * using its own (make_room).  First choice: the connection that has waited
 * longest with nothing to do (an idle keep-alive, or one already
 * draining), so that a few thousand idle clients cannot lock every new one
 * out; a client whose idle connection closes retries on a new one, as it
 * must after an idle timeout anyway.  Second choice, when every slot holds
 * a request: the request that has been arriving longest, if for more than
 * SRV_SLOW_REQUEST_MS.  Any real client sends its request head in one
 * round trip, so a slot held that long by a request still arriving is a
 * slowloris (or a very slow upload); without this, a few thousand of them
 * kept every new client out until the request timeout.  Never chosen:
 * requests in flight or being answered (their timeouts bound them), and
 * connections accepted less than SRV_SLOW_REQUEST_MS ago that have sent
 * nothing yet.  A scan of every slot, but only when the limit is hit. */
static conn *pick_victim(srv_listener *l, uint64_t now, uint64_t *rank)
{
    conn *idle = NULL, *slow = NULL;
    for (uint32_t i = 0; i < l->nslots; i++) {
        conn *c = l->slots[i];
        if (!c || c->fd < 0 || c->in_flight || c->out_off < c->out_len)
            continue;
        /* Just accepted, its request presumably on the way: not idle yet
         * (or a crowd of new clients would close each other). */
        if (c->fresh && now - c->last_ms <= SRV_SLOW_REQUEST_MS)
            continue;
        if (c->state == C_OPEN && (c->in_len || c->msg_start_ms)) {
            if (c->msg_start_ms && now - c->msg_start_ms > SRV_SLOW_REQUEST_MS &&
                (!slow || c->msg_start_ms < slow->msg_start_ms))
                slow = c;
            continue;
        }
        /* draining ones first: they are closing anyway */
        if (!idle || (c->state == C_DRAIN) > (idle->state == C_DRAIN) ||
            ((c->state == C_DRAIN) == (idle->state == C_DRAIN) && c->last_ms < idle->last_ms))
            idle = c;
    }
    conn *victim = idle ? idle : slow;
    /* Comparable across loops: draining idle, then idle, then slow; older first. */
    *rank = !victim ? EVICT_NONE
            : victim == idle ? ((uint64_t)(idle->state == C_DRAIN ? 0 : 1) << 56) | idle->last_ms
                             : ((uint64_t)2 << 56) | slow->msg_start_ms;
    return victim;
}

static void evict(srv_listener *l, conn *victim, conn *slow, uint64_t now)
{
    if (victim == slow) {
        /* Best effort, without blocking: the reason, before the close. */
        static const char busy[] = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 30\r\nConnection: close\r\n\r\n"
                                   "request too slow, server full\n";
        ssize_t n = send(slow->fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
        l->evicted_slow++;
    } else {
        l->evicted++;
    }
    srv_listen_log_evictions(l, now);
    srv_conn_close_now(l, victim);
}

/* The loop other than l that published a candidate ranked before *rank
 * (then *rank is its rank), or NULL. */
static srv_listener *older_loop(srv_listener *l, uint64_t *rank)
{
    srv_listener *p = l->primary, *older = NULL;
    for (unsigned i = 0; i < p->nloops; i++) {
        srv_listener *o = srv_listener_loop(p, i);
        uint64_t r = o == l ? EVICT_NONE : atomic_load_explicit(&o->evict_rank, memory_order_relaxed);
        if (r < *rank) {
            *rank = r;
            older = o;
        }
    }
    return older;
}

/* One more close asked of loop o (its counter `what`), and o woken. */
static void ask_close(srv_listener *o, atomic_uint *what)
{
    atomic_fetch_add(what, 1);
    uint64_t one = 1;
    ssize_t w = write(o->wake_fd, &one, sizeof one);
    (void)w;
}

/* This loop's next candidate, for the others to compare with their own:
 * a scan of every slot, as the sweep's own (with connections only). */
static void publish(srv_listener *l, uint64_t now)
{
    uint64_t rank = EVICT_NONE;
    conn *next = l->nconns ? pick_victim(l, now, &rank) : NULL;
    l->evict_slot = next ? next->slot : UINT32_MAX;
    atomic_store_explicit(&l->evict_rank, rank, memory_order_relaxed);
}

/* Closes the connection picked on this loop, or, when another loop
 * published an older candidate (srv_listen_evict_publish), asks that
 * loop to close its own.  True when room was made either way: the new
 * client takes it now (with a close asked of another loop, a moment over
 * the limit until that loop has run; the count of every loop may lag a
 * close here that another loop's count still holds). */
bool srv_listen_make_room(srv_listener *l)
{
    uint64_t now = srv_listen_now_ms(), rank;
    conn *victim = pick_victim(l, now, &rank);
    srv_listener *other = older_loop(l, &rank);
    if (other) {
        /* Its rank stays until it republishes after closing: a crowd of
         * new clients here asks it for several (its oldest ones). */
        ask_close(other, &other->evict_wanted);
        return true;
    }
    if (!victim)
        return false;
    evict(l, victim, rank >> 56 == 2 ? victim : NULL, now);
    /* At once, not at the next sweep: closing the published candidate
     * unpublished it, and until this loop shows its next one a crowd of
     * new clients on other loops would close younger connections there. */
    if (l->primary->nloops > 1)
        publish(l, now);
    return true;
}

void srv_listen_evict_publish(srv_listener *l, uint64_t now)
{
    if (l->primary->nloops < 2)
        return;
    /* Closes asked for by other loops first.  Asked on a rank published
     * a while ago, this loop may no longer hold the oldest candidate: the
     * ask goes on (once) to a loop that published an older one. */
    unsigned forced = atomic_exchange(&l->evict_forced, 0), asked = atomic_exchange(&l->evict_wanted, 0);
    for (unsigned n = forced + asked; n; n--) {
        uint64_t rank;
        conn *victim = pick_victim(l, now, &rank);
        srv_listener *older = n <= asked ? older_loop(l, &rank) : NULL;
        if (older) {
            ask_close(older, &older->evict_forced);
            continue;
        }
        if (!victim)
            break;
        evict(l, victim, rank >> 56 == 2 ? victim : NULL, now);
    }
    publish(l, now);
}
