#!/usr/bin/env bash
# ERP (RFC 6696) over RADIUS with a real wired NAS, inside a private network namespace:
#
#   wpa_supplicant -Dwired (peer, erp=1, Milenage USIM)          veth_sup
#        | EAPOL (01:80:c2:00:00:03)
#   Debian hostapd -Dwired (NAS, erp_send_reauth_start=1)        veth_auth
#        | RADIUS 127.0.0.1:$AAA_PORT (netns loopback)
#   AAA: reference Debian hostapd (EAP server, eap_server_erp=1) + hlr_auc_gw, or AAA_CMD
#
# Cases: full     full EAP-AKA (or AKA') authentication; the peer stores ERP keys (rRK/rIK)
#        erp_N    N ERP re-authentications (EAP-Initiate/Re-auth -> EAP-Finish/Re-auth success),
#                 not full EAP: the peer logs "EAP re-authentication completed successfully"
# eapol_test cannot do ERP (as the simulated NAS it never sends EAP-Initiate/Re-auth-Start);
# hostapd sends Re-auth-Start once per station state, so each re-auth is triggered with
# `hostapd_cli deauthenticate <MAC>` then `wpa_cli reauthenticate`.
# Usage: scripts/interop/erp-netns.sh [aka|aka_prime] [N=3]
# Env: AAA_CMD AAA_SETUP (our server inside the netns; RADIUS on 127.0.0.1:$AAA_PORT, secret
#      $AAA_SECRET, subscribers in $OUT/subscribers.csv, ERP domain = $REALM)
#      AAA_PORT=18120 AAA_SECRET=radius REALM (default: the NAI's 3GPP realm) OUT=<dir>
#      PCAP=1 (default) RADIUS on the netns lo -> $OUT/radius.pcapng; subscriber variables as
#      in eapol-test.sh.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_out erp-netns
trap ia_cleanup EXIT
METHOD=${1:-aka}; N=${2:-3}
AAA_PORT=${AAA_PORT:-18120}; AAA_SECRET=${AAA_SECRET:-radius}
PCAP=${PCAP:-1}
ia_subscriber_defaults
ia_write_subscribers "$OUT/subscribers.csv"
case $METHOD in
aka) ID=$(ia_nai 0 "$AKA_IMSI" "${REALM:-}"); EAP=AKA; K=$AKA_K; OPC=$AKA_OPC ;;
aka_prime) ID=$(ia_nai 6 "$PRIME_IMSI" "${REALM:-}"); EAP="AKA'"; K=$PRIME_K; OPC=$PRIME_OPC ;;
*) ia_die "usage: $0 [aka|aka_prime] [N]" ;;
esac
DOMAIN=${ID#*@}
for b in wpa_supplicant wpa_cli hlr_auc_gw; do
  [ -x "$HOSTAP_DIR/bin/$b" ] || ia_die "no $HOSTAP_DIR/bin/$b: run scripts/interop/build-hostap.sh"
done
command -v hostapd_cli >/dev/null || ia_die "hostapd_cli missing: scripts/interop/setup.sh"

NS=ia-erp-$$
ia_netns_add "$NS"
X() { ip netns exec "$NS" "$@"; }
X ip link add veth_sup type veth peer name veth_auth
X ip link set veth_sup up
X ip link set veth_auth up
[ "$PCAP" = 1 ] && ia_pcap_start "$NS" lo "udp port $AAA_PORT" "$OUT/radius.pcapng"

if [ -n "${AAA_CMD:-}" ]; then
  ia_start_aaa_cmd "$NS" udp "$AAA_PORT"
  SERVER=AAA_CMD
else
  IA_ERP_DOMAIN=$DOMAIN ia_start_hostapd_aaa "$NS" "$OUT/aaa" "$AAA_PORT" "$AAA_SECRET" "$OUT/hlr_auc_gw.milenage_db"
  SERVER="reference hostapd $(dpkg-query -W -f='${Version}' hostapd) + hlr_auc_gw"
fi
echo "erp-netns: $METHOD, $N ERP re-auths; server = $SERVER; artefacts in $OUT"

# The NAS (needs a short ctrl_interface path)
CTRL=$(mktemp -d /tmp/ia-erp.XXXXXX)
IA_TMPDIRS+=("$CTRL")
sed -e "s#^ctrl_interface=.*#ctrl_interface=$CTRL/nas#" -e "s#^auth_server_port=.*#auth_server_port=$AAA_PORT#" \
  -e "s#^auth_server_shared_secret=.*#auth_server_shared_secret=$AAA_SECRET#" \
  -e "s#^erp_domain=.*#erp_domain=$DOMAIN#" "$IA_DIR/hostap/nas_wired.conf" >"$OUT/nas_wired.conf"
{
  echo "ctrl_interface=$CTRL/wpas"
  echo "ap_scan=0"
  echo "eapol_version=2"
} >"$OUT/sup.conf"
ia_usim_conf "$OUT/net.conf" "$EAP" "$ID" "$K" "$OPC" 000000000000 erp=1 eapol_flags=0
cat "$OUT/net.conf" >>"$OUT/sup.conf"
ia_bg "$OUT/nas.log" env -C "$OUT" ip netns exec "$NS" stdbuf -oL /usr/sbin/hostapd -dd nas_wired.conf
ia_wait_log "$OUT/nas.log" "veth_auth: AP-ENABLED|interface state .*->ENABLED" 1 5 || sleep 0.5
ia_bg "$OUT/wpas.log" env -C "$OUT" ip netns exec "$NS" stdbuf -oL "$HOSTAP_DIR/bin/wpa_supplicant" -dd -Dwired -iveth_sup -c sup.conf
W=$OUT/wpas.log

if ia_wait_log "$W" "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully" 1 15; then
  if ia_wait_log "$W" "EAP: Stored ERP keys" 1 2; then
    ia_pass "full $METHOD: EAP success, $(grep -m1 -o 'Stored ERP keys.*' "$W") (keyName-NAI)"
  else ia_fail "full $METHOD: EAP success but no ERP keys stored (see $W)"; fi
else
  ia_fail "full $METHOD (see $W, $OUT/nas.log)"
  ia_summary erp-netns; exit 1
fi
MAC=$(X cat /sys/class/net/veth_sup/address)
for k in $(seq 1 "$N"); do
  X hostapd_cli -p "$CTRL/nas" -i veth_auth deauthenticate "$MAC" >/dev/null
  sleep 0.3
  X "$HOSTAP_DIR/bin/wpa_cli" -p "$CTRL/wpas" -i veth_sup reauthenticate >/dev/null
  if ia_wait_log "$W" "CTRL-EVENT-EAP-SUCCESS EAP re-authentication completed successfully" "$k" 10; then
    ia_pass "erp_$k: EAP-Initiate/Re-auth -> EAP-Finish/Re-auth success (no full EAP)"
  else
    ia_fail "erp_$k: no ERP success (see $W, $OUT/nas.log)"
    break
  fi
done
full=$(grep -c "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully" "$W")
[ "$full" = 1 ] || ia_fail "full EAP ran $full times (ERP should have replaced every later one)"
if [ -z "${AAA_CMD:-}" ]; then
  echo "server: $(grep -c 'Send EAP-Finish/Re-auth (success)' "$OUT/aaa/as.log") x EAP-Finish/Re-auth (success), last $(grep 'SEQ updated' "$OUT/aaa/as.log" | tail -1)"
fi
ia_cleanup
if [ "$PCAP" = 1 ]; then
  # tshark decodes ERP (codes 5/6) only as far as the header
  if "$IA_DIR/check-pcap.sh" "$OUT/radius.pcapng" -d "udp.port==$AAA_PORT,radius" >"$OUT/check-pcap.txt" 2>&1; then
    ia_pass "pcap: $(cat "$OUT/check-pcap.txt")"
  else ia_fail "pcap: $(cat "$OUT/check-pcap.txt")"; fi
fi
ia_summary erp-netns
