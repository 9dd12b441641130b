#!/usr/bin/env bash
# The "main job on built-in defaults": runs the bundled example functions
# through wedge (each .wasm is compiled once into the cache).
set -euo pipefail
B=${1:-build}
W=$B/wedge
E=$B/examples
[ -x "$W" ] || { echo "demo: $W not built" >&2; exit 1; }
echo "== wedge $($W version 2>/dev/null || true)"
for ex in hello args_env kernel; do
  [ -f "$E/$ex.wasm" ] || { echo "demo: $E/$ex.wasm missing (examples not built?)" >&2; exit 1; }
done
echo "== hello";   "$W" run "$E/hello.wasm"
echo "== args_env"; "$W" run --env GREETING=hi "$E/args_env.wasm" one two
echo "== kernel";  "$W" run "$E/kernel.wasm"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "wedge copies files inside a pre-opened directory" > "$tmp/in.txt"
echo "== copy (pre-opened $tmp as /data)"
"$W" run --dir "$tmp::/data" "$E/copy.wasm" /data/in.txt /data/out.txt
cmp "$tmp/in.txt" "$tmp/out.txt" && echo "copy: identical"
