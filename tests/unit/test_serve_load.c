/*
 * test_serve_load.c — `wedge serve` loads its routes' modules through the
 * compile cache's file index (cg_module_file_so), as `wedge run` does: an
 * unchanged module file seen before is neither read nor hashed again on
 * start or reload.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve/srv_sandbox.h"

/* A file of the source tree: older than the index's racily-clean window
 * (cg_cache.c), so it is entered at the first load. */
#define MODULE WEDGE_SOURCE_DIR "/tests/diff/findings/guard-dead-load.wasm"

static char cache[64];

static void setup(void)
{
    strcpy(cache, "/tmp/wedge-load-XXXXXX");
    cr_assert(mkdtemp(cache));
    cr_assert_eq(setenv("WEDGE_CACHE_DIR", cache, 1), 0);
    /* A fresh checkout may be younger than the window: wait it out (says so). */
    struct stat st;
    cr_assert_eq(stat(MODULE, &st), 0);
    time_t age = time(NULL) - st.st_ctime;
    if (age <= 3) {
        fprintf(stderr, "test_serve_load: %s changed %lds ago, waiting %lds for the index to take it\n", MODULE,
                (long)age, (long)(4 - age));
        sleep((unsigned)(4 - age));
    }
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(serve_load, .init = setup, .fini = teardown, .timeout = 120);

/* The one entry of cache/by-file: its link target (the object's name). */
static void only_index_entry(char *link, size_t link_cap, char *target, size_t target_cap)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/by-file", cache);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "serve entered nothing in the file index (%s)", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        snprintf(link, link_cap, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    cr_assert_eq(n, 1, "file index entries: %d", n);
    ssize_t k = readlink(link, target, target_cap - 1);
    cr_assert_gt(k, 0);
    target[k] = 0;
}

static void load(const char *json, srv_fnset *set, srv_config *cfg)
{
    srv_err err = { { 0 } };
    cr_assert(srv_config_parse(json, strlen(json), "cfg.json", NULL, cfg, &err), "%s", err.msg);
    cr_assert(srv_fnset_load(set, cfg, &err), "%s", err.msg);
    cr_assert_eq(set->n, 1);
    cr_assert_eq(set->fns[0].kind, SRV_FN_WASM, "route broken: %s", set->fns[0].broken);
}

Test(serve_load, second_load_uses_the_file_index)
{
    const char *json = "[{\"name\":\"m\",\"path\":\"" MODULE "\",\"port\":10077,\"relative-deadline-us\":5000}]";
    srv_config cfg;
    srv_fnset set = {0};
    load(json, &set, &cfg);
    srv_fnset_free(&set);
    srv_config_free(&cfg);

    /* Move the object the index names elsewhere and point the index there:
     * a load through the index finds the moved object; one that read and
     * hashed the file would compile the content-keyed object again. */
    char link[400], target[256], from[400], to[400];
    only_index_entry(link, sizeof link, target, sizeof target);
    snprintf(from, sizeof from, "%s/%s", cache, target);
    snprintf(to, sizeof to, "%s/moved.so", cache);
    cr_assert_eq(rename(from, to), 0);
    cr_assert_eq(unlink(link), 0);
    cr_assert_eq(symlink("moved.so", link), 0);

    load(json, &set, &cfg);
    srv_fnset_free(&set);
    srv_config_free(&cfg);
    cr_expect_neq(access(from, F_OK), 0, "the second load compiled %s again instead of using the index", from);
}

Test(serve_load, dagger_streams_may_not_reach_the_servers_own_ports)
{
    const char *json = "[{\"name\":\"a\",\"path\":\"" MODULE "\",\"port\":10078,\"relative-deadline-us\":5000},"
                       "{\"name\":\"b\",\"path\":\"" MODULE "\",\"port\":10079,\"relative-deadline-us\":5000}]";
    srv_config cfg;
    srv_fnset set = {0};
    set.admin_port = 10080;
    srv_err err = { { 0 } };
    cr_assert(srv_config_parse(json, strlen(json), "cfg.json", NULL, &cfg, &err), "%s", err.msg);
    cr_assert(srv_fnset_load(&set, &cfg, &err), "%s", err.msg);
    cr_assert_eq(set.ndeny_ports, 3);
    cr_assert(set.deny_ports[0] == 10078 && set.deny_ports[1] == 10079 && set.deny_ports[2] == 10080);
    for (size_t i = 0; i < set.n; i++)
        cr_assert(set.fns[i].deny_ports == set.deny_ports && set.fns[i].ndeny_ports == 3, "route %zu", i);
    srv_fnset_free(&set);
    srv_config_free(&cfg);
}
