#!/usr/bin/env bash
# The README's run command: set up a fresh Debian machine, build mobstrap, and run the main job.
#
# The end-to-end lab (`mobstrap lab`, every network function on loopback) arrives with the
# network functions (issues #3-#5). Until then the main job is the codec tour: write one
# sample of every message type mobstrap speaks into a capture, decode it with mobstrap, and
# have tshark check the same capture.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cargo build --release -q -p mobstrap
bin=target/release/mobstrap
out=${OUT:-$(mktemp -d /tmp/mobstrap-run.XXXXXX)}
mkdir -p "$out"
"$bin" samples --pcap "$out/samples.pcap" | tail -1
"$bin" decode --pcap "$out/samples.pcap" > "$out/decoded.txt"
echo "decoded every frame: $out/decoded.txt ($(grep -c '^Frame [0-9]' "$out/decoded.txt") frames)"
echo "one authentication vector (TS 35.208 test set 1):"
"$bin" aka-vector --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 \
  --rand 23553cbe9637a89d218ae64dae47bf35 --sqn ff9bb4d0b607 --amf b9b9 \
  --identity 0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org
