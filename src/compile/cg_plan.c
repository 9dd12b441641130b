/*
 * cg_plan.c — which C part each function goes into, and at which
 * optimisation level that part is compiled.
 *
 * Why two tiers: gcc's time on wedge's C is spread over all its -O2 passes
 * (no single pathological pass: -ftime-report is flat), and grows faster
 * than linearly with a function's size.  SQLite built with the shell's
 * options (1.7 MB of Wasm, 15 MB of C) costs 88 s of gcc CPU time at -O2,
 * 55 s at -O1, 39 s at -Og and 28 s at -O0; its largest function, the
 * 65 KB VDBE loop, 7 s at -O2 and 2.5 s at -O1 on its own.  So in a large
 * module only the code most likely to be hot keeps the options' level
 * (-O2): functions with a loop of at most CG_COLD_HUGE bytes (the inner
 * loops of kernels, hashing, copying, searching) and small loop-free
 * functions (at most CG_COLD_STRAIGHT bytes: accessors that loops call,
 * cheap at any level).  Everything else is the "cold" tier, compiled at
 * -Og by the driver: long loop-free code (set-up, parsing, error paths) and
 * large functions, whose -O2 cost is the highest and where a few percent
 * of speed matter least.  SQLite: half the cc CPU time (52.7 s instead of
 * 101.1 s in one run), peak cc memory 292 instead of 353 MiB, run time
 * within noise (docs/compile-time.md).  A module with less than
 * CG_TIER_MIN_CODE bytes of code is compiled at one level throughout: it
 * is cheap anyway, and small programs (the compute kernels) keep exactly
 * the code they had.
 *
 * Parts: functions of one tier go into parts of that tier, contiguous by
 * index (neighbours call each other, and cc inlines within a part), each
 * part holding about the same estimated cc cost; the driver starts the
 * most expensive parts first, so both cores stay busy to the end.
 *
 * $WEDGE_COLD forces the tiers, for tests and measurements: none (every
 * function at the options' level), mixed (the rules above whatever the
 * module's size), all (every function cold), auto (the default);
 * $WEDGE_PARTS=N forces the number of parts.
 */
#include <stdlib.h>
#include <string.h>

#include "cg_internal.h"

#define CG_PART_COST (24u * 1024u)      /* estimated cost per part, roughly Wasm bytes at -O2 */
#define CG_TIER_MIN_CODE (256u * 1024u)
#define CG_COLD_STRAIGHT 512u
#define CG_COLD_HUGE 1024u
/* Size at which a function's cost has doubled over linear (measured:
 * the 65 KB VDBE loop costs about 2.5x per byte what 6 KB functions do). */
#define CG_COST_KNEE (32u * 1024u)

/* Does the body hold a loop?  The module is decoded, so reading cannot fail. */
static bool has_loop(const wasm_func *fn)
{
    wasm_reader rd;
    wasm_reader_init(&rd, fn->code - fn->code_offset, fn->code, fn->code_len);
    wasm_insn in;
    wasm_err werr;
    bool loop = false;
    while (!loop && !wasm_reader_done(&rd) && wasm_reader_next(&rd, &in, &werr))
        loop = in.op == OP_loop;
    wasm_reader_fini(&rd);
    return loop;
}

/* Estimated cc cost of one function: linear plus a quadratic term.
 * Without tiers, just its size: the split wedge always made, so a small
 * module's parts (and what cc may inline) stay as they were. */
static uint64_t func_cost(uint32_t len, bool tiers, bool cold)
{
    if (!tiers)
        return (uint64_t)len + 16u;
    uint64_t c = (uint64_t)len + 16u + (uint64_t)len * len / CG_COST_KNEE;
    return cold ? c / 2 : c;
}

enum { COLD_NONE, COLD_AUTO, COLD_MIXED, COLD_ALL };

static int env_cold_mode(void)
{
    const char *e = getenv("WEDGE_COLD");
    if (e && strcmp(e, "none") == 0)
        return COLD_NONE;
    if (e && strcmp(e, "mixed") == 0)
        return COLD_MIXED;
    if (e && strcmp(e, "all") == 0)
        return COLD_ALL;
    return COLD_AUTO;
}

/* Split the functions of one tier (in index order) into at most k parts
 * of about equal cost, numbered from `first`; returns how many it used (a
 * function costlier than a share fills a part alone, never leaving one
 * empty: an empty part is a cc run for nothing). */
static int split_tier(const wasm_module *m, const uint8_t *tier, const uint64_t *cost, uint8_t want_tier,
                      uint64_t total, int first, int k, cg_plan *p)
{
    uint64_t done = 0;
    int part = 0, in_part = 0;
    for (uint32_t fi = m->nimported_funcs; fi < m->nfuncs; fi++) {
        uint32_t d = fi - m->nimported_funcs;
        if (tier[d] != want_tier)
            continue;
        /* The next part starts once this one has reached its share. */
        if (in_part > 0 && part < k - 1 && done >= total * (uint64_t)(part + 1) / (uint64_t)k) {
            part++;
            in_part = 0;
        }
        p->part_of[d] = (uint16_t)(first + part);
        p->part_cost[first + part] += cost[d];
        done += cost[d];
        in_part++;
    }
    int used = in_part > 0 || part > 0 ? part + 1 : 0;
    for (int i = 0; i < used; i++)
        p->part_tier[first + i] = want_tier;
    return used;
}

