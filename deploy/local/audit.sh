#!/usr/bin/env bash
# The dependency audit (make audit): pip-audit over every Python lock of the repository, and
# npm audit over the npm packages the project pins (the portal's htmx.org, the tests' tools),
# each against its registry's advisory database. pip-audit runs from its own venv in the cache
# folder, so it adds nothing to the services' venv. Exit status: 0 no known vulnerability, 1 some
# found, 2 an advisory database could not be reached (said so, never taken as "nothing found").
set -uo pipefail
cd "$(dirname "$0")/../.."
CACHE="${EMM_CACHE_DIR:-$HOME/.cache/emm-tot}"
PIP_AUDIT_VERSION=2.10.1
TOOLS="$CACHE/audit-venv"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
status=0
unreachable=0

if ! "$TOOLS/bin/pip-audit" --version 2>/dev/null | grep -q "$PIP_AUDIT_VERSION"; then
  echo "[audit] installing pip-audit $PIP_AUDIT_VERSION into $TOOLS ..."
  { "$PYTHON" -m venv "$TOOLS" && "$TOOLS/bin/pip" install -q --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"; } ||
    { echo "[audit] error: could not install pip-audit (is PyPI reachable?)" >&2; exit 2; }
fi

for lock in $(git ls-files 'requirements*.lock' '*/requirements*.lock'); do
  echo "[audit] pip-audit $lock (PyPI's advisory database)"
  "$TOOLS/bin/pip-audit" --requirement "$lock" --no-deps --disable-pip --progress-spinner off \
    --desc off --format columns >"$CACHE/audit-pip.out" 2>"$CACHE/audit-pip.err"
  code=$?
  skipped=$(grep -c "could not be audited" "$CACHE/audit-pip.out")
  grep -v "could not be audited" "$CACHE/audit-pip.out"
  if [ "$skipped" -gt 0 ]; then
    # PyPI's JSON API answering "not found" for every pinned release: the advisory data is not reachable from here.
    echo "[audit] $lock: $skipped packages could not be looked up in PyPI's advisory database: NOT AUDITED" >&2
    unreachable=1
  fi
  if [ $code -ne 0 ]; then
    if grep -qiE "connection|resolve|timed out|HTTPError|Max retries" "$CACHE/audit-pip.err"; then
      echo "[audit] $lock: PyPI's advisory database could not be reached: NOT AUDITED" >&2; unreachable=1
    elif grep -q "Found .* known vulnerabilit" "$CACHE/audit-pip.err"; then
      cat "$CACHE/audit-pip.err" >&2; status=1
    else
      cat "$CACHE/audit-pip.err" >&2; unreachable=1
    fi
  elif [ "$skipped" -eq 0 ]; then
    grep -v "^WARNING" "$CACHE/audit-pip.err" >&2
  fi
done

# npm audit needs a lock of what is installed: the pins of bootstrap.sh, resolved (no install).
audit_dir="$CACHE/audit-npm"
mkdir -p "$audit_dir"
pins=$(grep -oE '^npm_package [^ ]+ [^ ]+' deploy/local/bootstrap.sh | awk '{print $2"@"$3}')
echo "[audit] npm audit $(echo $pins) (the npm registry's advisory database)"
(cd "$audit_dir" && rm -f package.json package-lock.json && npm init -y >/dev/null &&
  npm install --package-lock-only --no-fund --silent $pins >/dev/null 2>"$CACHE/audit-npm.err") ||
  { echo "[audit] npm: could not resolve the pins (is the npm registry reachable?): NOT AUDITED" >&2; unreachable=1; }
if [ -f "$audit_dir/package-lock.json" ]; then
  (cd "$audit_dir" && npm audit --omit=dev 2>"$CACHE/audit-npm.err")
  code=$?
  if [ $code -ne 0 ]; then
    if grep -qiE "ENOTFOUND|ECONNREFUSED|ETIMEDOUT|audit endpoint" "$CACHE/audit-npm.err"; then
      echo "[audit] npm: the advisory database could not be reached: NOT AUDITED" >&2; unreachable=1
    else
      status=1
    fi
  fi
fi

if [ $unreachable -ne 0 ]; then
  echo "[audit] some advisory database could not be reached: the audit is incomplete" >&2
  exit 2
fi
[ $status -eq 0 ] && echo "[audit] no known vulnerability"
exit $status
