/*
 * srv_err.c — filling a caller's srv_err.  vsnprintf into a fixed buffer:
 * nothing here allocates.
 */
#include "srv_err.h"

#include <stdarg.h>
#include <stdio.h>

bool srv_fail(srv_err *err, const char *fmt, ...)
{
    if (!err)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}
