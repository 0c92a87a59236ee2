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

stamp=".venv/.openfr-installed-$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "openfr: installing into .venv (first run downloads about 300 MB of wheels)..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  # Everything: the engine, the dlib pack (operational, public-domain weights) and the test tools.
  .venv/bin/python -m pip install --quiet -e ".[dlib,dev]"
  # face_recognition is only the benchmark's point of comparison. --no-deps: it pins the source-only
  # 'dlib' distribution (a long compile), whose module dlib-bin above already provides.
  .venv/bin/python -m pip install --quiet --no-deps "face_recognition==1.3.0"
  # The face tracker (Roboflow's trackers: ByteTrack). --no-deps: it requires opencv-python, whose cv2
  # would clash with opencv-python-headless above; its other needs are in pyproject.toml.
  .venv/bin/python -m pip install --quiet --no-deps "trackers==2.6.1"
  rm -f .venv/.openfr-installed-*
  touch "$stamp"
fi
