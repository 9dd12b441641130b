/*
 * srv_config.c — reading the `wedge serve` JSON configuration (both forms of
 * SPEC §4) into the normalised srv_config, refusing anything doubtful with
 * one line that names the key.
 *
 * cJSON builds a tree; we walk it once, checking every key of every object
 * against the list of keys that object may have, and copy what we keep into
 * one arena owned by the srv_config.  The cJSON tree is freed before
 * returning, so nothing points into it.
 */
#include "srv_config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/st_transport.h"
#include "util/util.h"

/* ---- the arena behind a srv_config ------------------------------------------ */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

static void *arena_alloc(chunk **head, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    chunk *c = *head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = *head;
        c->used = 0;
        c->cap = cap;
        *head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

static char *arena_strdup(chunk **a, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_alloc(a, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* ---- walking state ------------------------------------------------------------ */

typedef struct ctx {
    const char *label;          /* file name for messages */
    const char *base_dir;
    chunk *arena;
    srv_err *err;
} ctx;

/* Key paths like "[0].routes[2].port" are built on the stack. */
#define KEYPATH_MAX 160

static bool key_fail(ctx *x, const char *keypath, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool key_fail(ctx *x, const char *keypath, const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return srv_fail(x->err, "%s: key \"%s\": %s", x->label, keypath, reason);
}

static bool oom(ctx *x)
{
    return srv_fail(x->err, "%s: out of memory", x->label);
}

/* Key paths only ever appear in one-line messages: over-long ones are cut
 * and control characters (a key may hold "\n") become '?'. */
static void put_key(char *out, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    for (const char *parts[3] = { a, b, c }, **p = parts; p < parts + 3; p++)
        for (const char *s = *p; *s && n < KEYPATH_MAX - 1; s++)
            out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = '\0';
}

static void join_key(char *out, const char *parent, const char *key)
{
    put_key(out, parent, *parent ? "." : "", key);
}

static void index_key(char *out, const char *parent, size_t i)
{
    char num[24];
    snprintf(num, sizeof num, "[%zu]", i);
    put_key(out, parent, num, "");
}

/* Every key of `obj` must be in `allowed` (NULL-terminated) and appear once. */
static bool check_keys(ctx *x, const cJSON *obj, const char *parent, const char *const *allowed)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        char kp[KEYPATH_MAX];
        join_key(kp, parent, it->string ? it->string : "");
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            if (it->string && !strcmp(*a, it->string))
                known = true;
        if (!known)
            return key_fail(x, kp, "unknown key");
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, it->string))
                return key_fail(x, kp, "duplicate key");
    }
    return true;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    for (const cJSON *it = obj->child; it; it = it->next)
        if (it->string && !strcmp(it->string, key))
            return it;
    return NULL;
}

/* An integer in [lo, hi]; absent: *out = dflt, or an error when required. */
static bool get_uint(ctx *x, const cJSON *obj, const char *parent, const char *key,
                     bool required, uint64_t dflt, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, key);
    const cJSON *v = get(obj, key);
    if (!v) {
        if (required)
            return key_fail(x, kp, "missing (required)");
        *out = dflt;
        return true;
    }
    if (!cJSON_IsNumber(v))
        return key_fail(x, kp, "must be an integer");
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return key_fail(x, kp, "must be an integer");
    if (d < (double)lo || d > (double)hi)
        return key_fail(x, kp, "%.0f is out of range %llu..%llu", d, (unsigned long long)lo,
                        (unsigned long long)hi);
    *out = (uint64_t)d;
    return true;
}

/* A string of printable ASCII, 1..maxlen bytes; copied into the arena. */
static bool get_str(ctx *x, const cJSON *obj, const char *parent, const char *key,
                    bool required, const char *dflt, size_t maxlen, const char **out)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, key);
    const cJSON *v = get(obj, key);
    if (!v) {
        if (required)
            return key_fail(x, kp, "missing (required)");
        *out = dflt;
        return true;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return key_fail(x, kp, "must be a string");
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n == 0)
        return key_fail(x, kp, "must not be empty");
    if (n > maxlen)
        return key_fail(x, kp, "longer than %zu bytes", maxlen);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return key_fail(x, kp, "contains a control character");
    if (!(*out = arena_strdup(&x->arena, s)))
        return oom(x);
    return true;
}

