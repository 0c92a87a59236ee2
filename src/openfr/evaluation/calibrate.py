"""Building a pack's identification calibration from real impostor scores (`openfr evaluate calibrate`).

The question a live threshold answers: how likely is a stranger of group g to score above t against one
person on a watchlist? Strangers are labelled faces (UTKFace: sex and ethnicity), the watchlist is an
identity-labelled set (LFW): every (stranger, watchlist image) pair of a group gives that group's impostor
scores; the watchlist set's own pairs of different identities make one more group.

Two things the data cannot do by themselves, handled here:
- *Resolution.* A live threshold must hold the rate near 1 in 10^8 per comparison (1 in 10,000 strangers
  against 10,000 people), far below what a million pairs resolve. The top of each group's distribution is
  fitted with a generalised Pareto tail (peaks over a high threshold, the standard extreme-value model) and
  the rate beyond the data is read from the fit. `tail_check` compares the fit with the data.
- *Strangers who are not strangers.* Public sets overlap: UTKFace holds actors who are also in LFW, and
  its own faces repeat. A stranger whose best score against the watchlist set reaches `same_person_above`
  is set aside as probably the same person (counted in the output), and each group's tail is fitted to
  the scores below that level as a truncated sample, so the exclusion does not thin the tail.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import minimize
from scipy.stats import genpareto

from openfr.errors import BadInputError
from openfr.identification import GroupTail, IdentificationCalibration

if TYPE_CHECKING:
    from openfr.engine.packs.base import ModelCard

GRID = np.round(np.arange(-0.2, 1.0001, 0.01), 2)
MIN_EXCEEDANCES, MAX_EXCEEDANCES = 100, 2_000


def _truncated_gpd(excess: np.ndarray, width: float) -> tuple[float, float]:
    """Maximum-likelihood (shape, scale) of a generalised Pareto sample observed only below `width`."""

    def nll(params: np.ndarray) -> float:
        xi, log_scale = params
        scale = float(np.exp(log_scale))
        if xi < -0.9:
            return 1e12
        kept = genpareto.cdf(width, xi, scale=scale)
        value = genpareto.logpdf(excess, xi, scale=scale).sum() - len(excess) * np.log(max(kept, 1e-300))
        return -value if np.isfinite(value) else 1e12

    start = np.array([0.0, np.log(max(excess.mean(), 1e-4))])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 2000})
    if best.x[0] >= 0:
        return float(best.x[0]), float(np.exp(best.x[1]))
    # A negative shape is a tail that ends: beyond the data, that would promise zero false matches. The
    # exponential tail (shape 0) is the lightest openfr assumes, which errs towards more false alerts.
    fixed = minimize(lambda p: nll(np.array([0.0, p[0]])), start[1:], method="Nelder-Mead")
    return 0.0, float(np.exp(fixed.x[0]))


def fit_tail(group: str, scores: np.ndarray, same_person_above: float = 1.0) -> GroupTail:
    """Empirical rates on the grid plus a generalised Pareto tail fitted to the highest scores below
    `same_person_above`. The tail starts at the k-th highest of those, k = 0.5% of the pairs kept between
    100 and 2,000: enough points for a stable fit, few enough that all are from the tail."""
    scores = np.sort(scores[scores < same_person_above].astype(np.float64))
    if len(scores) < 10 * MIN_EXCEEDANCES:
        raise ValueError(f"group {group!r}: {len(scores)} impostor pairs, too few to fit a tail")
    k = int(np.clip(len(scores) // 200, MIN_EXCEEDANCES, MAX_EXCEEDANCES))
    u = float(scores[-k - 1])
    excess = scores[scores > u] - u
    xi, sigma = _truncated_gpd(excess, same_person_above - u)  # shape >= 0: a tail never assumed to end
    # The share of all pairs beyond u, had the tail not been cut at same_person_above.
    p_u = len(excess) / len(scores) / max(float(genpareto.cdf(same_person_above - u, xi, scale=sigma)), 1e-12)
    fmr = 1.0 - np.searchsorted(scores, GRID, side="left") / len(scores)
    return GroupTail(
        group=group,
        pairs=len(scores),
        grid=tuple(float(g) for g in GRID),
        fmr=tuple(float(f) for f in fmr),
        u=round(u, 6),
        p_u=p_u,
        xi=xi,
        sigma=sigma,
    )


def tail_check(tail: GroupTail, scores: np.ndarray) -> dict[str, dict[str, float]]:
    """Observed and predicted numbers of pairs at or above a few thresholds in the tail (the fit should
    neither miss the data nor sit far above it)."""
    out = {}
    for t in (0.3, 0.33, 0.35):
        if t > tail.u:
            out[f"{t:.2f}"] = {"observed": int((scores >= t).sum()), "predicted": round(tail.rate(t) * tail.pairs, 1)}
    return out


def stranger_scores(
    strangers: np.ndarray, watchlist: np.ndarray, same_person_above: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of each stranger against every watchlist image, and which strangers are kept (those whose
    best score stays below `same_person_above`)."""
    scores = strangers @ watchlist.T
    return scores, scores.max(axis=1) < same_person_above


