/*
 * srv_sandbox.c — loading each route's module once (and its snapshot), and
 * running one request in a fresh instance (see srv_sandbox.h).
 *
 * Snapshot routes: every request restores the route's snapshot (memory
 * mapped copy-on-write, globals, tables) instead of instantiating, then
 * runs the entry export — `_start` if the route names none; a reactor
 * (no `_start`) must name one with "entry", checked when the route loads.
 * The WASI context is the request's own, as for any route; a pooled memory
 * goes back to the snapshot's image when the request ends, however it
 * ended (trap, timeout, preemption), touching only the pages it used.
 */
#define _GNU_SOURCE
#include "srv_sandbox.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compile/compile.h"
#include "cwa/cwa.h"
#include "dagger/dagger.h"
#include "runtime/rt_mempool.h"
#include "srv_lazy.h"
#include "srv_log.h"
#include "srv_refetch.h"
#include "srv_remote.h"
#include "srv_sched.h"
#include "srv_scratch.h"
#include "srv_static.h"
#include "util/util.h"
#include "wasi/wasi.h"

/* Host modules every route is linked against (WASI, Dagger, CommonWA):
 * the size of the per-request config array. */
#define SRV_HOST_SLOTS 3
/* The part of a WAGI guest's output searched for its header block. */
#define SRV_WAGI_HEAD_MAX ((size_t)65536)

/* ---- start-up: one module per route --------------------------------------- */

/* The route's snapshot: read from its file, or taken now after running
 * its init export in an instance linked through the route's linker with
 * an empty WASI config (argv = the route name; stdout and stderr kept in
 * memory, stderr logged).  Its host contexts (and any file init opened)
 * are freed with it.  False with fn->broken set. */
static bool load_snapshot(srv_fn *fn, const char *snap_file, const uint8_t hash[RT_SNAPSHOT_HASH_BYTES])
{
    const srv_route *route = fn->route;
    rt_result res;
    memset(&res, 0, sizeof res);
    rt_limits lim = {.max_memory_pages = route->max_memory_mb * WEDGE_WASM_PAGES_PER_MIB};
    if (snap_file) {
        fn->snap = rt_snapshot_load(snap_file, fn->mod, hash, &res);
        if (!fn->snap) {
            snprintf(fn->broken, sizeof fn->broken, "%s", res.msg);
            return false;
        }
    } else {
        const char *argv[1] = { route->name };
        wasi_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.argc = 1;
        cfg.argv = argv;
        cfg.stdio[0] = (wasi_stdio){ .host_fd = -1 };
        cfg.stdio[1] = (wasi_stdio){ .host_fd = -1, .out_limit = SRV_SANDBOX_STDERR_LIMIT };
        cfg.stdio[2] = (wasi_stdio){ .host_fd = -1, .out_limit = SRV_SANDBOX_STDERR_LIMIT };
        const void *host_cfg[SRV_HOST_SLOTS] = {0};
        host_cfg[fn->wasi_slot] = &cfg;
        /* A Dagger init's stdio stays in memory too (not the server's). */
        dagger_config dcfg = {.stdio_fd = {-1, -1, -1}, .log_fd = 2,
                              .out_limit = {0, SRV_SANDBOX_STDERR_LIMIT, SRV_SANDBOX_STDERR_LIMIT}};
        host_cfg[fn->dagger_slot] = &dcfg;
        cwa_config ccfg = {.argc = 1, .argv = argv, .streams = dcfg};    /* CommonWA's: the same */
        host_cfg[fn->cwa_slot] = &ccfg;
        wedge_instance *inst = NULL;
        rt_status st = rt_instantiate(fn->mod, &lim, fn->linker, host_cfg, &inst, &res);
        if (st == RT_OK)
            st = rt_run_init(inst, route->init, &res);
        if (st == RT_OK)
            fn->snap = rt_snapshot_capture(inst, hash, &res);
        size_t elen = 0;
        bool trunc;
        const wasi_ctx *w = inst ? wasi_instance_ctx(inst) : NULL;
        const uint8_t *e = w ? wasi_ctx_output(w, 2, &elen, &trunc) : NULL;
        if (e && elen)
            srv_log(SRV_LOG_INFO, "route %s: init stderr: %.*s", route->name, (int)(elen > 400 ? 400 : elen),
                    (const char *)e);
        rt_instance_free(inst);
        if (!fn->snap) {
            if (st == RT_ERR_TRAP)
                snprintf(fn->broken, sizeof fn->broken, "init export %s: wasm trap: %s", route->init,
                         rt_trap_name(res.trap));
            else if (st == RT_ERR_EXIT)
                snprintf(fn->broken, sizeof fn->broken, "init export %s called proc_exit(%d)", route->init,
                         res.exit_code);
            else
                snprintf(fn->broken, sizeof fn->broken, "init export %s: %s", route->init, res.msg);
            return false;
        }
    }
    /* Like a module's initial memory: a snapshot that could never be
     * restored under the route's limit is refused now, not per request. */
    uint32_t pages = rt_snapshot_pages(fn->snap);
    if (lim.max_memory_pages && pages > lim.max_memory_pages) {
        snprintf(fn->broken, sizeof fn->broken, "%s: the snapshot's memory is %u pages (%llu KiB), more than "
                 "the route's limit of %u MiB (max-memory-mb)", route->snapshot ? route->snapshot : route->path,
                 pages, (unsigned long long)pages * (WEDGE_WASM_PAGE / 1024u), route->max_memory_mb);
        return false;
    }
    return true;
}

