#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 20 s each) and fails if any finds a
# crash. Needs cargo-fuzz; its nightly flags are enabled on the stable toolchain with
# RUSTC_BOOTSTRAP=1. Usage: scripts/fuzz-smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
secs=${1:-10}
# Safe Rust needs no AddressSanitizer to find panics, overflows and failed assertions; without
# it the build (aws-lc's C included) is much faster. FUZZ_SANITIZER=address for a deep run.
sanitizer=${FUZZ_SANITIZER:-none}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
# Seed every corpus with the codec samples (valid messages of every type).
(cd .. && cargo run -q -p mobstrap-wire --example fuzz_seeds -- fuzz/corpus)
# The Diameter peer engine reads the same messages as the codec.
mkdir -p corpus/diameter_peer && cp -n corpus/diameter/* corpus/diameter_peer/ 2>/dev/null || true
cargo fuzz build -s "$sanitizer"
logs=$(mktemp -d)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  if cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 >"$logs/$t.log" 2>&1; then
    echo "fuzz: $t clean: $(grep -E '^Done' "$logs/$t.log" | tail -1)"
  else
    echo "fuzz: $t FAILED" >&2
    tail -40 "$logs/$t.log" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets clean (${secs}s each)"
