/*
 * test_serve_config.c — `wedge serve` configuration: both JSON forms, every
 * refusal (each names its key), and runtime settings from flags and the
 * SLEdge environment variables.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/srv_config.h"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/wedge-cfg-XXXXXX");
    cr_assert(mkdtemp(dir));
    const char *files[] = { "fib.so", "hello.wasm", "a.txt" };
    for (size_t i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        cr_assert(f);
        fputs("x", f);
        fclose(f);
    }
}

static void drop_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(serve_config, .init = make_dir, .fini = drop_dir);

static bool parse(const char *json, srv_config *cfg, srv_err *err)
{
    return srv_config_parse(json, strlen(json), "cfg.json", dir, cfg, err);
}

/* Parses `json`, expects a refusal whose message contains `want`. */
static void refuse(const char *json, const char *want)
{
    srv_config cfg;
    srv_err err = { { 0 } };
    bool ok = parse(json, &cfg, &err);
    cr_assert(!ok, "accepted: %s", json);
    cr_assert(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
    cr_assert(!strncmp(err.msg, "cfg.json: ", 10), "message \"%s\" does not name the file", err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
    cr_assert_null(cfg.ports);
}

#define MOD(extra) "[{\"name\":\"fib\",\"path\":\"fib.so\",\"port\":10010,\"relative-deadline-us\":5000" extra "}]"
#define ROUTE(extra) "{\"route\":\"/fib\",\"path\":\"fib.so\",\"relative-deadline-us\":5000" extra "}"
#define TEN(routes) "[{\"name\":\"t\",\"port\":8080,\"routes\":[" routes "]}]"

Test(serve_config, sledge_module_list)
{
    const char *json =
        "[{\"name\":\"fib\",\"path\":\"fib.so\",\"port\":10010,\"relative-deadline-us\":5000,"
        "  \"expected-execution-us\":1000,\"admissions-percentile\":90,\"http-resp-content-type\":\"text/plain\","
        "  \"active\":\"yes\",\"http-req-size\":1024},"
        " {\"name\":\"hello\",\"path\":\"hello.wasm\",\"port\":10011,\"relative-deadline-us\":20000}]";
    srv_config cfg;
    srv_err err;
    cr_assert(parse(json, &cfg, &err), "%s", err.msg);
    cr_assert_eq(cfg.nports, 2);
    const srv_port *p = &cfg.ports[0];
    cr_assert_eq(p->port, 10010);
    cr_assert_str_eq(p->tenant, "fib");
    cr_assert_eq(p->nroutes, 1);
    const srv_route *r = &p->routes[0];
    cr_assert_str_eq(r->prefix, "/");
    cr_assert_str_eq(r->name, "fib");
    cr_assert(strstr(r->path, "/fib.so") && r->path[0] == '/');
    cr_assert_eq(r->relative_deadline_us, 5000);
    cr_assert_eq(r->expected_execution_us, 1000);
    cr_assert_eq(r->admissions_percentile, 90);
    cr_assert_str_eq(r->content_type, "text/plain");
    r = &cfg.ports[1].routes[0];
    cr_assert_eq(r->admissions_percentile, SRV_DEFAULT_PERCENTILE);
    cr_assert_str_eq(r->content_type, SRV_DEFAULT_CONTENT_TYPE);
    cr_assert_eq(r->expected_execution_us, 0);
    /* one module per port, served at every path */
    cr_assert_eq(srv_route_match(&cfg.ports[1], "/anything/at/all", 16), r);
    srv_config_free(&cfg);
    cr_assert_null(cfg.ports);
}

Test(serve_config, tenants_with_routes)
{
    const char *json =
        "[{\"name\":\"shop\",\"port\":8080,\"routes\":["
        "   {\"route\":\"/fib\",\"path\":\"fib.so\",\"relative-deadline-us\":5000,\"admissions-percentile\":70,"
        "    \"http-resp-content-type\":\"application/json\",\"timeout-us\":100000,\"max-memory-mb\":64,\"wagi\":true},"
        "   {\"route\":\"/\",\"path\":\"a.txt\",\"relative-deadline-us\":1000},"
        "   {\"route\":\"/fib/slow\",\"path\":\"hello.wasm\",\"relative-deadline-us\":9000}]},"
        " {\"name\":\"other\",\"port\":8081,\"routes\":[{\"route\":\"/x\",\"path\":\"fib.so\",\"relative-deadline-us\":1}]}]";
    srv_config cfg;
    srv_err err;
    cr_assert(parse(json, &cfg, &err), "%s", err.msg);
    cr_assert_eq(cfg.nports, 2);
    const srv_port *p = &cfg.ports[0];
    cr_assert_eq(p->port, 8080);
    cr_assert_eq(p->nroutes, 3);
    const srv_route *fib = &p->routes[0];
    cr_assert_str_eq(fib->name, "shop/fib");
    cr_assert_eq(fib->timeout_us, 100000);
    cr_assert_eq(fib->max_memory_mb, 64);
    cr_assert(fib->wagi);
    cr_assert_str_eq(fib->content_type, "application/json");
    cr_assert_not(p->routes[1].wagi);
    /* longest prefix, on segment boundaries */
    cr_assert_eq(srv_route_match(p, "/fib", 4), fib);
    cr_assert_eq(srv_route_match(p, "/fib/10", 7), fib);
    cr_assert_eq(srv_route_match(p, "/fib/slow/1", 11), &p->routes[2]);
    cr_assert_eq(srv_route_match(p, "/fibber", 7), &p->routes[1]);
    cr_assert_eq(srv_route_match(p, "/", 1), &p->routes[1]);
    cr_assert_null(srv_route_match(&cfg.ports[1], "/", 1));
    cr_assert_null(srv_route_match(&cfg.ports[1], "/xy", 3));
    cr_assert_not_null(srv_route_match(&cfg.ports[1], "/x/y", 4));
    srv_config_free(&cfg);
}

Test(serve_config, refusals_top_level)
{
    refuse("", "invalid JSON at line 1");
    refuse("[{\"name\":\n\"x\",}]", "invalid JSON at line 2");
    refuse("{}", "key \"ports\": missing (required)");
    refuse("7", "must be a JSON array of modules or tenants, or an object");
    refuse("[]", "lists nothing to serve");
    refuse("[1]", "key \"[0]\": must be an object");
    refuse(MOD("") " []", "unexpected text after the JSON document");
}

/* The object root: the same array as "ports", and the address to listen on. */
Test(serve_config, object_root_with_host)
{
    srv_config cfg;
    srv_err err;
    cr_assert(parse("{\"host\": \"::\", \"ports\": " TEN(ROUTE("")) "}", &cfg, &err), "%s", err.msg);
    cr_assert_str_eq(cfg.host, "::");
    cr_assert_eq(cfg.nports, 1);
    cr_assert_eq(cfg.ports[0].port, 8080);
    cr_assert_str_eq(cfg.ports[0].routes[0].prefix, "/fib");
    srv_config_free(&cfg);
    const char *hosts[] = { "127.0.0.1", "::1", "[::1]", "0.0.0.0" };
    for (size_t i = 0; i < 4; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"host\": \"%s\", \"ports\": %s}", hosts[i], MOD(""));
        cr_assert(parse(j, &cfg, &err), "%s: %s", hosts[i], err.msg);
        cr_assert_str_eq(cfg.host, hosts[i]);
        srv_config_free(&cfg);
    }
    /* No "host": NULL, the flag's default stays; the array form has none. */
    cr_assert(parse("{\"ports\": " MOD("") "}", &cfg, &err), "%s", err.msg);
    cr_assert_null(cfg.host);
    srv_config_free(&cfg);
    cr_assert(parse(MOD(""), &cfg, &err), "%s", err.msg);
    cr_assert_null(cfg.host);
    srv_config_free(&cfg);
    /* Errors inside "ports" name the key through it. */
    refuse("{\"ports\": " MOD(",\"bogus\":1") "}", "key \"ports[0].bogus\"");
    refuse("{\"host\": \"nohost\", \"ports\": " MOD("") "}", "key \"host\": \"nohost\" is not an IPv4 or IPv6 address");
    refuse("{\"host\": \"[127.0.0.1\", \"ports\": " MOD("") "}", "is not an IPv4 or IPv6 address");
    refuse("{\"host\": 80, \"ports\": " MOD("") "}", "key \"host\": must be a string");
    refuse("{\"host\": \"\", \"ports\": " MOD("") "}", "key \"host\": must not be empty");
    refuse("{\"host\": \"::\", \"ports\": {}}", "key \"ports\": must be an array");
    refuse("{\"host\": \"::\", \"ports\": []}", "lists nothing to serve");
    refuse("{\"hosts\": \"::\", \"ports\": " MOD("") "}", "key \"hosts\"");
}

Test(serve_config, refusals_module)
{
    refuse(MOD(",\"colour\":1"), "key \"[0].colour\": unknown key");
    refuse(MOD(",\"a\\nb\":1"), "key \"[0].a?b\": unknown key");     /* still one line */
    refuse(MOD(",\"port\":10011"), "key \"[0].port\": duplicate key");
    refuse("[{\"path\":\"fib.so\",\"port\":1,\"relative-deadline-us\":1}]", "key \"[0].name\": missing");
    refuse("[{\"name\":\"a\",\"port\":1,\"relative-deadline-us\":1}]", "key \"[0].path\": missing");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"relative-deadline-us\":1}]", "key \"[0].port\": missing");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":1}]", "key \"[0].relative-deadline-us\": missing");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":0,\"relative-deadline-us\":1}]", "key \"[0].port\": 0 is out of range 1..65535");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":65536,\"relative-deadline-us\":1}]", "key \"[0].port\": 65536 is out of range");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":\"80\",\"relative-deadline-us\":1}]", "key \"[0].port\": must be an integer");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":80.5,\"relative-deadline-us\":1}]", "key \"[0].port\": must be an integer");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":80,\"relative-deadline-us\":0}]", "key \"[0].relative-deadline-us\": 0 is out of range");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":80,\"relative-deadline-us\":-5}]", "key \"[0].relative-deadline-us\": -5 is out of range");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":80,\"relative-deadline-us\":1e300}]", "key \"[0].relative-deadline-us\"");
    refuse(MOD(",\"admissions-percentile\":49"), "key \"[0].admissions-percentile\": 49 is out of range 50..99");
    refuse(MOD(",\"admissions-percentile\":100"), "key \"[0].admissions-percentile\": 100 is out of range");
    refuse(MOD(",\"expected-execution-us\":6000"), "key \"[0].expected-execution-us\": exceeds relative-deadline-us");
    refuse(MOD(",\"http-resp-content-type\":\"\""), "key \"[0].http-resp-content-type\": must not be empty");
    refuse(MOD(",\"http-resp-content-type\":\"text/plain\\r\\nX: y\""), "key \"[0].http-resp-content-type\": contains a control character");
    refuse(MOD(",\"http-resp-content-type\":7"), "key \"[0].http-resp-content-type\": must be a string");
    refuse("[{\"name\":\"\",\"path\":\"fib.so\",\"port\":80,\"relative-deadline-us\":1}]", "key \"[0].name\": must not be empty");
    refuse("[{\"name\":\"a\",\"path\":\"missing.so\",\"port\":80,\"relative-deadline-us\":1}]", "key \"[0].path\": ");
    refuse("[{\"name\":\"a\",\"path\":\"missing.so\",\"port\":80,\"relative-deadline-us\":1}]", "No such file or directory");
    refuse("[{\"name\":\"a\",\"path\":\"/tmp\",\"port\":80,\"relative-deadline-us\":1}]", "not a regular file");
    /* a route-only key is unknown in the module form */
    refuse(MOD(",\"wagi\":true"), "key \"[0].wagi\": unknown key");
}

