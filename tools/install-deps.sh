#!/usr/bin/env bash
# Installs every Debian bookworm package wedge needs to build, test and
# benchmark.  Does nothing when they are all present; otherwise needs root
# (or sudo).  Used by `make` and by CI.
set -euo pipefail

PKGS=(
  build-essential cmake python3 curl
  clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev   # guest toolchain, fuzzers, sanitizers
  wabt binaryen nodejs                                              # wast2json/wasm2c, wasm-opt, V8 peer
  libcjson-dev node-llhttp libck-dev libcriterion-dev               # libraries
  libcurl4-openssl-dev openssl                                      # Dagger http(s) streams; test CA
  libssl-dev libhiredis-dev redis-server                            # store: SHA-256/HMAC, Redis backend
  wrk hey hyperfine nginx-light                                     # load generators and peers (bench/)
  haproxy iproute2                                                  # cluster test (tests/cluster/)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
