#!/usr/bin/env bash
# t_report_errors.sh — poolprobe-report refuses bad input with exit 2 and one clear message,
# and does so without memory errors (each case runs again under the ASan build).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$REPORT_ASAN" "$WORKLOADS/keeper"

check_status "--help exits 0" 0 "$REPORT" --help
check "--help says usage" grep -qi usage <("$REPORT" --help 2>&1)
check_status "--version exits 0" 0 "$REPORT" --version
check "--version prints something" test -n "$("$REPORT" --version)"
check_status "no arguments: exit 2" 2 "$REPORT"
check_status "unknown option: exit 2" 2 "$REPORT" --no-such-option "$TMP/none"

profile "$TMP/good.bin" -- "$WORKLOADS/keeper" 50 >/dev/null
size=$(wc -c <"$TMP/good.bin")
check_status "a good trace: exit 0" 0 "$REPORT" "$TMP/good.bin"

: >"$TMP/empty.bin"
head -c $((size / 2)) "$TMP/good.bin" >"$TMP/half.bin"
head -c $((size - 1)) "$TMP/good.bin" >"$TMP/short.bin"
head -c 20 "$TMP/good.bin" >"$TMP/header.bin"
printf 'this is not a trace\n%.0s' $(seq 50) >"$TMP/junk.bin"
head -c 4096 /dev/urandom >"$TMP/random.bin"
# One byte changed in the middle: the END checksum no longer matches.
cp "$TMP/good.bin" "$TMP/flipped.bin"
printf '\377' | dd of="$TMP/flipped.bin" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
# A newer major version with a valid checksum: refused, naming the version.
python3 - "$TMP/good.bin" "$TMP/major99.bin" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
data[8:10] = struct.pack("<H", 99)
end = len(data) - 24  # the END record: 16-byte header + u64 hash, last in the file
h = 0xcbf29ce484222325
for b in data[:end]:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
data[end + 16:] = struct.pack("<Q", h)
open(sys.argv[2], "wb").write(data)
PY

bad_file() { # bad_file NAME FILE [REPORT]: exit 2 and the one error line naming FILE
    check_refused "$1" "$2" "${3:-$REPORT}" "$2"
}

for report in "$REPORT" "$REPORT_ASAN"; do
    tag=""
    [ "$report" = "$REPORT_ASAN" ] && tag=" (asan)"
    bad_file "missing file$tag" "$TMP/no-such-file.bin" "$report"
    bad_file "empty file$tag" "$TMP/empty.bin" "$report"
    bad_file "truncated to half$tag" "$TMP/half.bin" "$report"
    bad_file "truncated by one byte$tag" "$TMP/short.bin" "$report"
    bad_file "header only$tag" "$TMP/header.bin" "$report"
    bad_file "junk text$tag" "$TMP/junk.bin" "$report"
    bad_file "random bytes$tag" "$TMP/random.bin" "$report"
    bad_file "one byte changed$tag" "$TMP/flipped.bin" "$report"
    bad_file "newer major version$tag" "$TMP/major99.bin" "$report"
    check "newer major version$tag: message names version 99" grep -q 99 "$TMP/bad.err"
    bad_file "a directory$tag" "$TMP" "$report"
    # One bad file among good ones still fails the whole report.
    rc=0
    "$report" "$TMP/good.bin" "$TMP/half.bin" >/dev/null 2>"$TMP/bad.err" || rc=$?
    check_eq "good + truncated$tag: exit 2" 2 "$rc"
    check "good + truncated$tag: names the bad file" grep -q "error: $TMP/half.bin:" "$TMP/bad.err"
    check_status "good trace, JSON$tag: exit 0" 0 "$report" --format json "$TMP/good.bin"
done
