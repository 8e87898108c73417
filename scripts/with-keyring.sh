#!/usr/bin/env bash
# Runs a command inside a private D-Bus session whose gnome-keyring is unlocked with a
# random password, in a scratch HOME, so the command (tests, benchmarks, a headless
# `flint serve`) has a real Secret Service without touching your own keyring.
#   scripts/with-keyring.sh npm run bench
# Inside, FLINT_KEYRING_READY=1 is set. The scratch HOME is removed afterwards, and with
# it the keyring: keys created inside do not outlive the command.
set -euo pipefail

[ "$#" -gt 0 ] || { echo "usage: scripts/with-keyring.sh COMMAND [ARGS...]" >&2; exit 2; }
for cmd in dbus-run-session gnome-keyring-daemon; do
  command -v "$cmd" >/dev/null || {
    echo "with-keyring.sh: $cmd not found: install the system packages first (make deps, or see README.md)" >&2
    exit 1
  }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/flint-keyring.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# The real npm cache stays in use, so npm and npx need no network for what they have.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
export HOME="$scratch/home"
export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config"
export XDG_CACHE_HOME="$HOME/.cache" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export FLINT_KEYRING_READY=1
# Passed through the environment, not the command line, and unset before the command.
FLINT_KEYRING_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export FLINT_KEYRING_PASSWORD

status=0
# shellcheck disable=SC2016 # expanded by the inner shell
dbus-run-session -- sh -c '
  printf %s "$FLINT_KEYRING_PASSWORD" |
    gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
    { echo "with-keyring.sh: gnome-keyring-daemon did not start" >&2; exit 1; }
  unset FLINT_KEYRING_PASSWORD
  exec "$@"' sh "$@" || status=$?
exit "$status"
