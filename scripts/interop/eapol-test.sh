#!/usr/bin/env bash
# EAP-AKA and EAP-AKA' over RADIUS (RFC 3579) with hostap's eapol_test as NAS + peer, its Milenage
# USIM simulator holding K/OPc/SQN, against a RADIUS EAP server: by default the reference, Debian
# hostapd (integrated EAP server) + hostap's Milenage hlr_auc_gw; or our AAA (AAA_CMD / EXTERNAL).
#
# Cases (each prints PASS/FAIL; exit 0 only when all pass):
#   aka          EAP-AKA full authentication -> Access-Accept, MPPE keys match the peer's MSK
#   aka_prime    EAP-AKA' (TS 35.208 test set 19: AMF separation bit set) -> Access-Accept
#   aka_repeat   3 full EAP-AKA authentications in one eapol_test run (SQN moves on each time)
#   resync       USIM SQN ahead of the server's: the peer answers the first challenge with
#                AKA-Synchronization-Failure (AUTS), the server re-synchronises and the second
#                challenge succeeds -> Access-Accept
#   wrong_key    the USIM holds a different K: AUTN check fails, AKA-Authentication-Reject ->
#                Access-Reject
#   unknown_imsi identity of a subscriber the server does not know -> Access-Reject
# Usage: scripts/interop/eapol-test.sh [CASE...]     (default: all)
#
# Server selection:
#   (default)     reference server started here, inside a private network namespace
#   AAA_CMD="..." our server, started here (bash -c "exec $AAA_CMD", cwd $OUT, inside the same
#                 private netns, stopped by PID at the end); it must serve RADIUS on
#                 $AAA_ADDR:$AAA_PORT with secret $AAA_SECRET and know the subscribers written to
#                 $OUT/subscribers.csv (AAA_SETUP="..." runs first, e.g. to import that file)
#   EXTERNAL=1    a server already listening at $AAA_ADDR:$AAA_PORT (no netns, nothing started)
# Env: AAA_ADDR=127.0.0.1 AAA_PORT=18120 AAA_SECRET=radius  OUT=<artefact dir>  PCAP=1 (capture
#      RADIUS into $OUT/radius.pcapng and check it with check-pcap.sh)  TIMEOUT=10 (s per run)
#      Subscribers (K/OPc 32 hex, SQN 12 hex = the server's last used SQN, AMF 4 hex):
#      AKA_IMSI AKA_K AKA_OPC AKA_AMF AKA_SQN            (default TS 35.208 test set 20)
#      PRIME_IMSI PRIME_K PRIME_OPC PRIME_AMF PRIME_SQN  (default TS 35.208 test set 19)
#      RESYNC_IMSI RESYNC_SQN (server side) RESYNC_USIM_SQN (USIM side; K/OPc of AKA_*)
#      UNKNOWN_IMSI  REALM (default: nai.epc.mncMMM.mccCCC.3gppnetwork.org from the IMSI)
# Artefacts in $OUT: <case>.conf (network block), <case>.out (eapol_test log), subscribers.csv,
#      reference server logs under aaa/, radius.pcapng.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_out eapol-test
trap ia_cleanup EXIT

AAA_ADDR=${AAA_ADDR:-127.0.0.1}; AAA_PORT=${AAA_PORT:-18120}; AAA_SECRET=${AAA_SECRET:-radius}
TIMEOUT=${TIMEOUT:-10}
ia_subscriber_defaults
REALM=${REALM:-}
EAPOL=$HOSTAP_DIR/bin/eapol_test
[ -x "$EAPOL" ] || ia_die "no $EAPOL: run scripts/interop/build-hostap.sh"
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(aka aka_prime aka_repeat resync wrong_key unknown_imsi)

ia_write_subscribers "$OUT/subscribers.csv"

NS=""
if [ "${EXTERNAL:-0}" != 1 ]; then
  NS=ia-eapol-$$
  ia_netns_add "$NS"
