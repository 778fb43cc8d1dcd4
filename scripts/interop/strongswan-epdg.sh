#!/usr/bin/env bash
# shellcheck disable=SC2034  # variables used through ia_subst (indirect expansion)
# strongSwan as ePDG and as UE, in two network namespaces joined by a veth pair:
#
#   netns UE   ue0 192.0.2.2  <--veth-->  epdg0 192.0.2.1   netns ePDG
#   UE: rebuilt charon (eap-aka-3gpp USIM,                  ePDG: charon (see MODE)
#       kernel-libipsec, save-keys)                         lo: 203.0.113.1, 2001:db8:ffff::1 (PDN host)
#                                                           AAA on 127.0.0.1:$AAA_PORT (RADIUS)
# MODE (first argument, default eap-radius):
#   eap-radius     ePDG = Debian's charon with eap-radius in front of a RADIUS AAA; the UE runs
#                  EAP-AKA through it. AAA = reference Debian hostapd + hlr_auc_gw (Milenage), or
#                  AAA_CMD (our server; RADIUS on 127.0.0.1:$AAA_PORT in the ePDG netns, secret
#                  $AAA_SECRET, subscribers in $OUT/subscribers.csv)
#   eap-aka-local  ePDG = rebuilt charon with a local EAP-AKA server (eap-aka-3gpp, K||OPc)
#   psk            ePDG = Debian's charon; PSK both ways
# Cases: ike      IKE_SA ESTABLISHED and CHILD_SA INSTALLED (UE side, or ePDG side with UE_CMD)
#        vip      the UE got an IPv4 and an IPv6 virtual IP from the ePDG's pools (CFG_REPLY)
#        esp      ping v4 and v6 from the virtual IPs to the PDN host through user-space ESP
#        decrypt  tshark decrypts IKE_AUTH with the save-keys tables: EAP-AKA (type 23) inside
#                 and the CP payload with INTERNAL_IP4_ADDRESS
#        radius   (eap-radius) the RADIUS leg: Access-Challenge(s) then Access-Accept
#        pcap     check-pcap.sh on both captures (no malformed packets / expert warnings)
# Replacing a strongSwan side by our implementation:
#   UE_CMD="..."    our UE (IKEv2 initiator), run in the UE netns (bash -c "exec ...", cwd $OUT/ue);
#                   it must attach to $EPDG_ADDR and stay up; then the ike/vip cases are checked on
#                   the ePDG's side and esp from the UE netns (skip with PING=0). If it writes
#                   ikev2_decryption_table / esp_sa into its cwd, decrypt uses them.
#   EPDG_CMD="..."  our ePDG, run in the ePDG netns (cwd $OUT/epdg) on $EPDG_ADDR, with the
#                   certificate $OUT/pki/epdg.pem + epdg.key (CA $OUT/pki/ca.pem) or the PSK.
#                   With AAA_CMD too, the AAA runs in the ePDG netns; AAA_PROTO=tcp when it
#                   serves Diameter (SWm) on $AAA_PORT rather than RADIUS (the capture of that
#                   port is then $OUT/radius.pcapng all the same).
# Env: IMSI/K/OPc of the UE: AKA_IMSI AKA_K AKA_OPC (defaults as in eapol-test.sh), IDENTITY
#      (default 0<IMSI>@nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org), EPDG_ID, PSK, IKE_PROPOSALS,
#      ESP_PROPOSALS, AAA_PORT=18120 AAA_SECRET=radius, PING=1, OUT=<dir>, HOLD=<s> (keep it up)
# Artefacts in $OUT: ike.pcapng (UE veth), radius.pcapng (ePDG lo), ikev2_decryption_table and
#      esp_sa (Wireshark key tables), decrypted.txt, ue/ and epdg/ charon logs, aaa/ logs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_need_sw
MODE=${1:-eap-radius}
case $MODE in eap-radius | eap-aka-local | psk) ;; *) ia_die "usage: $0 [eap-radius|eap-aka-local|psk]" ;; esac
ia_out strongswan-epdg
trap ia_cleanup EXIT
ia_subscriber_defaults
ia_write_subscribers "$OUT/subscribers.csv"
AAA_PORT=${AAA_PORT:-18120}; AAA_SECRET=${AAA_SECRET:-radius}; AAA_PROTO=${AAA_PROTO:-udp}
IDENTITY=${IDENTITY:-$(ia_nai 0 "$AKA_IMSI")}
K=$AKA_K; OPC=$AKA_OPC
EPDG_ID=${EPDG_ID:-epdg.epc.mnc001.mcc232.pub.3gppnetwork.org}
PSK=${PSK:-interop-psk-0123456789abcdef}
IKE_PROPOSALS=${IKE_PROPOSALS:-aes128-sha256-modp2048, aes256-sha256-ecp256, aes128-sha256-x25519}
ESP_PROPOSALS=${ESP_PROPOSALS:-aes128gcm16, aes128-sha256}
UE_ADDR=192.0.2.2; EPDG_ADDR=192.0.2.1
PING=${PING:-1}; PING4=${PING4:-203.0.113.1}; PING6=${PING6:-2001:db8:ffff::1}
DEBIAN_CHARON=/usr/lib/ipsec/charon
[ -x "$DEBIAN_CHARON" ] || ia_die "no $DEBIAN_CHARON: run scripts/interop/setup.sh"
export IDENTITY EPDG_ID PSK UE_ADDR EPDG_ADDR