static bool get_bool(ctx *x, const cJSON *obj, const char *parent, const char *key, bool dflt, bool *out)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, key);
    const cJSON *v = get(obj, key);
    if (!v) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsBool(v))
        return key_fail(x, kp, "must be true or false");
    *out = cJSON_IsTrue(v);
    return true;
}

/* p as an arena string, taken from the configuration file's directory
 * when relative; NULL (and the error set) when memory runs out. */
static const char *from_config_dir(ctx *x, const char *p)
{
    size_t n = strlen(p) + 1 + (p[0] != '/' && x->base_dir && *x->base_dir ? strlen(x->base_dir) + 1 : 0);
    char *full = arena_alloc(&x->arena, n);
    if (!full) {
        oom(x);
        return NULL;
    }
    if (n > strlen(p) + 1)
        snprintf(full, n, "%s/%s", x->base_dir, p);
    else
        memcpy(full, p, n);
    return full;
}

/* `key` must name an existing regular file; relative paths are taken from
 * the configuration file's directory, as Spin and wasmtime do. */
static bool get_file(ctx *x, const cJSON *obj, const char *parent, const char *key, bool required,
                     const char **out)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, key);
    const char *p;
    if (!get_str(x, obj, parent, key, required, NULL, 4096, &p))
        return false;
    if (!p) {
        *out = NULL;
        return true;
    }
    if (!(p = from_config_dir(x, p)))
        return false;
    struct stat st;
    if (stat(p, &st) != 0)
        return key_fail(x, kp, "%s: %s", p, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return key_fail(x, kp, "%s: not a regular file", p);
    *out = p;
    return true;
}

static bool get_path(ctx *x, const cJSON *obj, const char *parent, const char **out)
{
    /* A store URL is no file here: the route fetches it when it loads. */
    const cJSON *v = get(obj, "path");
    if (cJSON_IsString(v) && st_url_is_store(v->valuestring))
        return get_str(x, obj, parent, "path", true, NULL, 4096, out);
    return get_file(x, obj, parent, "path", true, out);
}

static bool check_route_syntax(ctx *x, const char *kp, const char *r)
{
    if (r[0] != '/')
        return key_fail(x, kp, "must start with '/'");
    for (const char *c = r; *c; c++)
        if (*c == '?' || *c == '#' || *c == ' ' || (unsigned char)*c > 0x7e)
            return key_fail(x, kp, "must not contain '%c'", *c);
    return true;
}

/* What a Dagger function's http(s):// streams may fetch: "allow-http", an
 * array of URL patterns (src/dagger/dagger.h says how they match), and
 * "ca-file", a PEM bundle of CAs to trust (relative to the configuration's
 * directory). */
static bool get_http_access(ctx *x, const cJSON *obj, const char *parent, srv_route *r)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, "allow-http");
    const cJSON *list = get(obj, "allow-http");
    if (list) {
        if (!cJSON_IsArray(list))
            return key_fail(x, kp, "must be an array of URL patterns");
        size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
        const char **pats = arena_alloc(&x->arena, (n ? n : 1) * sizeof *pats);
        if (!pats)
            return oom(x);
        for (const cJSON *it = list->child; it; it = it->next, i++) {
            char ikp[KEYPATH_MAX];
            index_key(ikp, kp, i);
            const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
            if (!s || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)))
                return key_fail(x, ikp, "must be a string starting with http:// or https://");
            for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                    return key_fail(x, ikp, "contains a space or a control character");
            if (!(pats[i] = arena_strdup(&x->arena, s)))
                return oom(x);
        }
        r->allow_http = pats;
        r->nallow_http = i;
    }
    const char *ca = NULL;
    if (!get_str(x, obj, parent, "ca-file", false, NULL, 4096, &ca))
        return false;
    if (ca && ca[0] != '/' && x->base_dir && *x->base_dir) {
        size_t n = strlen(x->base_dir) + 1 + strlen(ca) + 1;
        char *full = arena_alloc(&x->arena, n);
        if (!full)
            return oom(x);
        snprintf(full, n, "%s/%s", x->base_dir, ca);
        ca = full;
    }
    if (ca && access(ca, R_OK) != 0) {
        join_key(kp, parent, "ca-file");
        return key_fail(x, kp, "%s: %s", ca, strerror(errno));
    }
    r->ca_file = ca;
    return true;
}

