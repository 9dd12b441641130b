#!/usr/bin/env bash
# dagger_http.sh WEDGE BUILD_DIR — Dagger http:// and https:// streams under
# `wedge run`, against real loopback servers (tests/common/dagger_upstream.py):
# plain HTTP, HTTPS with a certificate from a test CA made here with openssl
# (trusted through --ca-file, never by turning verification off), the
# allow-list (--allow-http) and its refusals, a redirect not followed, a
# response past the size limit, a malformed request.  The guest is
# tests/serve/guests/dagger_fetch.c built with clang --target=wasm32
# -nostdlib.  A missing tool is a skip (exit 77) with its reason.
set -u

WEDGE=${1:?usage: dagger_http.sh WEDGE BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
NCHECKS=12

for tool in clang python3 openssl; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP: all $NCHECKS Dagger http(s) checks: $tool not installed" >&2
        exit 77
    fi
done
TMP=$(mktemp -d)
UP_PID=
cleanup() { [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}
if ! clang --target=wasm32 -nostdlib -O2 -I"$SRC/include" -Wl,--no-entry -Wl,--export=dagger_main \
        "$SRC/tests/serve/guests/dagger_fetch.c" -o "$TMP/fetch.wasm" 2>"$TMP/clang.err"; then
    echo "SKIP: all $NCHECKS Dagger http(s) checks: clang cannot build for wasm32: $(head -c 300 "$TMP/clang.err")" >&2
    exit 77
fi

# A test CA and a server certificate it signed, for 127.0.0.1 only.
(
    cd "$TMP" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=wedge test CA" &&
    openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" &&
    printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf
) >"$TMP/openssl.log" 2>&1 || { echo "FAIL: openssl could not make the test CA: $(tail -5 "$TMP/openssl.log")" >&2; exit 1; }

python3 "$SRC/tests/common/dagger_upstream.py" "$TMP/ports" "$TMP/srv.pem" "$TMP/srv.key" &
UP_PID=$!
for _ in $(seq 100); do [ -f "$TMP/ports" ] && break; sleep 0.1; done
[ -f "$TMP/ports" ] || { echo "FAIL: the upstream servers did not start" >&2; exit 1; }
read -r HTTP HTTPS MUTE <"$TMP/ports"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# fetch NAME WANT_RC WANT_REGEX URL REQUEST -- wedge-run-options...
# The guest reads "URL\nREQUEST" and prints the raw response or "ERR call code".
fetch() {
    local name=$1 want_rc=$2 want=$3 url=$4 req=$5
    shift 6
    local rc
    printf '%s\n%b' "$url" "$req" | timeout 60 "$WEDGE" run "$@" "$TMP/fetch.wasm" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, expected $want_rc (stdout: $(head -c 300 "$TMP/out"); stderr: $(head -c 300 "$TMP/err"))"
    elif ! grep -qaE -- "$want" "$TMP/out"; then
        fail "$name: stdout lacks /$want/: $(head -c 300 "$TMP/out")"
    else
        echo "ok: $name"
    fi
}
GET='GET /hello HTTP/1.1\r\nHost: test\r\n\r\n'

fetch "http GET, origin on the allow-list" 0 '^hello over http$' \
    "http://127.0.0.1:$HTTP/hello" "$GET" -- --allow-http "http://127.0.0.1:$HTTP"
grep -qa '^HTTP/1.1 200 OK' "$TMP/out" || fail "the raw status line is missing: $(head -c 200 "$TMP/out")"
fetch "http POST, the body goes out and comes back" 0 '^echo:ping pong$' \
    "http://127.0.0.1:$HTTP/echo" 'POST /echo HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nping pong' \
    -- --allow-http "http://127.0.0.1:$HTTP/*"
fetch "no --allow-http: refused at open (-4)" 1 '^ERR open -4$' "http://127.0.0.1:$HTTP/hello" "$GET" --
fetch "a glob that does not match the path (-4)" 1 '^ERR open -4$' \
    "http://127.0.0.1:$HTTP/hello" "$GET" -- --allow-http "http://127.0.0.1:$HTTP/api/*"
fetch "another host refused (-4)" 1 '^ERR open -4$' "http://127.0.0.2:$HTTP/hello" "$GET" \
    -- --allow-http "http://127.0.0.1:$HTTP"
fetch "https with the test CA (--ca-file)" 0 '^hello over https$' \
    "https://127.0.0.1:$HTTPS/hello" "$GET" -- --allow-http "https://127.0.0.1:$HTTPS" --ca-file "$TMP/ca.pem"
fetch "https without the test CA: verification fails (-2)" 1 '^ERR flush -2$' \
    "https://127.0.0.1:$HTTPS/hello" "$GET" -- --allow-http "https://127.0.0.1:$HTTPS"
fetch "a redirect is returned, not followed" 0 '^Location: http://127.0.0.2:9/elsewhere' \
    "http://127.0.0.1:$HTTP/redirect" 'GET /redirect HTTP/1.1\r\n\r\n' -- --allow-http "http://127.0.0.1:$HTTP"
grep -qa '^HTTP/1.1 302' "$TMP/out" || fail "redirect: no 302 status line: $(head -c 200 "$TMP/out")"
fetch "a response past 16 MiB (-11)" 1 '^ERR flush -11$' \
    "http://127.0.0.1:$HTTP/big" 'GET /big HTTP/1.1\r\n\r\n' -- --allow-http "http://127.0.0.1:$HTTP"
fetch "a malformed request (-2)" 1 '^ERR flush -2$' \
    "http://127.0.0.1:$HTTP/hello" 'GET /hello FTP/9\r\n\r\n' -- --allow-http "http://127.0.0.1:$HTTP"

# Bad option values: one line, exit 1 (user error), the guest never runs.
if "$WEDGE" run --allow-http "ftp://x" "$TMP/fetch.wasm" </dev/null >"$TMP/out" 2>"$TMP/err"; then
    fail "--allow-http ftp://x accepted"
elif ! grep -q -- "--allow-http ftp://x: expected a pattern starting with http:// or https://" "$TMP/err"; then
    fail "--allow-http ftp://x: unexpected message: $(head -c 300 "$TMP/err")"
else
    echo "ok: --allow-http with another scheme is refused"
fi
if "$WEDGE" run --ca-file "$TMP/missing.pem" "$TMP/fetch.wasm" </dev/null >"$TMP/out" 2>"$TMP/err"; then
    fail "--ca-file of a missing file accepted"
elif ! grep -q "missing.pem: No such file" "$TMP/err"; then
    fail "--ca-file missing: unexpected message: $(head -c 300 "$TMP/err")"
else
    echo "ok: --ca-file of a missing file is refused"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures of $NCHECKS Dagger http(s) checks failed" >&2
    exit 1
fi
echo "all $NCHECKS Dagger http(s) checks passed"
