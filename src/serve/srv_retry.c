/*
 * srv_retry.c — one background attempt at a time, with back-off (see
 * srv_retry.h).
 */
#include "srv_retry.h"

#include "util/util.h"

void srv_retry_init(srv_retry *t)
{
    pthread_mutex_init(&t->mu, NULL);
    t->started = t->busy = false;
    t->next_ns = 0;
    t->wait_ns = SRV_RETRY_FIRST_NS;
}

bool srv_retry_kick(srv_retry *t, void *(*run)(void *), void *arg)
{
    bool kicked = false;
    pthread_mutex_lock(&t->mu);
    if (!t->busy && ut_mono_ns() >= t->next_ns) {
        if (t->started)
            pthread_join(t->thread, NULL);     /* finished: busy is false */
        t->started = t->busy = kicked = pthread_create(&t->thread, NULL, run, arg) == 0;
    }
    pthread_mutex_unlock(&t->mu);
    return kicked;
}

uint64_t srv_retry_done(srv_retry *t, bool ok)
{
    pthread_mutex_lock(&t->mu);
    uint64_t wait = 0;
    t->busy = false;
    if (ok) {
        t->wait_ns = SRV_RETRY_FIRST_NS;
    } else {
        wait = t->wait_ns;
        t->next_ns = ut_mono_ns() + wait;
        t->wait_ns = wait * 2 > SRV_RETRY_MAX_NS ? SRV_RETRY_MAX_NS : wait * 2;
    }
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void srv_retry_join(srv_retry *t)
{
    pthread_mutex_lock(&t->mu);
    bool join = t->started;
    t->started = false;
    pthread_mutex_unlock(&t->mu);
    if (join)
        pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
}
