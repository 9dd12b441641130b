/*
 * rt_type.c — canonical function-type ids and host function references.
 *
 * Every signature string ("iI:f") gets one process-wide id, so
 * call_indirect and import checks compare integers across modules.  A short
 * signature's id is computed from the signature itself
 * (wedge_type_id_fixed, bit 31 set), so generated code may carry it as a
 * constant; a longer one is counted from 1 below 0x80000000.  No id is 0:
 * a zeroed funcref (type_id 0) matches no type.  The table only grows
 * (modules may be unloaded, but an id must never be reused for a different
 * signature while a funcref could still carry it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

#define RT_SIG_MAX 4096     /* Wasm allows 1000 params + 1000 results */

bool rt_sig_valid(const char *sig, size_t maxlen)
{
    if (!sig)
        return false;
    size_t n = strnlen(sig, maxlen + 1);
    if (n > maxlen)
        return false;
    int colons = 0;
    for (size_t i = 0; i < n; i++) {
        switch (sig[i]) {
        case 'i': case 'I': case 'f': case 'F': case 'r': case 'e': case 'v': break;
        case ':': colons++; break;
        default: return false;
        }
    }
    return colons == 1;
}

typedef struct rt_type_slot {
    char *sig;               /* NULL = empty */
    uint32_t id;
} rt_type_slot;

static pthread_mutex_t rt_type_lock = PTHREAD_MUTEX_INITIALIZER;
static rt_type_slot *rt_type_slots;
static uint32_t rt_type_cap, rt_type_count;   /* slots in use */
static uint32_t rt_type_counted;               /* last id counted (long signatures) */

static uint64_t rt_type_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static rt_type_slot *rt_type_find(rt_type_slot *slots, uint32_t cap, const char *sig)
{
    uint32_t i = (uint32_t)rt_type_hash(sig) & (cap - 1);
    while (slots[i].sig && strcmp(slots[i].sig, sig) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bool rt_type_grow(void)
{
    uint32_t ncap = rt_type_cap ? rt_type_cap * 2 : 64;
    rt_type_slot *n = calloc(ncap, sizeof *n);
    if (!n)
        return false;
    for (uint32_t i = 0; i < rt_type_cap; i++)
        if (rt_type_slots[i].sig)
            *rt_type_find(n, ncap, rt_type_slots[i].sig) = rt_type_slots[i];
    free(rt_type_slots);
    rt_type_slots = n;
    rt_type_cap = ncap;
    return true;
}

uint32_t rt_type_intern(const char *sig)
{
    if (!rt_sig_valid(sig, RT_SIG_MAX))
        return 0;
    uint32_t id = 0;
    pthread_mutex_lock(&rt_type_lock);
    if ((rt_type_count + 1) * 2 > rt_type_cap && !rt_type_grow())
        goto out;
    rt_type_slot *s = rt_type_find(rt_type_slots, rt_type_cap, sig);
    if (!s->sig) {
        uint32_t fixed = wedge_type_id_fixed(sig);
        if (!fixed && rt_type_counted + 1 >= 0x80000000u)
            goto out;                      /* ids of long signatures exhausted */
        char *copy = strdup(sig);
        if (!copy)
            goto out;
        s->sig = copy;
        s->id = fixed ? fixed : ++rt_type_counted;
        rt_type_count++;
    }
    id = s->id;
out:
    pthread_mutex_unlock(&rt_type_lock);
    return id;   /* 0 only when out of memory, malformed or out of ids */
}

/* The signature string of an id (a linear scan: for error messages only).
 * Interned strings are never freed, so the pointer stays valid. */
const char *rt_type_sig(uint32_t id)
{
    const char *sig = NULL;
    pthread_mutex_lock(&rt_type_lock);
    for (uint32_t i = 0; i < rt_type_cap && !sig; i++)
        if (rt_type_slots[i].sig && rt_type_slots[i].id == id)
            sig = rt_type_slots[i].sig;
    pthread_mutex_unlock(&rt_type_lock);
    return sig;
}

/* ---- host functions ---------------------------------------------------------- */

typedef struct rt_host_node {
    struct rt_host_node *next;
    wedge_funcref ref;
} rt_host_node;

static pthread_mutex_t rt_host_lock = PTHREAD_MUTEX_INITIALIZER;
static rt_host_node *rt_host_list;

wedge_funcref *rt_host_func(const char *sig, void (*fn)(void))
{
    uint32_t id = rt_type_intern(sig);
    if (id == 0 || !fn)
        return NULL;
    wedge_funcref *r = NULL;
    pthread_mutex_lock(&rt_host_lock);
    for (rt_host_node *n = rt_host_list; n; n = n->next)
        if (n->ref.type_id == id && n->ref.fn == fn) {
            r = &n->ref;
            goto out;
        }
    rt_host_node *n = calloc(1, sizeof *n);
    if (n) {
        n->ref.type_id = id;
        n->ref.fn = fn;
        n->ref.inst = NULL;
        n->next = rt_host_list;
        rt_host_list = n;
        r = &n->ref;
    }
out:
    pthread_mutex_unlock(&rt_host_lock);
    return r;
}
