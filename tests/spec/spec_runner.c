/*
 * spec_runner.c — wedge-spec: run one wast2json script (FILE.json plus
 * its .wasm files) against the wedge compiler and runtime.
 *
 *   wedge-spec [--bounds guard|software|none] [-O N] [--quiet|--verbose]
 *              [--cmd-timeout S] [--skip-command I]... FILE.json
 *
 * Every command runs in order.  A failure prints one line
 *   FILE.wast:LINE: <command type>: <what went wrong>
 * and the run ends with
 *   FILE.wast: P passed, F failed, S skipped
 * --verbose also prints "ok" and "skipped (reason)" lines for the other
 * commands, one line per command, flushed: run_spec.py counts those lines
 * to tell which commands a crashed runner never reached.
 * --quiet prints only the summary.
 *
 * --cmd-timeout S ends the run when one command takes longer than S
 * seconds (after printing its failure line; exit status 3): there is no
 * safe way to stop guest code and carry on.  --skip-command I (repeatable,
 * 0-based) does not run command I and reports it as "not run": the driver
 * re-runs a file that crashed or hung without the command that did it.
 *
 * Exit status: 0 all passed (skips allowed), 1 some failed, 2 could not
 * run, 3 a command timed out.
 *
 * Every module gets its own instance, and every instance stays alive until
 * the file ends: later modules may import from registered ones, and a
 * module that trapped during instantiation may already have written its
 * functions into an imported table (Wasm 2.0), which later calls reach.
 */
#include "spec.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "util/util.h"
#include "wasm/wasm.h"

#define SPEC_MAX_VALUES 64      /* params / results of one call */
#define SPEC_MAX_SKIPS 256      /* --skip-command entries */

enum { OUT_PASS, OUT_FAIL, OUT_SKIP };

typedef struct spec_instance {
    char *name;                 /* "$M" from the script, or NULL */
    rt_module *mod;
    wedge_instance *inst;       /* NULL if instantiation failed before creating it */
} spec_instance;

typedef struct runner {
    const char *dir;            /* directory of FILE.json (the .wasm files are beside it) */
    const char *wast;           /* FILE.wast, for messages */
    int bounds;
    int opt_level;
    bool quiet, verbose;

    spec_instance *insts;
    size_t ninsts, cap_insts;
    rt_linker *linker;          /* spectest, then registered instances (`register`) */
    wedge_instance *current;    /* the last module defined (NULL if it failed) */

    int passed, failed, skipped;
    unsigned cmd_timeout;       /* seconds per command, 0 = none */
    long skips[SPEC_MAX_SKIPS]; /* command indices not to run */
    size_t nskips;
} runner;

/* The failure line to print if the current command times out, written
 * before the command starts so the SIGALRM handler only has to write(). */
static char timeout_line[512];
static size_t timeout_line_len;

static void on_alarm(int sig)
{
    (void)sig;
    ssize_t w = write(STDOUT_FILENO, timeout_line, timeout_line_len);
    (void)w;
    _exit(3);
}

/* ---- reporting ------------------------------------------------------------ */

static void report(runner *r, int outcome, int line, const char *type, const char *why)
{
    switch (outcome) {
    case OUT_PASS:
        r->passed++;
        if (r->verbose)
            printf("%s:%d: %s: ok\n", r->wast, line, type);
        break;
    case OUT_SKIP:
        r->skipped++;
        if (r->verbose)
            printf("%s:%d: %s: skipped (%s)\n", r->wast, line, type, why);
        break;
    default:
        r->failed++;
        if (!r->quiet)
            printf("%s:%d: %s: %s\n", r->wast, line, type, why);
        break;
    }
    fflush(stdout);
}

/* Append formatted text to a message buffer (truncating safely). */
static void msg_append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

/* ---- bookkeeping -------------------------------------------------------- */

static void *grow_array(void *p, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *np = realloc(p, ncap * elem);
    if (np == NULL) {
        fprintf(stderr, "wedge-spec: out of memory\n");
        exit(2);
    }
    *cap = ncap;
    return np;
}