Test(serve_config, refusals_tenant)
{
    refuse(TEN(ROUTE(",\"x\":1")), "key \"[0].routes[0].x\": unknown key");
    refuse(TEN(ROUTE("") "," ROUTE(",\"port\":1")), "key \"[0].routes[1].port\": unknown key");
    refuse("[{\"name\":\"t\",\"port\":8080,\"routes\":{}}]", "key \"[0].routes\": must be an array");
    refuse("[{\"name\":\"t\",\"port\":8080,\"routes\":[]}]", "key \"[0].routes\": must not be empty");
    refuse(TEN("3"), "key \"[0].routes[0]\": must be an object");
    refuse(TEN(ROUTE("") "," ROUTE("")), "key \"[0].routes[1].route\": duplicate route \"/fib\"");
    refuse(TEN("{\"path\":\"fib.so\",\"relative-deadline-us\":5}"), "key \"[0].routes[0].route\": missing");
    refuse(TEN("{\"route\":\"fib\",\"path\":\"fib.so\",\"relative-deadline-us\":5}"), "key \"[0].routes[0].route\": must start with '/'");
    refuse(TEN("{\"route\":\"/a?b\",\"path\":\"fib.so\",\"relative-deadline-us\":5}"), "key \"[0].routes[0].route\": must not contain '?'");
    refuse(TEN(ROUTE("") "," ROUTE(",\"route\":\"/b\"")), "key \"[0].routes[1].route\": duplicate key");
    refuse(TEN(ROUTE(",\"wagi\":1")), "key \"[0].routes[0].wagi\": must be true or false");
    refuse(TEN(ROUTE(",\"max-memory-mb\":0")), "key \"[0].routes[0].max-memory-mb\": 0 is out of range 1..4096");
    refuse(TEN(ROUTE(",\"max-memory-mb\":4097")), "key \"[0].routes[0].max-memory-mb\"");
    refuse(TEN(ROUTE(",\"timeout-us\":-1")), "key \"[0].routes[0].timeout-us\"");
    refuse(TEN(ROUTE(",\"admissions-percentile\":20")), "key \"[0].routes[0].admissions-percentile\"");
    refuse(TEN(ROUTE(",\"path\":\"nope.so\"")), "key \"[0].routes[0].path\"");
    refuse("[{\"port\":8080,\"routes\":[" ROUTE("") "]}]", "key \"[0].name\": missing");
    refuse("[{\"name\":\"t\",\"port\":99999,\"routes\":[" ROUTE("") "]}]", "key \"[0].port\": 99999 is out of range");
    refuse("[{\"name\":\"t\",\"port\":8080,\"colour\":1,\"routes\":[" ROUTE("") "]}]", "key \"[0].colour\": unknown key");
}