/* Loads the module file at path (and snap_file) into fn, or leaves it
 * broken with the reason. */
static void load_local(srv_fn *fn, const char *path, const char *snap_file)
{
    /* A snapshot is bound to the module file's bytes. */
    uint8_t hash[RT_SNAPSHOT_HASH_BYTES];
    bool snapshot = snap_file || fn->route->init;
    char so[CG_SO_PATH_MAX];
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err cerr;
    if ((snapshot && !cg_module_file_hash(path, hash, &cerr)) ||
        !cg_module_file_so(path, &o, so, sizeof so, &cerr)) {
        snprintf(fn->broken, sizeof fn->broken, "%s", cerr.msg);
        return;
    }
    rt_result res;
    fn->mod = rt_module_load(so, &res);
    if (!fn->mod) {
        snprintf(fn->broken, sizeof fn->broken, "%s", res.msg);
        return;
    }
    /* A memory whose initial size is past the route's limit could never
     * be created: say so once now, not "out of resources" per request. */
    const wedge_module_desc *d = rt_module_desc(fn->mod);
    uint64_t limit = (uint64_t)fn->route->max_memory_mb * WEDGE_WASM_PAGES_PER_MIB;
    if (limit && d->nmems && d->mems[0].min > limit) {
        snprintf(fn->broken, sizeof fn->broken, "%s: its memory starts at %u pages (%llu KiB), more "
                 "than the route's limit of %u MiB (max-memory-mb)", fn->route->path, d->mems[0].min,
                 (unsigned long long)d->mems[0].min * (WEDGE_WASM_PAGE / 1024u), fn->route->max_memory_mb);
        rt_module_unload(fn->mod);
        fn->mod = NULL;
        return;
    }
    /* Link once now: a module importing what no host module provides is
     * refused here, with the import named, not with a 500 per request. */
    if (!(fn->linker = rt_linker_new(&res)) ||
        (fn->wasi_slot = rt_linker_add_host(fn->linker, &wasi_host_module, NULL, &res)) < 0 ||
        (fn->dagger_slot = rt_linker_add_host(fn->linker, &dagger_host_module, NULL, &res)) < 0 ||
        !rt_linker_alias(fn->linker, "env", &dagger_host_module, &res) ||
        (fn->cwa_slot = rt_linker_add_host(fn->linker, &cwa_host_module, NULL, &res)) < 0 ||
        !rt_linker_alias(fn->linker, "env", &cwa_host_module, &res) ||
        rt_linker_check(fn->linker, fn->mod, &res) != RT_OK) {
        snprintf(fn->broken, sizeof fn->broken, "%s: %s", fn->route->path, res.msg);
        rt_linker_free(fn->linker);
        fn->linker = NULL;
        rt_module_unload(fn->mod);
        fn->mod = NULL;
        return;
    }
    const char *entry = fn->route->entry ? fn->route->entry : "_start";
    const wedge_desc_export *ex = wedge_desc_export_find(d, entry, strlen(entry));
    if ((fn->route->entry || snapshot) && !(ex && ex->kind == WEDGE_EXTERN_FUNC)) {
        snprintf(fn->broken, sizeof fn->broken, "%s: no export '%s' to run per request%s", fn->route->path, entry,
                 fn->route->entry ? "" : " (a snapshot of a reactor names one with \"entry\")");
        goto unload;
    }
    if (snapshot && !load_snapshot(fn, snap_file, hash))
        goto unload;
    srv_lazy_bind(fn->lazy, fn->mod, hash);    /* lazy: snap is the small state */
    if (!rt_module_text_range(fn->mod, &fn->text_lo, &fn->text_hi))
        fn->text_lo = fn->text_hi = 0;     /* never preempted, still killed at its timeout by poll */
    fn->kind = SRV_FN_WASM;
    return;
unload:
    srv_lazy_free(fn->lazy);
    fn->lazy = NULL;
    rt_snapshot_free(fn->snap);
    fn->snap = NULL;
    rt_linker_free(fn->linker);
    fn->linker = NULL;
    rt_module_unload(fn->mod);
    fn->mod = NULL;
}

