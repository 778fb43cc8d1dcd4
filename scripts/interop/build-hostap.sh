#!/usr/bin/env bash
# Builds the hostap 2.10 tools the interop harnesses need from Debian's own `wpa` source package
# (hostap 2.10 + Debian's patches): eapol_test, wpa_supplicant and wpa_cli with
# CONFIG_USIM_SIMULATOR (Milenage USIM: "password=K:OPc:SQN") and CONFIG_ERP, EAP-AKA and
# EAP-AKA', and hlr_auc_gw (Milenage HLR/AuC simulator for hostapd's eap_sim_db).
# Debian's eapoltest has neither the USIM simulator nor ERP; Debian's hostapd has no hlr_auc_gw.
#
# Usage: scripts/interop/build-hostap.sh [OUTDIR]   (default $HOSTAP_DIR = target/interop/hostap)
# Env:   HOSTAP_SRC=<hostap tree> to build from a given tree instead of `apt-get source wpa`.
# Result: OUTDIR/bin/{eapol_test,wpa_supplicant,wpa_cli,hlr_auc_gw}
# Idempotent: skipped when OUTDIR/stamp matches the inputs (this script, the two .config files,
# the source version). /etc/apt is not touched: a private deb-src list lives under $INTEROP_DIR/apt.
# Needs: build-essential libssl-dev dpkg-dev (scripts/interop/setup.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUTD=${1:-$HOSTAP_DIR}
mkdir -p "$OUTD/bin"
OUTD=$(cd "$OUTD" && pwd)
t0=$(date +%s)

if [ -z "${HOSTAP_SRC:-}" ]; then
  ver=$(ia_download_source wpa '^2:2\.10-' "$OUTD") || ia_die "apt-get source wpa failed (see $OUTD/apt.log)"
  src=$OUTD/src
else
  ver="tree:$HOSTAP_SRC"
  src=$HOSTAP_SRC
fi
# shellcheck disable=SC2034  # read by ia_inputs_hash
IA_HASH_EXTRA=$ver
stamp=$(ia_inputs_hash "$0" "$IA_DIR/hostap/wpas.config" "$IA_DIR/hostap/hostapd.config")
bins=(eapol_test wpa_supplicant wpa_cli hlr_auc_gw)
ok=1
for b in "${bins[@]}"; do [ -x "$OUTD/bin/$b" ] || ok=0; done
if [ $ok = 1 ] && [ "$(cat "$OUTD/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "hostap tools up to date in $OUTD/bin (wpa $ver)"
  exit 0
fi
if [ -z "${HOSTAP_SRC:-}" ]; then
  rm -rf "$src"
  (cd "$OUTD/dl" && dpkg-source -x ./wpa_*.dsc "$src" >"$OUTD/extract.log" 2>&1) ||
    ia_die "dpkg-source failed (see $OUTD/extract.log)"
fi
cp "$IA_DIR/hostap/wpas.config" "$src/wpa_supplicant/.config"
cp "$IA_DIR/hostap/hostapd.config" "$src/hostapd/.config"
jobs=$(nproc)
{
  make -s -C "$src/wpa_supplicant" -j"$jobs" eapol_test wpa_supplicant wpa_cli &&
    make -s -C "$src/hostapd" -j"$jobs" hlr_auc_gw
} >"$OUTD/build.log" 2>&1 || { tail -30 "$OUTD/build.log" >&2; ia_die "hostap build failed (see $OUTD/build.log)"; }
cp "$src/wpa_supplicant/eapol_test" "$src/wpa_supplicant/wpa_supplicant" \
  "$src/wpa_supplicant/wpa_cli" "$src/hostapd/hlr_auc_gw" "$OUTD/bin/"
echo "$stamp" >"$OUTD/stamp"
echo "built hostap tools (wpa $ver) in $OUTD/bin in $(($(date +%s) - t0)) s"