NS_UE=ia-sw-ue-$$; NS_EPDG=ia-sw-epdg-$$
ia_netns_add "$NS_EPDG"; ia_netns_add "$NS_UE"
ip link add epdg0 netns "$NS_EPDG" type veth peer name ue0 netns "$NS_UE"
ip -n "$NS_EPDG" addr add "$EPDG_ADDR/24" dev epdg0; ip -n "$NS_EPDG" link set epdg0 up
ip -n "$NS_UE" addr add "$UE_ADDR/24" dev ue0; ip -n "$NS_UE" link set ue0 up
ip -n "$NS_EPDG" addr add 203.0.113.1/32 dev lo
ip -n "$NS_EPDG" addr add 2001:db8:ffff::1/128 dev lo

# throw-away ECDSA CA and ePDG certificate
P=$OUT/pki; mkdir -p "$P"
"$SW_PKI" --gen --type ecdsa --size 256 --outform pem >"$P/ca.key"
"$SW_PKI" --self --ca --lifetime 30 --in "$P/ca.key" --type ecdsa --dn "CN=Interop ePDG CA" --outform pem >"$P/ca.pem"
"$SW_PKI" --gen --type ecdsa --size 256 --outform pem >"$P/epdg.key"
"$SW_PKI" --pub --in "$P/epdg.key" --type ecdsa |
  "$SW_PKI" --issue --lifetime 30 --cacert "$P/ca.pem" --cakey "$P/ca.key" \
    --dn "CN=$EPDG_ID" --san "$EPDG_ID" --outform pem >"$P/epdg.pem"

ia_pcap_start "$NS_UE" ue0 "udp port 500 or udp port 4500" "$OUT/ike.pcapng"
WITH_AAA=0
{ [ "$MODE" = eap-radius ] || [ -n "${AAA_CMD:-}" ]; } && WITH_AAA=1
if [ $WITH_AAA = 1 ]; then
  ia_pcap_start "$NS_EPDG" lo "port $AAA_PORT" "$OUT/radius.pcapng"
  if [ -n "${AAA_CMD:-}" ]; then
    ia_start_aaa_cmd "$NS_EPDG" "$AAA_PROTO" "$AAA_PORT"
    AAA_DESC=AAA_CMD
  else
    ia_start_hostapd_aaa "$NS_EPDG" "$OUT/aaa" "$AAA_PORT" "$AAA_SECRET" "$OUT/hlr_auc_gw.milenage_db"
    AAA_DESC="reference hostapd $(dpkg-query -W -f='${Version}' hostapd) + hlr_auc_gw"
  fi
fi

# --- ePDG ---
E=$OUT/epdg; mkdir -p "$E/swanctl/x509" "$E/swanctl/x509ca" "$E/swanctl/private"
BASE_LOAD="random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey hmac kdf gcm aes sha1 sha2 md5 gmp curve25519 kernel-libipsec kernel-netlink socket-default vici attr"
case $MODE in
eap-radius) LOAD="$BASE_LOAD eap-identity eap-radius"; EPDG_AUTH=pubkey; UE_AUTH=eap-aka; UE_REMOTE_AUTH=eap-radius
  EBIN=$DEBIAN_CHARON; EPID=/run ;;
