#!/usr/bin/env bash
# npm test: the type check beside the suite rather than before it, so the suite's first files do not
# wait for it. Fails when either fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

typecheck_log="$(mktemp)"
npx tsc --noEmit >"$typecheck_log" 2>&1 &
tsc_pid=$!
# The type check stops with the suite when the run is interrupted.
trap 'kill "$tsc_pid" 2>/dev/null; rm -f "$typecheck_log"' EXIT

npx vitest run "$@"
suite=$?
wait "$tsc_pid"
typecheck=$?
trap - EXIT
if [ "$typecheck" -ne 0 ]; then
  echo "tsc --noEmit failed:" >&2
  cat "$typecheck_log" >&2
fi
rm -f "$typecheck_log"
[ "$suite" -eq 0 ] && [ "$typecheck" -eq 0 ]
