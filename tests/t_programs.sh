#!/usr/bin/env bash
# t_programs.sh — real programs run unchanged under the shim and leave a readable trace.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT"

# python3: the real interpreter, not a version manager's wrapper script.
py=$(real_python)
cat >"$TMP/work.py" <<'PY'
import collections, json
words = [("w%d" % (i * 7919 % 1000)) for i in range(20000)]
counts = collections.Counter(words)
doc = json.dumps({"top": counts.most_common(5), "n": len(words)}, sort_keys=True)
print(len(doc), sorted(counts.values())[:3], sum(len(w) for w in words))
print(json.loads(doc)["top"][0])
PY
"$py" "$TMP/work.py" >"$TMP/py.plain"
profiled python "$TMP/py.bin" -- "$py" "$TMP/work.py"
check "python3: same output with and without the shim" cmp "$TMP/py.plain" "$TMP/python.out"
report_to "$TMP/py.json" "$TMP/py.bin"
check_eq "python3: totals.allocs > 0" true "$(json_get "$TMP/py.json" '.totals.allocs > 0')"
check_eq "python3: has sites" true "$(json_get "$TMP/py.json" '(.sites | length) > 0')"
check_eq "python3: frees <= allocs" true \
    "$(json_get "$TMP/py.json" '.totals.frees <= .totals.allocs')"

# sqlite3: a few hundred inserts and a grouped select in an in-memory database.
{
    echo "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL);"
    echo "BEGIN;"
    for i in $(seq 1 400); do
        echo "INSERT INTO t(name, grp, val) VALUES ('name-$i-$((i * 37 % 101))', $((i % 7)), $i.5);"
    done
    echo "COMMIT;"
    echo "CREATE INDEX t_grp ON t(grp);"
    echo "SELECT grp, count(*), sum(val), max(name) FROM t GROUP BY grp ORDER BY grp;"
    echo "SELECT count(*) FROM t WHERE name LIKE '%-1%';"
    echo "DELETE FROM t WHERE grp = 3;"
    echo "SELECT count(*), total(val) FROM t;"
} >"$TMP/work.sql"
sqlite3 :memory: <"$TMP/work.sql" >"$TMP/sql.plain"
profile_sqlite() { sqlite3 :memory: <"$TMP/work.sql"; }
profiled sqlite3 "$TMP/sql.bin" -- profile_sqlite
check "sqlite3: same output with and without the shim" cmp "$TMP/sql.plain" "$TMP/sqlite3.out"
check_eq "sqlite3: 9 output rows" 9 "$(wc -l <"$TMP/sqlite3.out" | tr -d ' ')"
report_to "$TMP/sql.json" "$TMP/sql.bin"
check_eq "sqlite3: totals.allocs > 0" true "$(json_get "$TMP/sql.json" '.totals.allocs > 0')"
check_eq "sqlite3: command is sqlite3" true \
    "$(json_get "$TMP/sql.json" '.processes[0].command | startswith("sqlite3")')"
