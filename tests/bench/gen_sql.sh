#!/bin/sh
# gen_sql.sh — write the SQL script that `make bench` feeds to `sqlite3 :memory:`.
#
# Usage: tests/bench/gen_sql.sh [rows (default 200000)] > work.sql
# Creates two tables, inserts ROWS rows into one of them as separate INSERT statements inside a
# single transaction (each is parsed and prepared, as in an application that does not batch),
# builds two indexes, then runs aggregate, join, LIKE, UPDATE and DELETE statements. The rows
# come from a Park-Miller generator whose products stay below 2^53, so every awk computes the
# same bytes and the output is the same on every run.
set -eu
export LC_ALL=C

rows=${1:-200000}
case $rows in '' | *[!0-9]*) echo "gen_sql.sh: rows must be a number" >&2; exit 2 ;; esac

awk -v rows="$rows" -v q="'" 'BEGIN {
    print "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER,"
    print "                  price REAL, note TEXT);"
    print "CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);"
    for (g = 0; g < 100; g++)
        printf "INSERT INTO grp VALUES (%d, %sgroup-%03d%s);\n", g, q, g, q
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"
    print "BEGIN;"
    x = 12345
    for (i = 1; i <= rows; i++) {
        x = (x * 16807) % 2147483647
        h = int(x / 128)
        printf "INSERT INTO item(name, grp, price, note) VALUES (%sitem-%d-%d%s, %d, %d.%02d, %s%s%s);\n",
            q, i, h % 9973, q, h % 100, h % 1000, i % 100, q, substr(words, 1 + h % 40, 5 + h % 33), q
    }
    print "COMMIT;"
    print "CREATE INDEX item_grp ON item(grp);"
    print "CREATE INDEX item_name ON item(name);"
    print "SELECT grp, count(*), round(sum(price), 2), min(name), max(name) FROM item"
    print "  GROUP BY grp ORDER BY grp LIMIT 10;"
    print "SELECT g.label, count(*), round(avg(i.price), 3) FROM item i JOIN grp g ON g.id = i.grp"
    print "  WHERE i.price > 500 GROUP BY g.label ORDER BY 2 DESC, 1 LIMIT 10;"
    printf "SELECT count(*) FROM item WHERE name LIKE %s%%-42%%%s;\n", q, q
    printf "SELECT count(*), count(DISTINCT note) FROM item WHERE note LIKE %s%%dolor%%%s;\n", q, q
    print "SELECT substr(note, 1, 3) AS k, count(*) FROM item GROUP BY k ORDER BY 2 DESC, 1 LIMIT 5;"
    print "UPDATE item SET price = price * 1.1 WHERE grp % 7 = 0;"
    print "DELETE FROM item WHERE grp = 3;"
    print "SELECT count(*), round(total(price), 2) FROM item;"
    print "SELECT i.name, g.label FROM item i JOIN grp g ON g.id = i.grp"
    print "  WHERE i.name >= " q "item-1999" q " ORDER BY i.name LIMIT 5;"
}'
