#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine, split by purpose:
#   scripts/setup.sh             what running needs: bcc's Python bindings, python3-venv, kernel
#                                headers when missing, and .venv with the runtime dependencies
#                                (and the man page, built from the parser)
#   scripts/setup.sh --test      also what the tests need: prometheus, tmux, python3-seccomp
#                                (applies generated profiles), runc (a real container), bcc's tools (the
#                                bench compares against syscount), the test extras
#   scripts/setup.sh --bench     what --test installs, and redis-server (make bench measures a
#                                real server's throughput; the bench starts its own on a free port)
#   scripts/setup.sh --packages  only the distro packages for running (make install uses it)
# Nothing here stops, kills or reconfigures a service the user runs.
# bcc's Python bindings are the distro's python3-bpfcc, built for /usr/bin/python3, so the
# venv is made from that interpreter with --system-site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."

purpose="${1:-run}"
case "$purpose" in run | --test | --bench | --packages) ;; *)
  echo "usage: scripts/setup.sh [--test|--bench|--packages]" >&2
  exit 2
  ;;
esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if ! command -v apt-get >/dev/null; then
  # Not Debian/Ubuntu: the packages come from the user (README: Fedora/RHEL), checked here.
  if ! /usr/bin/python3 -c 'import bcc' 2>/dev/null; then
    echo "setup: no apt-get here; install bcc's Python bindings for /usr/bin/python3 first" >&2
    echo "setup: Fedora/RHEL: dnf install bcc python3-bcc kernel-devel-$(uname -r)" >&2
    exit 2
  fi
  have_pkg() { return 0; }
  apt_install() { :; }
else
  have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
fi
updated=0
command -v apt-get >/dev/null && apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "setup: installing distro packages: $*"
  if [ "$updated" -eq 0 ]; then
    $SUDO apt-get update -qq
    updated=1
  fi
  # No recommends: prometheus would bring node-exporter, a service of its own.
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

runtime=()
for pkg in python3-bpfcc python3-venv python3-pip; do
  have_pkg "$pkg" || runtime+=("$pkg")
done
apt_install "${runtime[@]}"

release="$(uname -r)"
if [ ! -d "/lib/modules/$release/build/include" ] && ! ls -d /usr/src/linux-headers-*-common >/dev/null 2>&1; then
  # The exact headers where the distro has them, else the generic ones (merged at run time).
  if apt-cache show "linux-headers-$release" >/dev/null 2>&1; then
    apt_install "linux-headers-$release"
  else
    apt_install "linux-headers-$(dpkg --print-architecture)"
  fi
fi
[ "$purpose" = "--packages" ] && exit 0

if [ "$purpose" = "--test" ] || [ "$purpose" = "--bench" ]; then
  testing=()
  wanted=(prometheus tmux bpfcc-tools python3-seccomp runc)
  [ "$purpose" = "--bench" ] && wanted+=(redis-server redis-tools)
  for pkg in "${wanted[@]}"; do
    have_pkg "$pkg" || testing+=("$pkg")
  done
  if [ "${#testing[@]}" -gt 0 ]; then
    # The tests start their own Prometheus on a free loopback port. Keep the package's own
    # service from starting (policy-rc.d, only if the machine has none) and from starting at
    # boot: it is a test tool here, and 9090 may be taken.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
      $SUDO chmod 755 "$policy"
      trap '$SUDO rm -f "$policy"' EXIT
    fi
    apt_install "${testing[@]}"
    for service in prometheus redis-server; do
      if printf '%s\n' "${testing[@]}" | grep -qx "$service" && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --quiet "$service.service" 2>/dev/null || true
      fi
    done
  fi
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import bcc' 2>/dev/null; then
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
extras="docs"
stamp=.venv/.syscalltop-run
if [ "$purpose" = "--test" ] || [ "$purpose" = "--bench" ]; then
  extras="docs,test"
  stamp=.venv/.syscalltop-test
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
  if [ "$purpose" = run ] && [ "$(id -u)" = 0 ]; then
    # make run: the first start loads a kept image instead of compiling (as install does).
    .venv/bin/python -m tui --prepare || true
  fi
fi

# The man page, from the parser, where man finds it (make uninstall removes it).
mandir=/usr/local/share/man/man1
page="$(mktemp)"
.venv/bin/python scripts/make_docs.py --man "$page"
if ! cmp -s "$page" "$mandir/syscalltop.1" 2>/dev/null; then
  $SUDO install -D -m 0644 "$page" "$mandir/syscalltop.1"
fi
rm -f "$page"