Test(serve_config, dagger_http_access)
{
    srv_config cfg;
    srv_err err = { { 0 } };
    cr_assert(parse(TEN(ROUTE(",\"allow-http\":[\"https://api.example.com\",\"http://127.0.0.1:*/x/*\"],"
                              "\"ca-file\":\"a.txt\"")), &cfg, &err), "%s", err.msg);
    const srv_route *r = &cfg.ports[0].routes[0];
    cr_assert_eq(r->nallow_http, 2);
    cr_assert_str_eq(r->allow_http[0], "https://api.example.com");
    cr_assert_str_eq(r->allow_http[1], "http://127.0.0.1:*/x/*");
    char want[128];
    snprintf(want, sizeof want, "%s/a.txt", dir);
    cr_assert_str_eq(r->ca_file, want, "relative to the configuration's directory");
    srv_config_free(&cfg);
    cr_assert(parse(MOD(",\"allow-http\":[]"), &cfg, &err), "%s", err.msg);
    cr_assert_eq(cfg.ports[0].routes[0].nallow_http, 0);
    cr_assert_null(cfg.ports[0].routes[0].ca_file);
    srv_config_free(&cfg);
    refuse(TEN(ROUTE(",\"allow-http\":\"http://x\"")), "key \"[0].routes[0].allow-http\": must be an array");
    refuse(TEN(ROUTE(",\"allow-http\":[\"ftp://x\"]")), "key \"[0].routes[0].allow-http[0]\": must be a string starting");
    refuse(TEN(ROUTE(",\"allow-http\":[\"http://a\",3]")), "key \"[0].routes[0].allow-http[1]\"");
    refuse(TEN(ROUTE(",\"allow-http\":[\"http://a b\"]")), "contains a space");
    refuse(TEN(ROUTE(",\"ca-file\":\"missing.pem\"")), "key \"[0].routes[0].ca-file\": ");
}

