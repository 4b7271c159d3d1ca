#!/usr/bin/env bash
# Set up (if needed) and run the checks: ruff, then the test suite.
# Real-data smoke tests run when PRACTICA_DATA points at the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -q "$@"