/* The keys a route and a module entry share; filled in order. */
static bool get_function(ctx *x, const cJSON *obj, const char *parent, srv_route *r)
{
    uint64_t v;
    if (!get_path(x, obj, parent, &r->path))
        return false;
    r->remote = st_url_is_store(r->path);
    if (!get_uint(x, obj, parent, "relative-deadline-us", true, 0, 1, SRV_MAX_DEADLINE_US, &v))
        return false;
    r->relative_deadline_us = v;
    if (!get_uint(x, obj, parent, "expected-execution-us", false, 0, 0, SRV_MAX_DEADLINE_US, &v))
        return false;
    if (v > r->relative_deadline_us) {
        char kp[KEYPATH_MAX];
        join_key(kp, parent, "expected-execution-us");
        return key_fail(x, kp, "exceeds relative-deadline-us (%llu)", (unsigned long long)r->relative_deadline_us);
    }
    r->expected_execution_us = v;
    if (!get_uint(x, obj, parent, "admissions-percentile", false, SRV_DEFAULT_PERCENTILE, 50, 99, &v))
        return false;
    r->admissions_percentile = (uint32_t)v;
    if (!get_str(x, obj, parent, "http-resp-content-type", false, SRV_DEFAULT_CONTENT_TYPE, 255, &r->content_type))
        return false;
    return get_http_access(x, obj, parent, r);
}

/* SLEdge's module list also carries these; they describe buffer sizes and
 * request headers its runtime needed.  wedge needs none of them, and
 * accepts them so that SLEdge configurations load unchanged. */
#define SLEDGE_LEGACY_KEYS "active", "argsize", "http-req-headers", "http-req-content-type", \
    "http-req-size", "http-resp-headers", "http-resp-size"

static bool load_module(ctx *x, const cJSON *obj, const char *kp, srv_port *port)
{
    static const char *const keys[] = { "name", "path", "port", "relative-deadline-us",
        "expected-execution-us", "admissions-percentile", "http-resp-content-type",
        "allow-http", "ca-file", SLEDGE_LEGACY_KEYS, NULL };
    if (!check_keys(x, obj, kp, keys))
        return false;
    srv_route *r = arena_alloc(&x->arena, sizeof *r);
    if (!r)
        return oom(x);
    uint64_t v;
    if (!get_str(x, obj, kp, "name", true, NULL, 255, &r->name) ||
        !get_uint(x, obj, kp, "port", true, 0, 1, 65535, &v) ||
        !get_function(x, obj, kp, r))
        return false;
    port->port = (uint16_t)v;
    port->tenant = r->name;
    r->prefix = "/";
    r->prefix_len = 1;
    port->routes = r;
    port->nroutes = 1;
    return true;
}

/* Store routes' keys: "fetch", "granularity", "store-key-file" (only with
 * a store URL as path; the URL itself is checked when the route loads). */
static bool get_remote(ctx *x, const cJSON *obj, const char *kp, srv_route *r)
{
    if (!get_str(x, obj, kp, "fetch", false, NULL, 16, &r->fetch) ||
        !get_str(x, obj, kp, "granularity", false, NULL, 32, &r->granularity) ||
        !get_file(x, obj, kp, "store-key-file", false, &r->store_key_file))
        return false;
    char k[KEYPATH_MAX];
    if (!r->remote && (r->fetch || r->granularity || r->store_key_file)) {
        join_key(k, kp, r->fetch ? "fetch" : r->granularity ? "granularity" : "store-key-file");
        return key_fail(x, k, "only for a route whose path is wedge://HOST:PORT/NAME or redis://HOST:PORT/NAME");
    }
    if (r->fetch && strcmp(r->fetch, "eager") && strcmp(r->fetch, "lazy")) {
        join_key(k, kp, "fetch");
        return key_fail(x, k, "must be \"eager\" or \"lazy\"");
    }
    if (r->granularity && strcmp(r->granularity, "page") && strcmp(r->granularity, "instance") &&
        strcmp(r->granularity, "module") && strncmp(r->granularity, "region:", 7)) {
        join_key(k, kp, "granularity");
        return key_fail(x, k, "must be \"page\", \"region:KIB\", \"instance\" or \"module\"");
    }
    /* "module" fetches the .wasm only: its init (if any) runs here. */
    bool module_only = r->granularity && !strcmp(r->granularity, "module");
    if (r->remote && (r->snapshot || (r->init && !module_only))) {
        join_key(k, kp, r->snapshot ? "snapshot" : "init");
        return key_fail(x, k, "a store route's snapshot comes from the store (\"init\" only with \"granularity\": "
                              "\"module\")");
    }
    return true;
}