static void remember_instance(runner *r, const char *name, rt_module *mod, wedge_instance *inst)
{
    if (r->ninsts == r->cap_insts)
        r->insts = grow_array(r->insts, &r->cap_insts, sizeof *r->insts);
    spec_instance *si = &r->insts[r->ninsts++];
    si->name = name ? strdup(name) : NULL;
    si->mod = mod;
    si->inst = inst;
}

static wedge_instance *find_instance(runner *r, const char *name)
{
    if (name == NULL)
        return r->current;
    /* Latest definition wins: a script may reuse a name. */
    for (size_t i = r->ninsts; i-- > 0;)
        if (r->insts[i].name && strcmp(r->insts[i].name, name) == 0)
            return r->insts[i].inst;
    return NULL;
}

static void free_all(runner *r)
{
    /* Importers before exporters: reverse order of creation. */
    for (size_t i = r->ninsts; i-- > 0;)
        if (r->insts[i].inst)
            rt_instance_free(r->insts[i].inst);
    for (size_t i = r->ninsts; i-- > 0;) {
        if (r->insts[i].mod)
            rt_module_unload(r->insts[i].mod);
        free(r->insts[i].name);
    }
    free(r->insts);
    rt_linker_free(r->linker);
}

/* ---- files ---------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len, char *why, size_t why_cap)
{
    uint8_t *buf = ut_read_file(path, SIZE_MAX, len);
    if (buf == NULL)
        snprintf(why, why_cap, "cannot read %.1024s: %s", path, strerror(errno));
    return buf;
}

static uint8_t *read_module_file(runner *r, const cJSON *cmd, size_t *len, char *why, size_t why_cap)
{
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cmd, "filename");
    if (!cJSON_IsString(fn)) {
        snprintf(why, why_cap, "command has no filename");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, fn->valuestring);
    return read_file(path, len, why, why_cap);
}

/* ---- linking -------------------------------------------------------------- */

enum { MOD_OK, MOD_COMPILE_FAILED, MOD_LOAD_FAILED, MOD_INSTANTIATE_FAILED };

static const char *status_name(rt_status st)
{
    switch (st) {
    case RT_OK: return "ok";
    case RT_ERR_LOAD: return "load error";
    case RT_ERR_LINK: return "link error";
    case RT_ERR_TRAP: return "trap";
    case RT_ERR_EXIT: return "exit";
    case RT_ERR_RESOURCE: return "out of resources";
    default: return "unknown status";
    }
}

/* Compile, load and instantiate one module file.  *inst is set whenever
 * the runtime created an instance (also when instantiation trapped), and
 * the module and instance are remembered for freeing at the end. */
static int make_instance(runner *r, const cJSON *cmd, const char *name, wedge_instance **inst, rt_status *st,
                         rt_result *res, char *why, size_t why_cap)
{
    *inst = NULL;
    *st = RT_OK;
    size_t len = 0;
    uint8_t *wasm = read_module_file(r, cmd, &len, why, why_cap);
    if (wasm == NULL)
        return MOD_COMPILE_FAILED;

    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cmd, "filename");
    cg_options opt;
    cg_options_default(&opt);
    opt.bounds = r->bounds;
    opt.opt_level = r->opt_level;
    opt.jobs = 1;               /* the driver runs files in parallel already */
    opt.quiet = true;
    char so_path[4096];
    cg_err cerr;
    memset(&cerr, 0, sizeof cerr);
    bool ok = cg_compile_cached(wasm, len, fn->valuestring, &opt, so_path, sizeof so_path, &cerr);
    free(wasm);
    if (!ok) {
        snprintf(why, why_cap, "compile failed: %s", cerr.msg);
        return MOD_COMPILE_FAILED;
    }

    memset(res, 0, sizeof *res);
    rt_module *mod = rt_module_load(so_path, res);
    if (mod == NULL) {
        snprintf(why, why_cap, "module load failed: %s", res->msg);
        return MOD_LOAD_FAILED;
    }
    rt_limits lim = {0, 0};
    memset(res, 0, sizeof *res);
    *st = rt_instantiate(mod, &lim, r->linker, NULL, inst, res);
    if (*st != RT_OK && *st != RT_ERR_TRAP)
        *inst = NULL;           /* per runtime.h only a trap leaves an instance */
    remember_instance(r, name, mod, *inst);
    if (*st != RT_OK) {
        if (*st == RT_ERR_TRAP)
            snprintf(why, why_cap, "instantiation trapped \"%s\": %s", rt_trap_name(res->trap), res->msg);
        else
            snprintf(why, why_cap, "instantiation failed (%s): %s", status_name(*st), res->msg);
        return MOD_INSTANTIATE_FAILED;
    }
    return MOD_OK;
}

