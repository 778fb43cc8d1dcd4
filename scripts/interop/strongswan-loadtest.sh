#!/usr/bin/env bash
# IKE_SA establishment-rate anchor (issue 4): strongSwan load-tester initiator -> strongSwan
# load-tester responder (both the rebuilt 5.9.8), two network namespaces on one veth, both
# daemons sharing this machine's CPUs. load-tester's fake kernel: no SA install (IKE only).
#
# Usage: scripts/interop/strongswan-loadtest.sh [SCENARIO...]   (default: psk-x25519)
#   scenarios: psk-modp2048 psk-ecp256 psk-x25519 eapmd5-modp2048 eapaka-modp2048, or "all"
# Env: RUNS=3 INITIATORS=4 ITERATIONS=500 (=> 2000 IKE_SAs per run) INIT_LIMIT=64 DELAY=1 (ms)
#      THREADS=16 TIMEOUT=120 (s per run, bound) OUT=<dir>
# Output per run: scenario run N wall_s SA_per_s resp_cpu_s init_cpu_s status ike_ok child_ok
#   init_req_seen proc_wall_s; then "<scenario> MEDIAN <n> SA/s, responder CPU <x> ms/SA".
#   wall_s / SA_per_s come from the RESPONDER's log (first IKE_SA_INIT seen -> last IKE_SA up);
#   both sides are CPU-bound, so responder CPU per SA is the portable number.
# A run passes when every IKE_SA and CHILD_SA came up (eap-aka: strongSwan's eap-aka-3gpp server
# has an unlocked SQN counter, so ~0.3 % of its challenges fail the UE's MAC check under
# concurrency; that scenario tolerates 1 % failures).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ia_require_root
ia_need_sw
ia_out strongswan-loadtest
trap ia_cleanup EXIT
RUNS=${RUNS:-3}; INITIATORS=${INITIATORS:-4}; ITERATIONS=${ITERATIONS:-500}
INIT_LIMIT=${INIT_LIMIT:-64}; DELAY=${DELAY:-1}; THREADS=${THREADS:-16}; TIMEOUT=${TIMEOUT:-120}
N=$((INITIATORS * ITERATIONS))
CLK=$(getconf CLK_TCK)
# scenario: initiator_auth | responder_auth | IKE proposal | ESP | eap_password
declare -A SC=(
  [psk-modp2048]="psk|psk|aes128-sha256-modp2048|aes128-sha256|x"
  [psk-ecp256]="psk|psk|aes128-sha256-ecp256|aes128-sha256|x"
  [psk-x25519]="psk|psk|aes128-sha256-x25519|aes128-sha256|x"
  [eapmd5-modp2048]="eap-md5|psk|aes128-sha256-modp2048|aes128-sha256|md5-password"
  [eapaka-modp2048]="eap-aka|psk|aes128-sha256-modp2048|aes128-sha256|0123456789abcdef0123456789abcdef"
)
ORDER=("$@")
[ ${#ORDER[@]} -gt 0 ] || ORDER=(psk-x25519)
[ "${ORDER[0]}" = all ] && ORDER=(psk-modp2048 psk-ecp256 psk-x25519 eapmd5-modp2048 eapaka-modp2048)
for sc in "${ORDER[@]}"; do [ -n "${SC[$sc]:-}" ] || ia_die "unknown scenario $sc"; done

NS_R=ia-lt-resp-$$; NS_I=ia-lt-init-$$
ia_netns_add "$NS_R"; ia_netns_add "$NS_I"
ip link add lt-resp0 netns "$NS_R" type veth peer name lt-init0 netns "$NS_I"
ip -n "$NS_R" addr add 192.0.2.1/24 dev lt-resp0; ip -n "$NS_R" link set lt-resp0 up
ip -n "$NS_I" addr add 192.0.2.2/24 dev lt-init0; ip -n "$NS_I" link set lt-init0 up

gen() { # TEMPLATE OUTFILE
  IFS='|' read -r ia ra prop esp pwd <<<"${SC[$sc]}"
  sed -e "s/@THREADS@/$THREADS/; s/@INITIATORS@/$INITIATORS/; s/@ITERATIONS@/$ITERATIONS/" \
    -e "s/@INIT_LIMIT@/$INIT_LIMIT/; s/@DELAY@/$DELAY/; s/@PROPOSAL@/$prop/; s/@ESP@/$esp/" \
    -e "s/@IAUTH@/$ia/; s/@RAUTH@/$ra/; s/@EAPPWD@/$pwd/" "$1" >"$2"
}
cputicks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

echo "# strongswan-loadtest: N=$N per run (initiators=$INITIATORS x iterations=$ITERATIONS), init_limit=$INIT_LIMIT delay=${DELAY}ms threads=$THREADS, $(nproc) CPUs shared; artefacts in $OUT"
echo "# scenario run N wall_s SA_per_s resp_cpu_s init_cpu_s status ike_ok child_ok init_req_seen proc_wall_s"
for sc in "${ORDER[@]}"; do
  rates=(); cpus=()
  for run in $(seq 1 "$RUNS"); do
    R=$OUT/$sc-$run; mkdir -p "$R/resp" "$R/init"
    gen "$IA_DIR/strongswan/loadtest-responder.conf.in" "$R/responder.conf"
    gen "$IA_DIR/strongswan/loadtest-initiator.conf.in" "$R/initiator.conf"
    ia_charon_start "$NS_R" "$R/resp" "$R/responder.conf"
    rpid=$IA_LAST_PID
    r0=$(cputicks "$rpid")
    t0=$(date +%s.%N)
    # setsid: with shutdown_when_complete the initiator SIGTERMs its own process group
    ia_bg "$R/init.log" env -C "$R/init" setsid ip netns exec "$NS_I" sh -c \
      'mount --bind "$1" "$2" && exec env STRONGSWAN_CONF="$3" "$4"' sh "$R/init" "$SW_DIR/run" "$R/initiator.conf" "$SW_CHARON"
    ipid=$IA_LAST_PID
    icpu=0; last=-1; still=0
    RLOG=$R/resp/charon.log
    while kill -0 "$ipid" 2>/dev/null; do
      c=$(cputicks "$ipid"); [ "$c" = 0 ] || icpu=$c
      # stall detection: a few SAs may never come up, and load-tester then never completes
      n=$(grep -c 'IKE_SA load-test\[[0-9]*\] established' "$RLOG" || true)
      if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; last=$n; fi
      if [ "$still" -ge 60 ] || [ "$(awk -v a="$t0" -v b="$(date +%s.%N)" -v t="$TIMEOUT" 'BEGIN{print (b-a > t)}')" = 1 ]; then
        echo "stalled/timeout" >>"$R/init.log"
        ia_stop "$ipid"
        break
      fi
      sleep 0.05
    done
    wait "$ipid" 2>/dev/null
    t1=$(date +%s.%N)
    r1=$(cputicks "$rpid")
    initreq=$(ia_sw "$R/resp" --counters 2>/dev/null | awk -F': ' '/ike-init-in-req /{print $2}')
    ia_stop "$rpid"
    child=$(grep -c 'CHILD_SA load-test{[0-9]*} established' "$RLOG" || true)
    ike=$(grep -c 'IKE_SA load-test\[[0-9]*\] established' "$RLOG" || true)
    ts0=$(awk '/is initiating an IKE_SA/{print $1; exit}' "$RLOG")
    ts1=$(awk '/IKE_SA load-test\[[0-9]*\] established/{t=$1} END{print t}' "$RLOG")
    if [ -n "$ts0" ] && [ -n "$ts1" ] && [ "$ike" -gt 0 ]; then
      wall=$(awk -v a="$ts0" -v b="$ts1" 'BEGIN{printf "%.3f", b-a}')
      rate=$(awk -v n="$ike" -v w="$wall" 'BEGIN{printf "%.0f", n/w}')
    else wall=FAIL; rate=0; fi
    grep -q 'load-test complete' "$R/init.log" && st=complete || st=INCOMPLETE
    rcpu=$(awk -v a="$r0" -v b="$r1" -v c="$CLK" 'BEGIN{printf "%.2f", (b-a)/c}')
    icpus=$(awk -v a="$icpu" -v c="$CLK" 'BEGIN{printf "%.2f", a/c}')
    rates+=("$rate")
    cpus+=("$(awk -v c="$rcpu" -v n="$ike" 'BEGIN{printf "%.2f", n ? c*1000/n : 0}')")
    echo "$sc $run $N $wall $rate $rcpu $icpus $st ike_ok=$ike child_ok=$child init_req_seen=$initreq proc_wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" | tee -a "$OUT/results.txt"
    tol=0; [ "$sc" = eapaka-modp2048 ] && tol=$((N / 100))
    if [ "$ike" -ge $((N - tol)) ] && [ "$child" -ge $((N - tol)) ]; then :; else
      ia_fail "$sc run $run: $ike/$N IKE_SAs, $child/$N CHILD_SAs ($st)"
    fi
  done
  med=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  medcpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "$sc MEDIAN $med SA/s over $RUNS runs, responder CPU $medcpu ms/SA (runs: ${rates[*]})" | tee -a "$OUT/results.txt"
  [ "$med" -gt 0 ] && ia_pass "$sc: median $med IKE_SA/s, responder CPU $medcpu ms/SA ($RUNS x $N SAs)"
done
ia_summary strongswan-loadtest