Test(serve_config, snapshot_keys)
{
    srv_config cfg;
    srv_err err = { { 0 } };
    cr_assert(parse(TEN(ROUTE(",\"snapshot\":\"a.txt\",\"entry\":\"handle\"") ","
                        "{\"route\":\"/b\",\"path\":\"hello.wasm\",\"relative-deadline-us\":5,\"init\":\"setup\"}"),
                    &cfg, &err), "%s", err.msg);
    const srv_route *a = &cfg.ports[0].routes[0], *b = &cfg.ports[0].routes[1];
    char want[128];
    snprintf(want, sizeof want, "%s/a.txt", dir);
    cr_assert_str_eq(a->snapshot, want, "snapshot is resolved against the config's directory");
    cr_assert_str_eq(a->entry, "handle");
    cr_assert_null(a->init);
    cr_assert_str_eq(b->init, "setup");
    cr_assert_null(b->snapshot);
    cr_assert_null(b->entry);
    srv_config_free(&cfg);
    refuse(TEN(ROUTE(",\"snapshot\":\"nope.snap\"")), "key \"[0].routes[0].snapshot\"");
    refuse(TEN(ROUTE(",\"snapshot\":\"a.txt\",\"init\":\"x\"")), "key \"[0].routes[0].init\": a route starts from");
    refuse(TEN(ROUTE(",\"init\":\"\"")), "key \"[0].routes[0].init\": must not be empty");
    refuse(TEN(ROUTE(",\"entry\":3")), "key \"[0].routes[0].entry\": must be a string");
    refuse(MOD(",\"init\":\"x\""), "key \"[0].init\": unknown key");
}

