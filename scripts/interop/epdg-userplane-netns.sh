#!/usr/bin/env bash
# Seed 002 user plane in four network namespaces, every node ours:
#   UE ns:   `mobstrap ue` (TUN with the assigned addresses, routes through it)  192.0.2.2
#   ePDG ns: `mobstrap aaa` (SWm, 127.0.0.1:3868) + `mobstrap epdg`            192.0.2.1 | 192.0.3.1
#   GW ns:   `mobstrap gw` (PMIPv6 LMA on 192.0.3.2:5436/5437, TUN pmip0, forwarding) | 203.0.113.254
#   SRV ns:  a server at 203.0.113.1 and 2001:db8:ffff::1 behind the gateway
# The UE attaches (EAP-AKA over SWm, PBU/PBA to the gw) and pings the server from its IPv4
# address and its IPv6 address: UE TUN → ESP-in-UDP → ePDG → PMIPv6 UDP tunnel → gw TUN →
# server, and back. Then the UE detaches and the gw's binding must be gone.
# With PMIP_TRANSPORT=ipv6 the ePDG–gw link also has IPv6 addresses (2001:db8:3::1 | ::2) and
# PMIPv6 runs over IPv6 instead: the raw Mobility Header and an IP-in-IPv6 tunnel (RFC 5213;
# mag.ipv6_mh, pmip.ipv6_mh), the AAA naming the gateway by its IPv6 address.
# Usage: scripts/interop/epdg-userplane-netns.sh   (root; MOBSTRAP=binary, OUT=dir,
#        PMIP_TRANSPORT=udp|ipv6)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
TRANSPORT=${PMIP_TRANSPORT:-udp}
case "$TRANSPORT" in udp|ipv6) ;; *) echo "PMIP_TRANSPORT: udp or ipv6, not '$TRANSPORT'" >&2; exit 2 ;; esac
ia_out "epdg-userplane-$TRANSPORT"
trap ia_cleanup EXIT
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MOBSTRAP:-$ROOT/target/debug/mobstrap}
[ -x "$BIN" ] || ia_die "no $BIN (cargo build -p mobstrap)"
IMSI=001010000000001; K=465b5ce8b199b49faa5f0a2ee238a6bc; OPC=cd63cb71954a9f4e48a5994e37a02baf
NS_UE=ia-up-ue-$$; NS_EPDG=ia-up-epdg-$$; NS_GW=ia-up-gw-$$; NS_SRV=ia-up-srv-$$
for n in "$NS_UE" "$NS_EPDG" "$NS_GW" "$NS_SRV"; do ia_netns_add "$n"; done
ip link add ue0 netns "$NS_UE" type veth peer name epdg0 netns "$NS_EPDG"
ip link add epdg1 netns "$NS_EPDG" type veth peer name gw0 netns "$NS_GW"
ip link add gw1 netns "$NS_GW" type veth peer name srv0 netns "$NS_SRV"
ip -n "$NS_UE" addr add 192.0.2.2/24 dev ue0; ip -n "$NS_UE" link set ue0 up
ip -n "$NS_EPDG" addr add 192.0.2.1/24 dev epdg0; ip -n "$NS_EPDG" link set epdg0 up
ip -n "$NS_EPDG" addr add 192.0.3.1/24 dev epdg1; ip -n "$NS_EPDG" link set epdg1 up
ip -n "$NS_GW" addr add 192.0.3.2/24 dev gw0; ip -n "$NS_GW" link set gw0 up
GW_ADDR=192.0.3.2; MAG_EXTRA=; GW_EXTRA=
if [ "$TRANSPORT" = ipv6 ]; then
  ip -n "$NS_EPDG" addr add 2001:db8:3::1/64 dev epdg1 nodad
  ip -n "$NS_GW" addr add 2001:db8:3::2/64 dev gw0 nodad
  GW_ADDR=2001:db8:3::2; MAG_EXTRA='ipv6_mh = "2001:db8:3::1"'; GW_EXTRA='ipv6_mh = "2001:db8:3::2"'
fi
ip -n "$NS_GW" addr add 203.0.113.254/24 dev gw1; ip -n "$NS_GW" addr add 2001:db8:ffff::fe/64 dev gw1 nodad
ip -n "$NS_GW" link set gw1 up
ip netns exec "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$NS_SRV" addr add 203.0.113.1/24 dev srv0; ip -n "$NS_SRV" addr add 2001:db8:ffff::1/64 dev srv0 nodad
ip -n "$NS_SRV" link set srv0 up
ip -n "$NS_SRV" route add default via 203.0.113.254
ip -n "$NS_SRV" -6 route add default via 2001:db8:ffff::fe

