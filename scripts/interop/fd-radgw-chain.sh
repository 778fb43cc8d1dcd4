#!/usr/bin/env bash
# EAP over Diameter (RFC 4072 DER/DEA) driven by a RADIUS EAP peer, through freeDiameter's
# RADIUS->Diameter gateway, all inside a private network namespace:
#   eapol_test (Milenage USIM) --RADIUS 127.0.0.1:18121--> freeDiameterd "radgw.localdomain"
#     + app_radgw/auth.rgwx --DER/DEA (app 5, EAP-Payload), TCP 127.0.0.1:$AAA_PORT--> Diameter EAP server
#
# Reference (default): the server is a plain freeDiameterd "aaa.localdomain" with no EAP
#   application (nothing in Debian serves EAP-AKA over Diameter). It proves the chain up to the
#   server: the DER (app 5, R flag, EAP-Payload = EAP-Response/Identity with the peer's NAI,
#   Destination-Realm from the NAI) reaches it, its DEA error (3002 DIAMETER_UNABLE_TO_DELIVER)
#   comes back and app_radgw turns it into Access-Reject.
# With AAA_CMD (our server, e.g. mobstrap aaa): cases aka, aka_prime must end in Access-Accept
#   with matching MPPE keys (from EAP-Master-Session-Key) after several DER/DEA rounds (DEA
#   1001 DIAMETER_MULTI_ROUND_AUTH ... 2001), and wrong_key in Access-Reject.
# Usage: scripts/interop/fd-radgw-chain.sh [CASE...]   (AAA_CMD default: aka aka_prime wrong_key)
# Env: AAA_CMD AAA_SETUP (as in eapol-test.sh; subscribers in $OUT/subscribers.csv)
#      AAA_HOST=aaa.localdomain AAA_REALM=localdomain AAA_PORT=3868 (our server's Diameter identity,
#      realm and TCP port; it must accept the peer "radgw.localdomain", realm localdomain, no TLS)
#      REALM=localdomain (realm of the NAIs = Destination-Realm)  OUT=<dir>  FDX=$FD_DIR/fdx
#      Subscriber variables as in eapol-test.sh.
# Artefacts: $OUT/chain.pcapng (RADIUS + Diameter on the netns lo), eapol_test logs, daemon logs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_out fd-radgw-chain
trap ia_cleanup EXIT
AAA_HOST=${AAA_HOST:-aaa.localdomain}; AAA_REALM=${AAA_REALM:-localdomain}; AAA_PORT=${AAA_PORT:-3868}
REALM=${REALM:-localdomain}
FDX=${FDX:-$FD_DIR/fdx}
EAPOL=$HOSTAP_DIR/bin/eapol_test
[ -x "$EAPOL" ] || ia_die "no $EAPOL: run scripts/interop/build-hostap.sh"
[ -f "$FDX/app_radgw.fdx" ] || ia_die "no $FDX/app_radgw.fdx: run scripts/interop/build-fd-extensions.sh"
ia_subscriber_defaults
ia_write_subscribers "$OUT/subscribers.csv"
CASES=("$@")
if [ ${#CASES[@]} -eq 0 ]; then
  if [ -n "${AAA_CMD:-}" ]; then CASES=(aka aka_prime wrong_key); else CASES=(der); fi
fi

NS=ia-radgw-$$
ia_fd_netns "$NS"
ia_pcap_start "$NS" lo "tcp port $AAA_PORT or udp port 18121" "$OUT/chain.pcapng"
mkdir -p "$OUT/srv" "$OUT/gw"
if [ -n "${AAA_CMD:-}" ]; then
  ia_start_aaa_cmd "$NS" tcp "$AAA_PORT"
  SERVER="AAA_CMD ($AAA_HOST)"
else
  ia_fd_conf "$OUT/srv/fd.conf" "$AAA_HOST" "$AAA_REALM" "$AAA_PORT"
  ia_fd_start "$NS" "$OUT/srv" fd.conf "$OUT/srv/fd.log"
  ia_wait_tcp "$AAA_PORT" "$NS" 10 || ia_die "reference freeDiameterd not listening (see $OUT/srv/fd.log)"
  SERVER="reference freeDiameterd $(dpkg-query -W -f='${Version}' freediameterd) without EAP application"
fi
echo "fd-radgw-chain: server = $SERVER; artefacts in $OUT"
cp "$FDX/app_radgw.fdx" "$FDX/auth.rgwx" "$FDX/debug.rgwx" "$IA_DIR/diameter/app_radgw.conf" "$OUT/gw/"
IA_FD_ACL="$AAA_HOST" ia_fd_conf "$OUT/gw/fd.conf" radgw.localdomain localdomain 13870 \
  'LoadExtension = "./app_radgw.fdx" : "app_radgw.conf";' \
  "ConnectPeer = \"$AAA_HOST\" { ConnectTo = \"127.0.0.1\"; Port = $AAA_PORT; No_TLS; No_SCTP; };"
ia_fd_start "$NS" "$OUT/gw" fd.conf "$OUT/gw/fd.log"
ia_wait_log "$OUT/gw/fd.log" "-> 'STATE_OPEN'.*'$AAA_HOST'" 1 20 ||
  ia_die "the gateway never reached STATE_OPEN with $AAA_HOST (see $OUT/gw/fd.log)"
ia_wait_udp 18121 "$NS" 5 || ia_die "app_radgw not listening on udp 18121 (see $OUT/gw/fd.log)"

run_eapol() { # name method identity k opc
  ia_usim_conf "$OUT/$1.conf" "$2" "$3" "$4" "$5" 000000000000
  LOG=$OUT/$1.out
  ip netns exec "$NS" "$EAPOL" -c "$OUT/$1.conf" -a 127.0.0.1 -p 18121 -s radius -t 10 >"$LOG" 2>&1
  RC=$?
}
replies() { grep -o 'code=[0-9]* ([A-Za-z-]*)' "$LOG" | grep -v Access-Request | sort | uniq -c | awk '{print $1 "x" $3}' | paste -sd' ' -; }
for c in "${CASES[@]}"; do
  case $c in
  der)
    id=$(ia_nai 0 "$AKA_IMSI" "$REALM")
    run_eapol der AKA "$id" "$AKA_K" "$AKA_OPC"
    if grep -q "RCV from 'radgw.localdomain': Diameter-EAP-Request" "$OUT/srv/fd.log" 2>/dev/null; then
      ia_pass "der: $AAA_HOST received $(grep -o "RCV from 'radgw.localdomain': Diameter-EAP-Request" "$OUT/srv/fd.log" | head -1)"
    else ia_fail "der: no DER at $AAA_HOST (see $OUT/srv/fd.log)"; fi
    if [ "$RC" != 0 ] && grep -q "(Access-Reject)" "$LOG"; then
      ia_pass "reject: eapol_test exit $RC, RADIUS replies: $(replies) (DEA error mapped to Access-Reject)"
    else ia_fail "reject: eapol_test exit $RC, replies: $(replies) (see $LOG)"; fi
    ;;
  aka | aka_prime | wrong_key)
    case $c in
    aka) run_eapol "$c" AKA "$(ia_nai 0 "$AKA_IMSI" "$REALM")" "$AKA_K" "$AKA_OPC" ;;
    aka_prime) run_eapol "$c" "AKA'" "$(ia_nai 6 "$PRIME_IMSI" "$REALM")" "$PRIME_K" "$PRIME_OPC" ;;
    wrong_key) run_eapol "$c" AKA "$(ia_nai 0 "$AKA_IMSI" "$REALM")" "$(printf '%s' "$AKA_K" | tr '0-9a-f' '1-9a-f0')" "$AKA_OPC" ;;
    esac
    if [ "$c" = wrong_key ]; then
      # the challenge must have reached the peer, and the peer must have refused its AUTN
      if [ "$RC" != 0 ] && grep -q "(Access-Reject)" "$LOG" && ! grep -q CTRL-EVENT-EAP-SUCCESS "$LOG" &&
        grep -q "EAP-AKA: UMTS authentication failed" "$LOG"; then
        ia_pass "$c: AUTN refused by the peer, Access-Reject (replies: $(replies))"
      else ia_fail "$c: exit $RC, replies: $(replies) (see $LOG)"; fi
    elif [ "$RC" = 0 ] && grep -q "MPPE keys OK: 1  mismatch: 0" "$LOG"; then
      ia_pass "$c: Access-Accept, MPPE keys match the peer's MSK (replies: $(replies))"
    else ia_fail "$c: exit $RC, replies: $(replies), last line '$(tail -1 "$LOG")' (see $LOG)"; fi
    ;;
  *) ia_fail "$c: unknown case" ;;
  esac
