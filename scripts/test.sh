#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): install, lint, check the docs are current, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/openfr config docs --check || { echo "docs/configuration.md is stale: openfr config docs > docs/configuration.md" >&2; exit 1; }
exec .venv/bin/python -m pytest "$@"
