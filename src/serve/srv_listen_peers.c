/*
 * srv_listen_peers.c — open connections per client address, for
 * --max-connections-per-address (see srv_listen_internal.h).
 *
 * One client address must not take every connection slot: an attacker
 * that holds more connections than there are slots, reconnecting as soon
 * as one is closed, would otherwise keep every other client out (eviction
 * at the limit frees a slot, and the attacker's next connect takes it).
 * With the limit, its connections past N are closed at accept and the
 * other slots stay for everyone else.
 *
 * The counts live in an open-addressing table (linear probing, deletion
 * by backward shift, so no tombstones) allocated once with the listener:
 * twice as many entries as connection slots, so it never fills and the
 * accept path never allocates.  Addresses are 16 bytes: IPv4 as
 * ::ffff:a.b.c.d, so a dual-stack socket counts a client the same way
 * whichever family it arrives as.  Listener thread only.
 */
#include "srv_listen_internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

bool srv_peers_init(srv_listener *l)
{
    if (!l->s.max_per_address)
        return true;
    size_t cap = 16;
    while (cap < 2 * (size_t)l->nslots)
        cap *= 2;
    l->peers = calloc(cap, sizeof *l->peers);
    l->peers_mask = cap - 1;
    return l->peers != NULL;
}

void srv_peers_free(srv_listener *l)
{
    free(l->peers);
    l->peers = NULL;
}

void srv_peer_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (ss->ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    } else if (ss->ss_family == AF_INET) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else {
        memset(out, 0, 16);     /* not an IP client: all such count as one */
    }
}

static size_t hash(const uint8_t a[16])
{
    /* FNV-1a: the addresses are the attacker's choice only within its
     * own prefix, and a collision costs a probe, never a wrong count. */
    uint64_t h = 1469598103934665603u;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211u;
    return (size_t)(h ^ (h >> 29));
}

static size_t find(const srv_listener *l, const uint8_t a[16])
{
    size_t i = hash(a) & l->peers_mask;
    while (l->peers[i].count && memcmp(l->peers[i].addr, a, 16))
        i = (i + 1) & l->peers_mask;
    return i;
}

/* One table for every loop: loop 0's, under its peers_mu (taken at
 * accept and close only, never per request). */
bool srv_peer_admit(srv_listener *lp, const uint8_t a[16])
{
    srv_listener *l = lp->primary;
    if (!l->peers)
        return true;
    pthread_mutex_lock(&l->peers_mu);
    size_t i = find(l, a);
    bool ok = l->peers[i].count < l->s.max_per_address;
    if (ok && !l->peers[i].count)
        memcpy(l->peers[i].addr, a, 16);
    if (ok)
        l->peers[i].count++;
    pthread_mutex_unlock(&l->peers_mu);
    return ok;
}

static void release_locked(srv_listener *l, const uint8_t a[16]);

void srv_peer_release(srv_listener *lp, const uint8_t a[16])
{
    srv_listener *l = lp->primary;
    if (!l->peers)
        return;
    pthread_mutex_lock(&l->peers_mu);
    release_locked(l, a);
    pthread_mutex_unlock(&l->peers_mu);
}

static void release_locked(srv_listener *l, const uint8_t a[16])
{
    size_t i = find(l, a);
    if (!l->peers[i].count || --l->peers[i].count)
        return;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot is not between the hole and themselves. */
    size_t hole = i;
    for (size_t j = (i + 1) & l->peers_mask; l->peers[j].count; j = (j + 1) & l->peers_mask) {
        size_t home = hash(l->peers[j].addr) & l->peers_mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        l->peers[hole] = l->peers[j];
        l->peers[j].count = 0;
        hole = j;
    }
}
