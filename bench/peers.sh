#!/usr/bin/env bash
# The benchmarks side by side with their peers, in one run on this machine (loopback only):
#   bash bench/peers.sh            # about 3 minutes
#   bash bench/peers.sh memory 10  # the whole platform's memory over a 10-minute steady run
# Installs the peers from the registries first (Debian's wrk, the oha crate, npm's wiremock,
# which ships WireMock's standalone jar, run on the machine's Java 17), into target/peers/.
# Prints every figure with the ratio against what ran beside it; bench/README.md keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PEERS="${PEERS:-$PWD/target/peers}"
mkdir -p "$PEERS"
if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian)"
  apt-get install -y -qq wrk >/dev/null
fi
if [ ! -x "$PEERS/oha/bin/oha" ]; then
  echo "== installing oha (crates.io), a few minutes"
  cargo install oha --locked --quiet --root "$PEERS/oha"
fi
if [ ! -d "$PEERS/npm/node_modules/wiremock" ]; then
  echo "== installing WireMock standalone (npm's wiremock)"
  mkdir -p "$PEERS/npm" && (cd "$PEERS/npm" && npm install --silent --no-audit --no-fund wiremock)
fi
command -v java >/dev/null || { echo "WireMock needs Java 17 (apt-get install openjdk-17-jre-headless)"; exit 1; }
echo "== building the simulators and cargo xtask (release: the figures are release figures), minutes"
cargo build --release -q -p simulators -p xtask
exec "${CARGO_TARGET_DIR:-target}/release/xtask" peers "$@"
