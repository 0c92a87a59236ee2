"""1:N search use case (retrospective and operator-initiated): a probe photo in, ranked candidates out.

The photo is decoded from memory, searched and dropped; it is never written anywhere. Who searched, why
(a reason is always required, and the crime reference where there is one), when, the probe's quality and
the candidates are recorded with the audit event, in one transaction. A candidate is an investigative lead
for a trained reviewer, never an identification.

A probe whose face fails the quality gate is searched all the same (enrolment keeps the strict gate): the
result carries the verdict and its reasons, every door shows them as a warning, and the setting
`search.poor_probe_needs_reason` can require a recorded reason for searching such a face.

The console and the API list only candidates at or above the engine's threshold unless the searcher
explicitly asks for the whole ranking (`show_all`); that choice is recorded with the search, and only the
candidates actually listed are recorded as returned (a subject ranked below the threshold and not shown was
not put in front of anyone). The detected faces' boxes come back with the result so that a door can draw
the probe in memory; the decoded photo is handed back for that and never written anywhere.

One door per mode. `SearchService.search` is the retrospective search (RFR: `search.rfr`, investigators)
and refuses operator-initiated mode: an officer's phone search has its own use case with its own rules
(services/oifr.py: `search.oifr`, approved grounds, top six), which runs the same `ProbeSearch` below.
Purpose limitation (governance/uses.py): a retrospective search reaches only a gallery approved for `rfr`, an
operator-initiated one only a gallery approved for `oifr`, checked before the photo is even decoded and again
in the snapshot that ranks.

The threshold is an identification threshold for the gallery's size (thresholds.identification_threshold),
not the 1:1 verification threshold: comparing a stranger with a million custody images at a 1:1 threshold
lists look-alikes every time. Each mode has its target false-candidate rate (search.rfr_target_fpir,
search.oifr_target_fpir); the result states the threshold and that rate in words.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openfr.engine.pipeline import FaceEngine
from openfr.errors import BadInputError, NoFaceError, NotFoundError, SafeguardMissingError
from openfr.gallery import repository
from openfr.gallery.browse import first_enrolled_image
from openfr.gallery.search import Candidate, GallerySearcher
from openfr.governance import audit, events
from openfr.governance.grants import ViewGrants
from openfr.governance.permissions import Permission
from openfr.governance.uses import MODE_USE, require_use
from openfr.imageio import load_image
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Database, SearchRecord
from openfr.thresholds import describe_chance, false_match_chance, identification_threshold

MODES = ("RFR", "OIFR")  # retrospective | operator-initiated (live matching belongs to deployments)
OIFR_DOOR = (
    "operator-initiated searches have their own door, with approved grounds: POST /api/oifr/search, "
    "the /oifr page, or `openfr oifr search`; nothing was searched"
)


@dataclass(frozen=True)
class SearchRequest:
    gallery: str
    reason: str
    crime_ref: str | None = None
    mode: str = "RFR"
    top: int = 10
    poor_probe_reason: str = ""  # why a probe below the quality gate is searched (required if so configured)
    # True: the whole ranking of `top`, below the threshold too. Every door defaults to False and passes True
    # only when the person explicitly asks (console checkbox, API `show_all`, CLI `--show-all`): a candidate
    # below the threshold is a weaker lead than a reviewer should be shown by default. Recorded with the search.
    show_all: bool = False
    # Operator-initiated searches (services/oifr.py): the approved grounds' key and where it happened. Recorded
    # with the search and its audit event when given; `reason` then holds the officer's own words.
    grounds: str | None = None
    location: str | None = None


@dataclass
class SearchResult:
    gallery: str
    candidates: list[Candidate]  # those listed: at or above the threshold, or the whole ranking if show_all
    probe_quality: dict = field(default_factory=dict)
    elapsed_ms: float = 0.0
    search_id: int | None = None
    threshold: float = 0.0
    show_all: bool = True
    reached: int = 0  # candidates at or above the threshold
    gallery_size: int = 0  # people compared: what the identification threshold was set for
    grants: dict[int, str] = field(default_factory=dict)  # rank -> grant to fetch that candidate's image
    false_candidate_chance: float | None = None  # of a search of someone not in the gallery (None: unknown)
    faces: list[dict] = field(default_factory=list)  # every face found: box, quality, searched (the largest)
    # The decoded probe (RGB, working size), for a door that draws it in memory; never stored, never printed.
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

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
            "probe": {"quality": self.probe_quality, "warning": self.warning, "faces": self.faces},
            "threshold": round(self.threshold, 4),
            "gallery_size": self.gallery_size,
            "false_candidate_chance": self.false_candidate_chance,
            "false_candidates": describe_chance(self.false_candidate_chance),
            "show_all": self.show_all,
            "reached": self.reached,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "search_id": self.search_id,
        }


@service
class SearchService(UseCases):
    use_case_prefix = "search"  # refusals name their use case "search.<method>"

    home: Path
    view_grants: Callable[[], ViewGrants]
    probes: ProbeSearch

    def search(self, principal: Principal, request: SearchRequest, photo: bytes, *, name: str = "probe"):
        """A retrospective search (investigators): candidates at or above the identification threshold for
        the gallery's size, or the whole ranking of `top` when asked (recorded)."""
        principal.require(Permission.SEARCH_RFR)
        if request.mode != "RFR":  # an attempt to skip the OIFR rules: a refusal, recorded
            raise SafeguardMissingError(f"mode {request.mode!r} is not a retrospective search: {OIFR_DOOR}")
        return self.probes.run(principal, request, photo, name=name)

    def candidate_image(self, principal: Principal, search_id: int, rank: int, *, grant: str | None = None) -> Path:
        """The enrolled image of a candidate that one of the searcher's own searches listed, for the result's
        thumbnail. Only the searcher, only candidates the search returned (not the rest of the gallery: an
        officer may search without browsing custody images), and every look is recorded: by the search's own
        event, which lists its candidates, when fetched with the grant the result carries; else on its own."""
        if not (principal.may(Permission.SEARCH_RFR) or principal.may(Permission.SEARCH_OIFR)):
            principal.require(Permission.SEARCH_RFR)  # refused, in the words of the permission
        with self.db().transaction() as session:
            record = session.get(SearchRecord, search_id) if 0 < search_id < 2**63 else None
            # Someone else's search reads as no search at all: its existence is not for this principal.
            if record is None or record.actor != principal.username:
                raise NotFoundError(f"no search {search_id} of yours")
            principal.require(Permission.SEARCH_OIFR if record.mode == "OIFR" else Permission.SEARCH_RFR)
            listed = record.candidates or []
            if not 1 <= rank <= len(listed):
                raise NotFoundError(f"search {search_id} listed no candidate ranked {rank}")
            subject = listed[rank - 1]["subject"]
            relative = first_enrolled_image(session, record.gallery, subject)
            if relative is None:
                raise NotFoundError(f"candidate {rank} of search {search_id} has no enrolled image any more")
            if not self.view_grants().covers(grant, principal.username, "candidate", search_id, rank):
                audit.record(
                    session,
                    principal.username,
                    events.SearchCandidateImageView(rank=rank, subject=subject),
                    f"search:{search_id}",
                )
        return self.home / relative


