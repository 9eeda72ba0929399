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

# compose v2 and kustomize from the Go module proxy, for the deployment tests (tests/deploy): built once.
for tool in docker-compose kustomize; do
  "$VENV/bin/python" deploy/go_tools.py "$tool" >/dev/null ||
    echo "[bootstrap] warning: could not build $tool; tests/deploy will try again" >&2
done

# npm packages, pinned, into $CACHE/node (they run offline once installed).
npm_package() {  # name version why
  if ! grep -qs "\"version\": \"$2\"" "$CACHE/node/node_modules/$1/package.json"; then
    command -v npm >/dev/null || { echo "[bootstrap] error: npm is missing: install Node.js 20+ and npm" >&2; exit 2; }
    echo "[bootstrap] installing $1 $2 ($3) into $CACHE/node ..."
    mkdir -p "$CACHE/node"
    (cd "$CACHE/node" && npm install --silent --no-audit --no-fund "$1@$2" >/dev/null)
  fi
}
npm_package @asyncapi/parser 3.6.6 "the contract tests"
npm_package @asyncapi/modelina 5.10.1 "the contract tests' models generated from the AsyncAPI document"
# Served by the portal itself (PORTAL_VENDOR_DIR), never from a CDN; every page works without it.
npm_package htmx.org 2.0.11 "the portal's progressive enhancement"
npm_package axe-core 4.14.1 "the browser tests' accessibility checks"

# Debian packages the tests drive: Chromium for the browser tests (Playwright drives it; its own
# browser download cannot be reached here), and prometheus for its promtool (the alert rules' unit
# tests). Another apt run may hold a lock (a machine being set up): install waits for the dpkg lock
# by itself (DPkg::Lock::Timeout); update does not wait for the lists lock, so retry it.
debian_package() {  # command package why
  command -v "$1" >/dev/null && return 0
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  install_package() { $sudo apt-get -qq -o DPkg::Lock::Timeout=900 install -y "$1" >/dev/null; }
  update_lists() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do $sudo apt-get -qq update && return 0; sleep 30; done
    return 1
  }
  echo "[bootstrap] installing Debian's $2 (apt-get) for $3 ..."
  install_package "$2" || { update_lists && install_package "$2"; } ||
    echo "[bootstrap] warning: could not install $2; $3 will be skipped" >&2
}
debian_package chromium chromium "the browser tests"
debian_package promtool prometheus "the alert rules' tests (promtool)"