#define SRV_MAX_DIRS 64u

/* "dirs": {"HOST": "/GUEST" or "/GUEST:rw"}, as `wedge run --dir
 * HOST::GUEST` but read-only unless ":rw".  A relative HOST is taken from
 * the configuration's directory, like "path"; it must be a directory now. */
static bool get_dirs(ctx *x, const cJSON *obj, const char *parent, srv_route *r)
{
    char kp[KEYPATH_MAX];
    join_key(kp, parent, "dirs");
    const cJSON *v = get(obj, "dirs");
    if (!v)
        return true;
    if (!cJSON_IsObject(v))
        return key_fail(x, kp, "must be an object {\"HOST_DIR\": \"/GUEST_DIR[:rw]\"}");
    int n = cJSON_GetArraySize(v);
    if ((unsigned)n > SRV_MAX_DIRS)
        return key_fail(x, kp, "more than %u directories", SRV_MAX_DIRS);
    wasi_preopen *d = arena_alloc(&x->arena, (size_t)(n ? n : 1) * sizeof *d);
    if (!d)
        return oom(x);
    int i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char ek[KEYPATH_MAX];
        join_key(ek, kp, it->string ? it->string : "");
        const char *host = it->string ? it->string : "", *guest;
        for (const cJSON *prev = v->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, host))
                return key_fail(x, ek, "duplicate key");
        if (!*host)
            return key_fail(x, ek, "the host directory must not be empty");
        if (!get_str(x, v, kp, host, true, NULL, 4096, &guest))
            return false;
        size_t gl = strlen(guest);
        bool rw = gl >= 3 && !strcmp(guest + gl - 3, ":rw");
        bool ro = gl >= 3 && !strcmp(guest + gl - 3, ":ro");
        if (rw || ro) {
            char *g = (char *)guest;      /* our own arena copy */
            g[gl - 3] = '\0';
        }
        if (guest[0] != '/')
            return key_fail(x, ek, "the guest directory must start with '/' (and may end in :rw or :ro)");
        const char *full = from_config_dir(x, host);
        if (!full)
            return false;
        struct stat st;
        if (stat(full, &st) != 0)
            return key_fail(x, ek, "%s: %s", full, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return key_fail(x, ek, "%s: not a directory", full);
        d[i] = (wasi_preopen){ .host_path = full, .guest_path = guest, .readonly = !rw };
    }
    r->dirs = d;
    r->ndirs = n;
    return true;
}

