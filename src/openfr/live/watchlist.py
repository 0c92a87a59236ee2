"""The watchlist a camera worker searches: a few to a few thousand templates held in memory, searched
exactly (every template scored), best image per subject."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfr.errors import BadInputError


@dataclass(frozen=True)
class WatchEntry:
    subject: str  # the subject's reference (external id, or the name for a folder watchlist)
    name: str | None
    category: str
    image: Path | None  # the watchlist image shown beside an alert
    entry_id: int | None = None  # WatchlistEntry row of a deployment snapshot


class Watchlist:
    def __init__(self, entries: list[WatchEntry], vectors: np.ndarray, space: str):
        if len(entries) != len(vectors):
            raise ValueError("one vector per entry")
        self.entries, self.space = entries, space
        self.matrix = np.asarray(vectors, dtype=np.float32).reshape(len(entries), -1)
        self.subjects = sorted({e.subject for e in entries})

    def __len__(self) -> int:
        return len(self.entries)

    def best_per_subject(self, vector: np.ndarray, space: str) -> list[tuple[WatchEntry, float]]:
        """(entry, score) of each subject's best image, best first."""
        if space != self.space:
            raise BadInputError(f"the watchlist was built with {self.space}; the camera embeds with {space}")
        if not self.entries:
            return []
        scores = self.matrix @ vector.astype(np.float32)
        best: dict[str, tuple[WatchEntry, float]] = {}
        for entry, score in zip(self.entries, scores.tolist(), strict=True):
            if entry.subject not in best or score > best[entry.subject][1]:
                best[entry.subject] = (entry, score)
        return sorted(best.values(), key=lambda pair: pair[1], reverse=True)


def from_directory(directory: Path, engine) -> tuple[Watchlist, list[tuple[str, str]]]:
    """DIR/<subject name>/<images> or DIR/<name>.<ext> (one image per person): the `openfr watch` contract.
    An image without one usable face is skipped and reported as (image, reason), as an import reports its
    rejections; a folder in which no image is usable is refused."""
    from openfr.imageio import IMAGE_SUFFIXES, load_image

    if not directory.is_dir():
        raise BadInputError(f"watchlist folder not found: {directory}")
    items: list[tuple[str, Path]] = []
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            items += [(path.name, p) for p in sorted(path.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            items.append((path.stem, path))
    if not items:
        raise BadInputError(f"no images in the watchlist folder {directory}")
    entries, vectors, skipped = [], [], []
    for name, path in items:
        try:
            face = engine.probe(load_image(path), name=str(path))  # raises on no face or an unusable face
        except BadInputError as exc:
            skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
            continue
        entries.append(WatchEntry(subject=name, name=name, category="watch", image=path))
        vectors.append(face.embedding.vector)
    if not entries:
        raise BadInputError(f"no usable face in the watchlist folder {directory} ({len(skipped)} image(s) skipped)")
    return Watchlist(entries, np.stack(vectors), engine.space), skipped
