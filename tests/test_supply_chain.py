"""The install is hash-locked: every package comes from requirements*.lock with its SHA-256, and the lock
covers everything pyproject.toml asks for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _locked(path: Path) -> dict[str, list[str]]:
    """name -> hashes, from a pip-compile lock (one `name==version \\` line, then `--hash=` lines)."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==\S+", line):
            current = match.group(1).lower().replace("_", "-")
            entries[current] = []
        elif current and (found := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            entries[current].append(found.group(1))
        elif line and not line.startswith((" ", "#")):
            current = None
    return entries


def test_every_locked_package_carries_a_hash_and_every_dependency_is_locked():
    locked = {**_locked(REPO / "requirements.lock"), **_locked(REPO / "requirements-nodeps.lock")}
    assert locked and all(hashes for hashes in locked.values()), [n for n, h in locked.items() if not h]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("dlib", "dev", "postgres"):
        wanted += project["optional-dependencies"][extra]
    names = {re.split(r"[<>=\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted}
    names.discard("openfr")
    assert names <= set(locked), sorted(names - set(locked))
    assert {"face-recognition", "trackers"} <= set(locked)


def test_the_install_script_refuses_unhashed_packages():
    script = (REPO / "scripts" / "install.sh").read_text()
    installs = [line for line in script.splitlines() if "pip install" in line and "upgrade pip" not in line]
    assert all("--require-hashes" in line or line.rstrip().endswith("-e .") for line in installs), installs
    assert "requirements.lock" in script and "requirements-nodeps.lock" in script
