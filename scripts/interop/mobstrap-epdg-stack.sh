#!/usr/bin/env bash
# EPDG_CMD for strongswan-epdg.sh: our whole network side in the ePDG namespace — `mobstrap aaa`
# (Diameter SWm + embedded HSS), `mobstrap gw` (PMIPv6 LMA with the address pools the harness
# checks: 198.51.100.0/24, 2001:db8:100::/48) and `mobstrap epdg` (IKEv2 on $EPDG_ADDR with the
# harness's ECDSA certificate, EAP over SWm, PBU/PBA to the gw). The ePDG runs in the foreground
# (the harness stops it); aaa and gw die with it. cwd: $OUT/epdg (the harness's). Usage:
#   EPDG_CMD="$PWD/scripts/interop/mobstrap-epdg-stack.sh" PING=0 scripts/interop/strongswan-epdg.sh eap-aka-local
# Env from the harness: EPDG_ADDR, EPDG_ID; MOBSTRAP (binary, default target/debug/mobstrap).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${MOBSTRAP:-$ROOT/target/debug/mobstrap}
[ -x "$BIN" ] || { echo "no $BIN (cargo build -p mobstrap)" >&2; exit 1; }
PKI=$(pwd)/../pki
SUBS=$(pwd)/../subscribers.csv
REALM_SUFFIX=3gppnetwork.org
ip link set lo up

# subscribers of the harness, every APN allowed, served by the local gateway
{ echo "imsi,k,opc,amf,sqn,apns"; sed 1d "$SUBS" | sed 's/$/,*=gw:127.0.0.1/'; } >subs.csv
rm -f hss.sqlite gw.sqlite
"$BIN" subscriber import --db hss.sqlite subs.csv >subscriber.log 2>&1

cat >aaa.toml <<TOML
[node]
name = "aaa"
[store]
url = "sqlite://hss.sqlite"
[diameter]
origin_host = "aaa.epc.$REALM_SUFFIX"
origin_realm = "epc.$REALM_SUFFIX"
listen = ["127.0.0.1:3868"]
[[diameter.allow]]
host = "*.$REALM_SUFFIX"
[eap]
methods = ["aka", "aka-prime"]
TOML
cat >gw.toml <<TOML
[node]
name = "gw"
[pmip]
listen = "127.0.0.1:5436"
data_listen = "127.0.0.1:5437"
[pools]
ipv4 = "198.51.100.0/24"
ipv6 = "2001:db8:100::/48"
[store]
url = "sqlite://gw.sqlite"
[tun]
name = "pmip0"
addresses = ["198.51.100.254/24", "2001:db8:100:ffff::1/48"]
TOML
cat >epdg.toml <<TOML
[ike]
bind = ["$EPDG_ADDR"]
local_id = "$EPDG_ID"
auth = "pubkey"
cert = "$PKI/epdg.pem"
key = "$PKI/epdg.key"
remote_auth = ["eap"]
keys_dir = "."
[aaa]
protocol = "diameter"
application = "swm"
destination_realm = "epc.$REALM_SUFFIX"
[diameter]
origin_host = "epdg.epc.$REALM_SUFFIX"
origin_realm = "epc.$REALM_SUFFIX"
[[diameter.peer]]
host = "aaa.epc.$REALM_SUFFIX"
connect = "127.0.0.1:3868"
[diameter.default_route]
action = "relay"
peers = ["aaa.epc.$REALM_SUFFIX"]
[mag]
listen = "127.0.0.1:5438"
lma_port = 5436
TOML
"$BIN" aaa --config aaa.toml >aaa.log 2>&1 &
AAA=$!
"$BIN" gw --config gw.toml >gw.log 2>&1 &
GW=$!
trap 'kill $AAA $GW 2>/dev/null' EXIT
for _ in $(seq 1 50); do ss -Hltn 'sport = :3868' | grep -q . && break; sleep 0.1; done
"$BIN" epdg --config epdg.toml --log "${EPDG_LOG:-info}"