/* ---- export names with NUL ------------------------------------------------ */

/* cJSON ends a string at an escaped NUL (\u0000), but export names may
 * contain NUL (names.wast).  Before parsing, every \u0000 escape becomes
 * the escape pair of U+F0000 (private use, absent from the suite), which
 * field_name() turns back into a NUL byte.  Returns a new string. */
static char *protect_nul_escapes(const char *text, size_t len)
{
    static const char from[] = "\\u0000", to[] = "\\uDB80\\uDC00";
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, from)) != NULL; p += 6)
        n++;
    char *out = malloc(len + n * 6 + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    bool in_string = false;
    for (const char *p = text; *p; p++) {
        if (*p == '"') {
            in_string = !in_string;
        } else if (in_string && *p == '\\') {
            if (strncmp(p, from, 6) == 0) {
                memcpy(o, to, 12);
                o += 12;
                p += 5;
                continue;
            }
            *o++ = *p++;            /* the escaped character, whatever it is */
            if (*p == '\0')
                break;
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* An export name from the script: bytes and length, NULs restored. */
static void field_name(const char *s, char *buf, size_t cap, size_t *len)
{
    static const char standin[] = "\xF3\xB0\x80\x80";   /* U+F0000 in UTF-8 */
    size_t n = 0;
    while (*s && n + 1 < cap) {
        if (strncmp(s, standin, 4) == 0) {
            buf[n++] = '\0';
            s += 4;
        } else {
            buf[n++] = *s++;
        }
    }
    buf[n] = '\0';
    *len = n;
}

/* ---- actions -------------------------------------------------------------- */

enum { ACT_RETURNED, ACT_TRAPPED, ACT_ERROR, ACT_SKIP };

typedef struct action_result {
    size_t nresults;
    char types[SPEC_MAX_VALUES];       /* result type letters */
    wedge_value results[SPEC_MAX_VALUES];
    rt_status status;
    rt_result res;
} action_result;

static char valtype_letter(uint8_t code)
{
    switch (code) {
    case 0x7F: return 'i';
    case 0x7E: return 'I';
    case 0x7D: return 'f';
    case 0x7C: return 'F';
    case 0x70: return 'r';
    case 0x6F: return 'e';
    case 0x7B: return 'v';
    default: return '?';
    }
}

/* The signature string of export `field`, or NULL if the descriptor does
 * not say. */
static const char *export_sig(wedge_instance *inst, const char *field, size_t n)
{
    const wedge_desc_export *e = inst->desc ? wedge_desc_export_find(inst->desc, field, n) : NULL;
    return e && e->kind == SPEC_EXTERN_FUNC ? rt_func_sig(inst, e->index) : NULL;
}

static int run_action(runner *r, const cJSON *action, size_t nexpected, action_result *ar, char *why,
                      size_t why_cap)
{
    memset(ar, 0, sizeof *ar);
    const cJSON *jtype = cJSON_GetObjectItemCaseSensitive(action, "type");
    const cJSON *jmod = cJSON_GetObjectItemCaseSensitive(action, "module");
    const cJSON *jfield = cJSON_GetObjectItemCaseSensitive(action, "field");
    if (!cJSON_IsString(jtype) || !cJSON_IsString(jfield)) {
        snprintf(why, why_cap, "malformed action");
        return ACT_ERROR;
    }
    const char *modname = cJSON_IsString(jmod) ? jmod->valuestring : NULL;
    wedge_instance *inst = find_instance(r, modname);
    if (inst == NULL) {
        snprintf(why, why_cap, "no instance %s (its module failed earlier)", modname ? modname : "(current)");
        return ACT_ERROR;
    }
    char field[1024];
    size_t field_len;
    field_name(jfield->valuestring, field, sizeof field, &field_len);
    rt_extern ext;
    memset(&ext, 0, sizeof ext);
    if (!rt_instance_export(inst, field, field_len, &ext)) {
        snprintf(why, why_cap, "no export \"%s\"", field);
        return ACT_ERROR;
    }

    if (strcmp(jtype->valuestring, "get") == 0) {
        if (ext.kind != SPEC_EXTERN_GLOBAL || ext.u.global.cell == NULL) {
            snprintf(why, why_cap, "export \"%s\" is not a global", field);
            return ACT_ERROR;
        }
        ar->nresults = 1;
        ar->types[0] = valtype_letter(ext.u.global.valtype);
        ar->results[0] = *ext.u.global.cell;
        return ACT_RETURNED;
    }
    if (strcmp(jtype->valuestring, "invoke") != 0) {
        snprintf(why, why_cap, "unknown action type \"%s\"", jtype->valuestring);
        return ACT_ERROR;
    }
    if (ext.kind != SPEC_EXTERN_FUNC) {
        snprintf(why, why_cap, "export \"%s\" is not a function", field);
        return ACT_ERROR;
    }

    wedge_value args[SPEC_MAX_VALUES];
    memset(args, 0, sizeof args);
    char argtypes[SPEC_MAX_VALUES + 1] = {0};
    size_t nargs = 0;
    const cJSON *ja;
    cJSON_ArrayForEach(ja, cJSON_GetObjectItemCaseSensitive(action, "args"))
    {
        if (nargs == SPEC_MAX_VALUES) {
            snprintf(why, why_cap, "too many arguments");
            return ACT_ERROR;
        }
        spec_val v;
        if (!spec_val_parse(ja, &v, why, why_cap))
            return ACT_ERROR;
        argtypes[nargs] = v.type;
        args[nargs++] = v.v;
    }

    /* Check the call against the export's signature when the descriptor
     * gives it, so a wrong arity is reported instead of reading garbage. */
    const char *sig = export_sig(inst, field, field_len);
    if (sig != NULL) {
        size_t np, nr;
        const char *rs;
        tv_sig_split(sig, &np, &rs, &nr);
        if (np != nargs || memcmp(sig, argtypes, np) != 0) {
            snprintf(why, why_cap, "arguments (%s) do not match signature \"%s\"", argtypes, sig);
            return ACT_ERROR;
        }
        if (nr > SPEC_MAX_VALUES) {
            snprintf(why, why_cap, "too many results in \"%s\"", sig);
            return ACT_ERROR;
        }
        ar->nresults = nr;
        memcpy(ar->types, rs, ar->nresults);
    } else {
        ar->nresults = nexpected;       /* types filled from the expected values */
    }

    ar->status = rt_call(&ext, args, ar->results, &ar->res);
    switch (ar->status) {
    case RT_OK:
        return ACT_RETURNED;
    case RT_ERR_TRAP:
        return ACT_TRAPPED;
    default:
        snprintf(why, why_cap, "call failed (%s): %s", status_name(ar->status), ar->res.msg);
        return ACT_ERROR;
    }
}

/* Trap texts of the suite and the trap kinds that count as that text.
 * Prefix match: the suite sometimes adds detail ("uninitialized element 2"). */
static const struct {
    const char *text;
    wedge_trap_kind kind;
} trap_texts[] = {
    {"unreachable", WEDGE_TRAP_UNREACHABLE},
    {"out of bounds memory access", WEDGE_TRAP_MEMORY_OOB},
    {"integer divide by zero", WEDGE_TRAP_INT_DIV_ZERO},
    {"integer overflow", WEDGE_TRAP_INT_OVERFLOW},
    {"invalid conversion to integer", WEDGE_TRAP_INVALID_CONVERSION},
    {"undefined element", WEDGE_TRAP_TABLE_OOB},
    {"out of bounds table access", WEDGE_TRAP_TABLE_ACCESS_OOB},
    {"uninitialized element", WEDGE_TRAP_UNINITIALIZED_ELEM},
    {"indirect call type mismatch", WEDGE_TRAP_INDIRECT_TYPE},
    {"call stack exhausted", WEDGE_TRAP_STACK_EXHAUSTED},
};

static bool trap_matches(wedge_trap_kind kind, const char *text)
{
    for (size_t i = 0; i < sizeof trap_texts / sizeof trap_texts[0]; i++) {
        size_t n = strlen(trap_texts[i].text);
        if (strncmp(text, trap_texts[i].text, n) == 0)
            return kind == trap_texts[i].kind;
    }
    /* A text we do not know: fall back to the runtime's own wording. */
    const char *name = rt_trap_name(kind);
    return name != NULL && strncmp(text, name, strlen(name)) == 0;
}

static const char *cmd_text(const cJSON *cmd)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cmd, "text");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static void format_results(const action_result *ar, char *buf, size_t cap)
{
    buf[0] = '\0';
    msg_append(buf, cap, "(");
    for (size_t i = 0; i < ar->nresults; i++) {
        char v[96];
        spec_val_format(ar->types[i], &ar->results[i], v, sizeof v);
        msg_append(buf, cap, "%s%s", i ? " " : "", v);
    }
    msg_append(buf, cap, ")");
}

/* ---- commands ------------------------------------------------------------- */

static int cmd_module(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(cmd, "name");
    const char *name = cJSON_IsString(jname) ? jname->valuestring : NULL;
    wedge_instance *inst;
    rt_status st;
    rt_result res;
    int m = make_instance(r, cmd, name, &inst, &st, &res, why, why_cap);
    /* A failed module leaves no current module: later actions on it fail
     * with "no instance" rather than running against an older one. */
    r->current = m == MOD_OK ? inst : NULL;
    return m == MOD_OK ? OUT_PASS : OUT_FAIL;
}

static int cmd_register(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(cmd, "name");
    const cJSON *jas = cJSON_GetObjectItemCaseSensitive(cmd, "as");
    if (!cJSON_IsString(jas)) {
        snprintf(why, why_cap, "register without \"as\"");
        return OUT_FAIL;
    }
    wedge_instance *inst = find_instance(r, cJSON_IsString(jname) ? jname->valuestring : NULL);
    if (inst == NULL) {
        snprintf(why, why_cap, "no instance to register (its module failed earlier)");
        return OUT_FAIL;
    }
    /* A name registered again now means the new instance, as in the
     * reference interpreter. */
    rt_result res;
    if (!rt_linker_add_instance(r->linker, jas->valuestring, inst, &res)) {
        snprintf(why, why_cap, "register: %s", res.msg);
        return OUT_FAIL;
    }
    return OUT_PASS;
}

static int cmd_action(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    action_result ar;
    int a = run_action(r, cJSON_GetObjectItemCaseSensitive(cmd, "action"), 0, &ar, why, why_cap);
    if (a == ACT_SKIP)
        return OUT_SKIP;
    if (a == ACT_TRAPPED) {
        snprintf(why, why_cap, "trapped: %s (%s)", rt_trap_name(ar.res.trap), ar.res.msg);
        return OUT_FAIL;
    }
    return a == ACT_RETURNED ? OUT_PASS : OUT_FAIL;
}

static int cmd_assert_return(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    spec_val expected[SPEC_MAX_VALUES];
    size_t nexp = 0;
    const cJSON *je;
    cJSON_ArrayForEach(je, cJSON_GetObjectItemCaseSensitive(cmd, "expected"))
    {
        if (nexp == SPEC_MAX_VALUES) {
            snprintf(why, why_cap, "too many expected values");
            return OUT_FAIL;
        }
        if (!spec_val_parse(je, &expected[nexp], why, why_cap))
            return OUT_FAIL;
        nexp++;
    }

    action_result ar;
    int a = run_action(r, cJSON_GetObjectItemCaseSensitive(cmd, "action"), nexp, &ar, why, why_cap);
    if (a == ACT_SKIP)
        return OUT_SKIP;
    if (a == ACT_ERROR)
        return OUT_FAIL;
    if (a == ACT_TRAPPED) {
        snprintf(why, why_cap, "trapped: %s (%s)", rt_trap_name(ar.res.trap), ar.res.msg);
        return OUT_FAIL;
    }
    if (ar.nresults != nexp) {
        snprintf(why, why_cap, "expected %zu results, the function has %zu", nexp, ar.nresults);
        return OUT_FAIL;
    }
    bool ok = true;
    for (size_t i = 0; i < nexp; i++) {
        if (ar.types[i] == 0)
            ar.types[i] = expected[i].type;     /* signature unknown: trust the script */
        if (ar.types[i] != expected[i].type || !spec_val_matches(&expected[i], &ar.results[i]))
            ok = false;
    }
    if (ok)
        return OUT_PASS;
    char got[512];
    format_results(&ar, got, sizeof got);
    snprintf(why, why_cap, "expected (");
    for (size_t i = 0; i < nexp; i++) {
        char e[96];
        spec_expected_format(&expected[i], e, sizeof e);
        msg_append(why, why_cap, "%s%s", i ? " " : "", e);
    }
    msg_append(why, why_cap, "), got %s", got);
    return OUT_FAIL;
}

static int cmd_assert_trap(runner *r, const cJSON *cmd, const char *want, char *why, size_t why_cap)
{
    action_result ar;
    int a = run_action(r, cJSON_GetObjectItemCaseSensitive(cmd, "action"), 0, &ar, why, why_cap);
    if (a == ACT_SKIP)
        return OUT_SKIP;
    if (a == ACT_ERROR)
        return OUT_FAIL;
    if (a == ACT_RETURNED) {
        char got[512];
        format_results(&ar, got, sizeof got);
        snprintf(why, why_cap, "expected trap \"%s\", returned %s", want, got);
        return OUT_FAIL;
    }
    if (!trap_matches(ar.res.trap, want)) {
        snprintf(why, why_cap, "expected trap \"%s\", got trap \"%s\" (%s)", want, rt_trap_name(ar.res.trap),
                 ar.res.msg);
        return OUT_FAIL;
    }
    return OUT_PASS;
}

/* assert_trap on a module (older scripts) and assert_uninstantiable:
 * instantiation must trap. */
static int cmd_assert_uninstantiable(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    wedge_instance *inst;
    rt_status st;
    rt_result res;
    int m = make_instance(r, cmd, NULL, &inst, &st, &res, why, why_cap);
    if (m == MOD_OK) {
        snprintf(why, why_cap, "instantiated, expected trap \"%s\"", cmd_text(cmd));
        return OUT_FAIL;
    }
    if (m != MOD_INSTANTIATE_FAILED || st != RT_ERR_TRAP)
        return OUT_FAIL;
    if (!trap_matches(res.trap, cmd_text(cmd))) {
        snprintf(why, why_cap, "expected trap \"%s\", got trap \"%s\" (%s)", cmd_text(cmd), rt_trap_name(res.trap),
                 res.msg);
        return OUT_FAIL;
    }
    return OUT_PASS;
}

static int cmd_assert_unlinkable(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    wedge_instance *inst;
    rt_status st;
    rt_result res;
    int m = make_instance(r, cmd, NULL, &inst, &st, &res, why, why_cap);
    if (m == MOD_OK) {
        snprintf(why, why_cap, "linked, expected \"%s\"", cmd_text(cmd));
        return OUT_FAIL;
    }
    if (m != MOD_INSTANTIATE_FAILED)
        return OUT_FAIL;
    if (st != RT_ERR_LINK) {
        snprintf(why, why_cap, "expected link error \"%s\", got %s%s%s: %s", cmd_text(cmd), status_name(st),
                 st == RT_ERR_TRAP ? " " : "", st == RT_ERR_TRAP ? rt_trap_name(res.trap) : "", res.msg);
        return OUT_FAIL;
    }
    return OUT_PASS;
}

/* assert_invalid / assert_malformed (binary): the module must be rejected
 * by the decoder or the validator.  Text modules need a .wat parser. */
static int cmd_assert_rejected(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cmd, "module_type");
    if (cJSON_IsString(mt) && strcmp(mt->valuestring, "text") == 0) {
        snprintf(why, why_cap, "text format needs a .wat parser");
        return OUT_SKIP;
    }
    size_t len = 0;
    uint8_t *wasm = read_module_file(r, cmd, &len, why, why_cap);
    if (wasm == NULL)
        return OUT_FAIL;
    wasm_err err;
    memset(&err, 0, sizeof err);
    wasm_module *m = wasm_decode(wasm, len, &err);
    bool rejected = m == NULL;
    if (m != NULL) {
        rejected = !wasm_validate(m, &err);
        wasm_module_free(m);
    }
    free(wasm);
    if (!rejected) {
        snprintf(why, why_cap, "module accepted, expected \"%s\"", cmd_text(cmd));
        return OUT_FAIL;
    }
    return OUT_PASS;
}

static int cmd_assert_exhaustion(runner *r, const cJSON *cmd, char *why, size_t why_cap)
{
    return cmd_assert_trap(r, cmd, "call stack exhausted", why, why_cap);
}

static int run_command(runner *r, const cJSON *cmd, const char *type, char *why, size_t why_cap)
{
    if (strcmp(type, "module") == 0)
        return cmd_module(r, cmd, why, why_cap);
    if (strcmp(type, "register") == 0)
        return cmd_register(r, cmd, why, why_cap);
    if (strcmp(type, "action") == 0)
        return cmd_action(r, cmd, why, why_cap);
    if (strcmp(type, "assert_return") == 0)
        return cmd_assert_return(r, cmd, why, why_cap);
    if (strcmp(type, "assert_trap") == 0) {
        if (cJSON_GetObjectItemCaseSensitive(cmd, "filename") != NULL)
            return cmd_assert_uninstantiable(r, cmd, why, why_cap);
        return cmd_assert_trap(r, cmd, cmd_text(cmd), why, why_cap);
    }
    if (strcmp(type, "assert_exhaustion") == 0)
        return cmd_assert_exhaustion(r, cmd, why, why_cap);
    if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        return cmd_assert_rejected(r, cmd, why, why_cap);
    if (strcmp(type, "assert_unlinkable") == 0)
        return cmd_assert_unlinkable(r, cmd, why, why_cap);
    if (strcmp(type, "assert_uninstantiable") == 0)
        return cmd_assert_uninstantiable(r, cmd, why, why_cap);
    snprintf(why, why_cap, "unknown command type");
    return OUT_SKIP;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: wedge-spec [--bounds guard|software|none] [-O N] [--quiet|--verbose]\n"
                    "                  [--cmd-timeout S] [--skip-command I]... FILE.json\n");
    exit(2);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.bounds = WEDGE_BOUNDS_GUARD;
    r.opt_level = -1;
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--bounds") == 0 && i + 1 < argc) {
            const char *b = argv[++i];
            if (strcmp(b, "guard") == 0)
                r.bounds = WEDGE_BOUNDS_GUARD;
            else if (strcmp(b, "software") == 0)
                r.bounds = WEDGE_BOUNDS_SOFTWARE;
            else if (strcmp(b, "none") == 0)
                r.bounds = WEDGE_BOUNDS_NONE;
            else
                usage();
        } else if (strcmp(a, "-O") == 0 && i + 1 < argc) {
            r.opt_level = atoi(argv[++i]);
        } else if (strcmp(a, "--cmd-timeout") == 0 && i + 1 < argc) {
            r.cmd_timeout = (unsigned)atoi(argv[++i]);
        } else if (strcmp(a, "--skip-command") == 0 && i + 1 < argc) {
            if (r.nskips == SPEC_MAX_SKIPS)
                usage();
            r.skips[r.nskips++] = atol(argv[++i]);
        } else if (strcmp(a, "--quiet") == 0) {
            r.quiet = true;
        } else if (strcmp(a, "--verbose") == 0) {
            r.verbose = true;
        } else if (a[0] == '-' || json_path != NULL) {
            usage();
        } else {
            json_path = a;
        }
    }
    if (json_path == NULL)
        usage();
    if (r.opt_level < 0) {
        cg_options d;
        cg_options_default(&d);
        r.opt_level = d.opt_level;
    }

    char why[2048];
    size_t len;
    char *text = (char *)read_file(json_path, &len, why, sizeof why);
    if (text == NULL) {
        fprintf(stderr, "wedge-spec: %s\n", why);
        return 2;
    }
    char *nt = realloc(text, len + 1);
    if (nt == NULL) {
        free(text);
        fprintf(stderr, "wedge-spec: out of memory\n");
        return 2;
    }
    text = nt;
    text[len] = '\0';
    char *safe = protect_nul_escapes(text, len);
    free(text);
    if (safe == NULL) {
        fprintf(stderr, "wedge-spec: out of memory\n");
        return 2;
    }
    cJSON *root = cJSON_Parse(safe);
    free(safe);
    if (root == NULL) {
        fprintf(stderr, "wedge-spec: %s: not valid JSON\n", json_path);
        return 2;
    }

    char *dir = strdup(json_path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    r.dir = slash ? dir : ".";
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source_filename");
    r.wast = cJSON_IsString(src) ? base_name(src->valuestring) : base_name(json_path);

    rt_result res;
    memset(&res, 0, sizeof res);
    if (!rt_init(&res)) {
        fprintf(stderr, "wedge-spec: rt_init: %s\n", res.msg);
        return 2;
    }
    if (!(r.linker = rt_linker_new(&res))) {
        fprintf(stderr, "wedge-spec: %s\n", res.msg);
        return 2;
    }
    if (!spec_spectest_init(why, sizeof why) || !spec_spectest_link(r.linker, why, sizeof why)) {
        fprintf(stderr, "wedge-spec: %s\n", why);
        return 2;
    }

    if (r.cmd_timeout > 0)
        signal(SIGALRM, on_alarm);
    const cJSON *cmd;
    long index = 0;
    cJSON_ArrayForEach(cmd, cJSON_GetObjectItemCaseSensitive(root, "commands"))
    {
        const cJSON *jt = cJSON_GetObjectItemCaseSensitive(cmd, "type");
        const cJSON *jl = cJSON_GetObjectItemCaseSensitive(cmd, "line");
        const char *type = cJSON_IsString(jt) ? jt->valuestring : "?";
        int line = cJSON_IsNumber(jl) ? jl->valueint : 0;
        why[0] = '\0';
        bool skip = false;
        for (size_t k = 0; k < r.nskips; k++)
            skip |= r.skips[k] == index;
        index++;
        if (skip) {
            /* The driver already counted it (it crashed or hung before). */
            if (strcmp(type, "module") == 0)
                r.current = NULL;
            printf("%s:%d: %s: not run (--skip-command)\n", r.wast, line, type);
            fflush(stdout);
            continue;
        }
        int n = snprintf(timeout_line, sizeof timeout_line, "%s:%d: %s: timed out after %u s\n", r.wast, line,
                         type, r.cmd_timeout);
        timeout_line_len = n < 0 ? 0 : (size_t)n < sizeof timeout_line ? (size_t)n : sizeof timeout_line - 1;
        alarm(r.cmd_timeout);
        int out = run_command(&r, cmd, type, why, sizeof why);
        alarm(0);
        if (out == OUT_FAIL && why[0] == '\0')
            snprintf(why, sizeof why, "failed");
        report(&r, out, line, type, why);
    }

    printf("%s: %d passed, %d failed, %d skipped\n", r.wast, r.passed, r.failed, r.skipped);
    fflush(stdout);
    free_all(&r);
    spec_spectest_fini();
    cJSON_Delete(root);
    free(dir);
    return r.failed ? 1 : 0;
}
