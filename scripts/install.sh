#!/usr/bin/env bash
# make install / make uninstall / make install-service.
#   install:  the app in its own venv (APPDIR, from /usr/bin/python3 --system-site-packages for
#             bcc's bindings), `syscalltop` on PATH, syscalltop(1), bash and zsh completion
#   uninstall: removes exactly what install wrote (its manifest), and the service if installed
#   service:  the exporter as a hardened systemd unit (examples/syscalltop-exporter.service)
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:?usage: scripts/install.sh install|uninstall|service}"
PREFIX="${PREFIX:-/usr/local}"
APPDIR="${APPDIR:-/opt/syscalltop}"
UNITDIR="${UNITDIR:-/etc/systemd/system}"
manifest="$APPDIR/installed-files"
unit=syscalltop-exporter.service

if [ "$(id -u)" -ne 0 ]; then
  echo "install: run it as root (sudo make $action)" >&2
  exit 3
fi

put() { # put MODE SOURCE TARGET: install a file outside APPDIR and remember it
  install -D -m "$1" "$2" "$3"
  echo "$3" >>"$manifest.new"
}

case "$action" in
install)
  bash scripts/setup.sh --packages
  rm -rf "$APPDIR"
  /usr/bin/python3 -m venv --system-site-packages "$APPDIR"
  "$APPDIR/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$APPDIR/bin/python" -m pip install -q ".[docs]"
  : >"$manifest.new"
  mkdir -p "$PREFIX/bin"
  ln -sfn "$APPDIR/bin/syscalltop" "$PREFIX/bin/syscalltop"
  echo "$PREFIX/bin/syscalltop" >>"$manifest.new"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$APPDIR/bin/python" scripts/make_docs.py --man "$work/syscalltop.1" \
    --bash "$work/syscalltop.bash" --zsh "$work/_syscalltop"
  put 0644 "$work/syscalltop.1" "$PREFIX/share/man/man1/syscalltop.1"
  put 0644 "$work/syscalltop.bash" "$PREFIX/share/bash-completion/completions/syscalltop"
  put 0644 "$work/_syscalltop" "$PREFIX/share/zsh/site-functions/_syscalltop"
  mv "$manifest.new" "$manifest"
  command -v mandb >/dev/null && mandb -q 2>/dev/null || true
  echo "installed: $PREFIX/bin/syscalltop (app in $APPDIR); try: sudo syscalltop --doctor"
  ;;
uninstall)
  if [ -d /run/systemd/system ] && systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    systemctl disable --now --quiet "$unit" || true
  fi
  if [ -f "$UNITDIR/$unit" ] && grep -q "syscalltop" "$UNITDIR/$unit"; then
    rm -f "$UNITDIR/$unit"
    [ -d /run/systemd/system ] && systemctl daemon-reload || true
  fi
  if [ -f "$manifest" ]; then
    while IFS= read -r path; do
      # Only what install wrote: the link into APPDIR, and files it generated.
      if [ -L "$path" ] || [ -f "$path" ]; then rm -f "$path"; fi
    done <"$manifest"
  fi
  rm -rf "$APPDIR"
  command -v mandb >/dev/null && mandb -q 2>/dev/null || true
  echo "uninstalled syscalltop from $PREFIX and $APPDIR"
  ;;
service)
  if [ ! -x "$PREFIX/bin/syscalltop" ]; then
    echo "install-service: run make install first ($PREFIX/bin/syscalltop is missing)" >&2
    exit 2
  fi
  sed "s#/usr/local/bin/syscalltop#$PREFIX/bin/syscalltop#" "examples/$unit" >"$UNITDIR/$unit.new"
  chmod 0644 "$UNITDIR/$unit.new"
  mv "$UNITDIR/$unit.new" "$UNITDIR/$unit"
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now "$unit"
    echo "started $unit: curl -s http://127.0.0.1:9545/metrics"
  else
    echo "installed $UNITDIR/$unit (systemd is not running here: start it where it is)"
  fi
  ;;
*)
  echo "usage: scripts/install.sh install|uninstall|service" >&2
  exit 2
  ;;
esac
