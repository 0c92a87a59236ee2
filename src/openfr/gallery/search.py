"""1:N search: a probe face against a gallery, returning a ranked candidate list.

A candidate list is an investigative lead for a trained reviewer. Scores are reported as they are; no
threshold here turns a candidate into an identification (thresholds for alerts belong to live deployments).
Who searched, why, and what came back is recorded by the search service, in the same transaction as its
audit event.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.errors import EmbeddingSpaceError
from openfr.gallery import pgvector
from openfr.gallery.files import index_cache_dir
from openfr.gallery.index import INDEX_FORMAT, BinaryIndex, ExactIndex, HnswIndex, VectorIndex, build_index
from openfr.gallery.repository import load_templates
from openfr.settings import Settings
from openfr.store import Gallery, Subject, Template
from openfr.types import Embedding

# Subjects have several templates; fetch this many template hits per wanted candidate before grouping.
_HITS_PER_CANDIDATE = 8


@dataclass(frozen=True)
class Candidate:
    rank: int
    subject: str
    score: float
    name: str | None = None

    def as_dict(self) -> dict:
        out = {"rank": self.rank, "subject": self.subject, "score": round(self.score, 4)}
        if self.name:
            out["name"] = self.name
        return out


def index_stamp(gallery: Gallery) -> list:
    """What an index built from this gallery is valid for. The generation changes in the same transaction
    as every enrolment, deletion and re-embedding, so a stale index can never be mistaken for a current one
    (ids alone could be: SQLite hands a deleted template's id to the next one)."""
    created = gallery.created_at.isoformat() if gallery.created_at else ""
    return [gallery.id, created, gallery.generation, gallery.space, INDEX_FORMAT]


class GallerySearcher:
    """Searches galleries of one database, keeping each gallery's in-memory index until its generation moves
    on. Thread-safe: concurrent searches share an index, and a gallery's index is built by one of them."""

    def __init__(self, settings: Settings, home: Path | None = None, postgres: bool = False):
        self.settings = settings
        self.home = home  # where built indexes are kept between processes (None: rebuild in each process)
        self.postgres = postgres
        self._indexes: dict[int, tuple[list, VectorIndex, dict[int, int]]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def rank(self, session: Session, gallery: Gallery, probe: Embedding, top: int = 10) -> list[Candidate]:
        """Candidates for `probe`, best first, as of the snapshot `session` reads (a subject scores its best
        image)."""
        if probe.space != gallery.space:
            raise EmbeddingSpaceError(
                f"gallery '{gallery.name}' was built with {gallery.space}; this probe is {probe.space}. "
                "Search with the same model pack, or re-embed the gallery"
            )
        wanted = top * _HITS_PER_CANDIDATE
        if self.postgres and self.settings.gallery.postgres_search == "pgvector":
            ids, scores = pgvector.search(
                session,
                gallery.id,
                gallery.space,
                probe.vector,
                wanted,
                ef_search=self.settings.gallery.hnsw_expansion_search,
                rerank=self.settings.gallery.rerank,
            )
            owner = dict(
                session.execute(select(Template.id, Template.subject_id).where(Template.id.in_(ids.tolist()))).all()
            )
        else:
            index, owner = self._index(session, gallery)
            ids, scores = index.search(probe.vector, wanted)
        best: dict[int, float] = {}
        for template_id, score in zip(ids.tolist(), scores.tolist(), strict=True):
            subject_id = owner.get(template_id)
            if subject_id is not None:
                best[subject_id] = max(best.get(subject_id, -2.0), score)
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:top]
        labels = {
            row.id: (row.external_id, row.display_name)
            for row in session.execute(
                select(Subject.id, Subject.external_id, Subject.display_name).where(
                    Subject.id.in_([s for s, _ in ranked])
                )
            )
        }
        # A subject deleted after this search's snapshot began is dropped, never shown under another name.
        ranked = [(s, score) for s, score in ranked if s in labels]
        return [
            Candidate(rank=i, subject=labels[s][0], score=float(score), name=labels[s][1])
            for i, (s, score) in enumerate(ranked, 1)
        ]

    def _index(self, session: Session, gallery: Gallery) -> tuple[VectorIndex, dict[int, int]]:
        stamp = index_stamp(gallery)
        cached = self._indexes.get(gallery.id)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        with self._guard:
            lock = self._locks.setdefault(gallery.id, threading.Lock())
        with lock:  # one build per gallery at a time; the others wait for it and share it
            cached = self._indexes.get(gallery.id)
            if cached is None or cached[0] != stamp:
                cached = self._load_saved(gallery.id, stamp) or self._build(session, gallery, stamp)
                self._indexes[gallery.id] = cached
        return cached[1], cached[2]

    def _build(self, session: Session, gallery: Gallery, stamp: list):
        data = load_templates(session, gallery)
        index = build_index(data.template_ids, data.vectors, self.settings)
        owner = dict(zip(data.template_ids.tolist(), data.subject_ids.tolist(), strict=True))
        if self.home is not None:
            folder = index_cache_dir(self.home, gallery.id)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            index.save(folder)
            np.save(folder / "owners.npy", data.subject_ids)
            kind = {HnswIndex: "hnsw", BinaryIndex: "binary"}.get(type(index), "exact")
            (folder / "stamp.json").write_text(json.dumps({"stamp": stamp, "kind": kind}))
        return stamp, index, owner

    def _load_saved(self, gallery_id: int, stamp: list):
        if self.home is None:
            return None
        folder = index_cache_dir(self.home, gallery_id)
        try:
            saved = json.loads((folder / "stamp.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if saved["stamp"] != stamp:
            return None
        loader = {"hnsw": HnswIndex, "binary": BinaryIndex}.get(saved["kind"], ExactIndex)
        index = loader.load(folder)
        owner = dict(zip(index.ids.tolist(), np.load(folder / "owners.npy").tolist(), strict=True))
        return stamp, index, owner
