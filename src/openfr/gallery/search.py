"""1:N search: a probe face against a gallery, returning a ranked candidate list.

A candidate list is an investigative lead for a trained reviewer. Scores are reported as they are; no
threshold here turns a candidate into an identification (thresholds for alerts belong to live deployments).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from openfr.errors import BadInputError, EmbeddingSpaceError
from openfr.gallery import pgvector
from openfr.gallery.files import index_cache_dir
from openfr.gallery.index import INDEX_FORMAT, BinaryIndex, ExactIndex, HnswIndex, VectorIndex, build_index
from openfr.gallery.repository import get_gallery, load_templates
from openfr.governance import audit
from openfr.settings import Settings
from openfr.store import Database, SearchRecord, Subject, Template
from openfr.types import Embedding

# Subjects have several templates; fetch this many template hits per wanted candidate before grouping.
_HITS_PER_CANDIDATE = 8


@dataclass(frozen=True)
class SearchContext:
    """Why a search is made and by whom: recorded with every search (who, why, when)."""

    actor: str
    reason: str
    crime_ref: str | None = None
    mode: str = "RFR"  # RFR retrospective | OIFR operator-initiated | LFR live


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


class GallerySearcher:
    """Searches galleries of one database, keeping each gallery's in-memory index until it changes."""

    def __init__(self, db: Database, settings: Settings, home: Path | None = None):
        self.db = db
        self.settings = settings
        self.home = home  # where built indexes are kept between processes (None: rebuild in each process)
        self._indexes: dict[int, tuple[list, VectorIndex, dict[int, int]]] = {}

    def _index(self, session, gallery) -> tuple[VectorIndex, dict[int, int]]:
        stamp = [*_stamp(session, gallery.id), gallery.space, INDEX_FORMAT]
        cached = self._indexes.get(gallery.id)
        if cached is None or cached[0] != stamp:
            cached = self._load_saved(gallery.id, stamp) or self._build(session, gallery, stamp)
            self._indexes[gallery.id] = cached
        return cached[1], cached[2]

    def _build(self, session, gallery, stamp: list):
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

    def search(
        self,
        gallery_name: str,
        probe: Embedding,
        top: int = 10,
        *,
        context: SearchContext,
        probe_quality: dict | None = None,
    ) -> list[Candidate]:
        if self.settings.operational and not context.reason.strip():
            raise BadInputError("a search needs a reason (--reason) on an operational installation")
        with self.db.transaction() as session:
            gallery = get_gallery(session, gallery_name)
            if probe.space != gallery.space:
                raise EmbeddingSpaceError(
                    f"gallery '{gallery_name}' was built with {gallery.space}; this probe is {probe.space}. "
                    "Search with the same model pack, or re-embed the gallery"
                )
            wanted = top * _HITS_PER_CANDIDATE
            if self.db.is_postgres and self.settings.gallery.postgres_search == "pgvector":
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
                subject_id = owner[template_id]
                best[subject_id] = max(best.get(subject_id, -2.0), score)  # a subject scores its best image
            ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:top]
            labels = {
                row.id: (row.external_id, row.display_name)
                for row in session.execute(
                    select(Subject.id, Subject.external_id, Subject.display_name).where(
                        Subject.id.in_([s for s, _ in ranked])
                    )
                )
            }
            candidates = [
                Candidate(rank=i, subject=labels[s][0], score=float(score), name=labels[s][1])
                for i, (s, score) in enumerate(ranked, 1)
            ]
            record = SearchRecord(
                actor=context.actor,
                mode=context.mode,
                reason=context.reason,
                crime_ref=context.crime_ref,
                gallery=gallery_name,
                space=gallery.space,
                probe_quality=probe_quality,
                candidates=[{"subject": c.subject, "score": round(c.score, 4)} for c in candidates],
            )
            session.add(record)
            session.flush()
            audit.record(
                session,
                context.actor,
                "search",
                f"gallery:{gallery_name}",
                context.reason,
                mode=context.mode,
                crime_ref=context.crime_ref,
                search_id=record.id,
                candidates=len(candidates),
            )
        return candidates


def _stamp(session, gallery_id: int) -> tuple[int, int]:
    """(template count, highest template id): changes whenever templates are added or removed."""
    count, highest = session.execute(
        select(func.count(Template.id), func.max(Template.id)).where(Template.gallery_id == gallery_id)
    ).one()
    return int(count), int(highest or 0)
