/*
 * rt_sanitizer.h — telling AddressSanitizer about stack switches.
 *
 * Guest code runs on its own stack and traps leave it with longjmp.  ASan
 * tracks one stack per thread; without these annotations every trap makes
 * it print "ignoring requested __asan_handle_no_return" (and risk false
 * reports).  In builds without ASan these are empty inline functions.
 */
#ifndef WEDGE_RT_SANITIZER_H
#define WEDGE_RT_SANITIZER_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif

#ifdef RT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* About to switch to the stack [bottom, bottom + size).  `save` keeps the
 * current stack's fake frames (NULL: the current stack is done for). */
static inline void rt_san_start_switch(void **save, const void *bottom, size_t size)
{
#ifdef RT_ASAN
    __sanitizer_start_switch_fiber(save, bottom, size);
#else
    (void)save, (void)bottom, (void)size;
#endif
}

/* Just arrived on the new stack; learn the bounds of the one we left. */
static inline void rt_san_finish_switch(void *save, const void **old_bottom, size_t *old_size)
{
#ifdef RT_ASAN
    __sanitizer_finish_switch_fiber(save, old_bottom, old_size);
#else
    (void)save, (void)old_bottom, (void)old_size;
#endif
}

/* A stack about to be reused for a new context: clear what ASan still
 * marks there from frames that were switched away from for good. */
static inline void rt_san_unpoison(const void *addr, size_t size)
{
#ifdef RT_ASAN
    __asan_unpoison_memory_region(addr, size);
#else
    (void)addr, (void)size;
#endif
}

#endif
