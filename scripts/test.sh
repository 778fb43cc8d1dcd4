#!/usr/bin/env bash
# The test command of the README (and of CI): set up a fresh Debian machine, then run every
# test (unit, vectors, tshark cross-checks, interop against real peers), the lints, and a
# bounded fuzz run of every codec and engine. Each step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() {
  local s=$(date +%s)
  echo "== $*"
  "$@"
  echo "== done in $(( $(date +%s) - s )) s (total $(( $(date +%s) - t0 )) s): $*"
}
step scripts/setup-debian.sh
# Real peers for the interop tests (hostap tools, freeDiameter extensions, strongSwan rebuild;
# scripts/interop/README.md); each build skips itself when already done. INTEROP=0 skips them.
if [ "${INTEROP:-1}" != 0 ]; then step scripts/interop/setup.sh --build; fi
step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets -- -D warnings
step cargo test --workspace --all-targets
step cargo test --workspace --doc
step scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-10}"
