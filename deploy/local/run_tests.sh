#!/usr/bin/env bash
# Runs pytest against the real local stack. Starts the stack if it is not running, and stops
# it again afterwards in that case. Extra arguments go to pytest. Exit code is pytest's.
set -uo pipefail
cd "$(dirname "$0")/../.."
CACHE="${EMM_CACHE_DIR:-$HOME/.cache/emm-tot}"
PY="$CACHE/venv/bin/python"
started_here=no
if ! "$PY" deploy/local/stack.py status >/dev/null 2>&1; then
  started_here=yes
fi
"$PY" deploy/local/stack.py start || exit 2
if [ "$started_here" = yes ]; then
  trap '"$PY" deploy/local/stack.py stop' EXIT
fi
"$PY" -m pytest "$@"