eap-aka-local) LOAD="$BASE_LOAD fips-prf eap-identity eap-aka eap-aka-3gpp"; EPDG_AUTH=pubkey; UE_AUTH=eap-aka
  UE_REMOTE_AUTH=eap-aka; EBIN=$SW_CHARON; EPID=$SW_DIR/run ;;
psk) LOAD=$BASE_LOAD; EPDG_AUTH=psk; UE_AUTH=psk; UE_REMOTE_AUTH=psk; EBIN=$DEBIAN_CHARON; EPID=/run ;;
esac
EPDG_CERTS=""; [ "$EPDG_AUTH" = pubkey ] && EPDG_CERTS="certs = epdg.pem"
if [ -n "${EPDG_CMD:-}" ]; then
  ia_bg "$E/epdg.log" env -C "$E" ip netns exec "$NS_EPDG" bash -c "exec $EPDG_CMD"
  EPDG_PID=$IA_LAST_PID
  ia_wait_udp 500 "$NS_EPDG" 10 || { tail -20 "$E/epdg.log" >&2; ia_die "EPDG_CMD not listening on udp 500"; }
  EPDG_DESC="EPDG_CMD"
else
  ia_subst "$IA_DIR/strongswan/epdg.conf.in" "$E/strongswan.conf" LOAD AAA_PORT AAA_SECRET
  ia_subst "$IA_DIR/strongswan/epdg-swanctl.conf.in" "$E/swanctl/swanctl.conf" EPDG_ADDR IKE_PROPOSALS \
    EPDG_AUTH EPDG_CERTS EPDG_ID UE_REMOTE_AUTH ESP_PROPOSALS IDENTITY K OPC PSK
  cp "$P/epdg.pem" "$E/swanctl/x509/"; cp "$P/ca.pem" "$E/swanctl/x509ca/"; cp "$P/epdg.key" "$E/swanctl/private/"
  ia_charon_start "$NS_EPDG" "$E" "$E/strongswan.conf" "$EBIN" "$EPID"
  EPDG_PID=$IA_LAST_PID
  ia_sw "$E" --load-all --noprompt >"$E/load.log" 2>&1 || { cat "$E/load.log"; ia_die "ePDG swanctl --load-all failed"; }
  EPDG_DESC="$( [ "$EBIN" = "$DEBIAN_CHARON" ] && echo "Debian charon $(dpkg-query -W -f='${Version}' strongswan-charon)" || echo "rebuilt charon 5.9.8")"
fi

# --- UE ---
U=$OUT/ue; mkdir -p "$U/swanctl/x509ca"
EPDG_AUTH_UE=$EPDG_AUTH
if [ -n "${UE_CMD:-}" ]; then
  ia_bg "$U/ue.log" env -C "$U" ip netns exec "$NS_UE" bash -c "exec $UE_CMD"
  UE_PID=$IA_LAST_PID
  UE_DESC=UE_CMD
else
  cp "$IA_DIR/strongswan/ue.conf" "$U/strongswan.conf"
  EPDG_AUTH=$EPDG_AUTH_UE ia_subst "$IA_DIR/strongswan/ue-swanctl.conf.in" "$U/swanctl/swanctl.conf" UE_ADDR \
    EPDG_ADDR IKE_PROPOSALS UE_AUTH IDENTITY EPDG_AUTH EPDG_ID ESP_PROPOSALS K OPC PSK
  cp "$P/ca.pem" "$U/swanctl/x509ca/"
  ia_charon_start "$NS_UE" "$U" "$U/strongswan.conf"
  UE_PID=$IA_LAST_PID
  ia_sw "$U" --load-all --noprompt >"$U/load.log" 2>&1 || { cat "$U/load.log"; ia_die "UE swanctl --load-all failed"; }
  UE_DESC="rebuilt charon 5.9.8 (eap-aka-3gpp, kernel-libipsec)"
fi
echo "strongswan-epdg: $MODE; UE = $UE_DESC; ePDG = $EPDG_DESC${AAA_DESC:+; AAA = $AAA_DESC}; identity $IDENTITY; artefacts in $OUT"