/* Store routes (issue 9): a store URL as path is taken as it is (not a
 * file), with its own keys; the keys are refused on local routes. */
#define SROUTE(extra) "{\"route\":\"/r\",\"path\":\"wedge://10.0.0.1:7070/app\",\"relative-deadline-us\":5" extra "}"
Test(serve_config, store_route_keys)
{
    srv_config cfg;
    srv_err err = { { 0 } };
    cr_assert(parse(TEN(SROUTE(",\"fetch\":\"lazy\",\"granularity\":\"region:64\",\"store-key-file\":\"a.txt\"") ","
                        ROUTE("")), &cfg, &err), "%s", err.msg);
    const srv_route *r = &cfg.ports[0].routes[0], *l = &cfg.ports[0].routes[1];
    cr_assert(r->remote);
    cr_assert_str_eq(r->path, "wedge://10.0.0.1:7070/app", "a store URL is not resolved as a file");
    cr_assert_str_eq(r->fetch, "lazy");
    cr_assert_str_eq(r->granularity, "region:64");
    cr_assert(strstr(r->store_key_file, "/a.txt") && r->store_key_file[0] == '/');
    cr_assert(!l->remote);
    cr_assert_null(l->fetch);
    srv_config_free(&cfg);
    refuse(TEN(SROUTE(",\"fetch\":\"sometimes\"")), "key \"[0].routes[0].fetch\": must be \"eager\" or \"lazy\"");
    refuse(TEN(SROUTE(",\"granularity\":\"byte\"")), "key \"[0].routes[0].granularity\": must be");
    refuse(TEN(SROUTE(",\"store-key-file\":\"nope.key\"")), "key \"[0].routes[0].store-key-file\"");
    refuse(TEN(SROUTE(",\"snapshot\":\"a.txt\"")), "key \"[0].routes[0].snapshot\": a store route's snapshot");
    refuse(TEN(ROUTE(",\"fetch\":\"eager\"")), "key \"[0].routes[0].fetch\": only for a route whose path is");
}

Test(serve_config, refusals_same_port)
{
    refuse("[{\"name\":\"a\",\"port\":8080,\"routes\":[" ROUTE("") "]},"
           " {\"name\":\"b\",\"port\":8080,\"routes\":[" ROUTE("") "]}]",
           "key \"[1].port\": port 8080 is already used by [0] (\"a\")");
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":10,\"relative-deadline-us\":1},"
           " {\"name\":\"b\",\"path\":\"fib.so\",\"port\":10,\"relative-deadline-us\":1}]",
           "key \"[1].port\": port 10 is already used");
    /* a module and a tenant on one port */
    refuse("[{\"name\":\"a\",\"path\":\"fib.so\",\"port\":8080,\"relative-deadline-us\":1},"
           " {\"name\":\"b\",\"port\":8080,\"routes\":[" ROUTE("") "]}]",
           "key \"[1].port\": port 8080 is already used");
}

