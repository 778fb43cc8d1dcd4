#!/usr/bin/env bash
# Diameter base protocol (RFC 6733) against freeDiameter 1.2.1 (Debian freeDiameterd), TCP, no TLS,
# inside a private network namespace:
#   capabilities  CER/CEA: the peer connection reaches STATE_OPEN on the freeDiameter side
#   watchdog      DWR/DWA (Tw = 6 s): one request/answer pair in either direction (RFC 3539)
#   disconnect    DPR/DPA: freeDiameterd stopped with SIGTERM sends DPR, the server answers DPA
#   ping          (reference only, needs test_app.fdx) one Test-Request answered with 2001
# Usage: scripts/interop/fd-peer.sh            functional cases above
#        scripts/interop/fd-peer.sh bench [RUNS=3]   test_app throughput (10 s, 100 outstanding),
#                                               median Test-Request/Answer per second
# Server selection:
#   (default)  the reference: a second freeDiameterd ("aaa.localdomain", no applications) on :3868
#   AAA_CMD="..." our Diameter node, started in the netns (bash -c "exec $AAA_CMD", cwd $OUT); it
#              must listen on TCP $AAA_PORT, be $AAA_HOST in realm $AAA_REALM, and accept the
#              peer "fd.localdomain" (realm localdomain) without TLS; AAA_SETUP="..." runs first
#   FD_ROLE=connect (default: freeDiameterd connects to the server) | listen (freeDiameterd listens
#              on 127.0.0.1:13869 as "fd.localdomain"; the server connects to it: our node's peer
#              table must hold that peer; the reference gets a ConnectPeer)
# Env: AAA_HOST=aaa.localdomain AAA_REALM=localdomain AAA_PORT=3868 OUT=<dir>  PCAP=1 (default;
#      Diameter on the netns lo into $OUT/diameter.pcapng, checked with check-pcap.sh)
#      FDX (dir with test_app.fdx; default $FD_DIR/fdx)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_out fd-peer
trap ia_cleanup EXIT
MODE=${1:-func}; RUNS=${2:-3}
AAA_HOST=${AAA_HOST:-aaa.localdomain}; AAA_REALM=${AAA_REALM:-localdomain}; AAA_PORT=${AAA_PORT:-3868}
FDX=${FDX:-$FD_DIR/fdx}
PCAP=${PCAP:-1}; [ "$MODE" = bench ] && PCAP=0
NS=ia-fd-$$
ia_fd_netns "$NS"
[ "$PCAP" = 1 ] && ia_pcap_start "$NS" lo "tcp port $AAA_PORT or tcp port 13869" "$OUT/diameter.pcapng"

HAVE_TA=0; [ -f "$FDX/test_app.fdx" ] && [ -z "${AAA_CMD:-}" ] && HAVE_TA=1
[ "$MODE" = bench ] && [ $HAVE_TA = 0 ] && ia_die "bench needs $FDX/test_app.fdx (scripts/interop/build-fd-extensions.sh) and the reference server"
srv_ta=(); cli_ta=()
if [ $HAVE_TA = 1 ]; then
  cp "$FDX/test_app.fdx" "$IA_DIR/diameter/test_app_server.conf" "$IA_DIR/diameter/test_app_client.conf" "$OUT/"
  [ "$MODE" = bench ] || sed -i '/^benchmark/d' "$OUT/test_app_client.conf"
  srv_ta=('LoadExtension = "./test_app.fdx" : "test_app_server.conf";')
  cli_ta=('LoadExtension = "./test_app.fdx" : "test_app_client.conf";')
fi
[ "$MODE" = bench ] && export IA_FD_DUMPS=0
mkdir -p "$OUT/srv" "$OUT/cli"
FD_ROLE=${FD_ROLE:-connect}
FD_PORT=13869
start_server() { # [extra conf lines]: the reference or AAA_CMD, listening on $AAA_PORT
  if [ -n "${AAA_CMD:-}" ]; then
    ia_start_aaa_cmd "$NS" tcp "$AAA_PORT"
    SERVER="AAA_CMD ($AAA_HOST)"
  else
    IA_FD_ACL=fd.localdomain ia_fd_conf "$OUT/srv/fd.conf" "$AAA_HOST" "$AAA_REALM" "$AAA_PORT" "${srv_ta[@]}" "$@"
    [ $HAVE_TA = 1 ] && cp "$OUT/test_app.fdx" "$OUT/test_app_server.conf" "$OUT/srv/"
    ia_fd_start "$NS" "$OUT/srv" fd.conf "$OUT/srv/fd.log"
    SERVER="reference freeDiameterd $(dpkg-query -W -f='${Version}' freediameterd) ($AAA_HOST)"
    ia_wait_tcp "$AAA_PORT" "$NS" 10 || { tail -20 "$OUT/srv/fd.log" >&2; ia_die "nothing listens on tcp $AAA_PORT"; }
  fi
  SRV_PID=$IA_LAST_PID
}
start_fd() { # [extra conf lines]: freeDiameterd "fd.localdomain" on $FD_PORT
  IA_FD_ACL="$AAA_HOST" ia_fd_conf "$OUT/cli/fd.conf" fd.localdomain localdomain "$FD_PORT" "${cli_ta[@]}" "$@"
  [ $HAVE_TA = 1 ] && cp "$OUT/test_app.fdx" "$OUT/test_app_client.conf" "$OUT/cli/"
  ia_fd_start "$NS" "$OUT/cli" fd.conf "$OUT/cli/fd.log"
  CLI_PID=$IA_LAST_PID
}
if [ "$FD_ROLE" = listen ]; then
  # freeDiameterd waits; the server (our node, or the reference with a ConnectPeer) connects to it
  start_fd
  ia_wait_tcp "$FD_PORT" "$NS" 10 || ia_die "freeDiameterd not listening on $FD_PORT (see $OUT/cli/fd.log)"
  start_server "ConnectPeer = \"fd.localdomain\" { ConnectTo = \"127.0.0.1\"; Port = $FD_PORT; No_TLS; No_SCTP; };"
