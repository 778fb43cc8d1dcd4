#!/usr/bin/env bash
# Rebuilds strongSwan 5.9.8 (the upstream version of Debian 12's packages, plus Debian's numbered
# security patches) from Debian's `strongswan` source package, with the plugins Debian's binary
# build leaves out: eap-aka-3gpp (Milenage USIM / AKA server from K||OPc), eap-aka-3gpp2,
# eap-simaka-pseudonym/reauth, load-tester, save-keys (Wireshark key tables) and counters; plus
# kernel-libipsec (user-space ESP over TUN: this kernel has no ESP), vici, swanctl, pki.
# Installed into a private prefix (compiled-in paths: do not move it); nothing else is touched.
#
# Usage: scripts/interop/build-strongswan.sh [PREFIX]   (default $SW_DIR = target/interop/strongswan)
# Env:   JOBS (default nproc)
# Result: PREFIX/libexec/ipsec/charon, PREFIX/sbin/swanctl, PREFIX/bin/pki, PREFIX/lib/ipsec/plugins
# Idempotent (PREFIX/stamp); /etc/apt untouched (private deb-src list under $INTEROP_DIR/apt).
# Needs: build-essential pkg-config libgmp-dev libssl-dev dpkg-dev (scripts/interop/setup.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PREFIX=${1:-$SW_DIR}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
BUILD=$PREFIX/build
JOBS=${JOBS:-$(nproc)}
mkdir -p "$BUILD"
t0=$(date +%s)
# The security pool sometimes 404s the newest revision's files: ia_download_source falls back.
ver=$(ia_download_source strongswan '^5\.9\.8-' "$BUILD") || ia_die "apt-get source strongswan failed (see $BUILD/apt.log)"
# shellcheck disable=SC2034  # read by ia_inputs_hash
IA_HASH_EXTRA="$ver $PREFIX"
stamp=$(ia_inputs_hash "$0")
if [ -x "$PREFIX/libexec/ipsec/charon" ] && [ -f "$PREFIX/lib/ipsec/plugins/libstrongswan-eap-aka-3gpp.so" ] &&
  [ "$(cat "$PREFIX/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "strongSwan up to date in $PREFIX (strongswan $ver)"
  exit 0
fi
cd "$BUILD"
rm -rf strongswan-5.9.8 debian
tar xjf dl/strongswan_5.9.8.orig.tar.bz2
tar xJf dl/strongswan_5.9.8-*.debian.tar.xz
cd strongswan-5.9.8
# Only Debian's source (security) patches, numbered 00NN-*: the others touch packaging files or
# Makefile.am, which would force an automake run.
while read -r p; do
  [[ $p == 00[0-9][0-9]-*.patch ]] || continue
  patch -p1 -s <"../debian/patches/$p"
done <../debian/patches/series
./configure --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" --with-piddir="$PREFIX/run" \
  --enable-openssl --enable-gcm --enable-ctr --enable-ccm \
  --enable-eap-identity --enable-eap-md5 --enable-eap-radius \
  --enable-eap-aka --enable-eap-aka-3gpp --enable-eap-aka-3gpp2 \
  --enable-eap-simaka-pseudonym --enable-eap-simaka-reauth \
  --enable-kernel-libipsec --enable-load-tester --enable-save-keys \
  --enable-swanctl --enable-vici --enable-cmd --enable-counters \
  --disable-ikev1 --disable-scepclient --disable-stroke --disable-ldap \
  >"$BUILD/configure.log" 2>&1 || { tail -20 "$BUILD/configure.log" >&2; ia_die "configure failed"; }
make -j"$JOBS" >"$BUILD/make.log" 2>&1 || { tail -30 "$BUILD/make.log" >&2; ia_die "make failed (see $BUILD/make.log)"; }
make install >"$BUILD/install.log" 2>&1 || ia_die "make install failed (see $BUILD/install.log)"
mkdir -p "$PREFIX/run" # piddir; the harnesses bind-mount a per-instance dir over it
# keep the download, drop the object tree (about 150 MB)
rm -rf "$BUILD/strongswan-5.9.8" "$BUILD/debian"
echo "$stamp" >"$PREFIX/stamp"
echo "built strongSwan (strongswan $ver) into $PREFIX in $(($(date +%s) - t0)) s; plugins:" \
  "$(ls "$PREFIX/lib/ipsec/plugins" | sed -n 's/^libstrongswan-\(.*\)\.so$/\1/p' | tr '\n' ' ')"
