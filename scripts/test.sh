#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): install, lint, check the docs are current, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
# The browser tests drive Debian's Chromium through Playwright (no browser download from the internet).
if [ ! -x /usr/bin/chromium ]; then
  echo "openfr: installing Debian's chromium for the browser tests..." >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check src tests benchmarks
# The architecture's boundaries (pyproject.toml [tool.importlinter]): doors never import each other, services
# never import doors, the engine imports no store.
.venv/bin/lint-imports --no-cache
.venv/bin/openfr config docs --check || { echo "docs/configuration.md is stale: openfr config docs > docs/configuration.md" >&2; exit 1; }
.venv/bin/openfr audit docs --check || { echo "docs/audit-events.md is stale: openfr audit docs > docs/audit-events.md" >&2; exit 1; }
# Two workers (pytest-xdist): the suite is CPU-bound and the machine has two cores; PYTEST_WORKERS=0 runs it
# in one process (e.g. to debug with -x or --pdb). A module's tests stay on one worker (loadscope), so its
# installation, server and browser pages are built once, not once per worker. The slowest tests are listed at
# the end: the next place to look when the suite grows.
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadscope --durations=15 "$@"
