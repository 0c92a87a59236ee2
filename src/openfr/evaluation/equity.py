"""The equity harness: error rates per demographic group, with intervals, on labelled real faces.

For each group (sex x ethnicity, and age bands):
- FMR: the share of impostor pairs within the group (two different people of that group) scoring at or
  above the threshold. Within-group is the hard case: impostors who look alike by demographic score higher,
  and a watchlist may be drawn from the same community as the crowd.
- FNMR: the share of mated pairs (same person) below the threshold, where the labels name identities.
- FPIR: the share of the group's faces which, searched against a watchlist of every *other* face in the set,
  reach the live threshold for a watchlist of that size: the false alert a passer-by would raise.
Pairs share faces, so FMR and FNMR intervals come from resampling faces (bootstrap); FPIR, one trial per
face, takes a Wilson interval. Labels in public sets are coarse and noisy; the report says how many faces
stand behind each figure.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from openfr.errors import BadInputError
from openfr.evaluation.rates import pair_rate_bootstrap, wilson, worst_best_ratio

AGE_BANDS = ((0, 17, "under 18"), (18, 29, "18-29"), (30, 44, "30-44"), (45, 59, "45-59"), (60, 200, "60+"))


@dataclass(frozen=True)
class Columns:
    """Which labels.csv columns hold what (UTKFace's names by default)."""

    file: str = "file"
    sex: str = "gender"
    ethnicity: str = "race"
    age: str | None = "age"
    identity: str | None = None


@dataclass
class LabelledFace:
    path: Path
    sex: str
    ethnicity: str
    age: int | None
    identity: str | None


@dataclass
class EquityReport:
    dataset: str
    pack: str
    faces: int
    without_face: int
    threshold: float
    live_threshold: float
    watchlist_size: int
    groups: list[dict[str, Any]] = field(default_factory=list)
    identities_known: bool = False

    @property
    def note(self) -> str:
        if self.identities_known:
            return "impostor pairs are pairs of different named people"
        return (
            "the labels name no identities: two photos of one person count as an impostor pair, and a face whose "
            "own other photo is in the set counts as a false alert, so FMR and FPIR are upper bounds where the "
            "set repeats people (UTKFace does)"
        )

    def ratios(self) -> dict[str, float | None]:
        out = {}
        for kind in ("sex x ethnicity", "age"):
            rows = [g for g in self.groups if g["kind"] == kind]
            for rate in ("fmr", "fmr_live", "fnmr", "fpir"):
                value = worst_best_ratio([g[rate] for g in rows if g[rate] is not None])
                out[f"{rate} ({kind})"] = None if value is None else round(value, 2)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The figures in field order, then what they mean (`note`, `worst_best_ratio`), then the groups."""
        figures = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("groups", "identities_known")}
        return {**figures, "note": self.note, "worst_best_ratio": self.ratios(), "groups": self.groups}


def read_labels(directory: Path, columns: Columns) -> list[LabelledFace]:
    """labels.csv beside the images (in DIR or DIR/images); a missing column or file is a clear error."""
    labels = directory / "labels.csv"
    if not labels.is_file():
        raise BadInputError(f"{directory} has no labels.csv")
    images = directory / "images" if (directory / "images").is_dir() else directory
    with labels.open(newline="") as fh:
        reader = csv.DictReader(fh)
        wanted = [c for c in (columns.file, columns.sex, columns.ethnicity, columns.age, columns.identity) if c]
        missing = [c for c in wanted if c not in (reader.fieldnames or [])]
        if missing:
            raise BadInputError(f"labels.csv has no column {', '.join(missing)} (found: {reader.fieldnames})")
        faces = []
        for row in reader:
            path = images / row[columns.file]
            if not path.is_file():
                raise BadInputError(f"labels.csv names {row[columns.file]}, which is not in {images}")
            age = row[columns.age] if columns.age else ""
            faces.append(
                LabelledFace(
                    path=path,
                    sex=row[columns.sex].strip().lower() or "unknown",
                    ethnicity=row[columns.ethnicity].strip() or "unknown",
                    age=int(float(age)) if age.strip() else None,
                    identity=row[columns.identity] if columns.identity else None,
                )
            )
    if len(faces) < 2:
        raise BadInputError("labels.csv names fewer than two faces")
    return faces


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    return next(name for low, high, name in AGE_BANDS if low <= age <= high)


def group_members(faces: list[LabelledFace]) -> Iterable[tuple[str, str, np.ndarray]]:
    """(kind, group name, indices) for every sex x ethnicity group and every age band."""
    keys: dict[tuple[str, str], list[int]] = {}
    for i, face in enumerate(faces):
        keys.setdefault(("sex x ethnicity", f"{face.sex}, {face.ethnicity}"), []).append(i)
        band = age_band(face.age)
        if band is not None:
            keys.setdefault(("age", band), []).append(i)
    for (kind, name), members in sorted(keys.items()):
        yield kind, name, np.array(members)


def evaluate_equity(
    faces: list[LabelledFace],
    vectors: np.ndarray,
    *,
    dataset: str,
    pack: str,
    without_face: int,
    threshold: float,
    live_threshold_for: Callable[[int], float],
    bootstrap: int = 200,
) -> EquityReport:
    """Rates per group. `vectors[i]` is face i's unit embedding; `live_threshold_for(n)` gives the live
    threshold for a watchlist of n people (from the pack's identification calibration)."""
    scores = vectors @ vectors.T
    identities = np.array([f.identity or f"#{i}" for i, f in enumerate(faces)])
    same_person = identities[:, None] == identities[None, :]
    watchlist_size = len(faces) - 1
    live = live_threshold_for(watchlist_size)
    # The best score each face gets against every other person in the set: its search as a stranger.
    others = np.where(same_person, -np.inf, scores)
    best_other = others.max(axis=1)
    report = EquityReport(dataset, pack, len(faces), without_face, threshold, live, watchlist_size)
    report.identities_known = all(f.identity for f in faces)
    for kind, name, members in group_members(faces):
        sub = scores[np.ix_(members, members)]
        mated = same_person[np.ix_(members, members)]
        impostor = np.where(mated, -np.inf, sub)  # a mated pair is never an impostor pair
        fmr, fmr_ci, pairs = pair_rate_bootstrap(impostor, threshold, bootstrap)
        fmr_live, fmr_live_ci, _ = pair_rate_bootstrap(impostor, live, bootstrap)
        upper = np.triu(mated, 1)
        genuine = sub[upper]
        misses = int((genuine < threshold).sum())
        alerts = int((best_other[members] >= live).sum())
        report.groups.append(
            {
                "kind": kind,
                "group": name,
                "n": len(members),
                "impostor_pairs": pairs,
                "fmr": fmr,
                "fmr_ci": list(fmr_ci),
                "fmr_live": fmr_live,
                "fmr_live_ci": list(fmr_live_ci),
                "mated_pairs": len(genuine),
                "fnmr": misses / len(genuine) if len(genuine) else None,
                "fnmr_ci": list(wilson(misses, len(genuine))) if len(genuine) else None,
                "fpir": alerts / len(members),
                "fpir_ci": list(wilson(alerts, len(members))),
                "false_alerts": alerts,
            }
        )
    return report


def equity_report(
    directory: Path, columns: Columns, settings, pack_id: str | None, threshold: float | None, bootstrap: int
) -> EquityReport:
    """Read the labels, embed every image, and measure each group (the engine-side of `evaluate equity`)."""
    from openfr.engine.packs import get_pack
    from openfr.evaluation.embedding import embed_images
    from openfr.thresholds import check_threshold, identification_threshold

    pack = get_pack(settings, pack_id)
    faces = read_labels(directory, columns)
    vectors, found = embed_images([f.path for f in faces], settings, pack_id)
    kept = [f for f, ok in zip(faces, found, strict=True) if ok]
    if len(kept) < 2:
        raise BadInputError(f"faces were found in {len(kept)} of {len(faces)} images: nothing to compare")
    t = check_threshold(threshold if threshold is not None else pack.card.threshold, pack.card.threshold)
    return evaluate_equity(
        kept,
        vectors[found],
        dataset=directory.name,
        pack=pack.card.id,
        without_face=len(faces) - len(kept),
        threshold=t,
        # A pack is measured before it is calibrated: without a calibration the live figures are at its 1:1 threshold.
        live_threshold_for=lambda n: identification_threshold(pack.card, n, settings.live.target_fpir),
        bootstrap=bootstrap,
    )