Test(serve_config, load_from_file)
{
    char file[128];
    snprintf(file, sizeof file, "%s/serve.json", dir);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs(MOD(""), f);      /* path "fib.so" is relative to the file's directory */
    fclose(f);
    srv_config cfg;
    srv_err err;
    cr_assert(srv_config_load(file, &cfg, &err), "%s", err.msg);
    cr_assert_eq(cfg.nports, 1);
    char want[160];
    snprintf(want, sizeof want, "%s/fib.so", dir);
    cr_assert_str_eq(cfg.ports[0].routes[0].path, want);
    srv_config_free(&cfg);

    cr_assert_not(srv_config_load("/nonexistent/serve.json", &cfg, &err));
    cr_assert_str_eq(err.msg, "/nonexistent/serve.json: No such file or directory");
}

/* ---- runtime settings ----------------------------------------------------- */

static const char *env_vals[8][2];

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < 8 && env_vals[i][0]; i++)
        if (!strcmp(env_vals[i][0], name))
            return env_vals[i][1];
    return NULL;
}

static void set_env(const char *const kv[][2], size_t n)
{
    memset(env_vals, 0, sizeof env_vals);
    for (size_t i = 0; i < n; i++) {
        env_vals[i][0] = kv[i][0];
        env_vals[i][1] = kv[i][1];
    }
}

Test(serve_settings, defaults)
{
    set_env(NULL, 0);
    char *argv[] = { "serve", "c.json", NULL };
    srv_settings s;
    srv_err err;
    cr_assert(srv_settings_parse(&s, 2, argv, fake_getenv, &err), "%s", err.msg);
    cr_assert_str_eq(s.config_file, "c.json");
    cr_assert_geq(s.workers, 1);
    cr_assert_eq(s.scheduler, SRV_SCHED_EDF);
    cr_assert_eq(s.quantum_us, SRV_DEFAULT_QUANTUM_US);
    cr_assert(s.preemption);
    cr_assert_eq(s.admin_port, 0);
    cr_assert_eq(s.log_level, SRV_LOG_INFO);
    cr_assert_eq(s.limits.max_body, HTTP_DEFAULT_MAX_BODY);
    cr_assert_eq(s.max_memory_mb, SRV_DEFAULT_MAX_MEMORY_MB);
}

Test(serve_settings, env_then_flags_win)
{
    const char *const kv[][2] = { { "SLEDGE_NWORKERS", "3" }, { "SLEDGE_SCHEDULER", "FIFO" },
                                  { "SLEDGE_QUANTUM_US", "5000" }, { "SLEDGE_DISABLE_PREEMPTION", "1" } };
    set_env(kv, 4);
    char *argv1[] = { "serve", "c.json", NULL };
    srv_settings s;
    srv_err err;
    cr_assert(srv_settings_parse(&s, 2, argv1, fake_getenv, &err), "%s", err.msg);
    cr_assert_eq(s.workers, 3);
    cr_assert_eq(s.scheduler, SRV_SCHED_FIFO);
    cr_assert_eq(s.quantum_us, 5000);
    cr_assert_not(s.preemption);

    char *argv2[] = { "serve", "--workers", "7", "--scheduler=edf", "--quantum-us", "250",
                      "--admin-port", "9100", "--log-level", "debug", "c.json", "--no-preemption", NULL };
    cr_assert(srv_settings_parse(&s, 12, argv2, fake_getenv, &err), "%s", err.msg);
    cr_assert_eq(s.workers, 7);
    cr_assert_eq(s.scheduler, SRV_SCHED_EDF);
    cr_assert_eq(s.quantum_us, 250);
    cr_assert_eq(s.admin_port, 9100);
    cr_assert_eq(s.log_level, SRV_LOG_DEBUG);
    cr_assert_not(s.preemption);
    cr_assert_str_eq(s.config_file, "c.json");

    cr_assert_not(s.host_given, "--host was not given");
    char *argv4[] = { "serve", "--host", "::", "c.json", NULL };
    cr_assert(srv_settings_parse(&s, 4, argv4, fake_getenv, &err), "%s", err.msg);
    cr_assert_str_eq(s.host, "::");
    cr_assert(s.host_given, "--host wins over the configuration's \"host\"");

    char *argv3[] = { "serve", "--max-memory-mb", "0", "c.json", NULL };
    cr_assert(srv_settings_parse(&s, 4, argv3, fake_getenv, &err), "%s", err.msg);
    cr_assert_eq(s.max_memory_mb, 0, "0: the module's own maximum");
}

