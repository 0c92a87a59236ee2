"""Where openfr writes its log: `$OPENFR_HOME/logs/openfr.log`, rotated, for the details of failures that the
doors report in one line. Messages name actions, ids and error types; never faces, embeddings, names of
searched people, passwords or tokens (the code logs no such value)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def log_file(home: Path) -> Path:
    return home / "logs" / "openfr.log"


def configure(home: Path) -> Path | None:
    """Send openfr's log to the file under `home` (once per process); None if it cannot be written (a full
    or read-only disk must not stop the command that wanted to report it)."""
    path = log_file(home)
    root = logging.getLogger("openfr")
    if any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path
