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
# One pytest-xdist worker per core and one more: the tests are mostly CPU-bound, but they also wait (on
# browsers, servers, subprocesses and camera clips paced at real time), and the extra worker fills those waits
# (on 2 cores: 461 s with two workers, 429 s with three). PYTEST_WORKERS=0 runs the suite in one process (e.g.
# to debug with -x or --pdb). A module's tests stay on one worker (loadscope), so its installation, server and
# browser pages are built once, not once per worker; the longest modules start first (tests/conftest.py).
# The slowest tests are listed at the end: the next place to look when the suite grows.
workers="${PYTEST_WORKERS:-$(( $(nproc) + 1 ))}"
# Bytecode caches on even where the environment turns them off (PYTHONDONTWRITEBYTECODE): each worker and
# every command or server a test starts would otherwise compile openfr and re-rewrite the test modules'
# asserts from source (collection 7 s -> 4 s a process once cached). __pycache__/ is git-ignored.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -n "$workers" --dist loadscope --no-loadscope-reorder --durations=15 "$@"
