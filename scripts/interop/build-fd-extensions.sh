#!/usr/bin/env bash
# Builds the freeDiameter 1.2.1 extensions that Debian's freediameter-extensions does not ship:
# app_radgw (RADIUS -> Diameter gateway, with its auth/acct/debug/sip .rgwx plugins) and test_app
# (Diameter throughput anchor), from Debian's own `freediameter` source package, for use with
# Debian's freeDiameterd (same version, same libfdcore/libfdproto ABI).
#
# Usage: scripts/interop/build-fd-extensions.sh [OUTDIR]   (default $FD_DIR = target/interop/fd)
# Result: OUTDIR/fdx/{app_radgw.fdx,test_app.fdx,*.rgwx}
# Idempotent (OUTDIR/stamp); /etc/apt untouched (private deb-src list under $INTEROP_DIR/apt).
# Needs: cmake bison flex libsctp-dev libidn11-dev libgnutls28-dev libgcrypt20-dev dpkg-dev
#        (scripts/interop/setup.sh). app_diameap is not built: it does no EAP-AKA and needs MySQL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUTD=${1:-$FD_DIR}
mkdir -p "$OUTD/fdx"
OUTD=$(cd "$OUTD" && pwd)
t0=$(date +%s)
ver=$(ia_download_source freediameter '^1\.2\.1-' "$OUTD") || ia_die "apt-get source freediameter failed (see $OUTD/apt.log)"
# shellcheck disable=SC2034  # read by ia_inputs_hash
IA_HASH_EXTRA=$ver
stamp=$(ia_inputs_hash "$0")
if [ -f "$OUTD/fdx/app_radgw.fdx" ] && [ -f "$OUTD/fdx/test_app.fdx" ] && [ -f "$OUTD/fdx/auth.rgwx" ] &&
  [ "$(cat "$OUTD/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "freeDiameter extensions up to date in $OUTD/fdx (freediameter $ver)"
  exit 0
fi
rm -rf "$OUTD/src" "$OUTD/build"
(cd "$OUTD/dl" && dpkg-source -x ./freediameter_*.dsc "$OUTD/src" >"$OUTD/extract.log" 2>&1) ||
  ia_die "dpkg-source failed (see $OUTD/extract.log)"
mkdir -p "$OUTD/build"
# Only what app_radgw and test_app need: the two libraries they link against and the extensions.
(cd "$OUTD/build" && cmake ../src -DCMAKE_BUILD_TYPE=Release -DBUILD_TEST_APP=ON -DBUILD_APP_RADGW=ON \
  -DBUILD_DBG_MONITOR=OFF -DBUILD_TEST_SIP=OFF -DBUILD_APP_DIAMEAP=OFF >cmake.log 2>&1 &&
  make -j"$(nproc)" test_app app_radgw auth acct debug echodrop >make.log 2>&1) ||
  { tail -30 "$OUTD/build/make.log" >&2 2>/dev/null; ia_die "build failed (see $OUTD/build/cmake.log, make.log)"; }
rm -f "$OUTD"/fdx/*
cp "$OUTD"/build/extensions/{test_app,app_radgw}.fdx "$OUTD"/build/extensions/*.rgwx "$OUTD/fdx/"
echo "$stamp" >"$OUTD/stamp"
echo "built freeDiameter extensions (freediameter $ver): $(ls "$OUTD/fdx" | tr '\n' ' ')in $(($(date +%s) - t0)) s"
