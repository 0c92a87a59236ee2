"""ROC and DET curves as a PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np

from openfr.evaluation.metrics import roc

_NORMAL = NormalDist()


def ppf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile (probit): the DET plot's axis scale, straight lines for Gaussian scores."""
    return np.array([_NORMAL.inv_cdf(float(v)) for v in np.ravel(p)])


def save_roc_det(genuine: np.ndarray, impostor: np.ndarray, threshold: float, path: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = roc(genuine, impostor)
    floor = 1.0 / (2 * max(len(impostor), 1))  # half a pair: where a zero rate is drawn on log axes
    fig, (ax_roc, ax_det) = plt.subplots(1, 2, figsize=(11, 4.6))
    far = np.clip(curve.far, floor, 1)
    ax_roc.step(far, curve.tar, where="post", color="tab:blue")
    ax_roc.set_xscale("log")
    ax_roc.set_xlim(floor, 1)
    # Zoom on the part of the curve that differs: good systems sit in the top few percent.
    visible = curve.tar[curve.far >= floor]
    ax_roc.set_ylim(max(0.0, float(visible.min() if visible.size else 0.0) - 0.02), 1.002)
    ax_roc.set_xlabel("False accept rate (FAR)")
    ax_roc.set_ylabel("True accept rate (TAR)")
    ax_roc.set_title("ROC")
    ax_roc.grid(True, which="both", alpha=0.3)
    fnmr = np.clip(1 - curve.tar, floor, 1 - floor)
    fmr = np.clip(curve.far, floor, 1 - floor)
    ax_det.plot(ppf(fmr), ppf(fnmr), color="tab:red")
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5])
    ax_det.set_xticks(ppf(ticks), [f"{t:g}" for t in ticks])
    ax_det.set_yticks(ppf(ticks), [f"{t:g}" for t in ticks])
    limits = (float(ppf(np.array([floor * 0.8]))[0]), float(ppf(np.array([0.6]))[0]))
    ax_det.set_xlim(*limits)
    ax_det.set_ylim(*limits)
    ax_det.set_xlabel("False match rate (FMR)")
    ax_det.set_ylabel("False non-match rate (FNMR)")
    ax_det.set_title("DET (normal deviate scale)")
    ax_det.grid(True, alpha=0.3)
    op_fmr = max(float(np.mean(impostor >= threshold)), floor)
    op_fnmr = min(max(float(np.mean(genuine < threshold)), floor), 1 - floor)
    ax_det.scatter(
        [ppf(np.array([op_fmr]))[0]],
        [ppf(np.array([op_fnmr]))[0]],
        color="black",
        zorder=3,
        label=f"threshold {threshold:.3f}",
    )
    ax_det.legend(loc="upper right")
    fig.suptitle(f"{title}: {len(genuine)} genuine, {len(impostor)} impostor pairs")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_equity(groups: list[dict], path: Path, *, title: str) -> Path:
    """FMR (within group) and FPIR (against the rest of the set) per group, with 95% intervals, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 0.35 * len(groups) + 1.8), sharey=True)
    names = [g["group"] for g in groups]
    y = np.arange(len(groups))
    for ax, rate, label in ((axes[0], "fmr", "false-match rate (within group)"), (axes[1], "fpir", "FPIR (live)")):
        values = np.array([g[rate] for g in groups], dtype=float)
        low = np.array([g[f"{rate}_ci"][0] for g in groups], dtype=float)
        high = np.array([g[f"{rate}_ci"][1] for g in groups], dtype=float)
        floor = max(1e-6, min([v for v in np.concatenate([values, high]) if v > 0], default=1e-6) / 3)
        shown = np.maximum(values, floor)
        ax.errorbar(
            shown, y, xerr=[shown - np.maximum(low, floor), np.maximum(high, floor) - shown], fmt="o", capsize=3
        )
        ax.set_xscale("log")
        ax.set_xlabel(f"{label}, 95% interval (zero drawn at {floor:.0e})")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_yticks(y, names)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
