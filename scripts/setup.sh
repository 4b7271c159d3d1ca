#!/usr/bin/env bash
# Create ./.venv and install practica (editable) with the pinned versions in constraints.txt.
# Needs only Python >= 3.10 and pip; safe to run again (it reuses the environment).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
echo "practica installed in $(pwd)/.venv ($(.venv/bin/practica --version))"
