#!/usr/bin/env bash
# The README's run command: set up a fresh Debian machine, build mobstrap, and run the lab:
# seed 002's attach (non-roaming and roaming) with every network function on loopback,
# printed as ladder diagrams with the seed's step numbers and a verdict per scenario, plus
# an HTML report and a pcap with its Wireshark key tables (docs/lab.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cargo build --release -q -p mobstrap
bin=target/release/mobstrap
out=${OUT:-$(mktemp -d /tmp/mobstrap-run.XXXXXX)}
mkdir -p "$out"
"$bin" lab --report "$out/lab.html" --pcap "$out/lab.pcap"
echo "open $out/lab.html in a browser; $out/lab.pcap with the keys in $out/lab.pcap.keys/ in Wireshark"