/* The plan's arrays and the per-function scratch (tier, cost), zeroed. */
static bool plan_alloc(const wasm_module *m, cg_plan *p, uint8_t **tier, uint64_t **cost, cg_err *err)
{
    memset(p, 0, sizeof *p);
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    size_t n = ndef ? ndef : 1;
    *tier = calloc(n, 1);
    *cost = calloc(n, sizeof **cost);
    p->part_of = calloc(n, sizeof *p->part_of);
    p->part_tier = calloc(CG_MAX_PARTS, 1);
    p->part_cost = calloc(CG_MAX_PARTS, sizeof *p->part_cost);
    p->order = calloc(CG_MAX_PARTS, sizeof *p->order);
    if (!*tier || !*cost || !p->part_of || !p->part_tier || !p->part_cost || !p->order) {
        free(*tier);
        free(*cost);
        cg_plan_free(p);
        return cg_fail(err, "out of memory");
    }
    return true;
}

bool cg_plan_even(const wasm_module *m, int nparts, cg_plan *p, cg_err *err)
{
    if (nparts < 1 || nparts > CG_MAX_PARTS)
        return cg_fail(err, "cg_emit_c: nparts must be 1..%d", CG_MAX_PARTS);
    uint8_t *tier;
    uint64_t *cost;
    if (!plan_alloc(m, p, &tier, &cost, err))
        return false;
    uint64_t total = 0;
    for (uint32_t fi = m->nimported_funcs; fi < m->nfuncs; fi++) {
        cost[fi - m->nimported_funcs] = func_cost(m->funcs[fi].code_len, false, false);
        total += cost[fi - m->nimported_funcs];
    }
    int used = split_tier(m, tier, cost, CG_TIER_OPT, total, 0, nparts, p);
    p->nparts = used > 0 ? used : 1;
    for (int i = 0; i < p->nparts; i++)
        p->order[i] = i;
    free(tier);
    free(cost);
    return true;
}

bool cg_plan_make(const wasm_module *m, int jobs, int opt_level, cg_plan *p, cg_err *err)
{
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    uint8_t *tier;
    uint64_t *cost;
    if (!plan_alloc(m, p, &tier, &cost, err))
        return false;

    uint64_t code = 0;
    for (uint32_t fi = m->nimported_funcs; fi < m->nfuncs; fi++)
        code += m->funcs[fi].code_len;
    int mode = env_cold_mode();
    bool tiers = opt_level >= 2 && mode != COLD_NONE && (mode != COLD_AUTO || code >= CG_TIER_MIN_CODE);
    uint64_t tcost[2] = { 0, 0 };
    uint32_t tcount[2] = { 0, 0 };
    for (uint32_t fi = m->nimported_funcs; fi < m->nfuncs; fi++) {
        uint32_t d = fi - m->nimported_funcs;
        const wasm_func *fn = &m->funcs[fi];
        bool cold = false;
        if (tiers)
            cold = mode == COLD_ALL || fn->code_len > CG_COLD_HUGE ||
                   (fn->code_len > CG_COLD_STRAIGHT && !has_loop(fn));
        tier[d] = cold ? CG_TIER_COLD : CG_TIER_OPT;
        cost[d] = func_cost(fn->code_len, tiers, cold);
        tcost[tier[d]] += cost[d];
        tcount[tier[d]]++;
    }

    /* How many parts: one per CG_PART_COST of estimated cost, at most
     * 4 per job (more only adds prelude and loses inlining), at least one
     * per tier that has functions. */
    const char *e = getenv("WEDGE_PARTS");
    long want;
    if (e && *e) {
        want = strtol(e, NULL, 10);
    } else {
        uint64_t c = tiers ? tcost[0] + tcost[1] : code;
        want = (long)((c + CG_PART_COST - 1) / CG_PART_COST);
        if (want > 4L * jobs)
            want = 4L * jobs;
    }
    if (want > (long)ndef)
        want = (long)ndef;
    if (want > CG_MAX_PARTS)
        want = CG_MAX_PARTS;
    int ntiers = (tcount[0] > 0) + (tcount[1] > 0);
    if (want < ntiers)
        want = ntiers;
    if (want < 1)
        want = 1;

    /* Parts per tier in proportion to its cost, at least one each. */
    int k[2] = { 0, 0 };
    if (ntiers == 2) {
        uint64_t all = tcost[0] + tcost[1];
        k[0] = (int)(((uint64_t)want * tcost[0] + all / 2) / (all ? all : 1));
        if (k[0] < 1)
            k[0] = 1;
        if (k[0] > want - 1)
            k[0] = (int)want - 1;
        if ((uint32_t)k[0] > tcount[0])
            k[0] = (int)tcount[0];
        k[1] = (int)want - k[0];
        if ((uint32_t)k[1] > tcount[1])
            k[1] = (int)tcount[1];
    } else {
        int t = tcount[1] > 0;
        k[t] = (int)want;
        if ((uint32_t)k[t] > tcount[t])
            k[t] = (int)tcount[t];
        if (k[t] < 1)
            k[t] = 1;
    }
    int used = split_tier(m, tier, cost, CG_TIER_OPT, tcost[0], 0, k[0], p);
    used += split_tier(m, tier, cost, CG_TIER_COLD, tcost[1], used, k[1], p);
    p->nparts = used > 0 ? used : 1;    /* no functions: part 0 holds the descriptor */
    p->ncold = tcount[1];
    free(tier);
    free(cost);

    /* Most expensive first (insertion sort: at most 64 parts). */
    for (int i = 0; i < p->nparts; i++) {
        int j = i;
        while (j > 0 && p->part_cost[p->order[j - 1]] < p->part_cost[i]) {
            p->order[j] = p->order[j - 1];
            j--;
        }
        p->order[j] = i;
    }
    return true;
}

void cg_plan_free(cg_plan *p)
{
    free(p->part_of);
    free(p->part_tier);
    free(p->part_cost);
    free(p->order);
    memset(p, 0, sizeof *p);
}
