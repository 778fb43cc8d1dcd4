# shellcheck shell=bash disable=SC2034
# Shared helpers of the interop scripts. Source it (". scripts/interop/lib.sh"); do not execute it.
#
# Conventions of every harness in scripts/interop/:
#   - every process it starts is recorded (ia_bg) and stopped by PID in ia_cleanup;
#   - every network namespace it creates is recorded (ia_netns_add) and deleted in ia_cleanup;
#   - traffic stays on loopback or inside those namespaces;
#   - every wait loop is bounded in time;
#   - results are printed as "PASS name: detail" / "FAIL name: detail" lines and a closing
#     "<harness>: N passed, N failed" line; the exit code is 0 only when nothing failed;
#   - artefacts (logs, pcaps, key files) go to $OUT (default: a fresh dir under /tmp).

IA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IA_ROOT=$(cd "$IA_DIR/../.." && pwd)
# Cache of built tools (hostap, freeDiameter extensions, strongSwan); CI builds it on first use.
INTEROP_DIR=${INTEROP_DIR:-$IA_ROOT/target/interop}
HOSTAP_DIR=${HOSTAP_DIR:-$INTEROP_DIR/hostap}
FD_DIR=${FD_DIR:-$INTEROP_DIR/fd}
SW_DIR=${SW_DIR:-$INTEROP_DIR/strongswan}

IA_PASS=0
IA_FAIL=0
IA_PIDS=()
IA_NETNS=()

ia_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
ia_die() { echo "ERROR: $*" >&2; exit 2; }
ia_pass() { IA_PASS=$((IA_PASS + 1)); echo "PASS $*"; }
ia_fail() { IA_FAIL=$((IA_FAIL + 1)); echo "FAIL $*"; }
# ia_summary NAME: closing line and exit status (0 = all passed, 1 = something failed)
ia_summary() {
  echo "$1: $IA_PASS passed, $IA_FAIL failed"
  [ "$IA_FAIL" -eq 0 ] && [ "$IA_PASS" -gt 0 ]
}

ia_require_root() { [ "$(id -u)" -eq 0 ] || ia_die "run as root (network namespaces, daemons)"; }

# ia_out NAME: sets OUT (artefact dir) to $OUT or a fresh /tmp/interop-NAME.XXXXXX
ia_out() {
  if [ -n "${OUT:-}" ]; then mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
  else OUT=$(mktemp -d "/tmp/interop-$1.XXXXXX"); fi
  export OUT
}

# ia_bg LOGFILE CMD...: start CMD in the background, stdout+stderr to LOGFILE, record its PID
# in IA_LAST_PID and in the cleanup list.
ia_bg() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  IA_LAST_PID=$!
  IA_PIDS+=("$IA_LAST_PID")
}