fi
X() { if [ -n "$NS" ]; then ip netns exec "$NS" "$@"; else "$@"; fi; }
[ "${PCAP:-0}" = 1 ] && ia_pcap_start "$NS" lo "udp port $AAA_PORT" "$OUT/radius.pcapng"

if [ -n "${AAA_CMD:-}" ]; then
  ia_start_aaa_cmd "$NS" udp "$AAA_PORT"
  SERVER="AAA_CMD"
elif [ "${EXTERNAL:-0}" != 1 ]; then
  ia_start_hostapd_aaa "$NS" "$OUT/aaa" "$AAA_PORT" "$AAA_SECRET" "$OUT/hlr_auc_gw.milenage_db"
  SERVER="reference hostapd $(dpkg-query -W -f='${Version}' hostapd) + hlr_auc_gw"
else
  SERVER="external $AAA_ADDR:$AAA_PORT"
fi
echo "eapol-test: server = $SERVER; artefacts in $OUT"

# run_eapol NAME [eapol_test args...]: sets RC and LOG
run_eapol() {
  local name=$1; shift
  LOG=$OUT/$name.out
  X "$EAPOL" -c "$OUT/$name.conf" -a "$AAA_ADDR" -p "$AAA_PORT" -s "$AAA_SECRET" -t "$TIMEOUT" "$@" >"$LOG" 2>&1
  RC=$?
}
n_of() { grep -c -- "$1" "$LOG" 2>/dev/null || true; }
# a success: exit 0, EAP success, and the MSK from Access-Accept's MS-MPPE keys equals the peer's
expect_success() { # name runs detail
  local name=$1 runs=$2 detail=$3 ok acc
  ok=$(n_of "CTRL-EVENT-EAP-SUCCESS")
  acc=$(n_of "(Access-Accept)")
  if [ "$RC" = 0 ] && [ "$ok" -ge "$runs" ] && [ "$acc" -ge "$runs" ] && grep -q "MPPE keys OK: $runs  mismatch: 0" "$LOG"; then
    ia_pass "$name: $runs x Access-Accept, MPPE keys match the peer's MSK$detail"
  else
    ia_fail "$name: exit $RC, $ok EAP success, $acc Access-Accept, last line '$(tail -1 "$LOG")' (see $LOG)"
  fi
}
# a rejection: Access-Reject received, no EAP success (eapol_test exits 252/253 then)
expect_reject() { # name detail
  local name=$1 detail=$2
  if [ "$RC" != 0 ] && [ "$(n_of "(Access-Reject)")" -ge 1 ] && [ "$(n_of "CTRL-EVENT-EAP-SUCCESS")" = 0 ]; then
    ia_pass "$name: Access-Reject (eapol_test exit $RC)$detail"
  else
    ia_fail "$name: exit $RC, last line '$(tail -1 "$LOG")' (see $LOG)"
  fi
}

