/*
 * test_compile_plan.c — the C parts of a module and their tiers
 * (src/compile/cg_plan.c): which functions go to the cold tier (-O1), that
 * every function lands in exactly one part of its tier, that the most
 * expensive part starts first, and that a module whose parts are compiled
 * at two levels links and computes what it should.
 *
 * The module is built here byte by byte (wat2wasm would take seconds on
 * 300 KB of text): nops make a body long without giving cc work.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/cg_internal.h"
#include "compile/compile.h"
#include "runtime/runtime.h"

#include "compile_fixture.h"

typedef struct wb {
    uint8_t *p;
    size_t n, cap;
} wb;

static void put(wb *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void byte(wb *b, uint8_t c) { put(b, &c, 1); }

static void leb(wb *b, uint32_t v)
{
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        byte(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}

static void section(wb *b, uint8_t id, const wb *body)
{
    byte(b, id);
    leb(b, (uint32_t)body->n);
    put(b, body->p, body->n);
}

/* One body: [loop (nops) end] or (nops), then i32.const result, end. */
typedef struct fspec {
    bool loop;
    uint32_t nops;
    uint8_t result;
    int want_tier;       /* under WEDGE_COLD=auto */
} fspec;

/* A module of type () -> i32 functions, exported as "f0", "f1", ... */
static uint8_t *build_module(const fspec *fs, int n, size_t *len)
{
    wb m = { 0 }, s = { 0 };
    static const uint8_t head[] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    put(&m, head, sizeof head);
    static const uint8_t types[] = { 1, 0x60, 0, 1, 0x7F };
    s.n = 0;
    put(&s, types, sizeof types);
    section(&m, 1, &s);
    s.n = 0;
    leb(&s, (uint32_t)n);
    for (int i = 0; i < n; i++)
        byte(&s, 0);
    section(&m, 3, &s);
    s.n = 0;
    leb(&s, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        char name[8];
        int l = snprintf(name, sizeof name, "f%d", i);
        leb(&s, (uint32_t)l);
        put(&s, name, (size_t)l);
        byte(&s, 0);
        leb(&s, (uint32_t)i);
    }
    section(&m, 7, &s);
    s.n = 0;
    leb(&s, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        wb f = { 0 };
        byte(&f, 0);                        /* no locals */
        if (fs[i].loop) {
            byte(&f, 0x03);
            byte(&f, 0x40);
        }
        for (uint32_t k = 0; k < fs[i].nops; k++)
            byte(&f, 0x01);
        if (fs[i].loop)
            byte(&f, 0x0B);
        byte(&f, 0x41);
        byte(&f, fs[i].result);
        byte(&f, 0x0B);
        leb(&s, (uint32_t)f.n);
        put(&s, f.p, f.n);
        free(f.p);
    }
    section(&m, 10, &s);
    free(s.p);
    *len = m.n;
    return m.p;
}

static const fspec big[] = {
    { true, 10, 1, CG_TIER_OPT },             /* small loop: hot */
    { false, 300000, 7, CG_TIER_COLD },       /* long and loop-free */
    { true, 20000, 2, CG_TIER_COLD },         /* huge, with a loop */
    { false, 20, 3, CG_TIER_OPT },            /* small and loop-free */
    { false, 1000, 4, CG_TIER_COLD },         /* loop-free over 512 bytes */
    { true, 500, 5, CG_TIER_OPT },            /* a loop, under the huge size */
};
#define NBIG ((int)(sizeof big / sizeof big[0]))

static wasm_module *decode(const uint8_t *w, size_t len)
{
    wasm_err werr;
    wasm_module *m = wasm_decode(w, len, &werr);
    cr_assert_not_null(m, "%s", werr.msg);
    cr_assert(wasm_validate(m, &werr), "%s", werr.msg);
    return m;
}

/* Every function in a part of its tier; parts non-empty; order sorted. */
static void check_plan(const cg_plan *p, int nfuncs, const int *tier)
{
    cr_assert_geq(p->nparts, 1);
    cr_assert_leq(p->nparts, CG_MAX_PARTS);
    int count[CG_MAX_PARTS] = { 0 };
    for (int i = 0; i < nfuncs; i++) {
        cr_assert_lt(p->part_of[i], p->nparts, "function %d in part %u of %d", i, p->part_of[i], p->nparts);
        cr_expect_eq(p->part_tier[p->part_of[i]], tier[i], "function %d: tier %d, want %d", i,
                     p->part_tier[p->part_of[i]], tier[i]);
        count[p->part_of[i]]++;
    }
    bool seen[CG_MAX_PARTS] = { false };
    for (int i = 0; i < p->nparts; i++) {
        cr_expect_gt(count[i], 0, "part %d is empty", i);
        int q = p->order[i];
        cr_assert(q >= 0 && q < p->nparts && !seen[q], "order is not a permutation");
        seen[q] = true;
        if (i > 0)
            cr_expect_geq(p->part_cost[p->order[i - 1]], p->part_cost[q], "part %d starts before a costlier one", q);
    }
}

