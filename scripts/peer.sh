#!/usr/bin/env bash
# peer.sh — a test suite nobody here wrote, natively and under the shim: CPython's
# test_subprocess (file descriptors, pass_fds, close_fds, exec, signals, thousands of child
# processes). `make peer`; not part of `make test` (it takes minutes).
#
# Both runs use `python3 -m test -v test_subprocess`; every test's outcome line ("test_x
# (test.test_subprocess.Class.test_x) ... ok|FAIL|ERROR|skipped ...") is collected and the two
# lists are compared. Exit 0 when every test has the same outcome under the shim as natively,
# 1 otherwise (the differing lines are shown), 2 when python3's test package is missing.
# PEER_PYTHON names another interpreter.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
python=${PEER_PYTHON:-python3}
shim=$PWD/build/libpoolprobe.so
[ -e "$shim" ] || { echo "peer: build/libpoolprobe.so is missing (make all)" >&2; exit 2; }
if ! "$python" -c 'import test.support' 2>/dev/null; then
    echo "peer: $python has no test package (Debian: apt-get install libpython3-testsuite)" >&2
    exit 2
fi
work=$(mktemp -d -t poolprobe-peer.XXXXXX)
# Children of the suite may still be writing traces when it returns: retry the cleanup once.
trap 'rm -rf "$work" 2>/dev/null || { sleep 1; rm -rf "$work"; }' EXIT

outcomes() { # outcomes LOG: one sorted line per test, timings stripped
    sed -n 's/^\(test[^ ]* ([^)]*)\) \.\.\. \(ok\|FAIL\|ERROR\|skipped\|expected failure\).*/\1 \2/p' "$1" | sort
}

echo "peer: test_subprocess natively..."
start=$(date +%s)
"$python" -m test -v test_subprocess >"$work/native.log" 2>&1
native_rc=$?
native_s=$(($(date +%s) - start))
echo "peer: test_subprocess under the shim..."
mkdir "$work/traces"
start=$(date +%s)
LD_PRELOAD=$shim POOLPROBE_OUT=$work/traces/trace.bin "$python" -m test -v test_subprocess \
    >"$work/shim.log" 2>&1
shim_rc=$?
shim_s=$(($(date +%s) - start))
outcomes "$work/native.log" >"$work/native.txt"
outcomes "$work/shim.log" >"$work/shim.txt"
count() { awk -v o="$2" '$NF == o' "$1" | wc -l | tr -d ' '; }
for run in native shim; do
    echo "peer: $run: $(wc -l <"$work/$run.txt" | tr -d ' ') tests: $(count "$work/$run.txt" ok) ok," \
        "$(count "$work/$run.txt" FAIL) FAIL, $(count "$work/$run.txt" ERROR) ERROR," \
        "$(count "$work/$run.txt" skipped) skipped"
done
echo "peer: exit status native $native_rc, under the shim $shim_rc; ${native_s}s and ${shim_s}s;" \
    "$(find "$work/traces" -name '*.bin' | wc -l | tr -d ' ') traces written"
if [ "$native_rc" = "$shim_rc" ] && cmp -s "$work/native.txt" "$work/shim.txt"; then
    echo "peer: same outcome for every test"
    exit 0
fi
echo "peer: outcomes differ (< native, > under the shim):"
diff "$work/native.txt" "$work/shim.txt" | grep '^[<>]'
grep -B2 -A12 '^\(FAIL\|ERROR\):' "$work/shim.log" | head -80
exit 1
