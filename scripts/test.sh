#!/usr/bin/env bash
# What `npm test` runs: build, lint, type-check, then the vitest suites. Arguments go
# to vitest, e.g. `npm test -- test/lint` or `npm test -- -t "history"`.
#
# Tests that touch the OS keychain need a Secret Service. The first pass therefore
# starts a private D-Bus session with a gnome-keyring unlocked by a random password,
# in a scratch HOME, and runs this script again inside it (FLINT_KEYRING_READY=1).
# Export FLINT_KEYRING_READY=1 yourself to skip that and use your own session.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
self="$repo/scripts/test.sh"
cd "$repo"

fail() {
  printf 'test.sh: %s\n' "$*" >&2
  exit 1
}

if [ -z "${FLINT_KEYRING_READY:-}" ]; then
  for cmd in dbus-run-session gnome-keyring-daemon; do
    command -v "$cmd" >/dev/null ||
      fail "$cmd not found: install the system packages first (make deps, or see README.md)"
  done

  scratch=$(mktemp -d "${TMPDIR:-/tmp}/flint-test.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  # The real npm cache stays in use, so npm and npx need no network for what they have.
  export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
  export HOME="$scratch/home"
  export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config"
  export XDG_CACHE_HOME="$HOME/.cache" XDG_RUNTIME_DIR="$scratch/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  export FLINT_KEYRING_READY=1
  # Passed through the environment, not the command line, and unset before the tests.
  FLINT_KEYRING_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  export FLINT_KEYRING_PASSWORD

  status=0
  # shellcheck disable=SC2016 # expanded by the inner shell
  dbus-run-session -- sh -c '
    printf %s "$FLINT_KEYRING_PASSWORD" |
      gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
      { echo "test.sh: gnome-keyring-daemon did not start" >&2; exit 1; }
    unset FLINT_KEYRING_PASSWORD
    exec bash "$0" "$@"' "$self" "$@" || status=$?
  exit "$status"
fi

[ -d node_modules ] || fail 'node_modules is missing: run `npm ci` first (or `make test`)'
# The project's own tools, as `npx` would find them, without ever downloading.
export PATH="$repo/node_modules/.bin:$PATH"

phase() {
  local name=$1 started=$SECONDS rc=0
  shift
  printf '\n==> %s: %s\n' "$name" "$*"
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '\ntest.sh: FAILED at %s (exit %d): %s\n' "$name" "$rc" "$*" >&2
    exit "$rc"
  fi
  printf '==> %s: ok (%ds)\n' "$name" "$((SECONDS - started))"
}

phase build node scripts/build.mjs
phase lint eslint .
phase typecheck tsc -p tsconfig.json
phase tests vitest run "$@"