static bool load_route(ctx *x, const cJSON *obj, const char *kp, const char *tenant, srv_route *r)
{
    static const char *const keys[] = { "route", "path", "relative-deadline-us",
        "expected-execution-us", "admissions-percentile", "http-resp-content-type",
        "timeout-us", "max-memory-mb", "wagi", "dirs", "snapshot", "init", "entry", "allow-http", "ca-file",
        "fetch", "granularity", "store-key-file", NULL };
    if (!cJSON_IsObject(obj))
        return key_fail(x, kp, "must be an object");
    if (!check_keys(x, obj, kp, keys))
        return false;
    char rkp[KEYPATH_MAX];
    join_key(rkp, kp, "route");
    uint64_t v;
    if (!get_str(x, obj, kp, "route", true, NULL, SRV_MAX_ROUTE_LEN, &r->prefix) ||
        !check_route_syntax(x, rkp, r->prefix) ||
        !get_function(x, obj, kp, r))
        return false;
    r->prefix_len = strlen(r->prefix);
    if (!get_uint(x, obj, kp, "timeout-us", false, 0, 0, SRV_MAX_DEADLINE_US, &v))
        return false;
    r->timeout_us = v;
    if (!get_uint(x, obj, kp, "max-memory-mb", false, 0, 1, SRV_MAX_MEMORY_MB, &v))
        return false;
    r->max_memory_mb = (uint32_t)v;
    if (!get_bool(x, obj, kp, "wagi", false, &r->wagi) || !get_dirs(x, obj, kp, r))
        return false;
    if (!get_file(x, obj, kp, "snapshot", false, &r->snapshot) ||
        !get_str(x, obj, kp, "init", false, NULL, 255, &r->init) ||
        !get_str(x, obj, kp, "entry", false, NULL, 255, &r->entry))
        return false;
    if (!get_remote(x, obj, kp, r))
        return false;
    if (r->snapshot && r->init) {
        char ik[KEYPATH_MAX];
        join_key(ik, kp, "init");
        return key_fail(x, ik, "a route starts from \"snapshot\" or takes one with \"init\", not both");
    }
    size_t n = strlen(tenant) + r->prefix_len + 1;
    char *name = arena_alloc(&x->arena, n);
    if (!name)
        return oom(x);
    snprintf(name, n, "%s%s", tenant, r->prefix);
    r->name = name;
    return true;
}

static bool load_tenant(ctx *x, const cJSON *obj, const char *kp, srv_port *port)
{
    static const char *const keys[] = { "name", "port", "routes", NULL };
    if (!check_keys(x, obj, kp, keys))
        return false;
    uint64_t v;
    if (!get_str(x, obj, kp, "name", true, NULL, 255, &port->tenant) ||
        !get_uint(x, obj, kp, "port", true, 0, 1, 65535, &v))
        return false;
    port->port = (uint16_t)v;
    char rkp[KEYPATH_MAX];
    join_key(rkp, kp, "routes");
    const cJSON *routes = get(obj, "routes");
    if (!cJSON_IsArray(routes))
        return key_fail(x, rkp, "must be an array of routes");
    int n = cJSON_GetArraySize(routes);
    if (n <= 0)
        return key_fail(x, rkp, "must not be empty");
    port->routes = arena_alloc(&x->arena, (size_t)n * sizeof *port->routes);
    if (!port->routes)
        return oom(x);
    size_t i = 0;
    for (const cJSON *it = routes->child; it; it = it->next, i++) {
        char ikp[KEYPATH_MAX];
        index_key(ikp, rkp, i);
        srv_route *r = &port->routes[i];
        if (!load_route(x, it, ikp, port->tenant, r))
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(port->routes[j].prefix, r->prefix)) {
                char kk[KEYPATH_MAX];
                join_key(kk, ikp, "route");
                return key_fail(x, kk, "duplicate route \"%s\" (also routes[%zu])", r->prefix, j);
            }
    }
    port->nroutes = i;
    return true;
}

/* The object form's "host": an IPv4 or IPv6 address ("[...]" allowed), as
 * --host takes it; checked here so that a bad one names its key. */
static bool load_host(ctx *x, const cJSON *root, srv_config *cfg)
{
    if (!get_str(x, root, "", "host", false, NULL, 64, &cfg->host))
        return false;
    if (!cfg->host)
        return true;
    const char *h = cfg->host;
    size_t n = strlen(h);
    char a[72];
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        memcpy(a, h + 1, n - 2);
        a[n - 2] = '\0';
    } else {
        memcpy(a, h, n + 1);
    }
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
        return key_fail(x, "host", "\"%s\" is not an IPv4 or IPv6 address", h);
    return true;
}

