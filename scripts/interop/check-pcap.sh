#!/bin/bash
# scripts/interop/check-pcap.sh FILE [extra tshark args, e.g. -d udp.port==18120,radius]
# Dissects FILE with tshark (two-pass, full dissection) and exits non-zero when any packet is
# malformed or carries an expert item of severity Warning or Error.
# Prints one summary line:  OK|FAIL FILE: N packets; protocols: a,b,c; malformed: M; errors: E; warnings: W
# With VERBOSE=1 also lists each offending frame (frame, protocol, severity, message).
# With STRICT_TCP=1 TCP reassembly is disabled and an unreassembled/truncated PDU counts as
# malformed (use for synthetic pcaps with one PDU per segment: by default a Diameter header that
# claims more bytes than present is silently held back waiting for more TCP data).
# With IGNORE='regex' expert messages matching the regex are not counted, e.g. for freeDiameter's
# test_app (vendor-specific app 16777215): IGNORE='^Unknown (command|Application Id|AVP|Vendor)'
set -u
f=${1:?usage: check_pcap.sh FILE [tshark args]}; shift
[ -r "$f" ] || { echo "FAIL $f: not readable"; exit 2; }
T=(tshark -n -2 -r "$f")
FILTER='_ws.malformed || _ws.expert.severity >= 0x600000'
if [ "${STRICT_TCP:-0}" = 1 ]; then T+=(-o tcp.desegment_tcp_streams:FALSE); FILTER="$FILTER || _ws.unreassembled"; fi
T+=("$@")
# expert severities (epan/proto.h): comment 0x100000 chat 0x200000 note 0x400000 warn 0x600000 error 0x800000
bad=$("${T[@]}" -Y "$FILTER" \
      -T fields -E separator=$'\x1e' -E aggregator=$'\x1f' -E occurrence=a -e frame.number -e _ws.col.Protocol \
      -e _ws.expert.severity -e _ws.expert.message -e _ws.malformed -e _ws.unreassembled 2>/dev/null)
rc=$?
[ $rc -eq 0 ] || { echo "FAIL $f: tshark exit $rc"; exit 2; }
npk=$("${T[@]}" -T fields -e frame.number 2>/dev/null | wc -l)
protos=$("${T[@]}" -T fields -e frame.protocols 2>/dev/null | tr ':' '\n' |
         grep -vxE 'eth|ethertype|ip|ipv6|udp|tcp|sll|frame|data|raw|loop|null' | sort -u | paste -sd, -)
# count frames by worst item; -V text as a second opinion for "[Malformed Packet" markers
mal=$("${T[@]}" -V 2>/dev/null | grep -cE '\[(Malformed Packet|BoundError Unreassembled)')
err=0; warn=0
while IFS=$'\x1e' read -r num proto sev msg m u; do
  [ -z "$num" ] && continue
  # pair severities with messages (same order), drop IGNOREd ones
  IFS=$'\x1f' read -ra sv <<<"$sev"; IFS=$'\x1f' read -ra ms <<<"$msg"
  e=0; w=0; kept=""
  for i in "${!sv[@]}"; do
    mm=${ms[$i]:-}
    if [ -n "${IGNORE:-}" ] && [[ $mm =~ $IGNORE ]]; then continue; fi
    [ "${sv[$i]}" -ge 8388608 ] 2>/dev/null && e=1
    [ "${sv[$i]}" -ge 6291456 ] 2>/dev/null && [ "${sv[$i]}" -lt 8388608 ] && w=1
    kept="$kept${kept:+; }$mm"
  done
  [ -n "$m$u" ] && e=1
  [ $e = 1 ] && err=$((err+1)); [ $e = 0 ] && [ $w = 1 ] && warn=$((warn+1))
  [ "${VERBOSE:-0}" = 1 ] && [ $((e+w)) -gt 0 ] && echo "  frame $num [$proto]: ${kept}${m:+ (malformed)}${u:+ (unreassembled)}"
done <<<"$bad"
status=OK; [ "$mal" -gt 0 ] || [ "$err" -gt 0 ] || [ "$warn" -gt 0 ] && status=FAIL
[ "$npk" -eq 0 ] && status=FAIL
echo "$status $f: $npk packets; protocols: ${protos:-none}; malformed: $mal; errors: $err; warnings: $warn"
[ "$status" = OK ]
