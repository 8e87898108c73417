#!/usr/bin/env bash
# What `make start` runs: Flint headless (`flint serve`) on the default data dir.
# Arguments go to `flint serve`, e.g. `scripts/start.sh --port 9000`.
#
# Flint keeps its keys in the OS keychain. A desktop session has one (on Linux the
# Secret Service of GNOME Keyring or KWallet, reached over the session D-Bus). A headless
# Linux machine has no session bus, so this script starts one with the user's own
# gnome-keyring: the login keyring in ~/.local/share/keyrings, which persists between
# runs, unlocked with a password from FLINT_KEYRING_PASSWORD or asked for on the
# terminal (the first run creates the keyring with it). Keys never go to a file.
#
# So that `npx flint user add ...` in another terminal of the same user finds that
# keyring, the session's bus address is recorded, while the session lasts, in
# $XDG_RUNTIME_DIR/flint/keyring-bus (or ${XDG_CACHE_HOME:-~/.cache}/flint/keyring-bus),
# a 0600 file in a 0700 directory: the address, the bus daemon's pid and start time, no
# secret. Flint uses it where DBUS_SESSION_BUS_ADDRESS is unset, after checking that it
# is this user's and that its daemon still runs (main/core/secrets/session-bus.ts).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Records this D-Bus session for the user's other terminals; prints the file written.
record_session() {
  local dir pid start tmp candidates=()
  # The bus daemon itself: while it runs, nobody else can listen on its address.
  pid=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.DBus 2>/dev/null | awk '{print $2}') || pid=
  start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat" 2>/dev/null) || start=
  case "$pid:$start:$DBUS_SESSION_BUS_ADDRESS" in
    [1-9]*:[0-9]*:unix:*) ;;
    *) return 1 ;;
  esac
  [[ ${XDG_RUNTIME_DIR:-} == /* ]] && candidates+=("$XDG_RUNTIME_DIR/flint")
  candidates+=("${XDG_CACHE_HOME:-$HOME/.cache}/flint")
  for dir in "${candidates[@]}"; do
    (umask 077 && mkdir -p "$dir") 2>/dev/null || continue
    # Ours and private, or not at all (a directory someone else controls is skipped).
    [ -d "$dir" ] && [ ! -L "$dir" ] && [ -O "$dir" ] && chmod 700 "$dir" 2>/dev/null || continue
    tmp=$(umask 077 && mktemp "$dir/.keyring-bus.XXXXXX" 2>/dev/null) || continue
    printf '# Flint: the D-Bus session of the keyring unlocked by scripts/start.sh (no secret)\naddress=%s\npid=%s\nstart=%s\n' \
      "$DBUS_SESSION_BUS_ADDRESS" "$pid" "$start" >"$tmp" &&
      mv -f "$tmp" "$dir/keyring-bus" && { printf '%s\n' "$dir/keyring-bus"; return 0; }
    rm -f "$tmp"
  done
  return 1
}

if [ -n "${FLINT_START_SESSION:-}" ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # Second pass, inside the private D-Bus session started below.
  unset FLINT_START_SESSION
  printf %s "$FLINT_KEYRING_PASSWORD" |
    gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
    { echo "start.sh: gnome-keyring-daemon did not start" >&2; exit 1; }
  unset FLINT_KEYRING_PASSWORD
  if bus_file=$(record_session); then
    recorded=$(cat "$bus_file")
    # Removed when the session ends, unless another start.sh has recorded its own since.
    trap '[ "$(cat "$bus_file" 2>/dev/null)" != "$recorded" ] || rm -f "$bus_file"' EXIT
    echo "start.sh: keyring session recorded in $bus_file for this user's other terminals"
  else
    echo "start.sh: could not record the keyring session: other terminals will not find the keyring" >&2
  fi
  # Not exec: the EXIT trap must run when the server stops, by itself or by a signal.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  status=0
  npm start -- "$@" || status=$?
  exit "$status"
fi

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ "$(uname -s)" != Linux ] || [ -n "${FLINT_KEYRING_READY:-}" ]; then
  exec npm start -- "$@"
fi

for cmd in dbus-run-session gnome-keyring-daemon; do
  command -v "$cmd" >/dev/null || {
    echo "start.sh: no desktop session and no $cmd: install the system packages (make deps)" >&2
    exit 1
  }
done

if [ -z "${FLINT_KEYRING_PASSWORD:-}" ]; then
  [ -t 0 ] || { echo "start.sh: headless and no terminal: set FLINT_KEYRING_PASSWORD to unlock the keyring" >&2; exit 1; }
  read -r -s -p "Password of your login keyring (created on first use): " FLINT_KEYRING_PASSWORD
  echo
fi
export FLINT_KEYRING_PASSWORD FLINT_KEYRING_READY=1 FLINT_START_SESSION=1

exec dbus-run-session -- bash "$repo/scripts/start.sh" "$@"