done

ia_cleanup
# The Diameter leg as tshark sees it: DER/DEA with EAP-Payload, Result-Codes
# shellcheck disable=SC2054
T=(tshark -n -r "$OUT/chain.pcapng" -d "tcp.port==$AAA_PORT,diameter" -d udp.port==18121,radius)
"${T[@]}" -Y 'diameter.cmd.code == 268' -T fields -e frame.number -e diameter.flags.request \
  -e diameter.applicationId -e diameter.Destination-Realm -e diameter.Result-Code -e eap.code -e eap.type \
  -e eap.identity >"$OUT/der-dea.tsv" 2>/dev/null
nder=$(awk -F'\t' '$2 == "1" || $2 == "True"' "$OUT/der-dea.tsv" | wc -l)
codes=$(awk -F'\t' '$2 != "1" && $2 != "True" {print $5}' "$OUT/der-dea.tsv" | paste -sd, -)
first=$(awk -F'\t' '$2 == "1" || $2 == "True"' "$OUT/der-dea.tsv" | head -1)
if [ "$nder" -ge 1 ] && [ "$(cut -f3 <<<"$first")" = 5 ] && [ "$(cut -f6 <<<"$first")" = 2 ] &&
  [ "$(cut -f7 <<<"$first")" = 1 ] && [ "$(cut -f4 <<<"$first")" = "$REALM" ]; then
  ia_pass "pcap DER/DEA: $nder DER (app 5, first EAP-Payload = EAP-Response/Identity '$(cut -f8 <<<"$first")', Destination-Realm $REALM), DEA Result-Codes: $codes"
else
  ia_fail "pcap DER/DEA: $nder DER, first '$first' (see $OUT/der-dea.tsv)"
fi
if [ -n "${AAA_CMD:-}" ]; then
  case ",$codes," in
  *,1001,*2001,*) ia_pass "multi-round: DEA 1001 (DIAMETER_MULTI_ROUND_AUTH) rounds, then 2001" ;;
  *) ia_fail "multi-round: DEA Result-Codes $codes lack 1001 ... 2001" ;;
  esac
fi
if "$IA_DIR/check-pcap.sh" "$OUT/chain.pcapng" -d "tcp.port==$AAA_PORT,diameter" -d udp.port==18121,radius \
  >"$OUT/check-pcap.txt" 2>&1; then ia_pass "pcap: $(cat "$OUT/check-pcap.txt")"
else ia_fail "pcap: $(cat "$OUT/check-pcap.txt")"; fi
ia_summary fd-radgw-chain
