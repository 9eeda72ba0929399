#!/usr/bin/env bash
# Prepares a fresh machine: the Python venv (in the cache folder) with the pinned third-party
# packages. Our own four packages are not installed into it: the Makefile puts this checkout's
# services/* on PYTHONPATH, so one venv serves any number of checkouts (CI clones elsewhere).
# Cheap when nothing changed. Called by the Makefile.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${EMM_CACHE_DIR:-$HOME/.cache/emm-tot}"
VENV="$CACHE/venv"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || {
  echo "[bootstrap] error: Python 3.11 is required (found: $("$PYTHON" --version 2>&1)); install python3.11" >&2; exit 2; }
stamp="$VENV/.emm-installed"
want=$(sha256sum < requirements.lock | cut -d' ' -f1)
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }; then
  echo "[bootstrap] installing Python packages into $VENV ..."
  mkdir -p "$CACHE"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.lock
  echo "$want" > "$stamp"
fi

# The AsyncAPI parser for the contract tests (npm, runs offline once installed).
ASYNCAPI_PARSER=3.6.6
if ! grep -qs "\"version\": \"$ASYNCAPI_PARSER\"" "$CACHE/node/node_modules/@asyncapi/parser/package.json"; then
  command -v npm >/dev/null || { echo "[bootstrap] error: npm is missing: install Node.js 20+ and npm" >&2; exit 2; }
  echo "[bootstrap] installing @asyncapi/parser $ASYNCAPI_PARSER into $CACHE/node ..."
  mkdir -p "$CACHE/node"
  (cd "$CACHE/node" && npm install --silent --no-audit --no-fund "@asyncapi/parser@$ASYNCAPI_PARSER" >/dev/null)
fi