# SQNs of the challenges the peer accepted or refused, in order (from the USIM's Milenage trace)
sqns() { grep 'Milenage: SQN - hexdump' "$LOG" | sed 's/.*): //' | tr -d ' ' | paste -sd' ' -; }
# increasing A B...: true when each hex SQN is larger than the one before
increasing() {
  local prev="" x
  for x in "$@"; do
    [ -z "$prev" ] || [ $((16#$x)) -gt $((16#$prev)) ] || return 1
    prev=$x
  done
}
method_is() { grep -q "selected EAP method: vendor 0 method $1 " "$LOG"; }

for c in "${CASES[@]}"; do
  case $c in
  aka)
    ia_usim_conf "$OUT/$c.conf" AKA "$(ia_nai 0 "$AKA_IMSI" "$REALM")" "$AKA_K" "$AKA_OPC" 000000000000
    run_eapol "$c"
    if method_is 23; then expect_success "$c" 1 " (EAP-AKA, SQN $(sqns))"
    else ia_fail "$c: EAP-AKA (type 23) never selected (see $LOG)"; fi
    ;;
  aka_prime)
    ia_usim_conf "$OUT/$c.conf" "AKA'" "$(ia_nai 6 "$PRIME_IMSI" "$REALM")" "$PRIME_K" "$PRIME_OPC" 000000000000
    run_eapol "$c"
    net=$(grep -m1 -A1 "Network Name (AT_KDF_INPUT)" "$LOG" | tail -1 | awk '{print $NF}')
    if method_is 50 && grep -q "EAP-AKA': KDF 1 selected" "$LOG"; then
      expect_success "$c" 1 " (EAP-AKA', KDF 1, network name '$net', SQN $(sqns))"
    else ia_fail "$c: EAP-AKA' (type 50) with KDF 1 not seen (see $LOG)"; fi
    ;;
  aka_repeat)
    ia_usim_conf "$OUT/$c.conf" AKA "$(ia_nai 0 "$AKA_IMSI" "$REALM")" "$AKA_K" "$AKA_OPC" 000000000000
    run_eapol "$c" -r 2
    # shellcheck disable=SC2046
    if increasing $(sqns); then expect_success "$c" 3 " (3 full authentications, increasing SQN $(sqns))"
    else ia_fail "$c: SQNs not increasing: $(sqns) (see $LOG)"; fi
    ;;
  resync)
    ia_usim_conf "$OUT/$c.conf" AKA "$(ia_nai 0 "$RESYNC_IMSI" "$REALM")" "$AKA_K" "$AKA_OPC" "$RESYNC_USIM_SQN"
    run_eapol "$c"
    nsync=$(n_of "EAP-AKA: UMTS authentication failed (AUTN seq# -> AUTS)")
    last=$(sqns | awk '{print $NF}')
    if [ "$nsync" -ge 1 ] && [ -n "$last" ] && [ $((16#$last)) -gt $((16#$RESYNC_USIM_SQN)) ]; then
      expect_success "$c" 1 " after $nsync AKA-Synchronization-Failure (AUTS); USIM SQN $RESYNC_USIM_SQN, challenge SQNs $(sqns)"
    else
      ia_fail "$c: no AUTS sent or no fresh SQN after it (AUTS: $nsync, SQNs: $(sqns)) (see $LOG)"
    fi
    ;;
  wrong_key)
    bad_k=$(printf '%s' "$AKA_K" | tr '0-9a-f' '1-9a-f0')
    ia_usim_conf "$OUT/$c.conf" AKA "$(ia_nai 0 "$AKA_IMSI" "$REALM")" "$bad_k" "$AKA_OPC" 000000000000
    run_eapol "$c"
    if [ "$(n_of "EAP-AKA: UMTS authentication failed")" -ge 1 ]; then
      expect_reject "$c" " after the peer's AKA-Authentication-Reject (AUTN MAC mismatch)"
    else ia_fail "$c: the peer did not reject AUTN (see $LOG)"; fi
    ;;
  unknown_imsi)
    ia_usim_conf "$OUT/$c.conf" AKA "$(ia_nai 0 "$UNKNOWN_IMSI" "$REALM")" "$AKA_K" "$AKA_OPC" 000000000000
    run_eapol "$c"
    expect_reject "$c" " for unknown IMSI $UNKNOWN_IMSI"
    ;;
  *) ia_fail "$c: unknown case" ;;
  esac
done

ia_cleanup
if [ "${PCAP:-0}" = 1 ]; then
  if "$IA_DIR/check-pcap.sh" "$OUT/radius.pcapng" -d "udp.port==$AAA_PORT,radius" \
    -o radius.shared_secret:"$AAA_SECRET" -o radius.validate_authenticator:TRUE >"$OUT/check-pcap.txt" 2>&1; then
    ia_pass "pcap: $(cat "$OUT/check-pcap.txt")"
  else ia_fail "pcap: $(cat "$OUT/check-pcap.txt")"; fi
fi
ia_summary eapol-test