# --- attach ---
t0=$(date +%s.%N)
if [ -z "${UE_CMD:-}" ]; then
  if ia_sw "$U" --initiate --ike epdg --child ims --timeout 30 >"$OUT/initiate.log" 2>&1; then
    SAS=$(ia_sw "$U" --list-sas 2>&1); echo "$SAS" >"$OUT/ue-sas.txt"
    if grep -q "ESTABLISHED" <<<"$SAS" && grep -q "INSTALLED" <<<"$SAS"; then
      ia_pass "ike: IKE_SA ESTABLISHED, CHILD_SA INSTALLED in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s (IKE $(sed -n 4p "$OUT/ue-sas.txt" | tr -d ' '), ESP $(grep -o 'ESP:[^ ]*' "$OUT/ue-sas.txt" | head -1 | cut -d: -f2))"
    else ia_fail "ike: initiate returned but no established SAs (see $OUT/ue-sas.txt)"; fi
  else
    ia_fail "ike: initiate failed: $(grep -E 'failed|error|AUTHENTICATION' "$OUT/initiate.log" | tail -2 | paste -sd' ' -) (see $OUT/initiate.log, $U/charon.log, $E/charon.log)"
  fi
else
  # our UE: watch the ePDG (charon) until it reports the SAs
  up=0
  for _ in $(seq 1 300); do
    kill -0 "$UE_PID" 2>/dev/null || break
    if [ -z "${EPDG_CMD:-}" ] && ia_sw "$E" --list-sas 2>/dev/null | grep -q INSTALLED; then up=1; break; fi
    sleep 0.1
  done
  ia_sw "$E" --list-sas >"$OUT/epdg-sas.txt" 2>&1
  if [ $up = 1 ]; then ia_pass "ike: ePDG sees IKE_SA ESTABLISHED and CHILD_SA INSTALLED"
  else ia_fail "ike: no established SA at the ePDG within 30 s (see $U/ue.log, $E/charon.log)"; fi
fi

# the virtual IPs may land a moment after the SAs (our UE installs them itself): wait up to 5 s
for _ in $(seq 1 50); do
  ip -n "$NS_UE" -4 -o addr show scope global | awk '$2 != "ue0"' | grep -q . && break
  sleep 0.1
done
VIP4=$(ip -n "$NS_UE" -4 -o addr show scope global | awk '$2 != "ue0" {print $4}' | cut -d/ -f1 | head -1)
VIP6=$(ip -n "$NS_UE" -6 -o addr show scope global | awk '$2 != "ue0" {print $4}' | cut -d/ -f1 | head -1)
case "$VIP4" in 198.51.100.*) v4ok=1 ;; *) v4ok=0 ;; esac
case "$VIP6" in 2001:db8:100::*) v6ok=1 ;; *) v6ok=0 ;; esac
if [ $v4ok = 1 ] && [ $v6ok = 1 ]; then ia_pass "vip: UE got $VIP4 and $VIP6 from the ePDG's pools"
else ia_fail "vip: UE addresses '$VIP4' '$VIP6' not from the pools (ip -n $NS_UE addr)"; fi

if [ "$PING" = 1 ] && [ $v4ok = 1 ]; then
  if ip netns exec "$NS_UE" ping -c 3 -i 0.2 -W 2 -I "$VIP4" "$PING4" >"$OUT/ping4.txt" 2>&1 &&
    { [ $v6ok = 0 ] || ip netns exec "$NS_UE" ping -6 -c 3 -i 0.2 -W 2 -I "$VIP6" "$PING6" >"$OUT/ping6.txt" 2>&1; }; then
    ia_pass "esp: ping $VIP4 -> $PING4 and $VIP6 -> $PING6 through ESP-in-UDP ($(grep -o '[0-9]* received' "$OUT/ping4.txt"), $(grep -o '[0-9]* received' "$OUT/ping6.txt" 2>/dev/null))"
  else ia_fail "esp: ping through the tunnel failed (see $OUT/ping4.txt $OUT/ping6.txt)"; fi
fi
[ -z "${HOLD:-}" ] || sleep "$HOLD"
[ -z "${UE_CMD:-}" ] && ia_sw "$U" --terminate --ike epdg --timeout 10 >/dev/null 2>&1
sleep 0.5
ia_cleanup

# --- captures ---
cp "$U/ikev2_decryption_table" "$OUT/" 2>/dev/null
# strongSwan's save-keys writes AES-GCM ESP SAs as "AES-GCM [RFC4106]" + "ANY 128 bit
# authentication", which tshark 4.0 rejects ("AES-GCM encryption can only be used with NULL
# authentication"): it wants "AES-GCM with 16 octet ICV [RFC4106]" + "NULL".
[ -s "$U/esp_sa" ] && sed -E 's/"AES-GCM \[RFC4106\]","([^"]*)","ANY (64|96|128) bit authentication \[no checking\]"/"AES-GCM with \2 bit ICV [RFC4106]","\1","NULL"/; s/with 64 bit ICV/with 8 octet ICV/; s/with 96 bit ICV/with 12 octet ICV/; s/with 128 bit ICV/with 16 octet ICV/' \
  "$U/esp_sa" >"$OUT/esp_sa"
