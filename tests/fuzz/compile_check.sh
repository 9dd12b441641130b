#!/usr/bin/env bash
# compile_check.sh — the slow half of fuzz_compile: run the full
# `wedge compile` (generated C through cc) on every valid module of a
# corpus and fail if any valid module does not compile.
#
#   tests/fuzz/compile_check.sh WEDGE CORPUS_DIR [FUZZ_COMPILE]
#
# With FUZZ_COMPILE (the libFuzzer binary), the corpus is replayed through
# it with FUZZ_COMPILE_DUMP set, so body-mode inputs are checked as the
# wrapped modules the fuzzer really compiled; those passed wedge's own
# validator.  Without it, the corpus files that are modules are checked
# when wabt's wasm-validate (Wasm 2.0, SIMD included) accepts them.
# Each module is compiled in both bounds modes.  Prints one line per
# failure and a closing "N passed, N failed".
set -uo pipefail
wedge=${1:?usage: compile_check.sh WEDGE CORPUS_DIR [FUZZ_COMPILE]}
corpus=${2:?usage: compile_check.sh WEDGE CORPUS_DIR [FUZZ_COMPILE]}
fuzzer=${3:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WEDGE_CACHE_DIR="$work/cache"
mkdir -p "$work/mods"

if [ -n "$fuzzer" ]; then
  FUZZ_COMPILE_DUMP="$work/mods" "$fuzzer" -runs=0 "$corpus" >"$work/replay.log" 2>&1 || {
    echo "compile_check: replaying the corpus through $fuzzer failed:"; tail -20 "$work/replay.log"; exit 1; }
  trusted=1
else
  for f in "$corpus"/*; do
    [ -f "$f" ] || continue
    [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = "0061736d" ] || continue
    cp "$f" "$work/mods/$(basename "$f").wasm"
  done
  trusted=0
fi

pass=0; fail=0
for m in "$work/mods"/*.wasm; do
  [ -f "$m" ] || continue
  if [ "$trusted" = 0 ] && ! wasm-validate "$m" >/dev/null 2>&1; then
    continue    # not a valid module: nothing to assert
  fi
  for bounds in guard software; do
    if timeout 120 "$wedge" compile -q -j 1 --bounds "$bounds" "$m" -o "$work/out.so" >"$work/err" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1))
      keep="${COMPILE_CHECK_KEEP:-/tmp}/compile_check-$(basename "$m")"
      cp "$m" "$keep"
      echo "FAIL ($bounds): $keep: $(tail -c 600 "$work/err" | tr '\n' ' ')"
    fi
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
