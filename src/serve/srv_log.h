/*
 * srv_log.h — one-line diagnostics of `wedge serve` on stderr, filtered by
 * --log-level.  The level is process-wide: set once at start-up.
 */
#ifndef WEDGE_SRV_LOG_H
#define WEDGE_SRV_LOG_H

#include "srv_config.h"

void srv_log_set_level(srv_log_level level);
void srv_log(srv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
