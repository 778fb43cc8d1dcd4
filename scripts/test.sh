#!/usr/bin/env bash
# The test command of the README (and of CI): set up a fresh Debian machine, then run every
# test, the lints, and a bounded fuzz smoke run of every codec.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
# Real peers for the interop tests (hostap tools, freeDiameter extensions, strongSwan rebuild;
# scripts/interop/README.md); each build skips itself when already done. INTEROP=0 skips them.
if [ "${INTEROP:-1}" != 0 ]; then scripts/interop/setup.sh --build; fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
cargo test --workspace --doc
# every interop harness against its reference peer (needs root: network namespaces)
if [ "${INTEROP:-1}" != 0 ] && [ "$(id -u)" -eq 0 ]; then scripts/interop/selftest.sh; fi
scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-20}"
