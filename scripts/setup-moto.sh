#!/usr/bin/env bash
# Installs the AWS-API emulator (moto in server mode) into a project-local virtualenv, .venv/,
# for the AWS integration tests (test/support/aws/motoServer.ts). Never touches the system Python.
# Idempotent: when .venv already has the pinned version it returns in well under a second.
set -euo pipefail

MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

installed_version() {
  # Reads the installed distribution's metadata without importing moto (which is slow).
  "$VENV/bin/python" - <<'PY' 2>/dev/null || true
from importlib.metadata import version
print(version("moto"))
PY
}

if [ -x "$VENV/bin/moto_server" ] && [ "$(installed_version)" = "$MOTO_VERSION" ]; then
  echo "setup-moto: moto $MOTO_VERSION already in $VENV"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-moto: creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "setup-moto: installing moto[server]==$MOTO_VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
"$VENV/bin/moto_server" --help >/dev/null
echo "setup-moto: moto $(installed_version) ready: $VENV/bin/moto_server"
