#!/usr/bin/env bash
# make install / make uninstall / make install-service.
#   install:  the app in its own venv (APPDIR, from /usr/bin/python3 --system-site-packages for
#             bcc's bindings), `syscalltop` on PATH, syscalltop(1), bash and zsh completion
#   uninstall: removes exactly what install wrote (its manifest: files, and the directories it
#             made when empty), the service if installed, and the header and program caches
#             the tool made
# APPDIR is only ever replaced or removed when it holds the marker install leaves there.
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

marker=.syscalltop-app
CACHEDIR="${CACHEDIR:-/var/cache/syscalltop}"

made=()
made_dirs() { # made_dirs DIR: make DIR, noting the directories that were not there
  local dir="$1"
  while [ ! -e "$dir" ]; do
    made+=("$dir")
    dir="$(dirname "$dir")"
  done
  mkdir -p "$1"
}

flush_dirs() { # write the noted directories after the file in them, deepest first
  local dir
  for dir in "${made[@]}"; do echo "dir:$dir" >>"$manifest.new"; done
  made=()
}

put() { # put MODE SOURCE TARGET: install a file outside APPDIR and remember it (and the
  # directories it made, so uninstall removes them again when empty)
  made_dirs "$(dirname "$3")"
  install -m "$1" "$2" "$3"
  echo "$3" >>"$manifest.new"
  flush_dirs
}

ours() { # ours DIR: true when DIR is absent or is an application directory install made
  # (or one made before the marker: its manifest and its entry point)
  [ ! -e "$1" ] || { [ -d "$1" ] && [ ! -L "$1" ] && { [ -f "$1/$marker" ] ||
    { [ -f "$1/installed-files" ] && [ -x "$1/bin/syscalltop" ]; }; }; }
}

refuse_foreign_appdir() {
  if ! ours "$APPDIR"; then
    echo "install: $APPDIR exists and is not a syscalltop install (no $marker): not touching it;" \
      "choose another APPDIR" >&2
    exit 2
  fi
}

case "$action" in
install)
  refuse_foreign_appdir
  bash scripts/setup.sh --packages
  # A venv cannot be moved, so it is made in place; the install before it waits aside and
  # comes back if this one fails, so a failed pip never leaves syscalltop pointing at nothing.
  previous="$APPDIR.previous"
  rm -rf "$previous"
  [ -e "$APPDIR" ] && mv "$APPDIR" "$previous"
  restore() {
    rm -rf "$APPDIR"
    [ -e "$previous" ] && mv "$previous" "$APPDIR"
    echo "install: failed; the previous install (if any) is back in $APPDIR" >&2
  }
  trap restore ERR
  /usr/bin/python3 -m venv --system-site-packages "$APPDIR"
  touch "$APPDIR/$marker"
  "$APPDIR/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$APPDIR/bin/python" -m pip install -q ".[docs]"
  trap - ERR
  rm -rf "$previous"
  : >"$manifest.new"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  made_dirs "$PREFIX/bin"
  ln -sfn "$APPDIR/bin/syscalltop" "$PREFIX/bin/syscalltop"
  echo "$PREFIX/bin/syscalltop" >>"$manifest.new"
  flush_dirs
  "$APPDIR/bin/python" scripts/make_docs.py --man "$work/syscalltop.1" \
    --bash "$work/syscalltop.bash" --zsh "$work/_syscalltop"
  put 0644 "$work/syscalltop.1" "$PREFIX/share/man/man1/syscalltop.1"
  put 0644 "$work/syscalltop.bash" "$PREFIX/share/bash-completion/completions/syscalltop"
  put 0644 "$work/_syscalltop" "$PREFIX/share/zsh/site-functions/_syscalltop"
  mv "$manifest.new" "$manifest"
  command -v mandb >/dev/null && mandb -q 2>/dev/null || true
  # Compile both levels now, so that even the first start loads a kept image (0.4-0.6 s
  # sooner, without LLVM's 60 MB). Where BPF cannot load here (a build container), the
  # first start compiles instead: not a failed install.
  for level in full counts; do
    "$APPDIR/bin/syscalltop" --prepare --level "$level" ||
      echo "install: the $level program is compiled at its first start instead" >&2
  done
  # And the one every `-p PID` loads (the pid is filled in at each start: any will do).
  "$APPDIR/bin/syscalltop" --prepare -p 1 ||
    echo "install: the -p program is compiled at its first start instead" >&2
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
  refuse_foreign_appdir
  if [ -f "$manifest" ]; then
    # Only what install wrote: the link into APPDIR, and files it generated; then the
    # directories it made, deepest first, if nothing else has gone into them.
    while IFS= read -r path; do
      if [ -L "$path" ] || [ -f "$path" ]; then rm -f "$path"; fi
    done < <(grep -v '^dir:' "$manifest")
    while IFS= read -r path; do
      rmdir "$path" 2>/dev/null || true
    done < <(sed -n 's/^dir://p' "$manifest" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-)
  fi
  rm -rf "$APPDIR"
  # The header and program caches the tool made at run time (root's, rebuilt when needed).
  if { [ -d "$CACHEDIR/kernel-headers" ] || [ -d "$CACHEDIR/programs" ]; } && [ ! -L "$CACHEDIR" ]; then
    rm -rf "$CACHEDIR"
  fi
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
