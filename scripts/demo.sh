#!/usr/bin/env bash
# Quick start, command 1: install, then run the main job on the embedded default (bundled model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/openfr demo "$@"
