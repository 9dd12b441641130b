#!/usr/bin/env bash
# Regression tests from the differential tester: every module kept in
# tests/diff/findings/ once made wedge disagree with V8.  Each must now
# agree, in both bounds modes.  Usage: check_findings.sh DRIVER WORKDIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
driver=$1 work=$2
pass=0 fail=0
for f in "$here"/findings/*.wasm; do
  for b in guard software; do
    if python3 "$here/difftest.py" --driver "$driver" --bounds "$b" --check "$f" --work "$work/$b" >"$work.out" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "FAIL: $(basename "$f") [$b]"; sed 's/^/  /' "$work.out" | tail -n 8
    fi
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