class ProbeSearch:
    """What every 1:N photo search does, whichever use case asks (RFR here, OIFR in services/oifr.py): the
    checks of the request, the probe decoded in memory and searched at the mode's identification threshold,
    the search record and its audit event in one transaction. Not a use case: its callers check the
    principal's permission for their mode first."""

    def __init__(
        self,
        db: Callable[[], Database],
        settings: Settings,
        engine: Callable[[], FaceEngine],
        searcher: Callable[[], GallerySearcher],
        view_grants: Callable[[], ViewGrants],
    ):
        self.db, self.settings, self.view_grants = db, settings, view_grants
        self.engine, self.searcher = engine, searcher
        self._sizes: dict[tuple[int, int], int] = {}  # (gallery id, generation) -> people in it

    def target(self, mode: str) -> float:
        search = self.settings.search
        return search.oifr_target_fpir if mode == "OIFR" else search.rfr_target_fpir

    def run(self, principal: Principal, request: SearchRequest, photo: bytes, *, name: str = "probe") -> SearchResult:
        if not request.reason.strip():
            raise SafeguardMissingError(
                "a search needs a reason (and a crime reference where there is one); it is recorded"
            )
        if request.mode not in MODES:
            raise BadInputError(f"mode must be one of {', '.join(MODES)}")
        if not 1 <= request.top <= 200:
            raise BadInputError("top must be between 1 and 200")
        if not photo:
            raise BadInputError(f"{name}: the photo is empty")
        with self.db().read() as session:  # a gallery the search may not reach: refused before any face is read
            _approved_gallery(session, request)
        image = load_image(
            photo,
            max_pixels=self.settings.engine.max_image_pixels,
            working_pixels=self.settings.engine.working_pixels,
        )
        # Every face, for the boxes; only the largest, the one searched, is embedded (bystanders cost nothing).
        faces = self.engine().analyse_largest(image)
        if not faces:
            raise NoFaceError(f"{name}: no face found")
        probe = faces[0]  # a weak lead is still a lead: no quality gate here, only its verdict
        quality = probe.quality.as_dict() if probe.quality is not None else {"usable": True, "reasons": []}
        poor_reason = request.poor_probe_reason.strip() or None
        if not quality["usable"] and self.settings.search.poor_probe_needs_reason and poor_reason is None:
            raise SafeguardMissingError(
                f"{name}: the face fails the quality gate ({'; '.join(quality['reasons'])}); searching it "
                "anyway needs a recorded reason (poor probe reason)"
            )
        assert probe.embedding is not None
        started = time.perf_counter()
        with self.db().read() as session:  # a consistent snapshot: the index and the labels agree
            gallery = _approved_gallery(session, request)  # again: its uses may have changed meanwhile
            ranked = self.searcher().rank(session, gallery, probe.embedding, request.top)
            space, size = gallery.space, self._size(session, gallery)
        elapsed = (time.perf_counter() - started) * 1000
        engine = self.engine()
        threshold = identification_threshold(engine.card, size, self.target(request.mode), at_least=engine.threshold)
        chance = false_match_chance(engine.card, threshold, size)
        reached = [c for c in ranked if c.score >= threshold]
        candidates = ranked if request.show_all else reached
        crime_ref = (request.crime_ref or "").strip() or None
        oifr = {"grounds": request.grounds, "location": request.location} if request.grounds is not None else {}
        with self.db().transaction() as session:
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
                **oifr,
            )
            session.add(record)
            session.flush()
            audit.record(
                session,
                principal.username,
                events.Search(
                    mode=request.mode,
                    crime_ref=crime_ref,
                    search_id=record.id,
                    candidates=len(candidates),
                    reached=len(reached),
                    threshold=round(threshold, 4),
                    gallery_size=size,
                    show_all=request.show_all,
                    probe_usable=quality["usable"],
                    poor_probe_reason=record.poor_probe_reason,
                    top=request.top,
                    **oifr,
                ),
                f"gallery:{request.gallery}",
                request.reason.strip(),
            )
            search_id = record.id
        boxes = [_face_summary(face, searched=face is probe) for face in faces]
        # The search event lists its candidates: their images are seen with it, under these grants.
        grants = {
            c.rank: self.view_grants().grant(principal.username, "candidate", search_id, c.rank) for c in candidates
        }
        return SearchResult(
            request.gallery, candidates, quality, elapsed, search_id, threshold, request.show_all, len(reached),
            size, grants, chance, boxes, image,
        )  # fmt: skip

    def _size(self, session, gallery) -> int:
        """People in the gallery, counted once per generation (every enrolment and deletion bumps it)."""
        key = (gallery.id, gallery.generation or 0)
        if key not in self._sizes:
            if len(self._sizes) > 64:
                self._sizes.clear()
            self._sizes[key] = repository.subject_count(session, gallery)
        return self._sizes[key]


def _approved_gallery(session, request: SearchRequest):
    """The gallery to search, if it exists and is approved for the request's kind of search (409 if not)."""
    gallery = repository.get_gallery(session, request.gallery)
    require_use(gallery.name, gallery.uses, MODE_USE[request.mode])
    return gallery


def _face_summary(face, *, searched: bool) -> dict:
    """Where a face is and what the quality gate made of it: no embedding, nothing that identifies."""
    quality = face.quality.as_dict() if face.quality is not None else {"usable": True, "reasons": []}
    return {"box": [round(float(v), 1) for v in face.box], "searched": searched, "quality": quality}
