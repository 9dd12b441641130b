/*
 * rt_init.c — process setup: install the fault handlers once, with the
 * trap layer's classifier, before any guest code runs.
 */
#include <pthread.h>

#include "rt_internal.h"

static pthread_once_t rt_init_once = PTHREAD_ONCE_INIT;
static bool rt_init_ok;

static void rt_init_run(void) { rt_init_ok = rt_os_install_fault_handlers(rt_trap_fault_classify); }

bool rt_init(rt_result *res)
{
    pthread_once(&rt_init_once, rt_init_run);
    if (!rt_init_ok) {
        rt_fail(res, RT_ERR_RESOURCE, "cannot install the trap signal handlers");
        return false;
    }
    return true;
}
