"""1:N search use case (retrospective and operator-initiated): a probe photo in, ranked candidates out.

The photo is decoded from memory, searched and dropped; it is never written anywhere. Who searched, why
(a reason is always required, and the crime reference where there is one), when, the probe's quality and
the candidates are recorded with the audit event, in one transaction. A candidate is an investigative lead
for a trained reviewer, never an identification.

A probe whose face fails the quality gate is searched all the same (enrolment keeps the strict gate): the
result carries the verdict and its reasons, every door shows them as a warning, and the setting
`search.poor_probe_needs_reason` can require a recorded reason for searching such a face.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from openfr.errors import BadInputError
from openfr.gallery import repository
from openfr.gallery.search import Candidate
from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.imageio import load_image
from openfr.runtime import Runtime
from openfr.services.principal import Principal
from openfr.store import SearchRecord

MODES = ("RFR", "OIFR")  # retrospective | operator-initiated (live matching belongs to deployments)


@dataclass(frozen=True)
class SearchRequest:
    gallery: str
    reason: str
    crime_ref: str | None = None
    mode: str = "RFR"
    top: int = 10
    poor_probe_reason: str = ""  # why a probe below the quality gate is searched (required if so configured)


@dataclass
class SearchResult:
    gallery: str
    candidates: list[Candidate]
    probe_quality: dict = field(default_factory=dict)
    elapsed_ms: float = 0.0
    search_id: int | None = None

    @property
    def warning(self) -> str | None:
        """For a probe below the quality gate: what the candidates are worth, in words."""
        if self.probe_quality.get("usable", True):
            return None
        reasons = "; ".join(self.probe_quality.get("reasons", []))
        return (
            f"The face in this photo fails the quality gate ({reasons}). It was searched all the same: "
            "treat the candidates with extra caution, and search again with a better photo if there is one."
        )

    def as_dict(self) -> dict:
        return {
            "gallery": self.gallery,
            "candidates": [c.as_dict() for c in self.candidates],
            "probe": {"quality": self.probe_quality, "warning": self.warning},
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


class SearchService:
    def __init__(self, runtime: Runtime):
        self.rt = runtime

    def search(self, principal: Principal, request: SearchRequest, photo: bytes, *, name: str = "probe"):
        principal.require(Permission.SEARCH_RUN)
        if not request.reason.strip():
            raise BadInputError("a search needs a reason (and a crime reference where there is one); it is recorded")
        if request.mode not in MODES:
            raise BadInputError(f"mode must be one of {', '.join(MODES)}")
        if not 1 <= request.top <= 200:
            raise BadInputError("top must be between 1 and 200")
        if not photo:
            raise BadInputError(f"{name}: the photo is empty")
        image = load_image(
            photo,
            max_pixels=self.rt.settings.engine.max_image_pixels,
            working_pixels=self.rt.settings.engine.working_pixels,
        )
        probe = self.rt.engine.probe(image, name=name, require_usable=False)  # a weak lead is still a lead
        quality = probe.quality.as_dict() if probe.quality is not None else {"usable": True, "reasons": []}
        poor_reason = request.poor_probe_reason.strip() or None
        if not quality["usable"] and self.rt.settings.search.poor_probe_needs_reason and poor_reason is None:
            raise BadInputError(
                f"{name}: the face fails the quality gate ({'; '.join(quality['reasons'])}); searching it "
                "anyway needs a recorded reason (poor probe reason)"
            )
        assert probe.embedding is not None
        started = time.perf_counter()
        with self.rt.db.read() as session:  # a consistent snapshot: the index and the labels agree
            gallery = repository.get_gallery(session, request.gallery)
            candidates = self.rt.searcher.rank(session, gallery, probe.embedding, request.top)
            space = gallery.space
        elapsed = (time.perf_counter() - started) * 1000
        crime_ref = (request.crime_ref or "").strip() or None
        with self.rt.db.transaction() as session:
            record = SearchRecord(
                actor=principal.username,
                mode=request.mode,
                reason=request.reason.strip(),
                crime_ref=crime_ref,
                gallery=request.gallery,
                space=space,
                probe_quality=quality,
                poor_probe_reason=poor_reason if not quality["usable"] else None,
                candidates=[{"subject": c.subject, "score": round(c.score, 4)} for c in candidates],
            )
            session.add(record)
            session.flush()
            audit.record(
                session,
                principal.username,
                "search",
                f"gallery:{request.gallery}",
                request.reason.strip(),
                mode=request.mode,
                crime_ref=crime_ref,
                search_id=record.id,
                candidates=len(candidates),
                probe_usable=quality["usable"],
                poor_probe_reason=record.poor_probe_reason,
            )
            search_id = record.id
        return SearchResult(request.gallery, candidates, quality, elapsed, search_id)
