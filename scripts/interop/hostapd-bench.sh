#!/usr/bin/env bash
# Throughput anchor (issue 3): full EAP-AKA authentications per second over RADIUS, eapol_test
# (Milenage USIM) -> RADIUS EAP server, and the server's CPU per authentication.
# One eapol_test process per authentication (eapol_test -r inserts a fixed 100 ms pause between
# runs, useless for throughput); P worker loops in parallel, each with its OWN IMSI (hostapd's
# eap_sim_db stalls a session when a second vector request for the same IMSI is pending).
# Traps of the reference: hostapd's RADIUS server holds at most 1000 sessions and keeps finished
# ones 5 s, so more than 1000 authentications within 5 s are refused (sustained ceiling ~200/s):
# keep N <= ~800 per run; the script idles 6 s between runs. The clients are the bottleneck here
# (eapol_test start-up), so the server CPU per authentication is the portable number.
# Usage: scripts/interop/hostapd-bench.sh [N=600 per run] [P=2] [RUNS=3]
# Server: reference Debian hostapd (no -dd) + hlr_auc_gw in a private netns (default), or AAA_CMD
#   (our server in the same netns, RADIUS on 127.0.0.1:$AAA_PORT, subscribers $OUT/subscribers.csv:
#   IMSIs 2320100000001NN, K/OPc of TS 35.208 test set 20; its CPU is measured the same way), or
#   EXTERNAL=1 (already listening at $AAA_ADDR:$AAA_PORT; no CPU figure).
# Env: AAA_ADDR=127.0.0.1 AAA_PORT=18120 AAA_SECRET=radius OUT=<dir>
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_out hostapd-bench
trap ia_cleanup EXIT
N=${1:-600}; P=${2:-2}; RUNS=${3:-3}
AAA_ADDR=${AAA_ADDR:-127.0.0.1}; AAA_PORT=${AAA_PORT:-18120}; AAA_SECRET=${AAA_SECRET:-radius}
EAPOL=$HOSTAP_DIR/bin/eapol_test
[ -x "$EAPOL" ] || ia_die "no $EAPOL: run scripts/interop/build-hostap.sh"
ia_subscriber_defaults
# shellcheck disable=SC2034  # read by ia_write_subscribers
IA_EXTRA_SUBSCRIBERS=$(for k in $(seq 1 "$P"); do printf '2320100000001%02d,%s,%s,%s,000000000000\n' "$k" "$AKA_K" "$AKA_OPC" "$AKA_AMF"; done)
ia_write_subscribers "$OUT/subscribers.csv"
for k in $(seq 1 "$P"); do
  ia_usim_conf "$OUT/w$k.conf" AKA "$(ia_nai 0 "$(printf '2320100000001%02d' "$k")")" "$AKA_K" "$AKA_OPC" 000000000000
done
NS=""; SRV=""
if [ "${EXTERNAL:-0}" != 1 ]; then
  NS=ia-bench-$$
  ia_netns_add "$NS"
fi
if [ -n "${AAA_CMD:-}" ]; then
  ia_start_aaa_cmd "$NS" udp "$AAA_PORT"; SRV=$IA_AAA_PID; DESC=AAA_CMD
elif [ "${EXTERNAL:-0}" != 1 ]; then
  IA_HOSTAPD_DEBUG=0 ia_start_hostapd_aaa "$NS" "$OUT/aaa" "$AAA_PORT" "$AAA_SECRET" "$OUT/hlr_auc_gw.milenage_db"
  SRV=$IA_AAA_PID; DESC="reference hostapd $(dpkg-query -W -f='${Version}' hostapd) + hlr_auc_gw"
else DESC="external $AAA_ADDR:$AAA_PORT"; fi
echo "hostapd-bench: server = $DESC; N=$N per run, P=$P loops, $RUNS runs; artefacts in $OUT"
X() { if [ -n "$NS" ]; then ip netns exec "$NS" "$@"; else "$@"; fi; }
# CPU of the server: the process and its children (ip netns exec / bash -c exec into it)
cpu() { [ -n "$SRV" ] && [ -r "/proc/$SRV/stat" ] && awk '{print $14+$15}' "/proc/$SRV/stat" || echo 0; }
# one loop per worker, run inside the namespace as a whole (ip netns exec per call would cost
# more than the authentication)
worker() { # k count
  X bash -c 'ok=0; bad=0
    for i in $(seq 1 "$2"); do
      if "$3" -c "$4" -a "$5" -p "$6" -s "$7" -t 10 >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
    done
    echo "$ok $bad" >"$1"' sh "$OUT/w$1.res" "$2" "$EAPOL" "$OUT/w$1.conf" "$AAA_ADDR" "$AAA_PORT" "$AAA_SECRET"
}
rates=(); cpus=()
for r in $(seq 1 "$RUNS"); do
  rm -f "$OUT"/w*.res; c0=$(cpu); t0=$(date +%s.%N); wp=()
  for k in $(seq 1 "$P"); do worker "$k" $((N / P)) & wp+=($!); done
  wait "${wp[@]}"
  t1=$(date +%s.%N); c1=$(cpu)
  ok=$(cat "$OUT"/w*.res | awk '{s+=$1} END {print s+0}'); bad=$(cat "$OUT"/w*.res | awk '{s+=$2} END {print s+0}')
  rate=$(awk -v n="$ok" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}')
  us=""
  if [ -n "$SRV" ]; then
    us=$(awk -v a="$c0" -v b="$c1" -v n="$ok" -v c="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", n ? (b-a)/c*1e6/n : 0}')
    cpus+=("$us")
  fi
  echo "run $r: $ok ok, $bad failed, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, $rate auth/s${us:+, server CPU $us us/auth}" | tee -a "$OUT/results.txt"
  rates+=("$rate")
  [ "$bad" = 0 ] || ia_fail "run $r: $bad authentications failed"
  [ "$r" -lt "$RUNS" ] && sleep 6
done
med=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
medcpu=""; [ ${#cpus[@]} -gt 0 ] && medcpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
echo "median: $med auth/s full EAP-AKA${medcpu:+, server CPU $medcpu us/auth} (N=$N P=$P)" | tee -a "$OUT/results.txt"
ia_pass "bench: median $med full EAP-AKA auth/s${medcpu:+, server CPU $medcpu us/auth} (N=$N, P=$P, $RUNS runs)"
ia_summary hostapd-bench
