"""Identification thresholds: how high a score must be before a stranger against a watchlist of N people is
unlikely to raise a false alert.

A 1:1 verification threshold answers "are these two photos the same person?"; a live camera asks that of
every face it sees against every person on the watchlist. If one comparison of two different people scores
above the threshold with probability FMR(t), a stranger passes it against at least one of N unrelated people
with probability

    FPIR(t, N) = 1 - (1 - FMR(t)) ** N        (about N x FMR(t) while that is small)

so false alerts grow with the watchlist. Taking FMR from all comparisons pooled over strangers is
conservative: strangers differ (some resemble many people, most resemble nobody), and averaging the per-
stranger formula can only give less. FMR(t) comes from real impostor scores per demographic group (see
`openfr evaluate calibrate`); past the highest scores observed, from a generalised Pareto tail fitted to
the top of each group's distribution, so that a rate of 1 in 10^8 per comparison is estimated, not read off
a handful of pairs. Every figure is taken for the worst group: a threshold that meets its target on
average can miss it several times over for one group (NPL 2023; `docs/equity.md`).

The rates here are about faces *seen*: one passer-by is several detections but one track, and a track
raises at most one alert (`live/decision.py`).

A calibration belongs to a pack's weights: it lives where the pack says (`ModelCard.calibration_file`: in
the package for a built-in pack, beside the pack for one a force supplies) and names the embedder's SHA-256
it was measured with, so a calibration of other weights is never used.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openfr.errors import UncalibratedPackError

if TYPE_CHECKING:
    from openfr.engine.packs.base import ModelCard


@dataclass(frozen=True)
class GroupTail:
    """Impostor scores of one demographic group: the empirical false-match rate up to `u`, a generalised
    Pareto tail beyond it (shape `xi`, scale `sigma`; `p_u` of all pairs lie above `u`)."""

    group: str
    pairs: int
    grid: tuple[float, ...]  # thresholds, ascending
    fmr: tuple[float, ...]  # empirical false-match rate at each threshold of `grid`
    u: float
    p_u: float
    xi: float
    sigma: float

    def observed(self, t: float) -> float:
        """The measured rate at the grid point at or below t (a step: never lower than what was seen)."""
        return self.fmr[max(bisect_right(self.grid, t) - 1, 0)]

    def fitted(self, t: float) -> float:
        x = max(t - self.u, 0.0)
        if abs(self.xi) < 1e-9:
            return self.p_u * math.exp(-x / self.sigma)
        base = 1 + self.xi * x / self.sigma
        return 0.0 if base <= 0 else self.p_u * base ** (-1 / self.xi)

    def rate(self, t: float) -> float:
        """False-match rate of one comparison at threshold t: measured below the tail, and beyond it the
        higher of the fitted tail and what was measured, so the model never claims better than the data."""
        return self.observed(t) if t <= self.u else max(self.fitted(t), self.observed(t))


@dataclass(frozen=True)
class IdentificationCalibration:
    """A model pack's false-alert behaviour against watchlists, per demographic group."""

    pack: str
    source: str  # what the scores came from, for the model card
    groups: tuple[GroupTail, ...]
    embedder_sha256: str = ""  # the weights whose scores were measured: the calibration holds for them only

    def fmr(self, t: float) -> tuple[float, str]:
        """The worst group's false-match rate at t, and that group."""
        worst = max(self.groups, key=lambda g: g.rate(t))
        return worst.rate(t), worst.group

    def fpir(self, t: float, watchlist_size: int) -> float:
        """Expected share of strangers raising a false alert against `watchlist_size` people (worst group)."""
        rate, _ = self.fmr(t)
        return 1.0 - (1.0 - rate) ** max(watchlist_size, 1)

    def false_alerts_per(self, t: float, watchlist_size: int, faces: int = 100_000) -> float:
        return self.fpir(t, watchlist_size) * faces

    def threshold_for(self, watchlist_size: int, target_fpir: float, floor: float) -> float:
        """The lowest threshold (to 0.001, never below `floor`) at which the worst group's FPIR against
        `watchlist_size` people is at most `target_fpir`."""
        lo, hi = floor, 1.0
        if self.fpir(lo, watchlist_size) <= target_fpir:
            return round(lo, 3)
        for _ in range(40):  # FPIR falls as t rises: bisection
            mid = (lo + hi) / 2
            if self.fpir(mid, watchlist_size) <= target_fpir:
                hi = mid
            else:
                lo = mid
        return math.ceil(hi * 1000) / 1000

    def table(self, target_fpir: float, floor: float, sizes=(100, 1_000, 2_000, 10_000, 100_000)) -> list[dict]:
        """Thresholds per watchlist size, for the model card."""
        rows = []
        for n in sizes:
            t = self.threshold_for(n, target_fpir, floor)
            rows.append({"watchlist_size": n, "threshold": t, "false_alerts_per_100k": self.false_alerts_per(t, n)})
        return rows

    def group_rates(self, t: float) -> list[dict]:
        return [{"group": g.group, "pairs": g.pairs, "fmr": g.rate(t)} for g in self.groups]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentificationCalibration:
        groups = tuple(
            GroupTail(
                group=g["group"],
                pairs=int(g["pairs"]),
                grid=tuple(g["grid"]),
                fmr=tuple(g["fmr"]),
                u=float(g["u"]),
                p_u=float(g["p_u"]),
                xi=float(g["xi"]),
                sigma=float(g["sigma"]),
            )
            for g in data["groups"]
        )
        return cls(
            pack=data["pack"], source=data["source"], groups=groups, embedder_sha256=data.get("embedder_sha256", "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "embedder_sha256": self.embedder_sha256,
            "source": self.source,
            "groups": [
                {
                    "group": g.group,
                    "pairs": g.pairs,
                    "grid": list(g.grid),
                    "fmr": list(g.fmr),
                    "u": g.u,
                    "p_u": g.p_u,
                    "xi": g.xi,
                    "sigma": g.sigma,
                }
                for g in self.groups
            ],
        }


def calibration_for(card: ModelCard) -> IdentificationCalibration | None:
    """The pack's identification calibration, or None if it has none fit for its weights."""
    return _lookup(card)[0]


def require_calibration(card: ModelCard) -> IdentificationCalibration:
    """The pack's identification calibration; UncalibratedPackError, saying why and how to make one, if it
    has none fit for its weights (a live threshold cannot be set without it)."""
    calibration, why = _lookup(card)
    if calibration is None:
        raise UncalibratedPackError(_refusal(card, why))
    return calibration


def calibration_problem(card: ModelCard) -> str:
    """Why the pack cannot be used live and how to fix it, or "" when its calibration is fit for its weights."""
    calibration, why = _lookup(card)
    return "" if calibration is not None else _refusal(card, why)


def _refusal(card: ModelCard, why: str) -> str:
    return (
        f"model pack '{card.id}' {why}, so no live threshold can be set for a watchlist's size (the 1:1 "
        f"threshold lets false alerts grow with every person on it); make one with: {how_to_calibrate(card)}"
    )


def how_to_calibrate(card: ModelCard) -> str:
    """The command that writes this pack's calibration where the pack looks for it."""
    # `--pack` takes the registry's name: an onnx-dir pack's card id is "onnx-dir:<manifest id>".
    return (
        f"openfr evaluate calibrate STRANGERS --watchlist IDENTITIES --pack {card.id.partition(':')[0]} "
        "(STRANGERS: faces with labels.csv; IDENTITIES: a folder per person; docs/equity.md)"
    )


def _lookup(card: ModelCard) -> tuple[IdentificationCalibration | None, str]:
    """(calibration, "") or (None, why there is none) for the card's weights."""
    path = card.calibration_file
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        stat = None
    if path is None or stat is None:
        where = "" if path is None else f" (no {path.name} beside the pack)"
        return None, f"has no identification calibration{where}"
    try:
        calibration = _read(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # An OSError's text names the full path: only its reason is shown.
        reason = exc.strerror if isinstance(exc, OSError) else (str(exc).splitlines() or [type(exc).__name__])[0]
        return None, f"has an unreadable identification calibration ({path.name}: {str(reason)[:120]})"
    if not card.embedder_sha256 or calibration.embedder_sha256.lower() != card.embedder_sha256.lower():
        return None, (
            f"has an identification calibration of other weights ({path.name} was measured with embedder "
            f"SHA-256 {_short(calibration.embedder_sha256)}, the pack's is {_short(card.embedder_sha256)})"
        )
    return calibration, ""


def _short(sha256: str) -> str:
    return f"{sha256[:12]}..." if sha256 else "not stated"


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int, size: int) -> IdentificationCalibration:
    """Parsed once per version of the file (a new calibration is seen without a restart)."""
    return IdentificationCalibration.from_dict(json.loads(path.read_text()))