/* The compile cache and module loading are used by one route load at a
 * time, whichever thread loads (the listener, a store route's retry); a
 * store fetch is outside it, so a stalled store holds back no other load. */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

void srv_fn_load(srv_fn *fn)
{
    const char *path = fn->route->path;
    if (srv_static_is(fn->route)) {
        srv_static_load(fn);
        return;
    }
    fn->kind = SRV_FN_BROKEN;
    /* A store route: its module and snapshot fetched into the node cache
     * now; requests then restore from local files. */
    const char *snap_file = fn->route->snapshot;
    char fetched[2][4200];
    if (fn->route->remote) {
        if (!srv_remote_fetch(fn->route, fetched[0], sizeof fetched[0], fetched[1], sizeof fetched[1], &fn->lazy,
                              fn->broken, sizeof fn->broken)) {
            fn->store_down = true;      /* retried off the request path (srv_refetch.h) */
            return;
        }
        path = fetched[0];
        snap_file = fetched[1][0] ? fetched[1] : NULL;
    }
    pthread_mutex_lock(&load_mu);
    load_local(fn, path, snap_file);
    pthread_mutex_unlock(&load_mu);
}

void srv_fn_unload(srv_fn *fn)
{
    srv_lazy_free(fn->lazy);
    rt_snapshot_free(fn->snap);
    rt_linker_free(fn->linker);
    if (fn->mod)
        rt_module_unload(fn->mod);
    free(fn->static_body);
    fn->lazy = NULL;
    fn->snap = NULL;
    fn->linker = NULL;
    fn->mod = NULL;
    fn->static_body = NULL;
}

bool srv_fnset_load(srv_fnset *set, const srv_config *cfg, srv_err *err)
{
    size_t n = 0;
    for (size_t p = 0; p < cfg->nports; p++)
        n += cfg->ports[p].nroutes;
    set->n = 0;
    set->fns = calloc(n ? n : 1, sizeof *set->fns);
    if (!set->fns)
        return srv_fail(err, "serve: out of memory");
    /* Dagger http(s) streams may not call back into this server (its
     * ports, the admin port) unless a route's allow-list names the port. */
    set->ndeny_ports = 0;
    set->deny_ports = malloc((cfg->nports + 1) * sizeof *set->deny_ports);
    if (!set->deny_ports)
        return srv_fail(err, "serve: out of memory");
    for (size_t p = 0; p < cfg->nports; p++)
        set->deny_ports[set->ndeny_ports++] = cfg->ports[p].port;
    if (set->admin_port)
        set->deny_ports[set->ndeny_ports++] = set->admin_port;
    rt_result res;
    if (!rt_init(&res))
        return srv_fail(err, "serve: %s", res.msg);
    for (size_t p = 0; p < cfg->nports; p++)
        for (size_t r = 0; r < cfg->ports[p].nroutes; r++) {
            srv_fn *fn = &set->fns[set->n++];
            fn->route = &cfg->ports[p].routes[r];
            fn->deny_ports = set->deny_ports;
            fn->ndeny_ports = set->ndeny_ports;
            srv_admit_route_init(&fn->admit, fn->route);
            srv_fn_load(fn);
            if (fn->kind == SRV_FN_BROKEN)
                srv_log(SRV_LOG_ERROR, "route %s: %s (answers 503)", fn->route->name, fn->broken);
            else if (fn->kind == SRV_FN_WASM)
                srv_log(SRV_LOG_INFO, "route %s (%s): loaded %s%s%s", fn->route->prefix, fn->route->name,
                        fn->route->path, fn->snap ? ", requests start from a snapshot of " : "",
                        fn->snap ? (fn->route->snapshot ? fn->route->snapshot
                                    : fn->route->remote ? "the store's" : "its init export") : "");
        }
    return true;
}