Test(serve_settings, disable_preemption_false_means_enabled)
{
    const char *const kv[][2] = { { "SLEDGE_DISABLE_PREEMPTION", "false" } };
    set_env(kv, 1);
    char *argv[] = { "serve", "c.json", NULL };
    srv_settings s;
    srv_err err;
    cr_assert(srv_settings_parse(&s, 2, argv, fake_getenv, &err), "%s", err.msg);
    cr_assert(s.preemption);
}

static void settings_refuse(int argc, char **argv, const char *const kv[][2], size_t nkv, const char *want)
{
    set_env(kv, nkv);
    srv_settings s;
    srv_err err = { { 0 } };
    cr_assert_not(srv_settings_parse(&s, argc, argv, fake_getenv, &err), "accepted");
    cr_assert(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
}

Test(serve_settings, refusals)
{
    char *a1[] = { "serve", "--workers", "0", "c.json" };
    settings_refuse(4, a1, NULL, 0, "--workers 0: must be an integer in 1..");
    char *a2[] = { "serve", "--workers", "x", "c.json" };
    settings_refuse(4, a2, NULL, 0, "--workers x");
    char *a3[] = { "serve", "--scheduler", "rr", "c.json" };
    settings_refuse(4, a3, NULL, 0, "--scheduler rr: must be edf or fifo");
    char *a_mem[] = { "serve", "--max-memory-mb", "4097", "c.json" };
    settings_refuse(4, a_mem, NULL, 0, "--max-memory-mb 4097");
    char *a4[] = { "serve", "--bogus", "c.json" };
    settings_refuse(3, a4, NULL, 0, "unknown option --bogus");
    char *a5[] = { "serve", "c.json", "--workers" };
    settings_refuse(3, a5, NULL, 0, "--workers needs a value");
    /* No CONFIG.json is accepted: srv_main then serves the built-in default. */
    char *a6[] = { "serve", "--no-admission=1", "c.json" };
    settings_refuse(3, a6, NULL, 0, "--no-admission takes no value");
    char *a7[] = { "serve", "a.json", "b.json" };
    settings_refuse(3, a7, NULL, 0, "more than one configuration file");
    char *a8[] = { "serve", "--admin-port", "70000", "c.json" };
    settings_refuse(4, a8, NULL, 0, "--admin-port 70000");
    char *a9[] = { "serve", "--log-level", "loud", "c.json" };
    settings_refuse(4, a9, NULL, 0, "--log-level loud");
    char *a10[] = { "serve", "--quantum-us", "-1", "c.json" };
    settings_refuse(4, a10, NULL, 0, "--quantum-us -1");
    char *ok[] = { "serve", "c.json" };
    const char *const e1[][2] = { { "SLEDGE_NWORKERS", "many" } };
    settings_refuse(2, ok, e1, 1, "SLEDGE_NWORKERS=many");
    const char *const e2[][2] = { { "SLEDGE_SCHEDULER", "RR" } };
    settings_refuse(2, ok, e2, 1, "SLEDGE_SCHEDULER=RR");
    const char *const e3[][2] = { { "SLEDGE_QUANTUM_US", "0" } };
    settings_refuse(2, ok, e3, 1, "SLEDGE_QUANTUM_US=0");
}

Test(serve_settings, help)
{
    set_env(NULL, 0);
    char *argv[] = { "serve", "--bogus", "--help", NULL };
    srv_settings s;
    srv_err err;
    cr_assert(srv_settings_parse(&s, 3, argv, fake_getenv, &err));
    cr_assert(s.help);
    cr_assert(strstr(srv_usage, "--scheduler"));
}
