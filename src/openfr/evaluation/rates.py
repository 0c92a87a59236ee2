"""Error rates with their uncertainty: a rate without the count behind it and an interval is not a finding."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def wilson(errors: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial rate: sound at 0 errors and with few trials, where the normal
    approximation gives nonsense (a zero-width interval at 0 of 300)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = errors / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if errors == 0 else max(0.0, centre - half)  # exact ends: rounding must not exclude the rate
    high = 1.0 if errors == trials else min(1.0, centre + half)
    return (low, high)


def pair_rate_bootstrap(
    scores: np.ndarray, over: float, reps: int = 200, seed: int = 0
) -> tuple[float, tuple[float, float], int]:
    """The share of pairs scoring `over` or more among all pairs of a square score matrix (upper triangle;
    entries of -inf are not pairs, e.g. two photos of one person), with a 95% interval from resampling the
    *faces*: pairs share faces and are not independent, so an interval over pairs would be far too narrow.
    Returns (rate, (low, high), pairs)."""
    n = scores.shape[0]
    counted = np.triu(np.isfinite(scores), 1)
    pairs = int(counted.sum())
    if pairs == 0:
        return 0.0, (0.0, 1.0), 0
    hits = scores >= over
    rate = float(hits[counted].mean())
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(reps):
        pick = np.sort(rng.integers(0, n, n))
        same = pick[:, None] == pick[None, :]  # a face drawn twice is not a pair of two people
        valid = np.triu(np.isfinite(scores[np.ix_(pick, pick)]) & ~same, 1)
        count = valid.sum()
        if count:
            samples.append(hits[np.ix_(pick, pick)][valid].sum() / count)
    low, high = np.percentile(samples, [2.5, 97.5]) if samples else (0.0, 1.0)
    if rate == 0.0:
        high = max(high, 1 - 0.05 ** (1 / pairs))  # zero errors never prove a zero rate (rule of three)
    return rate, (float(low), float(high)), pairs


def worst_best_ratio(rates: list[float]) -> float | None:
    """Worst group's rate over the best's; None when the best is zero (the ratio is then unbounded and a
    number would mislead)."""
    positive = [r for r in rates if r is not None]
    if not positive or min(positive) <= 0:
        return None
    return max(positive) / min(positive)