void srv_fnset_free(srv_fnset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        srv_refetch_free(set->fns[i].refetch);     /* waits for a retry in flight */
        srv_fn_unload(&set->fns[i]);
    }
    free(set->fns);
    free(set->deny_ports);
    set->fns = NULL;
    set->deny_ports = NULL;
    set->n = set->ndeny_ports = 0;
}

srv_fn *srv_fnset_find(const srv_fnset *set, const srv_route *route)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->fns[i].route == route)
            return &set->fns[i];
    return NULL;
}

/* ---- one request ------------------------------------------------------------ */

/* A bump allocator over one block sized up front; every string of the
 * request's environment lives there. */
typedef struct arena {
    char *p, *end;
} arena;

static char *arena_put(arena *a, const char *s1, size_t n1, const char *s2, size_t n2)
{
    if ((size_t)(a->end - a->p) < n1 + n2 + 1)
        return NULL;
    char *r = a->p;
    memcpy(a->p, s1, n1);
    memcpy(a->p + n1, s2, n2);
    a->p[n1 + n2] = '\0';
    a->p += n1 + n2 + 1;
    return r;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into the arena ('+' is a space, as in forms). */
static char *arena_decode(arena *a, const char *s, size_t n)
{
    if ((size_t)(a->end - a->p) < n + 1)
        return NULL;
    char *r = a->p, *o = a->p;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o++ = '\0';
    a->p = o;
    return r;
}

/* Appends s to out->small at *n, as much as fits (one byte stays for
 * nothing: bodies are not NUL-terminated, but the cap keeps them short). */
static void small_put(srv_outcome *out, size_t *n, const char *s, size_t len)
{
    size_t room = sizeof out->small - 1 - *n;
    if (len > room)
        len = room;
    memcpy(out->small + *n, s, len);
    *n += len;
}

/* A JSON error body {"error":"KIND"[,"FIELD":"VALUE" or number]} in
 * out->small, put together without printf (this is on the request path:
 * 429s, 499s, 504s under load). */
static void outcome_json(srv_outcome *out, int status, const char *kind, const char *field, const char *value,
                         bool quoted)
{
    size_t n = 0;
    out->status = status;
    out->content_type = "application/json";
    small_put(out, &n, "{\"error\":\"", 10);
    small_put(out, &n, kind, strlen(kind));
    small_put(out, &n, "\"", 1);
    if (field) {
        small_put(out, &n, ",\"", 2);
        small_put(out, &n, field, strlen(field));
        small_put(out, &n, quoted ? "\":\"" : "\":", quoted ? 3 : 2);
        small_put(out, &n, value, strlen(value));
        if (quoted)
            small_put(out, &n, "\"", 1);
    }
    small_put(out, &n, "}\n", 2);
    out->body = out->small;
    out->body_len = n;
}

void srv_outcome_error(srv_outcome *out, int status, const char *kind)
{
    outcome_json(out, status, kind, NULL, NULL, false);
}

static void outcome_trap(srv_outcome *out, const char *kind)
{
    outcome_json(out, 500, "trap", "kind", kind, true);
}

/* v in decimal at p, NUL-terminated, with its sign. */
static char *put_i64(char *p, int64_t v)
{
    if (v < 0)
        *p++ = '-';
    p = ut_put_u64(p, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    *p = '\0';
    return p;
}

/* WAGI output: header lines ("Name: value"), a blank line, the body.
 * Status: sets the code, Content-Type: the type, Location: without Status
 * means 302; other headers pass through (srv_complete drops unsafe ones). */
static void wagi_parse(srv_outcome *out, const uint8_t *buf, size_t len, char *hdr_copy)
{
    size_t i = 0, hstart = 0;
    const uint8_t *end = NULL;
    for (i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        size_t ll = i - hstart;
        if (ll == 0 || (ll == 1 && buf[hstart] == '\r')) {
            end = buf + i + 1;
            break;
        }
        hstart = i + 1;
    }
    if (!end) {
        srv_outcome_error(out, 500, "WAGI output has no blank line after its headers");
        return;
    }
    size_t hlen = (size_t)(end - buf);
    memcpy(hdr_copy, buf, hlen);
    hdr_copy[hlen] = '\0';
    out->status = 200;
    bool have_status = false, have_location = false;
    char *save = NULL;
    for (char *line = strtok_r(hdr_copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (!ll)
            continue;
        char *colon = strchr(line, ':');
        if (!colon) {
            srv_outcome_error(out, 500, "malformed WAGI header line");
            return;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!strcasecmp(line, "Status")) {
            char *e;
            long code = strtol(v, &e, 10);
            if (code < 100 || code > 599 || e == v) {
                srv_outcome_error(out, 500, "bad WAGI Status");
                return;
            }
            out->status = (int)code;
            have_status = true;
        } else if (!strcasecmp(line, "Content-Type")) {
            out->content_type = v;
        } else if (out->nheaders < SRV_SANDBOX_MAX_HEADERS) {
            if (!strcasecmp(line, "Location"))
                have_location = true;
            http_header *h = &out->headers[out->nheaders++];
            h->name = line;
            h->name_len = strlen(line);
            h->value = v;
            h->value_len = strlen(v);
        }
    }
    if (have_location && !have_status)
        out->status = 302;
    out->body = end;
    out->body_len = len - hlen;
}

/* Guest stderr (WASI's or Dagger's) → log, line by line, each with the
 * request id. */
static void log_stderr(const srv_fn *fn, const srv_request *req, const uint8_t *p, size_t len, bool trunc)
{
    while (p && len) {
        const uint8_t *nl = memchr(p, '\n', len);
        size_t ll = nl ? (size_t)(nl - p) : len;
        srv_log(SRV_LOG_INFO, "request %llu: route %s: stderr: %.*s", (unsigned long long)req->id,
                fn->route->name, (int)(ll > 400 ? 400 : ll), (const char *)p);
        if (!nl)
            break;
        len -= ll + 1;
        p = nl + 1;
    }
    if (trunc)
        srv_log(SRV_LOG_INFO, "request %llu: route %s: stderr truncated", (unsigned long long)req->id,
                fn->route->name);
}

/* A guest that exits non-zero gets a 500 and its output is dropped: the
 * first bytes of it go to the log (one line, control bytes escaped) so its
 * author can see why. */
#define SRV_EXIT_STDOUT_LOGGED 256
static void log_stdout_head(const srv_fn *fn, const srv_request *req, const uint8_t *p, size_t len)
{
    if (!p || !len)
        return;
    char line[4 * SRV_EXIT_STDOUT_LOGGED + 1];
    size_t o = 0, k;
    for (k = 0; k < len && k < SRV_EXIT_STDOUT_LOGGED; k++) {
        unsigned char c = p[k];
        const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '\\' ? "\\\\" : NULL;
        if (esc) {
            memcpy(line + o, esc, 2);
            o += 2;
        } else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            line[o++] = '\\';
            line[o++] = 'x';
            line[o++] = hex[c >> 4];
            line[o++] = hex[c & 15];
        } else {
            line[o++] = (char)c;
        }
    }
    line[o] = '\0';
    srv_log(SRV_LOG_INFO, "request %llu: route %s: stdout (%zu bytes%s): %s", (unsigned long long)req->id,
            fn->route->name, len, k < len ? ", first 256 shown" : "", line);
}

/* A Dagger log:// line → the server log, with the request id. */
typedef struct srv_dagger_log {
    unsigned long long id;
    const char *route;
} srv_dagger_log;

static void log_dagger_line(void *arg, const char *line, size_t len)
{
    const srv_dagger_log *l = arg;
    srv_log(SRV_LOG_INFO, "request %llu: route %s: log: %.*s", l->id, l->route, (int)(len > 400 ? 400 : len), line);
}

/* What the guest wrote to its stdout: through CommonWA's or Dagger's
 * streams when it is such a guest, else WASI's fd 1. */
static const uint8_t *guest_stdout(const wedge_instance *inst, const wasi_ctx *wasi, bool cwa, bool dagger,
                                   size_t *len, bool *trunc)
{
    if (cwa)
        return cwa_instance_output(inst, 1, len, trunc);
    if (dagger)
        return dagger_instance_output(inst, 1, len, trunc);
    return wasi ? wasi_ctx_output(wasi, 1, len, trunc) : NULL;
}

void srv_sandbox_exec(const srv_fn *fn, const srv_request *req, uint64_t kill_ns, rt_mempool *pool, srv_outcome *out)
{
    uint64_t t0 = ut_mono_ns();
    const http_request *h = req->http;
    const srv_route *route = fn->route;
    memset(out, 0, sizeof *out);

    /* Room for every string: each header twice over (HTTP_ name + value),
     * the target five times over (PATH_INFO, QUERY_STRING, REQUEST_URI,
     * argv values with one terminator each), the fixed variables. */
    size_t need = 4096 + 5 * h->target_len + 2 * strlen(route->name);
    size_t nq = 1;
    for (size_t i = 0; i < h->query_len; i++)
        nq += h->query[i] == '&';
    for (size_t i = 0; i < h->nheaders; i++)
        need += 2 * (h->headers[i].name_len + h->headers[i].value_len) + 16;
    size_t nenv_max = 16 + h->nheaders;
    size_t ptrs = (nenv_max + nq + 2) * sizeof(char *);
    /* A WAGI route's header copy (at most 64 KiB + NUL) goes after the strings. */
    size_t wagi_room = route->wagi ? SRV_WAGI_HEAD_MAX + 1 : 0;
    out->scratch = srv_scratch_take(ptrs + need + wagi_room);
    if (!out->scratch) {
        if (ptrs + need + wagi_room > SRV_SCRATCH_MAX) {
            srv_log(SRV_LOG_WARN, "request %llu: route %s: its arguments, environment and headers need %zu "
                    "bytes, more than the %zu a sandbox gets", (unsigned long long)req->id, route->name,
                    ptrs + need + wagi_room, SRV_SCRATCH_MAX);
            srv_outcome_error(out, 431, "request too large for the sandbox's environment");
        } else {
            srv_outcome_error(out, 503, "out of memory");
        }
        return;
    }
    const char **argv = (const char **)out->scratch;
    const char **envp = argv + nq + 2;
    arena a = { out->scratch + ptrs, out->scratch + ptrs + need };
    int argc = 0, envc = 0;

    argv[argc++] = route->name;
    for (const char *p = h->query, *qend = h->query + h->query_len; p < qend && (size_t)argc < nq + 1;) {
        const char *amp = memchr(p, '&', (size_t)(qend - p));
        const char *stop = amp ? amp : qend;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *v = eq ? eq + 1 : p;
        if (stop > p) {
            char *s = arena_decode(&a, v, (size_t)(stop - v));
            if (s)
                argv[argc++] = s;
        }
        p = stop + 1;
    }

    char num[2 * UT_U64_DIGITS + 8];      /* the longest: HTTP/major.minor */
    const char *path_info = h->path;
    size_t pi_len = h->path_len;
    /* PATH_INFO is the part after the matched route (WAGI); "/" routes keep all. */
    if (route->prefix_len > 1 && pi_len >= route->prefix_len) {
        path_info += route->prefix_len;
        pi_len -= route->prefix_len;
    }
#define ENV(name, val, vlen)                                                    \
    do {                                                                        \
        char *e_ = arena_put(&a, name "=", sizeof name, (val), (vlen));         \
        if (e_ && (size_t)envc < nenv_max)                                      \
            envp[envc++] = e_;                                                  \
    } while (0)
    ENV("REQUEST_METHOD", h->method, strlen(h->method));
    ENV("PATH_INFO", path_info, pi_len);
    ENV("SCRIPT_NAME", route->prefix, route->prefix_len);
    ENV("X_MATCHED_ROUTE", route->prefix, route->prefix_len);
    ENV("QUERY_STRING", h->query, h->query_len);
    ENV("REQUEST_URI", h->target, h->target_len);
    ENV("CONTENT_LENGTH", num, (size_t)(ut_put_u64(num, h->body_len) - num));
    /* Content-Type is a singleton field (RFC 9110 §8.3); a request that
     * repeats it gets the first, as every header lookup in serve does. */
    const http_header *ctype = http_request_header(h, "Content-Type");
    ENV("CONTENT_TYPE", ctype ? ctype->value : "", ctype ? ctype->value_len : 0);
    char *np = ut_put_u64(num + 5, h->http_major);
    memcpy(num, "HTTP/", 5);
    *np++ = '.';
    np = ut_put_u64(np, h->http_minor);
    ENV("SERVER_PROTOCOL", num, (size_t)(np - num));
    ENV("SERVER_SOFTWARE", "wedge", 5);
    ENV("GATEWAY_INTERFACE", "CGI/1.1", 7);
    ENV("SERVER_PORT", num, (size_t)(ut_put_u64(num, req->port ? req->port->port : 0) - num));
#undef ENV
    for (size_t i = 0; i < h->nheaders && (size_t)envc < nenv_max; i++) {
        const http_header *hd = &h->headers[i];
        char *e = arena_put(&a, "HTTP_", 5, hd->name, hd->name_len);
        if (!e)
            break;
        for (char *c = e + 5; *c; c++)
            *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        /* Replace the terminator by '=' and append the value. */
        a.p--;
        if (!arena_put(&a, "=", 1, hd->value, hd->value_len))
            break;
        envp[envc++] = e;
    }

    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argc = argc;
    cfg.argv = argv;
    cfg.envc = envc;
    cfg.envp = envp;
    cfg.stdio[0] = (wasi_stdio){ .host_fd = -1, .in_buf = h->body, .in_len = h->body_len };
    cfg.stdio[1] = (wasi_stdio){ .host_fd = -1, .out_limit = SRV_SANDBOX_STDOUT_LIMIT };
    cfg.stdio[2] = (wasi_stdio){ .host_fd = -1, .out_limit = SRV_SANDBOX_STDERR_LIMIT };
    cfg.deadline_ns = kill_ns;
    cfg.wait_yield = srv_sched_wait_yield;   /* poll_oneoff gives its worker away, as Dagger's http */
    cfg.npreopens = route->ndirs;
    cfg.preopens = route->dirs;

    /* This request's WASI config goes to the route's shared linker as a
     * per-instance one; the context lives with the instance. */
    const void *host_cfg[SRV_HOST_SLOTS] = {0};
    host_cfg[fn->wasi_slot] = &cfg;
    /* Dagger's: the same body in, the response and stderr kept in memory,
     * log:// lines to the log, the route's http(s) allow-list. */
    srv_dagger_log dlog = {(unsigned long long)req->id, route->name};
    dagger_config dcfg = {.stdio_fd = {-1, -1, -1}, .log_fd = -1, .in_buf = h->body, .in_len = h->body_len,
                          .out_limit = {0, SRV_SANDBOX_STDOUT_LIMIT, SRV_SANDBOX_STDERR_LIMIT},
                          .log_fn = log_dagger_line, .log_arg = &dlog,
                          .nallow_http = (int)route->nallow_http, .allow_http = route->allow_http,
                          .ca_file = route->ca_file, .ndeny_ports = (int)fn->ndeny_ports,
                          .deny_ports = fn->deny_ports, .deadline_ns = kill_ns,
                          .npreopens = route->ndirs, .preopens = route->dirs, .wait_yield = srv_sched_wait_yield};
    host_cfg[fn->dagger_slot] = &dcfg;
    /* CommonWA's: WASI's argv and environment, Dagger's streams. */
    cwa_config ccfg = {.argc = argc, .argv = argv, .envc = envc, .envp = envp, .streams = dcfg};
    host_cfg[fn->cwa_slot] = &ccfg;
    rt_limits lim = { .max_memory_pages = route->max_memory_mb ? route->max_memory_mb * WEDGE_WASM_PAGES_PER_MIB : 0 };
    rt_result res;
    memset(&res, 0, sizeof res);
    /* A lazy store route (srv_lazy.h): until the node has the whole
     * snapshot, the small state in a new memory filled by page faults. */
    srv_lazy_req lazy = {0};
    const rt_snapshot *snap = fn->lazy ? srv_lazy_begin(fn->lazy, fn->snap, kill_ns, &lazy) : fn->snap;
    rt_status st = snap
        ? rt_snapshot_instantiate(snap, &lim, fn->linker, host_cfg, lazy.z ? NULL : pool, &out->inst, &res)
        : rt_instantiate_pooled(fn->mod, &lim, fn->linker, host_cfg, pool, &out->inst, &res);
    bool cwa = st == RT_OK && cwa_instance_is_guest(out->inst);
    bool dagger = st == RT_OK && !cwa && dagger_instance_is_guest(out->inst);
    bool run = st == RT_OK && (!lazy.z || srv_lazy_attach(&lazy, out->inst));
    srv_log(SRV_LOG_DEBUG, "request %llu: route %s: instantiated in %llu us", (unsigned long long)req->id,
            route->name, (unsigned long long)((ut_mono_ns() - t0) / 1000));
    if (run)
        st = route->entry ? rt_run_export(out->inst, route->entry, &res)
             : cwa        ? cwa_run_main(out->inst, &res)
             : dagger     ? dagger_run_main(out->inst, &res)
                          : rt_run_start(out->inst, &res);
    out->exec_ns = ut_mono_ns() - t0;
    const wasi_ctx *wasi = wasi_instance_ctx(out->inst);
    size_t elen = 0;
    bool etrunc = false;
    const uint8_t *ep = wasi ? wasi_ctx_output(wasi, 2, &elen, &etrunc) : NULL;
    log_stderr(fn, req, ep, elen, etrunc);
    ep = out->inst ? dagger_instance_output(out->inst, 2, &elen, &etrunc) : NULL;
    log_stderr(fn, req, ep, elen, etrunc);
    ep = out->inst ? cwa_instance_output(out->inst, 2, &elen, &etrunc) : NULL;
    log_stderr(fn, req, ep, elen, etrunc);

    if (st == RT_ERR_EXIT && res.exit_code == 0)
        st = RT_OK;
    /* 502/504 when a lazy fetch failed: nothing from a half-fetched memory. */
    if (lazy.z && srv_lazy_finish(&lazy, (unsigned long long)req->id,
                                  st == RT_ERR_TRAP && res.trap == WEDGE_TRAP_TIMEOUT, out))
        return;
    switch (st) {
    case RT_OK: {
        size_t len = 0;
        bool trunc = false;
        const uint8_t *body = guest_stdout(out->inst, wasi, cwa, dagger, &len, &trunc);
        if (trunc) {
            srv_log(SRV_LOG_WARN, "request %llu: route %s: response larger than %zu bytes",
                    (unsigned long long)req->id, route->name, SRV_SANDBOX_STDOUT_LIMIT);
            srv_outcome_error(out, 500, "response too large");
            break;
        }
        if (route->wagi) {
            /* The header copy goes to the room kept after the strings. */
            size_t hl = len < SRV_WAGI_HEAD_MAX ? len : SRV_WAGI_HEAD_MAX;
            wagi_parse(out, body, hl, out->scratch + ptrs + need);
            if (out->body == (const void *)out->small)
                break;
            /* The parse looked at the first 64 KiB only; the body runs to the end. */
            out->body_len = len - (size_t)((const uint8_t *)out->body - body);
            if (!out->content_type)
                out->content_type = route->content_type;
        } else {
            out->status = 200;
            out->content_type = route->content_type;
            out->body = body;
            out->body_len = len;
        }
        break;
    }
    case RT_ERR_EXIT: {
        char code[UT_U64_DIGITS + 2];
        put_i64(code, res.exit_code);
        outcome_json(out, 500, "exit", "code", code, false);
        srv_log(SRV_LOG_INFO, "request %llu: route %s: exit code %d", (unsigned long long)req->id, route->name,
                res.exit_code);
        size_t olen = 0;
        bool otrunc = false;
        const uint8_t *ob = guest_stdout(out->inst, wasi, cwa, dagger, &olen, &otrunc);
        log_stdout_head(fn, req, ob, olen);
        break;
    }
    case RT_ERR_TRAP:
        if (res.trap == WEDGE_TRAP_TIMEOUT && atomic_load(&req->cancelled)) {
            srv_outcome_error(out, 499, "client gone");     /* the worker stopped it (srv_worker.c) */
            srv_log(SRV_LOG_INFO, "request %llu: route %s: stopped, its client left", (unsigned long long)req->id,
                    route->name);
        } else if (res.trap == WEDGE_TRAP_TIMEOUT) {
            out->timed_out = true;
            srv_outcome_error(out, 504, "timeout");
            srv_log(SRV_LOG_WARN, "request %llu: route %s: killed after its timeout", (unsigned long long)req->id,
                    route->name);
        } else {
            out->trapped = true;
            outcome_trap(out, rt_trap_name(res.trap));
            srv_log(SRV_LOG_WARN, "request %llu: route %s: wasm trap: %s", (unsigned long long)req->id, route->name,
                    rt_trap_name(res.trap));
        }
        break;
    case RT_ERR_RESOURCE:
        srv_log(SRV_LOG_ERROR, "request %llu: route %s: %s", (unsigned long long)req->id, route->name, res.msg);
        srv_outcome_error(out, 503, "out of resources");
        break;
    case RT_ERR_HOST:
        srv_log(SRV_LOG_ERROR, "request %llu: route %s: %s", (unsigned long long)req->id, route->name, res.msg);
        srv_outcome_error(out, 503, "cannot set up the host context");
        break;
    default:
        srv_log(SRV_LOG_ERROR, "request %llu: route %s: %s", (unsigned long long)req->id, route->name, res.msg);
        srv_outcome_error(out, 500, "cannot instantiate");
        break;
    }
}

void srv_outcome_release(srv_outcome *out)
{
    if (out->inst)
        rt_instance_free(out->inst);
    srv_scratch_give(out->scratch);
    out->inst = NULL;
    out->scratch = NULL;
}