TestSuite(compile_plan, .init = cf_setup, .fini = cf_teardown, .timeout = 300);

Test(compile_plan, tiers_follow_loops_and_size)
{
    size_t len;
    uint8_t *w = build_module(big, NBIG, &len);
    wasm_module *m = decode(w, len);
    int want[NBIG], all_opt[NBIG], all_cold[NBIG];
    for (int i = 0; i < NBIG; i++) {
        want[i] = big[i].want_tier;
        all_opt[i] = CG_TIER_OPT;
        all_cold[i] = CG_TIER_COLD;
    }
    cg_plan p;
    cg_err err;
    unsetenv("WEDGE_COLD");
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG, want);
    cr_expect_eq(p.ncold, 3u);
    cr_expect_geq(p.nparts, 2);
    cg_plan_free(&p);

    /* -O1 and below: one level throughout. */
    cr_assert(cg_plan_make(m, 2, 1, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG, all_opt);
    cg_plan_free(&p);

    setenv("WEDGE_COLD", "none", 1);
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG, all_opt);
    cg_plan_free(&p);
    setenv("WEDGE_COLD", "all", 1);
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG, all_cold);
    cg_plan_free(&p);
    unsetenv("WEDGE_COLD");
    wasm_module_free(m);
    free(w);

    /* Without the long function the module is small: all -O2 under auto,
     * the rules again under mixed. */
    fspec small[NBIG - 1];
    int swant[NBIG - 1], sopt[NBIG - 1];
    for (int i = 0, k = 0; i < NBIG; i++)
        if (i != 1) {
            small[k] = big[i];
            swant[k] = big[i].want_tier;
            sopt[k++] = CG_TIER_OPT;
        }
    w = build_module(small, NBIG - 1, &len);
    m = decode(w, len);
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG - 1, sopt);
    cg_plan_free(&p);
    setenv("WEDGE_COLD", "mixed", 1);
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, NBIG - 1, swant);
    cg_plan_free(&p);
    unsetenv("WEDGE_COLD");
    wasm_module_free(m);
    free(w);

    /* A few small functions stay in one part: cc inlines across it. */
    fspec tiny[] = { big[0], big[3] };
    int topt[] = { CG_TIER_OPT, CG_TIER_OPT };
    w = build_module(tiny, 2, &len);
    m = decode(w, len);
    cr_assert(cg_plan_make(m, 2, 2, &p, &err), "%s", err.msg);
    check_plan(&p, 2, topt);
    cr_expect_eq(p.nparts, 1, "a small module is one part");
    cg_plan_free(&p);
    wasm_module_free(m);
    free(w);
}

/* Both tiers in one .so: it links, and every function returns its value. */
Test(compile_plan, two_tiers_link_and_run)
{
    size_t len;
    uint8_t *w = build_module(big, NBIG, &len);
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    o.jobs = 2;
    cg_err err;
    char so[400];
    snprintf(so, sizeof so, "%s/tiers.so", cf_dir);
    unsetenv("WEDGE_COLD");
    bool ok = cg_compile(w, len, "tiers.wasm", so, &o, &err);
    free(w);
    cr_assert(ok, "compile: %s", err.msg);
    rt_result res;
    cr_assert(rt_init(&res), "%s", res.msg);
    rt_module *mod = rt_module_load(so, &res);
    cr_assert_not_null(mod, "%s", res.msg);
    wedge_instance *inst;
    cr_assert(rt_instantiate(mod, NULL, NULL, NULL, &inst, &res) == RT_OK, "%s", res.msg);
    for (int i = 0; i < NBIG; i++) {
        char name[8];
        snprintf(name, sizeof name, "f%d", i);
        rt_extern x;
        cr_assert(rt_instance_export(inst, name, strlen(name), &x), "no export %s", name);
        wedge_value r[1];
        cr_assert(rt_call(&x, NULL, r, &res) == RT_OK, "%s: %s", name, res.msg);
        cr_expect_eq(r[0].i32, big[i].result, "%s returned %u", name, r[0].i32);
    }
    rt_instance_free(inst);
    rt_module_unload(mod);
}
