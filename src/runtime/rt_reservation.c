/*
 * rt_reservation.c — the linear-memory reservations the fault handler
 * recognises: a fault inside one is "out of bounds memory access".
 *
 * A fixed array the fault handler scans without locks.  The 47-bit user
 * address space holds at most ~16000 guard reservations of 8 GiB, so this
 * many slots cover every memory that can exist at once.
 */
#include <stdatomic.h>

#include "rt_internal.h"

#define RT_MAX_RESERVATIONS 16384

static struct {
    _Atomic uintptr_t lo, hi;
} rt_resv[RT_MAX_RESERVATIONS];
static _Atomic uint32_t rt_resv_used;   /* slots [0, used) may be live */

bool rt_reservation_add(const void *lo, uint64_t len)
{
    uintptr_t l = (uintptr_t)lo;
    for (uint32_t i = 0; i < RT_MAX_RESERVATIONS; i++) {
        uintptr_t expect = 0;
        if (atomic_load(&rt_resv[i].lo) != 0)
            continue;
        /* Claim the slot through lo; publish hi after, so a half-made slot
         * (hi == 0) never matches anything. */
        if (!atomic_compare_exchange_strong(&rt_resv[i].lo, &expect, l))
            continue;
        atomic_store(&rt_resv[i].hi, l + len);
        uint32_t used = atomic_load(&rt_resv_used);
        while (used < i + 1 && !atomic_compare_exchange_weak(&rt_resv_used, &used, i + 1)) {
        }
        return true;
    }
    return false;
}

void rt_reservation_remove(const void *lo)
{
    uint32_t used = atomic_load(&rt_resv_used);
    for (uint32_t i = 0; i < used; i++) {
        if (atomic_load(&rt_resv[i].lo) == (uintptr_t)lo) {
            atomic_store(&rt_resv[i].hi, 0);
            atomic_store(&rt_resv[i].lo, 0);
            return;
        }
    }
}

bool rt_reservation_contains(uintptr_t addr)
{
    uint32_t used = atomic_load(&rt_resv_used);
    for (uint32_t i = 0; i < used; i++) {
        uintptr_t lo = atomic_load(&rt_resv[i].lo), hi = atomic_load(&rt_resv[i].hi);
        if (lo != 0 && addr >= lo && addr < hi)
            return true;
    }
    return false;
}
