"""Embedding a set of evaluation images: one unit vector per image's main face, in the given order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openfr.engine.batch import analyse_paths
from openfr.settings import Settings


def embed_images(paths: list[Path], settings: Settings, pack_id: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, found): row i is image i's main face (zeros where none was found, `found[i]` False)."""
    index = {p: i for i, p in enumerate(paths)}
    vectors: np.ndarray | None = None
    found = np.zeros(len(paths), dtype=bool)
    for result in analyse_paths(paths, settings, pack_id=pack_id):
        face = result.main_face()
        if face is None or face.embedding is None:
            continue
        vector = face.embedding.vector
        if vectors is None:
            vectors = np.zeros((len(paths), vector.shape[0]), dtype=np.float32)
        vectors[index[result.path]] = vector
        found[index[result.path]] = True
    return (vectors if vectors is not None else np.zeros((len(paths), 1), dtype=np.float32)), found


def identity_folders(root: Path) -> tuple[list[Path], np.ndarray]:
    """Images of `root/<identity>/*` and each one's identity (LFW's layout)."""
    paths = sorted(p for p in root.glob("*/*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".pgm", ".gif"})
    return paths, np.array([p.parent.name for p in paths])
