"""Content-addressed storage of source images under $OPENFR_HOME/images/ab/cd/<sha256>.<ext>.

The same photo enrolled twice is stored once; a write is atomic (temporary file, fsync, rename), so a crash
never leaves half an image under its final name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

IMAGES_DIR = "images"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relative_path(sha256: str, suffix: str) -> str:
    return f"{IMAGES_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix.lower()}"


def store(home: Path, data: bytes, sha256: str, suffix: str, created: list[str] | None = None) -> str:
    """Write the image under its content address (once); `created` collects the paths this call wrote, so a
    transaction that fails afterwards can remove exactly those."""
    rel = relative_path(sha256, suffix)
    target = home / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(target)
        except OSError:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written image behind
            raise
        if created is not None:
            created.append(rel)
    return rel


def stored_images(home: Path) -> set[str]:
    """Every image file in the store, as paths relative to `home`."""
    root = home / IMAGES_DIR
    return {p.relative_to(home).as_posix() for p in root.glob("*/*/*") if p.is_file() and not p.name.startswith(".")}


def remove_orphans(home: Path, candidates: set[str], referenced: set[str]) -> int:
    """Remove the files among `candidates` that no row references (left by a crash between writing a file
    and committing its row)."""
    return remove_unreferenced(home, candidates, referenced)


def remove_unreferenced(home: Path, paths: set[str], still_referenced: set[str]) -> int:
    removed = 0
    for rel in paths - still_referenced:
        try:
            (home / rel).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def remove_stale_temporaries(home: Path) -> int:
    """Partial writes left by a killed import hold image bytes: remove them before importing again."""
    removed = 0
    for tmp in (home / IMAGES_DIR).glob("*/*/.*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def index_cache_dir(home: Path, gallery_id: int) -> Path:
    return home / "index" / f"gallery-{gallery_id}"


def forget_index(home: Path, gallery_id: int) -> None:
    """Remove a gallery's saved index: after a deletion it would still hold the deleted vectors."""
    shutil.rmtree(index_cache_dir(home, gallery_id), ignore_errors=True)