OPTS=(-o esp.enable_encryption_decode:TRUE)
if [ -s "$OUT/ikev2_decryption_table" ]; then
  while IFS= read -r l; do OPTS+=(-o "uat:ikev2_decryption_table:$l"); done <"$OUT/ikev2_decryption_table"
  [ -s "$OUT/esp_sa" ] && while IFS= read -r l; do OPTS+=(-o "uat:esp_sa:$l"); done <"$OUT/esp_sa"
  tshark -n -r "$OUT/ike.pcapng" "${OPTS[@]}" -Y 'isakmp || eap || icmp || icmpv6' >"$OUT/decrypted.txt" 2>/dev/null
  tshark -n -r "$OUT/ike.pcapng" "${OPTS[@]}" -T fields -e isakmp.exchangetype -e eap.type -e isakmp.cfg.attr.type \
    -Y 'isakmp.exchangetype == 35' >"$OUT/ike-auth.tsv" 2>/dev/null
  n_icmp=$(tshark -n -r "$OUT/ike.pcapng" "${OPTS[@]}" -Y 'esp && (icmp || icmpv6)' 2>/dev/null | wc -l)
  n_eap=$(awk -F'\t' '$2 ~ /(^|,)23(,|$)/' "$OUT/ike-auth.tsv" | wc -l)
  cfg=$(awk -F'\t' '$3 ~ /(^|,)1(,|$)/' "$OUT/ike-auth.tsv" | wc -l)
  if [ "$cfg" -ge 1 ] && { [ "$UE_AUTH" != eap-aka ] || [ "$n_eap" -ge 2 ]; }; then
    ia_pass "decrypt: tshark decrypted IKE_AUTH with the key tables: $n_eap messages with EAP-AKA, $cfg with CP INTERNAL_IP4_ADDRESS; $n_icmp ICMP packets decrypted from ESP"
  else ia_fail "decrypt: $n_eap EAP-AKA / $cfg CP payloads in decrypted IKE_AUTH (see $OUT/ike-auth.tsv)"; fi
else
  [ -n "${UE_CMD:-}" ] && echo "decrypt: skipped (UE_CMD wrote no ikev2_decryption_table)" || ia_fail "decrypt: no save-keys tables"
fi
if "$IA_DIR/check-pcap.sh" "$OUT/ike.pcapng" "${OPTS[@]}" >"$OUT/check-pcap-ike.txt" 2>&1; then
  ia_pass "pcap ike: $(cat "$OUT/check-pcap-ike.txt")"
else ia_fail "pcap ike: $(cat "$OUT/check-pcap-ike.txt")"; fi
if [ $WITH_AAA = 1 ] && [ "$MODE" = eap-radius ] && [ -z "${EPDG_CMD:-}" ]; then
  R=(tshark -n -r "$OUT/radius.pcapng" -d "udp.port==$AAA_PORT,radius")
  codes=$("${R[@]}" -T fields -e radius.code 2>/dev/null | paste -sd' ' -)
  nch=$(tr ' ' '\n' <<<"$codes" | grep -c '^11$'); nacc=$(tr ' ' '\n' <<<"$codes" | grep -c '^2$')
  if [ "$nch" -ge 1 ] && [ "$nacc" = 1 ]; then ia_pass "radius: ePDG <-> AAA RADIUS codes $codes ($nch Access-Challenge, 1 Access-Accept)"
  else ia_fail "radius: RADIUS codes '$codes' (see $OUT/radius.pcapng)"; fi
  if "$IA_DIR/check-pcap.sh" "$OUT/radius.pcapng" -d "udp.port==$AAA_PORT,radius" \
    -o radius.shared_secret:"$AAA_SECRET" -o radius.validate_authenticator:TRUE >"$OUT/check-pcap-radius.txt" 2>&1; then
    ia_pass "pcap radius: $(cat "$OUT/check-pcap-radius.txt")"
  else ia_fail "pcap radius: $(cat "$OUT/check-pcap-radius.txt")"; fi
fi
ia_summary strongswan-epdg
