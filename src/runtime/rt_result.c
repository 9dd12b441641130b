/*
 * rt_result.c — filling a caller's rt_result: the runtime's one error idiom
 * (status code + one-line message in caller-owned storage, no allocation).
 */
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

rt_status rt_fail(rt_result *res, rt_status st, const char *fmt, ...)
{
    if (res) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->msg, sizeof res->msg, fmt, ap);
        va_end(ap);
        res->trap = WEDGE_TRAP_NONE;
        res->exit_code = 0;
    }
    return st;
}

rt_status rt_fail_trap(rt_result *res, wedge_trap_kind kind)
{
    if (res) {
        res->trap = kind;
        res->exit_code = 0;
        snprintf(res->msg, sizeof res->msg, "%s", rt_trap_name(kind));
    }
    return RT_ERR_TRAP;
}