E=$OUT/epdg; G=$OUT/gw; U=$OUT/ue; mkdir -p "$E" "$G" "$U"
printf 'imsi,k,opc,apns\n%s,%s,%s,internet=gw:%s\n' "$IMSI" "$K" "$OPC" "$GW_ADDR" >"$E/subs.csv"
"$BIN" subscriber import --db "$E/hss.sqlite" "$E/subs.csv" >"$E/subscriber.log" 2>&1 || ia_die "subscriber import"
cat >"$E/aaa.toml" <<TOML
[store]
url = "sqlite://$E/hss.sqlite"
[diameter]
origin_host = "aaa.home.example"
origin_realm = "home.example"
listen = ["127.0.0.1:3868"]
[[diameter.allow]]
host = "*.home.example"
TOML
cat >"$E/epdg.toml" <<TOML
[ike]
bind = ["192.0.2.1"]
local_id = "epdg.home.example"
auth = "psk"
psk = "userplane-test-psk"
keys_dir = "$E"
[aaa]
protocol = "diameter"
application = "swm"
destination_realm = "home.example"
[diameter]
origin_host = "epdg.home.example"
origin_realm = "home.example"
[[diameter.peer]]
host = "aaa.home.example"
connect = "127.0.0.1:3868"
[diameter.default_route]
action = "relay"
peers = ["aaa.home.example"]
[mag]
listen = "192.0.3.1:5436"
lma_port = 5436
$MAG_EXTRA
TOML
cat >"$G/gw.toml" <<TOML
[node]
name = "gw"
[pmip]
listen = "192.0.3.2:5436"
data_listen = "192.0.3.2:5437"
$GW_EXTRA
[pools]
ipv4 = "10.45.0.0/24"
ipv6 = "2001:db8:1::/48"
[store]
url = "sqlite://$G/gw.sqlite"
[tun]
name = "pmip0"
addresses = ["10.45.0.254/24", "2001:db8:1:ffff::1/48"]
TOML
cat >"$U/ue.toml" <<TOML
[ue]
apn = "internet"
[ike]
bind = ["192.0.2.2"]
remote = "192.0.2.1"
remote_auth = ["psk"]
psk = "userplane-test-psk"
request = ["ip4", "ip6"]
[usim]
imsi = "$IMSI"
k = "$K"
opc = "$OPC"
[tun]
install_vips = true
routes = true
TOML
ia_bg "$E/aaa.log" ip netns exec "$NS_EPDG" "$BIN" aaa --config "$E/aaa.toml"
ia_wait_tcp 3868 "$NS_EPDG" 10 || { tail "$E/aaa.log"; ia_die "aaa not listening"; }
ia_bg "$G/gw.log" ip netns exec "$NS_GW" "$BIN" gw --config "$G/gw.toml"
ia_wait_udp 5436 "$NS_GW" 10 || { tail "$G/gw.log"; ia_die "gw not listening"; }
ia_bg "$E/epdg.log" ip netns exec "$NS_EPDG" "$BIN" epdg --config "$E/epdg.toml"
ia_wait_udp 500 "$NS_EPDG" 10 || { tail "$E/epdg.log"; ia_die "epdg not listening"; }
sleep 0.5
ia_bg "$U/ue.log" ip netns exec "$NS_UE" "$BIN" ue --config "$U/ue.toml"
UE_PID=$IA_LAST_PID
for _ in $(seq 1 100); do grep -q "^ipv6 " "$U/ue.log" && break; sleep 0.1; done
V4=$(awk '$1 == "ipv4" {print $2}' "$U/ue.log"); V6=$(awk '$1 == "ipv6" {print $2}' "$U/ue.log" | cut -d/ -f1)
case "$V4" in 10.45.0.*) ia_pass "attach: UE got $V4 and $V6 from the gw's pools ($TRANSPORT transport)" ;;
*) ia_fail "attach: no address from the gw (see $U/ue.log, $E/epdg.log)" ;; esac
if [ "$TRANSPORT" = ipv6 ]; then
  # the gw logs the MAG's signalling address: [2001:db8:3::1]:0 is the raw IPv6 transport
  if grep "binding registered" "$G/gw.log" | grep -q '\[2001:db8:3::1\]:0'; then
    ia_pass "transport: the binding was registered over IPv6 with the raw Mobility Header"
  else ia_fail "transport: no binding from [2001:db8:3::1]:0 (see $G/gw.log)"; fi
fi
sleep 0.5
if ip netns exec "$NS_UE" ping -c 3 -i 0.2 -W 2 -I "$V4" 203.0.113.1 >"$OUT/ping4.txt" 2>&1; then
  ia_pass "ping4: $V4 -> 203.0.113.1 through ESP and the PMIPv6 tunnel ($(grep -o '[0-9]* received' "$OUT/ping4.txt"))"
else ia_fail "ping4: see $OUT/ping4.txt"; fi
if [ -n "$V6" ] && ip netns exec "$NS_UE" ping -6 -c 3 -i 0.2 -W 2 -I "$V6" 2001:db8:ffff::1 >"$OUT/ping6.txt" 2>&1; then
  ia_pass "ping6: $V6 -> 2001:db8:ffff::1 through ESP and the PMIPv6 tunnel ($(grep -o '[0-9]* received' "$OUT/ping6.txt"))"
else ia_fail "ping6: see $OUT/ping6.txt"; fi
kill -TERM "$UE_PID" 2>/dev/null
for _ in $(seq 1 50); do grep -q "binding removed" "$G/gw.log" && break; sleep 0.1; done
if grep -q "binding removed" "$G/gw.log" && grep -q "detached" "$E/epdg.log"; then
  ia_pass "detach: UE DELETE → ePDG PBU lifetime 0 → gw binding removed"
else ia_fail "detach: binding not removed (see $G/gw.log, $E/epdg.log)"; fi
ia_cleanup
ia_summary "epdg-userplane-$TRANSPORT"
