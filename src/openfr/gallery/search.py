"""1:N search: a probe face against a gallery, returning a ranked candidate list.

A candidate list is an investigative lead for a trained reviewer. Scores are reported as they are; no
threshold here turns a candidate into an identification (thresholds for alerts belong to live deployments).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from openfr.errors import EmbeddingSpaceError
from openfr.gallery import pgvector
from openfr.gallery.index import VectorIndex, build_index
from openfr.gallery.repository import get_gallery, load_templates
from openfr.settings import Settings
from openfr.store import Database, Subject, Template
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


class GallerySearcher:
    """Searches galleries of one database, keeping each gallery's in-memory index until it changes."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self._indexes: dict[int, tuple[tuple[int, int], VectorIndex, dict[int, int]]] = {}

    def _index(self, session, gallery) -> tuple[VectorIndex, dict[int, int]]:
        stamp = _stamp(session, gallery.id)
        cached = self._indexes.get(gallery.id)
        if cached is None or cached[0] != stamp:
            data = load_templates(session, gallery)
            owner = dict(zip(data.template_ids.tolist(), data.subject_ids.tolist(), strict=True))
            cached = (stamp, build_index(data.template_ids, data.vectors, self.settings), owner)
            self._indexes[gallery.id] = cached
        return cached[1], cached[2]

    def search(self, gallery_name: str, probe: Embedding, top: int = 10) -> list[Candidate]:
        with self.db.transaction() as session:
            gallery = get_gallery(session, gallery_name)
            if probe.space != gallery.space:
                raise EmbeddingSpaceError(
                    f"gallery '{gallery_name}' was built with {gallery.space}; this probe is {probe.space}. "
                    "Search with the same model pack, or re-embed the gallery"
                )
            wanted = top * _HITS_PER_CANDIDATE
            if self.db.is_postgres:
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
        return [
            Candidate(rank=i, subject=labels[s][0], score=float(score), name=labels[s][1])
            for i, (s, score) in enumerate(ranked, 1)
        ]


def _stamp(session, gallery_id: int) -> tuple[int, int]:
    """(template count, highest template id): changes whenever templates are added or removed."""
    count, highest = session.execute(
        select(func.count(Template.id), func.max(Template.id)).where(Template.gallery_id == gallery_id)
    ).one()
    return int(count), int(highest or 0)