else
  start_server
  start_fd "ConnectPeer = \"$AAA_HOST\" { ConnectTo = \"127.0.0.1\"; Port = $AAA_PORT; No_TLS; No_SCTP; };"
fi
echo "fd-peer: server = $SERVER; freeDiameterd fd.localdomain ${FD_ROLE}s; artefacts in $OUT"
L=$OUT/cli/fd.log

if ia_wait_log "$L" "-> 'STATE_OPEN'.*'$AAA_HOST'" 1 20; then
  ia_pass "capabilities: CER/CEA, freeDiameterd sees $AAA_HOST in STATE_OPEN ($(grep -o "\(SND to\|RCV from\) '$AAA_HOST': Capabilities-Exchange-[A-Za-z]*" "$L" | head -2 | paste -sd';' - | grep . || echo "no message dumps in bench mode"))"
else
  ia_fail "capabilities: no STATE_OPEN with $AAA_HOST (see $L)"
  ia_summary fd-peer; exit 1
fi

if [ "$MODE" = bench ]; then
  rates=()
  for r in $(seq 1 "$RUNS"); do
    kill -USR1 "$CLI_PID"
    ia_wait_log "$L" "Test Complete" "$r" 30 || { ia_fail "bench run $r did not complete"; break; }
    # first "Throughput" line of a run = answers/s during the 10 s sending window
    t=$(grep "Throughput:" "$L" | sed -n "$((2 * r - 1))p" | grep -o '[0-9]* messages' | cut -d' ' -f1)
    e=$(grep "error(s) received" "$L" | sed -n "$((2 * r))p" | grep -o '[0-9]* error' | cut -d' ' -f1)
    echo "run $r: $t Test-Request/Answer per s (errors: ${e:-?})"
    rates+=("$t")
  done
  [ ${#rates[@]} -gt 0 ] && ia_pass "bench: median $(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(((${#rates[@]} + 1) / 2))p") Test-Request/Answer per s (test_app, 100 outstanding, TCP, no TLS, both peers on this machine)"
  ia_summary fd-peer; exit
fi

# RFC 3539: any received message resets the watchdog, so usually only one side sends DWRs
if ia_wait_log "$L" "(SND to|RCV from) '$AAA_HOST': Device-Watchdog-Answer" 1 20; then
  ia_pass "watchdog: $(grep -o "\(SND to\|RCV from\) '$AAA_HOST': Device-Watchdog-[A-Za-z]*" "$L" | head -2 | paste -sd';' -)"
else ia_fail "watchdog: no DWR/DWA within 20 s (see $L)"; fi

if [ $HAVE_TA = 1 ]; then
  kill -USR1 "$CLI_PID"
  if ia_wait_log "$L" "RECV .* Status: 2001" 1 5; then ia_pass "ping: test_app $(grep -m1 '^RECV' "$L" | sed 's/  */ /g')"
  else ia_fail "ping: no test_app answer (see $L)"; fi
fi

# DPR/DPA: freeDiameterd says goodbye on SIGTERM
kill "$CLI_PID"
for _ in $(seq 1 50); do kill -0 "$CLI_PID" 2>/dev/null || break; sleep 0.1; done
if grep -q "RCV from '$AAA_HOST': Disconnect-Peer-Answer" "$L"; then
  ia_pass "disconnect: $(grep -o "\(SND to\|RCV from\) '$AAA_HOST': Disconnect-Peer-[A-Za-z]*" "$L" | paste -sd';' -)"
else ia_fail "disconnect: no DPA from $AAA_HOST after DPR (see $L)"; fi
if [ -n "${AAA_CMD:-}" ] && ! kill -0 "$SRV_PID" 2>/dev/null; then ia_fail "server: AAA_CMD exited during the test (see $OUT/aaa.log)"; fi

ia_cleanup
if [ "$PCAP" = 1 ]; then
  # test_app's vendor-specific Test-Request (app 16777215) is unknown to Wireshark
  ign=""; [ $HAVE_TA = 1 ] && ign='^Unknown (command|Application Id|AVP|Vendor)'
  if IGNORE=$ign "$IA_DIR/check-pcap.sh" "$OUT/diameter.pcapng" -d "tcp.port==$AAA_PORT,diameter" -d tcp.port==13869,diameter \
    >"$OUT/check-pcap.txt" 2>&1; then
    ia_pass "pcap: $(cat "$OUT/check-pcap.txt")"
  else ia_fail "pcap: $(cat "$OUT/check-pcap.txt")"; fi
fi
ia_summary fd-peer
