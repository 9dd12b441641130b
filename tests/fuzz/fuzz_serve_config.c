/*
 * fuzz_serve_config.c — libFuzzer driver for the `wedge serve` configuration
 * reader (src/serve/srv_config.c): any bytes either load into a consistent
 * srv_config or are refused with one line naming the input.
 * Relative paths resolve against /etc, so "passwd" is an existing file.
 */
#include <stdlib.h>
#include <string.h>

#include "serve/srv_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_config cfg;
    srv_err err;
    if (!srv_config_parse((const char *)data, size, "fuzz.json", "/etc", &cfg, &err)) {
        if (strncmp(err.msg, "fuzz.json: ", 11) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    if (!cfg.nports)
        abort();
    for (size_t i = 0; i < cfg.nports; i++) {
        const srv_port *p = &cfg.ports[i];
        if (!p->port || !p->nroutes || !p->tenant)
            abort();
        for (size_t j = 0; j < i; j++)
            if (cfg.ports[j].port == p->port)
                abort();
        for (size_t k = 0; k < p->nroutes; k++) {
            const srv_route *r = &p->routes[k];
            if (r->prefix[0] != '/' || strlen(r->prefix) != r->prefix_len || !r->relative_deadline_us ||
                r->admissions_percentile < 50 || r->admissions_percentile > 99 ||
                r->expected_execution_us > r->relative_deadline_us)
                abort();
            if (srv_route_match(p, r->prefix, r->prefix_len) == NULL)
                abort();
        }
    }
    srv_config_free(&cfg);
    return 0;
}
