#!/usr/bin/env bash
# Runs every interop harness against its reference peer (no mobstrap involved): proves that the
# built tools, the Debian packages and the harnesses themselves work on this machine. Each harness
# runs in its own network namespaces; the whole run takes about a minute after the builds.
# Usage: scripts/interop/selftest.sh [OUTDIR]   (artefacts of each harness in OUTDIR/<harness>)
# Env: INTEROP_LOADTEST=1 also runs short load anchors (strongSwan load-tester, hostapd bench).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=${1:-$(mktemp -d /tmp/interop-selftest.XXXXXX)}
mkdir -p "$base"
pass=0; fail=0
run() { # name script args...
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  if OUT="$base/$name" "$@" >"$base/$name.txt" 2>&1; then pass=$((pass + 1)); st=PASS
  else fail=$((fail + 1)); st=FAIL; fi
  printf '%s %-24s %5.1f s  %s\n' "$st" "$name" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$(tail -1 "$base/$name.txt")"
  [ $st = PASS ] || sed 's/^/    /' "$base/$name.txt" | grep -E '^    (FAIL|ERROR)' | head -5
}
run eapol-test "$here/eapol-test.sh"
run erp-netns-aka "$here/erp-netns.sh" aka 3
run erp-netns-aka-prime "$here/erp-netns.sh" aka_prime 2
run fd-peer "$here/fd-peer.sh"
FD_ROLE=listen run fd-peer-listen "$here/fd-peer.sh"
run fd-radgw-chain "$here/fd-radgw-chain.sh"
run strongswan-eap-radius "$here/strongswan-epdg.sh" eap-radius
run strongswan-eap-aka-local "$here/strongswan-epdg.sh" eap-aka-local
run strongswan-psk "$here/strongswan-epdg.sh" psk
if [ "${INTEROP_LOADTEST:-0}" = 1 ]; then
  RUNS=1 run strongswan-loadtest "$here/strongswan-loadtest.sh" psk-x25519
  run hostapd-bench "$here/hostapd-bench.sh" 300 2 1
fi
echo "artefacts in $base"
echo "interop selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
