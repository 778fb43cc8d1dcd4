#!/usr/bin/env bash
# The test command of the README (and of CI): set up a fresh Debian machine, then run every
# test, the lints, and a bounded fuzz smoke run of every codec.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
cargo test --workspace --doc
scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-20}"
