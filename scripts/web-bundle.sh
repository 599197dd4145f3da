#!/bin/sh
# web-bundle.sh — build the script and style that poolprobe-report embeds in its HTML report.
#
# Usage: scripts/web-bundle.sh OUTDIR
# Writes OUTDIR/report.js (the licences of every vendored package as one comment, then
# d3-selection, d3-flame-graph (which bundles the d3 modules it uses) and Chart.js, minified as
# published on npm, then web/report.js) and OUTDIR/report.css (d3-flame-graph's style, then
# web/report.css). The packages come from web/node_modules, installed by `npm ci` in web/
# (scripts/install-deps.sh does it) from the committed package-lock.json: the built report never
# loads anything from the network. Fails when a file would close the <script> or <style>
# element that holds it.
set -eu
cd "$(dirname "$0")/.."
out=$1
nm=web/node_modules
libs="$nm/d3-selection/dist/d3-selection.min.js $nm/d3-flame-graph/dist/d3-flamegraph.min.js
$nm/chart.js/dist/chart.umd.js"
for f in $libs $nm/d3-flame-graph/dist/d3-flamegraph.css; do
    if [ ! -f "$f" ]; then
        echo "web-bundle: $f is missing: run scripts/install-deps.sh (npm ci in web/)" >&2
        exit 2
    fi
done
mkdir -p "$out"
{
    echo '/*! Libraries embedded in this report, with their licences:'
    for pkg in $nm/*/ $nm/@*/*/; do
        [ -f "$pkg/package.json" ] || continue
        name=$(sed -n 's/^  "name": "\(.*\)",$/\1/p' "$pkg/package.json")
        version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$pkg/package.json")
        echo
        echo "== $name $version =="
        for lic in "$pkg"LICENSE*; do
            [ -f "$lic" ] && sed 's|\*/|* /|g' "$lic"
        done
    done
    echo '*/'
    for f in $libs; do
        cat "$f"
        echo ';'
    done
    cat web/report.js
} >"$out/report.js.tmp"
{
    cat $nm/d3-flame-graph/dist/d3-flamegraph.css
    cat web/report.css
} >"$out/report.css.tmp"
if grep -qi '</script' "$out/report.js.tmp" || grep -qi '</style' "$out/report.css.tmp"; then
    echo "web-bundle: a file holds '</script' or '</style' and would break the page" >&2
    exit 2
fi
mv "$out/report.js.tmp" "$out/report.js"
mv "$out/report.css.tmp" "$out/report.css"
