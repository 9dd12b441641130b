/*
 * sqlite_main.c — a guest for bench/run_compile_time.py: SQLite's
 * amalgamation (fetched by the script, never committed) plus this main,
 * built for wasm32-wasi.  It opens an in-memory database, creates tables,
 * inserts rows, runs joins, aggregates, sorting, string functions, a
 * recursive CTE and an index, and prints every result, so the output of
 * wedge's compiled module can be compared with another engine's.
 *
 *   sqlite.wasm [ROWS]     (default 2000)
 */
#include <stdio.h>
#include <stdlib.h>

#include "sqlite3.h"

static int print_row(void *tag, int n, char **val, char **col)
{
    (void)col;
    printf("%s:", (const char *)tag);
    for (int i = 0; i < n; i++)
        printf(" %s", val[i] ? val[i] : "NULL");
    printf("\n");
    return 0;
}

static int exec(sqlite3 *db, const char *tag, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, print_row, (void *)tag, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", tag, msg ? msg : "error");
        sqlite3_free(msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rows = argc > 1 ? atoi(argv[1]) : 2000;
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        fprintf(stderr, "cannot open an in-memory database\n");
        return 1;
    }
    /* WASI gives no temporary folder: sorts and indexes stay in memory. */
    int bad = exec(db, "create",
                   "PRAGMA temp_store = MEMORY;"
                   "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, x REAL);"
                   "CREATE TABLE g(k INTEGER PRIMARY KEY, label TEXT);");
    sqlite3_stmt *ins;
    bad |= sqlite3_prepare_v2(db, "INSERT INTO t(k, name, x) VALUES (?1, ?2, ?3)", -1, &ins, NULL) != SQLITE_OK;
    bad |= exec(db, "begin", "BEGIN");
    unsigned s = 12345;
    for (int i = 0; i < rows && !bad; i++) {
        char name[32];
        s = s * 1103515245u + 12345u;
        snprintf(name, sizeof name, "n%05u", (s >> 8) % 100000u);
        sqlite3_bind_int(ins, 1, (int)((s >> 4) % 97u));
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 3, (double)((s >> 3) % 10007u) / 7.0);
        bad |= sqlite3_step(ins) != SQLITE_DONE;
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    bad |= exec(db, "commit", "COMMIT");
    bad |= exec(db, "groups",
                "WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k < 96) "
                "INSERT INTO g SELECT k, 'group-' || hex(k * 7) FROM c;");
    bad |= exec(db, "count", "SELECT count(*), sum(k), printf('%.4f', avg(x)), min(name), max(name) FROM t");
    bad |= exec(db, "top",
                "SELECT g.label, count(*), printf('%.3f', sum(t.x)) FROM t JOIN g USING(k) "
                "GROUP BY k ORDER BY count(*) DESC, k LIMIT 8");
    bad |= exec(db, "index", "CREATE INDEX t_name ON t(name)");
    bad |= exec(db, "range", "SELECT id, name, printf('%.2f', x) FROM t WHERE name BETWEEN 'n10000' AND 'n10400' "
                "ORDER BY name, id");
    bad |= exec(db, "strings", "SELECT upper(name), substr(name, 2, 3), length(name || label), instr(label, '1') "
                "FROM t JOIN g USING(k) ORDER BY id LIMIT 5");
    bad |= exec(db, "window", "SELECT k, id, rank() OVER (PARTITION BY k ORDER BY x DESC) AS r FROM t "
                "WHERE k < 3 ORDER BY k, r, id LIMIT 12");
    bad |= exec(db, "update", "UPDATE t SET x = x * 2 WHERE k % 5 = 0; DELETE FROM t WHERE k % 11 = 0;"
                "SELECT count(*), printf('%.4f', total(x)) FROM t");
    bad |= exec(db, "json", "SELECT json_object('n', count(*), 'k', max(k)) FROM t");
    sqlite3_close(db);
    return bad;
}
