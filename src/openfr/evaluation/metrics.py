"""Verification metrics from genuine (same person) and impostor (different people) scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Roc:
    thresholds: np.ndarray  # descending
    far: np.ndarray  # false accept (false match) rate at each threshold
    tar: np.ndarray  # true accept rate at each threshold


def roc(genuine: np.ndarray, impostor: np.ndarray) -> Roc:
    """Exact empirical ROC: one point per distinct score, accepting `score >= threshold`."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))[::-1]
    g = np.sort(genuine)
    i = np.sort(impostor)
    tar = 1.0 - np.searchsorted(g, thresholds, side="left") / max(len(g), 1)
    far = 1.0 - np.searchsorted(i, thresholds, side="left") / max(len(i), 1)
    return Roc(thresholds, far, tar)


def rates_at(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> dict[str, float]:
    fmr = float(np.mean(impostor >= threshold)) if len(impostor) else 0.0
    fnmr = float(np.mean(genuine < threshold)) if len(genuine) else 0.0
    n = len(genuine) + len(impostor)
    accuracy = (np.sum(genuine >= threshold) + np.sum(impostor < threshold)) / n
    return {"threshold": float(threshold), "accuracy": float(accuracy), "fmr": fmr, "fnmr": fnmr}


def best_threshold(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """The threshold that maximises accuracy: the middle of the widest best-accuracy gap between scores.

    Taking the midpoint between neighbouring scores (not a score itself) keeps the threshold from sitting
    on a training example, which would flatter the training accuracy.
    """
    scores = np.unique(np.concatenate([genuine, impostor]))
    candidates = np.concatenate([[scores[0] - 1e-3], (scores[:-1] + scores[1:]) / 2, [scores[-1] + 1e-3]])
    g = np.sort(genuine)
    i = np.sort(impostor)
    correct = (len(g) - np.searchsorted(g, candidates, side="left")) + np.searchsorted(i, candidates, side="left")
    best = np.flatnonzero(correct == correct.max())
    # Several thresholds tie: take the centre of the tied run, the most robust choice.
    return float(candidates[best[len(best) // 2]])


def tar_at_far(curve: Roc, far_target: float, n_impostor: int) -> dict[str, float | bool]:
    """Highest TAR whose FAR is <= target. `resolved` is False when there are too few impostor pairs for
    the target to mean anything (fewer than 1/target), which reports should say rather than hide."""
    ok = curve.far <= far_target
    tar = float(curve.tar[ok].max()) if ok.any() else 0.0
    return {"far": far_target, "tar": tar, "resolved": n_impostor * far_target >= 1.0}
