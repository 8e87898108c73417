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
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

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
export FLINT_KEYRING_PASSWORD FLINT_KEYRING_READY=1

# shellcheck disable=SC2016 # expanded by the inner shell
exec dbus-run-session -- sh -c '
  printf %s "$FLINT_KEYRING_PASSWORD" |
    gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
    { echo "start.sh: gnome-keyring-daemon did not start" >&2; exit 1; }
  unset FLINT_KEYRING_PASSWORD
  exec npm start -- "$@"' sh "$@"