def pool_impostors(watchlist: np.ndarray, identities: np.ndarray) -> np.ndarray:
    """Scores of every pair of the watchlist set's images of two different identities."""
    scores = watchlist @ watchlist.T
    upper = np.triu_indices(len(watchlist), 1)
    values = scores[upper]
    return values[identities[upper[0]] != identities[upper[1]]].astype(np.float32)


def calibrate(
    groups: dict[str, np.ndarray], pack: str, source: str, same_person_above: float, embedder_sha256: str = ""
) -> tuple[IdentificationCalibration, dict]:
    """The calibration (one tail per group) and a check of each fit against its own data; `embedder_sha256`:
    the weights that gave the scores (the calibration holds for them only)."""
    tails, checks = [], {}
    for name, scores in groups.items():
        tail = fit_tail(name, scores, same_person_above)
        tails.append(tail)
        checks[name] = {"set_aside": int((scores >= same_person_above).sum()), **tail_check(tail, scores)}
    return IdentificationCalibration(pack, source, tuple(tails), embedder_sha256), checks


def calibrate_sets(
    strangers: list[np.ndarray], labels: list[str], watchlist: np.ndarray, identities: np.ndarray, **kw
) -> tuple[IdentificationCalibration, dict]:
    """Groups from labelled strangers against an identity-labelled watchlist set, plus the set's own pairs."""
    same_person_above = kw["same_person_above"]
    vectors = np.stack(strangers) if strangers else np.zeros((0, watchlist.shape[1]), dtype=np.float32)
    scores, kept = stranger_scores(vectors, watchlist, same_person_above)
    names = np.array(labels)
    groups = {str(g): scores[(names == g) & kept].ravel() for g in sorted(set(labels))}
    groups["watchlist set, different identities"] = pool_impostors(watchlist, identities)
    calibration, checks = calibrate(groups, kw["pack"], kw["source"], same_person_above, kw.get("embedder_sha256", ""))
    checks["strangers set aside as probably in the watchlist set"] = int((~kept).sum())
    return calibration, checks


def calibrate_from_folders(labelled, columns, watchlist_dir, settings, pack_id, same_person_above):
    """Embed both sets and calibrate; returns (calibration, checks, the pack's card)."""
    from openfr.engine.packs import get_pack
    from openfr.evaluation.embedding import embed_images, identity_folders
    from openfr.evaluation.equity import read_labels

    pack = get_pack(settings, pack_id)
    faces = read_labels(labelled, columns)
    stranger_vectors, found = embed_images([f.path for f in faces], settings, pack_id)
    paths, identities = identity_folders(watchlist_dir)
    if len(set(identities)) < 2:
        raise ValueError(f"{watchlist_dir} holds fewer than two identity folders")
    watch_vectors, watch_found = embed_images(paths, settings, pack_id)
    labels = [f"{f.sex}, {f.ethnicity}" for f, ok in zip(faces, found, strict=True) if ok]
    source = (
        f"{int(found.sum())} labelled strangers ({labelled.name}) against {int(watch_found.sum())} images of "
        f"{len(set(identities[watch_found]))} identities ({watchlist_dir.parent.name}/{watchlist_dir.name}); "
        f"strangers scoring {same_person_above} or more against that set were set aside as probably the same person"
    )
    calibration, checks = calibrate_sets(
        list(stranger_vectors[found]),
        labels,
        watch_vectors[watch_found],
        identities[watch_found],
        pack=pack.card.id,
        embedder_sha256=pack.card.embedder_sha256,
        source=source,
        same_person_above=same_person_above,
    )
    return calibration, checks, pack.card


def save_calibration(calibration: IdentificationCalibration, card: ModelCard, output: Path | None = None) -> Path:
    """Write the calibration where the pack looks for it (`card.calibration_file`: beside an onnx-dir pack,
    in the package for a built-in one), or to `output`. Atomically: a server reading it meanwhile sees the
    old file or the new one, never half of one."""
    target = output or card.calibration_file
    if target is None:
        raise BadInputError(f"model pack '{card.id}' has no folder for its calibration: pass --out")
    text = json.dumps(calibration.as_dict(), indent=1) + "\n"
    temporary: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        temporary.replace(target)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise BadInputError(f"cannot write the calibration {target.name} ({exc.strerror}): pass --out") from None
    return target
