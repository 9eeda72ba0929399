#!/usr/bin/env bash
# Prepares a fresh machine: the Python venv (in the cache folder) with the pinned packages and
# our four packages installed editable. Cheap when nothing changed. Called by the Makefile.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${EMM_CACHE_DIR:-$HOME/.cache/emm-tot}"
VENV="$CACHE/venv"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || {
  echo "[bootstrap] error: Python 3.11 is required (found: $("$PYTHON" --version 2>&1)); install python3.11" >&2; exit 2; }
stamp="$VENV/.emm-installed"
want=$(cat requirements.lock services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "[bootstrap] installing Python packages into $VENV ..."
mkdir -p "$CACHE"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.lock
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps \
  -e services/shared -e services/registration -e services/evaluation -e services/notification
echo "$want" > "$stamp"
