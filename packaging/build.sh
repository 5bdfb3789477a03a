#!/usr/bin/env bash
# Builds the one-folder bundle dist/kraken-monitor/ on Linux from a clean checkout, in its own venv.
#   packaging/build.sh            reuse build/venv if present (fast rebuild)
#   packaging/build.sh --fresh    recreate the venv first
# Env: PYTHON (default python3), KM_BUILD_VENV (default build/venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${KM_BUILD_VENV:-$ROOT/build/venv}"

if [[ "${1:-}" == "--fresh" ]]; then
  rm -rf "$VENV"
fi
start=$(date +%s)

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
# A regular (non-editable) install: the bundle is built from what a wheel ships, so a missing
# package-data entry fails here rather than on a user's machine.
"$VENV/bin/python" -m pip install -q '.[package]'

rm -rf dist/kraken-monitor build/pyinstaller
# The console script (not `python -m`) keeps the checkout off sys.path: modules come from the install.
"$VENV/bin/pyinstaller" --noconfirm --clean \
  --distpath dist --workpath build/pyinstaller packaging/kraken-monitor.spec

BIN="dist/kraken-monitor/kraken-monitor"
echo "smoke test: $("$BIN" --version)"
echo "bundle: $(du -sh dist/kraken-monitor | cut -f1) in $(( $(date +%s) - start )) s -> $ROOT/$BIN"