static bool load_all(ctx *x, const cJSON *root, srv_config *cfg)
{
    /* Two roots: the array of modules or tenants (SPEC §4), or an object
     * with that array as "ports" beside server-wide keys ("host"). */
    const char *lkp = "";
    if (cJSON_IsObject(root)) {
        static const char *const keys[] = { "host", "ports", NULL };
        if (!check_keys(x, root, "", keys) || !load_host(x, root, cfg))
            return false;
        lkp = "ports";
        root = get(root, "ports");
        if (!root)
            return key_fail(x, "ports", "missing (required)");
        if (!cJSON_IsArray(root))
            return key_fail(x, "ports", "must be an array of modules or tenants");
    } else if (!cJSON_IsArray(root)) {
        return srv_fail(x->err, "%s: the configuration must be a JSON array of modules or tenants, or an object "
                        "with them as \"ports\"", x->label);
    }
    int n = cJSON_GetArraySize(root);
    if (n <= 0)
        return srv_fail(x->err, "%s: the configuration lists nothing to serve", x->label);
    cfg->ports = arena_alloc(&x->arena, (size_t)n * sizeof *cfg->ports);
    if (!cfg->ports)
        return oom(x);
    size_t i = 0;
    for (const cJSON *it = root->child; it; it = it->next, i++) {
        char kp[KEYPATH_MAX];
        index_key(kp, lkp, i);
        if (!cJSON_IsObject(it))
            return key_fail(x, kp, "must be an object");
        srv_port *p = &cfg->ports[i];
        /* The form is decided per entry: one with "routes" is a tenant. */
        if (!(get(it, "routes") ? load_tenant(x, it, kp, p) : load_module(x, it, kp, p)))
            return false;
        for (size_t j = 0; j < i; j++)
            if (cfg->ports[j].port == p->port) {
                char pk[KEYPATH_MAX];
                join_key(pk, kp, "port");
                return key_fail(x, pk, "port %u is already used by [%zu] (\"%s\")", p->port, j,
                                cfg->ports[j].tenant);
            }
    }
    cfg->nports = i;
    return true;
}

/* Line and column of a byte offset, for JSON syntax errors. */
static void line_col(const char *text, size_t off, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

bool srv_config_parse(const char *text, size_t len, const char *label,
                      const char *base_dir, srv_config *cfg, srv_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    ctx x = { .label = label ? label : "config", .base_dir = base_dir, .err = err };
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        unsigned line, col;
        line_col(text, off, &line, &col);
        return srv_fail(err, "%s: invalid JSON at line %u, column %u", x.label, line, col);
    }
    /* Only whitespace may follow the document. */
    const char *tail = end;
    while (tail && tail < text + len && (*tail == ' ' || *tail == '\n' || *tail == '\r' || *tail == '\t'))
        tail++;
    bool ok;
    if (tail && tail < text + len && *tail) {
        unsigned line, col;
        line_col(text, (size_t)(tail - text), &line, &col);
        ok = srv_fail(err, "%s: unexpected text after the JSON document at line %u, column %u",
                      x.label, line, col);
    } else {
        ok = load_all(&x, root, cfg);
    }
    cJSON_Delete(root);
    if (!ok) {
        arena_free(x.arena);
        memset(cfg, 0, sizeof *cfg);
        return false;
    }
    cfg->block_ = x.arena;
    return true;
}

bool srv_config_load(const char *file, srv_config *cfg, srv_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    /* A configuration is small; 16 MiB is far beyond any real one. */
    enum { MAX_CONFIG = 16 << 20 };
    size_t n;
    char *text = (char *)ut_read_file(file, MAX_CONFIG, &n);
    if (!text)
        return srv_fail(err, "%s: %s", file, errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
    /* Relative paths in the file are relative to its directory. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    bool ok = srv_config_parse(text, n, file, slash ? (dir[0] ? dir : "/") : NULL, cfg, err);
    free(text);
    return ok;
}

void srv_config_free(srv_config *cfg)
{
    if (!cfg)
        return;
    arena_free(cfg->block_);
    memset(cfg, 0, sizeof *cfg);
}

const srv_route *srv_route_match(const srv_port *port, const char *path, size_t len)
{
    const srv_route *best = NULL;
    for (size_t i = 0; i < port->nroutes; i++) {
        const srv_route *r = &port->routes[i];
        size_t n = r->prefix_len;
        if (n > len || memcmp(r->prefix, path, n) != 0)
            continue;
        /* Match whole segments only: "/fib" must not take "/fibber". */
        bool boundary = n == len || r->prefix[n - 1] == '/' || path[n] == '/';
        if (boundary && (!best || n > best->prefix_len))
            best = r;
    }
    return best;
}
