"""Verification (1:1) evaluation on a pairs file: accuracy, FMR/FNMR, TAR at fixed FAR, ROC/DET plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openfr.engine.batch import analyse_paths
from openfr.evaluation.metrics import best_threshold, rates_at, roc, tar_at_far
from openfr.evaluation.pairs import Pair
from openfr.settings import Settings

FAILED_SCORE = -1.0  # a pair whose image has no face scores as a certain non-match (counted, not dropped)


@dataclass
class VerificationReport:
    pack: str
    space: str
    pairs: int
    genuine: np.ndarray
    impostor: np.ndarray
    threshold: float
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        curve = roc(self.genuine, self.impostor)
        at_threshold = rates_at(self.genuine, self.impostor, self.threshold)
        best = best_threshold(self.genuine, self.impostor)
        return {
            "pack": self.pack,
            "space": self.space,
            "pairs": self.pairs,
            "genuine_pairs": len(self.genuine),
            "impostor_pairs": len(self.impostor),
            "failed_images": len(self.failures),
            "threshold": round(self.threshold, 4),
            "accuracy": round(at_threshold["accuracy"], 4),
            "fmr": round(at_threshold["fmr"], 4),
            "fnmr": round(at_threshold["fnmr"], 4),
            "best_threshold_on_this_set": round(best, 4),
            "best_accuracy_on_this_set": round(rates_at(self.genuine, self.impostor, best)["accuracy"], 4),
            "tar_at_far": [tar_at_far(curve, far, len(self.impostor)) for far in (1e-2, 1e-3)],
        }


def evaluate_pairs(
    pairs: list[Pair], settings: Settings, *, threshold: float | None = None, pack_id: str | None = None
) -> VerificationReport:
    from openfr.engine.packs import get_pack

    pack = get_pack(settings, pack_id)
    unique = sorted({p for pair in pairs for p in (pair.a, pair.b)})
    vectors: dict[Path, np.ndarray | None] = {}
    space = ""
    failures = []
    for result in analyse_paths(unique, settings, pack_id=pack_id):
        face = result.main_face()
        if face is None or face.embedding is None:
            vectors[result.path] = None
            failures.append(f"{result.path}: {result.error or 'no face found'}")
            continue
        vectors[result.path] = face.embedding.vector
        space = face.embedding.space
    scores = np.array(
        [
            float(np.dot(va, vb))
            if (va := vectors[p.a]) is not None and (vb := vectors[p.b]) is not None
            else FAILED_SCORE
            for p in pairs
        ]
    )
    same = np.array([p.same for p in pairs])
    if threshold is None:
        threshold = settings.match_threshold if settings.match_threshold is not None else pack.card.threshold
    return VerificationReport(
        pack=pack.card.id,
        space=space,
        pairs=len(pairs),
        genuine=scores[same],
        impostor=scores[~same],
        threshold=threshold,
        failures=failures,
    )
