#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine: distro packages, then .venv.
# bcc's Python bindings are the distro's python3-bpfcc, built for /usr/bin/python3, so the
# venv is made from that interpreter with --system-site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# prometheus: the real server the metrics test scrapes; tmux: the real terminal the terminal tests use.
for pkg in python3-bpfcc bpfcc-tools python3-venv python3-pip prometheus tmux; do
  have_pkg "$pkg" || need+=("$pkg")
done
release="$(uname -r)"
if [ ! -d "/lib/modules/$release/build/include" ] && ! ls -d /usr/src/linux-headers-*-common >/dev/null 2>&1; then
  headers_missing=1
else
  headers_missing=0
fi

if [ "${#need[@]}" -gt 0 ] || [ "$headers_missing" -eq 1 ]; then
  echo "setup: installing distro packages: ${need[*]:-} $( [ "$headers_missing" -eq 1 ] && echo kernel headers)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  if [ "${#need[@]}" -gt 0 ]; then
    $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
    # The package starts its own server where an init system runs; tests start their own.
    if printf '%s\n' "${need[@]}" | grep -qx prometheus; then
      $SUDO pkill -x prometheus 2>/dev/null || true
    fi
  fi
  if [ "$headers_missing" -eq 1 ]; then
    # The exact headers where the distro has them, else the generic ones (merged at run time).
    if apt-cache show "linux-headers-$release" >/dev/null 2>&1; then
      $SUDO apt-get install -y -qq "linux-headers-$release" >/dev/null
    else
      arch="$(dpkg --print-architecture)"
      $SUDO apt-get install -y -qq "linux-headers-$arch" >/dev/null
    fi
  fi
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import bcc' 2>/dev/null; then
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
stamp=.venv/.syscalltop-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
