#!/usr/bin/env bash
# The "main job on built-in defaults" (README's first command ends here):
# run one bundled WASI program, then serve the bundled HTTP example
# functions with `wedge serve` (no config: the examples next to the binary,
# port 8080).  Ctrl-C drains and exits.
set -euo pipefail
B=${1:-build}
W=$B/wedge
[ -x "$W" ] || { echo "demo: $W not built" >&2; exit 1; }
[ -f "$B/examples/hello.wasm" ] || { echo "demo: $B/examples/hello.wasm missing (examples not built?)" >&2; exit 1; }
echo "== wedge run $B/examples/hello.wasm"
"$W" run "$B/examples/hello.wasm"
cat <<MSG
== wedge serve (first start compiles the example functions into the cache)
   try:  curl localhost:8080/hello        curl 'localhost:8080/fib?n=25'
         curl -d 'some body' localhost:8080/echo
         curl localhost:8080/trap (500)   curl localhost:8080/loop (504)
         curl localhost:9090/metrics
   Ctrl-C to stop.
MSG
exec "$W" serve --admin-port 9090
