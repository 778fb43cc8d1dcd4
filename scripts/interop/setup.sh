#!/usr/bin/env bash
# Installs the Debian 12 packages every interop harness in scripts/interop/ needs (run as root,
# or with sudo). Idempotent and quiet: packages already present are left alone, and apt-get
# update runs only when something is missing.
#   ./setup.sh            packages only
#   ./setup.sh --build    packages, then build-hostap.sh, build-fd-extensions.sh and
#                         build-strongswan.sh (each skips itself when already built)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pkgs=(
  # peers
  hostapd                       # reference RADIUS EAP-AKA/AKA'/ERP server and wired NAS
  freediameter freediameter-extensions
  # Debian charon as ePDG (eap-radius, kernel-libipsec; openssl, gcm, curve25519 in the *-plugins)
  strongswan strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins libstrongswan-extra-plugins
  tshark                        # dumpcap + dissector checks of the captures
  iproute2 iputils-ping
  # builds (hostap, freeDiameter extensions, strongSwan)
  build-essential dpkg-dev pkg-config libssl-dev
  cmake bison flex libsctp-dev libidn11-dev libgnutls28-dev libgcrypt20-dev
  libgmp-dev
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "interop setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer "no" without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  # policy-rc.d keeps the packages' services (strongswan-starter, hostapd, freeDiameter)
  # from being started system-wide; the harnesses run their own instances.
  norc=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    norc=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$norc" >/dev/null
    $SUDO chmod +x "$norc"
  fi
  rc=0
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/interop-setup-apt.log 2>&1 || rc=$?
  [ -n "$norc" ] && $SUDO rm -f "$norc"
  if [ $rc -ne 0 ]; then tail -30 /tmp/interop-setup-apt.log >&2; exit $rc; fi
fi

if [ "${1:-}" = --build ]; then
  "$here/build-hostap.sh"
  "$here/build-fd-extensions.sh"
  "$here/build-strongswan.sh"
fi
