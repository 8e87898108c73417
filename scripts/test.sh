#!/usr/bin/env bash
# What `npm test` runs: build, lint, type-check, then the vitest suites. Arguments go
# to vitest, e.g. `npm test -- test/lint` or `npm test -- -t "history"`.
#
# Tests that touch the OS keychain need a Secret Service. The first pass therefore runs
# this script again inside scripts/with-keyring.sh (a private D-Bus session with an
# unlocked gnome-keyring in a scratch HOME), which sets FLINT_KEYRING_READY=1.
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
  exec bash "$repo/scripts/with-keyring.sh" bash "$self" "$@"
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
# The JSON report feeds the plain `N passed, N failed` closing line.
report=${FLINT_TEST_REPORT:-$repo/.test-results/vitest.json}
mkdir -p "$(dirname "$report")"
rm -f "$report"
started=$SECONDS rc=0
printf '\n==> tests: vitest run %s\n' "$*"
vitest run --reporter=./scripts/vitest-reporter.mjs --reporter=json --outputFile.json="$report" "$@" || rc=$?
printf '==> tests: %s (%ds)\n' "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" \
  "$((SECONDS - started))"
# Last, so that it is the closing line: counts from the report, failing on zero tests.
node scripts/test-summary.mjs "$report" || [ "$rc" -ne 0 ] || rc=1
exit "$rc"