# ia_stop PID: SIGTERM, wait up to 5 s, then SIGKILL; only PIDs we started.
ia_stop() {
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

# ia_netns_add NAME: new namespace with lo up (a stale one of the same name, left by a killed run
# of this same script, is deleted first).
ia_netns_add() {
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1" || ia_die "cannot create netns $1"
  IA_NETNS+=("$1")
  ip -n "$1" link set lo up
}

# ia_pcap_start NS IFACE FILTER FILE: dumpcap in namespace NS ("" = this one); waits until it captures.
ia_pcap_start() {
  local ns=$1 ifc=$2 filter=$3 file=$4 i
  local pre=(); [ -n "$ns" ] && pre=(ip netns exec "$ns")
  ia_bg "$file.log" "${pre[@]}" dumpcap -i "$ifc" -f "$filter" -w "$file"
  IA_DUMPCAPS+=("$IA_LAST_PID")
  for i in $(seq 1 50); do grep -q "^Capturing on\|File: " "$file.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
}

# Stop captures first (libpcap hands packets over in blocks: give it a moment), then daemons in
# reverse start order, then namespaces.
ia_cleanup() {
  local p n i
  if [ ${#IA_DUMPCAPS[@]} -gt 0 ]; then
    sleep 1.2
    for p in "${IA_DUMPCAPS[@]}"; do ia_stop "$p"; done
    IA_DUMPCAPS=()
  fi
  for ((i = ${#IA_PIDS[@]} - 1; i >= 0; i--)); do ia_stop "${IA_PIDS[$i]}"; done
  IA_PIDS=()
  for n in "${IA_NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  IA_NETNS=()
  [ -z "${IA_HLR_SOCK:-}" ] || rm -f "$IA_HLR_SOCK"
  for n in "${IA_TMPDIRS[@]}"; do rm -rf "$n"; done
  IA_TMPDIRS=()
}
IA_DUMPCAPS=()
IA_TMPDIRS=() # scratch dirs (short UNIX socket paths) removed by ia_cleanup

# ia_wait_log FILE REGEX [COUNT=1] [TIMEOUT_S=10]: wait until FILE has COUNT lines matching REGEX.
ia_wait_log() {
  local f=$1 re=$2 n=${3:-1} t=${4:-10} i c
  for i in $(seq 1 $((t * 10))); do
    c=$(grep -c -E -- "$re" "$f" 2>/dev/null || true)
    [ "${c:-0}" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}

# ia_wait_udp PORT [NS] [TIMEOUT_S=5] / ia_wait_tcp: wait until something listens.
ia_wait_udp() { _ia_wait_sock -lun "$@"; }
ia_wait_tcp() { _ia_wait_sock -ltn "$@"; }
_ia_wait_sock() {
  local opt=$1 port=$2 ns=${3:-} t=${4:-5} i
  local pre=(); [ -n "$ns" ] && pre=(ip netns exec "$ns")
  for i in $(seq 1 $((t * 10))); do
    "${pre[@]}" ss -H "$opt" "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# Private deb-src list derived from this machine's own apt sources; /etc/apt is not touched.
# ia_apt_src_opts STATE_DIR: sets the IA_APT array of apt-get options.
ia_apt_src_opts() {
  local d=$1 f
  mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial"
  rm -f "$d"/parts/*
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"$d/parts/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] && sed -n 's/^deb /deb-src /p' "$f" >"$d/parts/$(basename "$f")"
  done
  IA_APT=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$d/parts"
    -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
}

# ia_download_source PKG VERSION_REGEX DIR: download Debian source package PKG (newest version
# matching VERSION_REGEX, falling back to older ones when a pool 404s) into DIR/dl and print the
# version. Reuses DIR/dl when a previous download completed (DIR/dl/version).
ia_download_source() {
  local pkg=$1 vre=$2 dir=$3 v
  if [ -f "$dir/dl/version" ]; then cat "$dir/dl/version"; return 0; fi
  # one private apt state for all builds, refreshed when older than an hour
  local st=${IA_APT_STATE:-$INTEROP_DIR/apt}
  mkdir -p "$dir"
  ia_apt_src_opts "$st"
  if [ -z "$(find "$st/lists" -maxdepth 1 -name '*Sources*' -mmin -60 2>/dev/null | head -1)" ]; then
    apt-get "${IA_APT[@]}" -qq update >"$dir/apt.log" 2>&1 || { cat "$dir/apt.log" >&2; return 1; }
  fi
  rm -rf "$dir/dl"; mkdir -p "$dir/dl"
  for v in $(apt-cache "${IA_APT[@]}" showsrc "$pkg" 2>/dev/null | awk '/^Version: /{print $2}' |
    grep -E -- "$vre" | sort -ruV); do
    if (cd "$dir/dl" && apt-get "${IA_APT[@]}" -qq source --download-only "$pkg=$v" >>"$dir/apt.log" 2>&1); then
      echo "$v" >"$dir/dl/version"
      echo "$v"
      return 0
    fi
    rm -f "$dir"/dl/*
  done
  cat "$dir/apt.log" >&2
  return 1
}

# ia_inputs_hash FILE... : one hash over the given files (and extra strings via IA_HASH_EXTRA).
ia_inputs_hash() {
  { cat "$@"; echo "${IA_HASH_EXTRA:-}"; } | sha256sum | cut -c1-16
}

# --- hostap helpers ---------------------------------------------------------------------------

# ia_nai PREFIX IMSI [REALM]: EAP permanent identity, e.g. 0<IMSI>@nai.epc.mnc001.mcc232.3gppnetwork.org
# (TS 23.003 §19.3.2; a 2-digit MNC is assumed when REALM is not given).
ia_nai() {
  local p=$1 imsi=$2 realm=${3:-}
  [ -n "$realm" ] || realm="nai.epc.mnc0${imsi:3:2}.mcc${imsi:0:3}.3gppnetwork.org"
  echo "$p$imsi@$realm"
}

# ia_usim_conf FILE METHOD IDENTITY K OPC SQN [EXTRA_LINE...]: eapol_test / wpa_supplicant network
# block with hostap's Milenage USIM simulator (password = "K:OPc:SQN", SQN = highest SQN the USIM
# has accepted; 000000000000 accepts any).
ia_usim_conf() {
  local f=$1 m=$2 id=$3 k=$4 opc=$5 sqn=$6 l
  shift 6
  {
    echo "network={"
    printf '\tkey_mgmt=IEEE8021X\n\teap=%s\n\tidentity="%s"\n\tpassword="%s:%s:%s"\n' "$m" "$id" "$k" "$opc" "$sqn"
    for l in "$@"; do printf '\t%s\n' "$l"; done
    echo "}"
  } >"$f"
}

# ia_start_hostapd_aaa NS DIR PORT SECRET MILENAGE_DB: the reference RADIUS EAP-AKA/AKA'/ERP server
# (Debian hostapd, driver=none, integrated EAP server) with hostap's Milenage hlr_auc_gw for the
# vectors, both in netns NS ("" = this one), configs and logs in DIR. Sets IA_AAA_PID.
ia_start_hostapd_aaa() {
  local ns=$1 dir=$2 port=$3 secret=$4 db=$5
  local pre=(); [ -n "$ns" ] && pre=(ip netns exec "$ns")
  [ -x "$HOSTAP_DIR/bin/hlr_auc_gw" ] || ia_die "no $HOSTAP_DIR/bin/hlr_auc_gw: run scripts/interop/build-hostap.sh"
  mkdir -p "$dir"
  # a UNIX socket path must stay short (108 bytes) and unique: namespaces do not separate them
  IA_HLR_SOCK=$(mktemp -u /tmp/ia-hlr.XXXXXX)
  cp "$IA_DIR/hostap/eap_user.conf" "$dir/"
  [ "$db" -ef "$dir/hlr_auc_gw.milenage_db" ] || cp "$db" "$dir/hlr_auc_gw.milenage_db"
  printf '0.0.0.0/0\t%s\n' "$secret" >"$dir/radius_clients.conf"
  sed -e "s#^radius_server_auth_port=.*#radius_server_auth_port=$port#" \
    -e "s#^eap_sim_db=.*#eap_sim_db=unix:$IA_HLR_SOCK#" \
    -e "s#^erp_domain=.*#erp_domain=${IA_ERP_DOMAIN:-example.com}#" "$IA_DIR/hostap/as.conf" >"$dir/as.conf"
  ia_bg "$dir/hlr.log" env -C "$dir" "${pre[@]}" "$HOSTAP_DIR/bin/hlr_auc_gw" -s "$IA_HLR_SOCK" -m hlr_auc_gw.milenage_db
  local i
  for i in $(seq 1 50); do [ -S "$IA_HLR_SOCK" ] && break; sleep 0.1; done
  [ -S "$IA_HLR_SOCK" ] || { cat "$dir/hlr.log" >&2; ia_die "hlr_auc_gw did not start"; }
  # -dd costs throughput: IA_HOSTAPD_DEBUG=0 (the bench) runs without it
  local dbg=(-dd); [ "${IA_HOSTAPD_DEBUG:-1}" = 1 ] || dbg=()
  ia_bg "$dir/as.log" env -C "$dir" "${pre[@]}" stdbuf -oL /usr/sbin/hostapd "${dbg[@]}" as.conf
  IA_AAA_PID=$IA_LAST_PID
  ia_wait_udp "$port" "$ns" 5 || { tail -20 "$dir/as.log" >&2; ia_die "hostapd RADIUS server not listening on $port"; }
}

# --- freeDiameter helpers ---------------------------------------------------------------------

# ia_fd_netns NS: namespace for freeDiameterd. freeDiameter 1.2.1 ignores ListenOn="127.0.0.1"
# (loopback addresses are filtered out), binds 0.0.0.0, advertises the first non-loopback address
# in Host-IP-Address and refuses to start without one: give it a veth end with 198.51.100.1/32.
ia_fd_netns() {
  ia_netns_add "$1"
  ip -n "$1" link add fd0 type veth peer name fd1
  ip -n "$1" addr add 198.51.100.1/32 dev fd0
  ip -n "$1" link set fd0 up
  ip -n "$1" link set fd1 up
}

# ia_fd_conf FILE IDENTITY REALM PORT [LINE...]: freeDiameterd configuration, TCP only, no TLS
# (TLS is off only with no TLS_Cred, SecPort = 0 and No_TLS on each ConnectPeer), no SCTP, no
# IPv6, Tw = 6 s (the RFC 3539 minimum), dictionaries for NASREQ and EAP, acl_wl accepting
# *.localdomain and any ACL_EXTRA peers, message dumps (one line per message) in the log.
# Extra lines (ConnectPeer, LoadExtension) are appended.
ia_fd_conf() {
  local f=$1 id=$2 realm=$3 port=$4 l
  shift 4
  local dir; dir=$(dirname "$f")
  { echo "ALLOW_IPSEC *.localdomain"; for l in ${IA_FD_ACL:-}; do echo "ALLOW_IPSEC $l"; done; } >"$dir/acl_wl.conf"
  {
    echo "Identity = \"$id\";"
    echo "Realm = \"$realm\";"
    echo "Port = $port;"
    echo "SecPort = 0;"
    echo "No_SCTP;"
    echo "No_IPv6;"
    echo "TcTimer = 5;"
    echo "TwTimer = 6;"
    echo "AppServThreads = 4;"
    echo 'LoadExtension = "dict_nasreq.fdx";'
    echo 'LoadExtension = "dict_eap.fdx";'
    echo 'LoadExtension = "acl_wl.fdx" : "acl_wl.conf";'
    # 0x0040: one line per sent/received message ("SND to 'x': Device-Watchdog-Request")
    [ "${IA_FD_DUMPS:-1}" = 1 ] && echo 'LoadExtension = "dbg_msg_dumps.fdx" : "0x0040";'
    for l in "$@"; do echo "$l"; done
  } >"$f"
}

# ia_fd_start NS DIR CONF LOG: freeDiameterd -c CONF (cwd DIR) in NS; sets IA_LAST_PID.
ia_fd_start() {
  command -v freeDiameterd >/dev/null || ia_die "freeDiameterd missing: run scripts/interop/setup.sh"
  ia_bg "$4" env -C "$2" ip netns exec "$1" freeDiameterd -c "$3"
}

# --- subscribers --------------------------------------------------------------------------------
# Defaults: TS 35.208 test set 20 for EAP-AKA (AMF separation bit 0), test set 19 for EAP-AKA'
# (AMF separation bit 1, RFC 5448 / TS 33.402 Annex A.2), a third subscriber (K/OPc of set 20)
# for the SQN re-synchronisation case. Every value can be overridden from the environment.
ia_subscriber_defaults() {
  AKA_IMSI=${AKA_IMSI:-232010000000000}
  AKA_K=${AKA_K:-90dca4eda45b53cf0f12d7c9c3bc6a89}
  AKA_OPC=${AKA_OPC:-cb9cccc4b9258e6dca4760379fb82581}
  AKA_AMF=${AKA_AMF:-61df}
  AKA_SQN=${AKA_SQN:-000000000000}
  PRIME_IMSI=${PRIME_IMSI:-555444333222111}
  PRIME_K=${PRIME_K:-5122250214c33e723a5dd523fc145fc0}
  PRIME_OPC=${PRIME_OPC:-981d464c7c52eb6e5036234984ad0bcf}
  PRIME_AMF=${PRIME_AMF:-c3ab}
  PRIME_SQN=${PRIME_SQN:-16f3b3f70fc1}
  RESYNC_IMSI=${RESYNC_IMSI:-232010000000001}
  RESYNC_SQN=${RESYNC_SQN:-000000000020}
  RESYNC_USIM_SQN=${RESYNC_USIM_SQN:-000000100000}
  UNKNOWN_IMSI=${UNKNOWN_IMSI:-232019999999999}
}
# ia_write_subscribers FILE: "imsi,k,opc,amf,sqn" CSV of the subscribers the server must know
# (sqn = the last SQN the server used); FILE.milenage_db: the same for hlr_auc_gw.
ia_write_subscribers() {
  {
    echo "imsi,k,opc,amf,sqn"
    echo "$AKA_IMSI,$AKA_K,$AKA_OPC,$AKA_AMF,$AKA_SQN"
    echo "$PRIME_IMSI,$PRIME_K,$PRIME_OPC,$PRIME_AMF,$PRIME_SQN"
    echo "$RESYNC_IMSI,$AKA_K,$AKA_OPC,$AKA_AMF,$RESYNC_SQN"
    [ -z "${IA_EXTRA_SUBSCRIBERS:-}" ] || printf '%s\n' "$IA_EXTRA_SUBSCRIBERS"
  } >"$1"
  sed -e 1d -e 's/,/ /g' "$1" >"$(dirname "$1")/hlr_auc_gw.milenage_db"
}
# ia_start_aaa_cmd NS PROTO PORT: start $AAA_CMD (after $AAA_SETUP) in NS, cwd $OUT, wait until it
# listens on PROTO (udp|tcp) PORT. Sets IA_AAA_PID.
ia_start_aaa_cmd() {
  local ns=$1 proto=$2 port=$3 v
  # the command may refer to these (single-quoted in the caller's environment)
  for v in AAA_ADDR AAA_PORT AAA_SECRET AAA_HOST AAA_REALM REALM OUT; do
    [ -z "${!v:-}" ] || export "${v?}"
  done
  if [ -n "${AAA_SETUP:-}" ]; then
    (cd "$OUT" && bash -c "$AAA_SETUP") >"$OUT/aaa-setup.log" 2>&1 || ia_die "AAA_SETUP failed (see $OUT/aaa-setup.log)"
  fi
  if [ -n "$ns" ]; then ia_bg "$OUT/aaa.log" env -C "$OUT" ip netns exec "$ns" bash -c "exec $AAA_CMD"
  else ia_bg "$OUT/aaa.log" env -C "$OUT" bash -c "exec $AAA_CMD"; fi
  IA_AAA_PID=$IA_LAST_PID
  if [ "$proto" = udp ]; then ia_wait_udp "$port" "$ns" 10; else ia_wait_tcp "$port" "$ns" 10; fi ||
    { tail -20 "$OUT/aaa.log" >&2; ia_die "AAA_CMD not listening on $proto $port (see $OUT/aaa.log)"; }
}

# --- strongSwan helpers -------------------------------------------------------------------------
SW_CHARON=$SW_DIR/libexec/ipsec/charon
SW_SWANCTL=$SW_DIR/sbin/swanctl
SW_PKI=$SW_DIR/bin/pki
ia_need_sw() { [ -x "$SW_CHARON" ] || ia_die "no $SW_CHARON: run scripts/interop/build-strongswan.sh"; }

# ia_charon_start NS RUNDIR STRONGSWAN_CONF [CHARON_BIN PIDDIR]: charon in netns NS, cwd RUNDIR,
# log RUNDIR/charon.log. ip netns exec gives it a private mount namespace, in which RUNDIR is
# bind-mounted over the compiled-in piddir, so two charons (the rebuilt one: $SW_DIR/run;
# Debian's: /run) do not fight over charon.pid / charon.vici. Sets IA_LAST_PID.
ia_charon_start() {
  local ns=$1 run=$2 conf=$3 bin=${4:-$SW_CHARON} piddir=${5:-$SW_DIR/run} i
  mkdir -p "$run"
  rm -f "$run/charon.vici" "$run/charon.pid" "$run/charon.ctl"
  ia_bg "$run/charon.log" env -C "$run" ip netns exec "$ns" sh -c \
    'mount --bind "$1" "$2" && exec env STRONGSWAN_CONF="$3" "$4"' sh "$run" "$piddir" "$conf" "$bin"
  for i in $(seq 1 100); do [ -S "$run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$run/charon.vici" ] || { tail -20 "$run/charon.log" >&2; ia_die "charon in $ns did not start"; }
}
# ia_sw RUNDIR COMMAND [options]: swanctl against the charon of RUNDIR (--uri must follow the command)
ia_sw() {
  local run=$1 cmd=$2
  shift 2
  SWANCTL_DIR="$run/swanctl" "$SW_SWANCTL" "$cmd" --uri "unix://$run/charon.vici" "$@"
}
# ia_subst TEMPLATE OUT VAR...: replace @VAR@ by the value of $VAR
ia_subst() {
  local in=$1 out=$2 v args=()
  shift 2
  for v in "$@"; do args+=(-e "s|@$v@|${!v}|g"); done
  sed "${args[@]}" "$in" >"$out"
}
