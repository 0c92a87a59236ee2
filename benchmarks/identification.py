"""Real-data 1:N identification on ../shared/data: rank-1 rate and FNIR at fixed FPIR.

    .venv/bin/python benchmarks/identification.py [--pack buffalo_s]

Per dataset (ORL, Yale, five_celebrity, LFW View 1) and all together in one gallery: identities with two or
more photos are split in half by name. Enrolled half: the first photo goes in the gallery, the others are
mated probes. Held-out half: every photo is a non-mated probe (the person is not in the gallery). Identities
with a single photo join the gallery as distractors. The gallery keeps enrolment's strict quality gate. Probes
are searched whatever their quality, as openfr's searches do (`--probe-gate` refuses probes that fail the
gate, as openfr did before); a probe whose face cannot be found, or a refused one, counts as a miss (mated)
and as no alarm (non-mated), so failures are never silently dropped.

FPIR: share of non-mated probes whose best candidate scores at or above the threshold.
FNIR: share of mated probes whose mate is not the top candidate at or above that threshold.

Also, per set, both rates at the thresholds openfr itself would apply to a gallery of that size: the 1:1
verification threshold (what OIFR and subject access used before issue 21) and the identification thresholds
for retrospective and operator-initiated searches (`search.rfr_target_fpir`, `search.oifr_target_fpir`).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from openfr.engine.batch import analyse_paths
from openfr.engine.packs import get_pack
from openfr.gallery.index import ExactIndex
from openfr.settings import Settings
from openfr.thresholds import identification_threshold

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def identities() -> dict[str, dict[str, list[Path]]]:
    sets: dict[str, dict[str, list[Path]]] = {}
    sets["orl"] = {d.name: sorted(d.glob("*.pgm")) for d in sorted((DATA / "orl").glob("s*")) if d.is_dir()}
    yale: dict[str, list[Path]] = defaultdict(list)
    for path in sorted((DATA / "yale" / "images").glob("subject*")):
        yale[re.match(r"(subject\d+)", path.name).group(1)].append(path)  # type: ignore[union-attr]
    sets["yale"] = dict(yale)
    celeb = DATA / "five_celebrity"
    sets["five_celebrity"] = {
        d.name: sorted((celeb / "train" / d.name).glob("*")) + sorted((celeb / "val" / d.name).glob("*"))
        for d in sorted((celeb / "train").iterdir())
        if d.is_dir()
    }
    sets["lfw_view1"] = {d.name: sorted(d.glob("*.jpg")) for d in sorted((DATA / "lfw_view1" / "images").iterdir())}
    return sets


def embed_all(paths: list[Path], settings: Settings) -> tuple[dict[Path, np.ndarray | None], dict[Path, bool]]:
    """Each photo's main-face embedding (None without a face) and whether that face passes the gate."""
    vectors: dict[Path, np.ndarray | None] = {}
    usable: dict[Path, bool] = {}
    for result in analyse_paths(paths, settings):
        face = result.main_face()
        vectors[result.path] = face.embedding.vector if face is not None and face.embedding is not None else None
        usable[result.path] = face is not None and face.quality is not None and face.quality.usable
    return vectors, usable


def evaluate(people: dict[str, list[Path]], enrolable, probes, prefix: str) -> dict:
    multi = sorted(name for name, photos in people.items() if len(photos) >= 2)
    enrolled = set(multi[::2])
    gallery_ids, gallery_vecs, mated, non_mated = [], [], [], []
    for name, photos in people.items():
        if name in enrolled or len(photos) == 1:
            first = next((p for p in photos if enrolable.get(p) is not None), None)
            if first is None:
                continue
            gallery_ids.append(f"{prefix}/{name}")
            gallery_vecs.append(enrolable[first])
            if name in enrolled:
                mated += [(f"{prefix}/{name}", probes.get(p)) for p in photos if p != first]
        else:
            non_mated += [probes.get(p) for p in photos]
    return {"gallery": (gallery_ids, gallery_vecs), "mated": mated, "non_mated": non_mated}


def score(gallery_ids, gallery_vecs, mated, non_mated, thresholds: dict[str, float] | None = None) -> dict:
    index = ExactIndex(np.arange(len(gallery_ids)), np.stack(gallery_vecs), "float16")
    labels = np.array(gallery_ids)

    def top1(vector):
        if vector is None:
            return None, -1.0
        ids, scores = index.search(vector, 1)
        return labels[ids[0]], float(scores[0])

    mated_top = [(truth, *top1(v)) for truth, v in mated]
    non_top = np.array([top1(v)[1] for v in non_mated])
    rank1 = np.mean([label == truth for truth, label, _ in mated_top])
    result = {
        "gallery": len(gallery_ids),
        "mated_probes": len(mated),
        "non_mated_probes": len(non_mated),
        "rank1": round(float(rank1), 4),
        "failed_probes": sum(v is None for _, v in mated) + sum(v is None for v in non_mated),
    }
    for fpir in (0.01, 0.003):
        # Smallest threshold with at most fpir of non-mated probes alarming.
        ranked = np.sort(non_top)[::-1]
        allowed = int(np.floor(fpir * len(ranked)))
        threshold = float(ranked[allowed]) + 1e-6 if allowed < len(ranked) else -1.0
        fnir = np.mean([not (label == truth and s >= threshold) for truth, label, s in mated_top])
        result[f"fnir_at_fpir_{fpir}"] = {
            "threshold": round(threshold, 4),
            "fnir": round(float(fnir), 4),
            "resolved": len(ranked) * fpir >= 1,
        }
    for name, threshold in (thresholds or {}).items():  # openfr's own thresholds for this gallery's size
        fnir = np.mean([not (label == truth and s >= threshold) for truth, label, s in mated_top])
        fpir_seen = float(np.mean(non_top >= threshold)) if len(non_top) else 0.0
        result[f"at_{name}"] = {
            "threshold": round(threshold, 4),
            "fpir": round(fpir_seen, 4),
            "fnir": round(float(fnir), 4),
        }
    return result


def openfr_thresholds(settings: Settings, gallery_size: int) -> dict[str, float]:
    """The thresholds openfr applies to a 1:N search of `gallery_size` people, and the 1:1 one."""
    card = get_pack(settings, settings.model_pack).card
    search = settings.search
    return {
        "1to1": card.threshold,
        "rfr": identification_threshold(card, gallery_size, search.rfr_target_fpir),
        "oifr": identification_threshold(card, gallery_size, search.oifr_target_fpir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default=None)
    parser.add_argument("--probe-gate", action="store_true", help="refuse probes that fail the quality gate")
    args = parser.parse_args()
    settings = Settings(model_pack=args.pack) if args.pack else Settings()
    sets = identities()
    paths = [p for people in sets.values() for photos in people.values() for p in photos]
    vectors, usable = embed_all(paths, settings)
    enrolable = {p: v if usable[p] else None for p, v in vectors.items()}
    probes = enrolable if args.probe_gate else vectors
    below_gate = sum(1 for p in paths if vectors[p] is not None and not usable[p])
    no_face = sum(1 for p in paths if vectors[p] is None)
    results, combined = {}, {"gallery": ([], []), "mated": [], "non_mated": []}
    for name, people in sets.items():
        split = evaluate(people, enrolable, probes, name)
        size = len(split["gallery"][0])
        results[name] = score(*split["gallery"], split["mated"], split["non_mated"], openfr_thresholds(settings, size))
        combined["gallery"][0].extend(split["gallery"][0])
        combined["gallery"][1].extend(split["gallery"][1])
        combined["mated"] += split["mated"]
        combined["non_mated"] += split["non_mated"]
    size = len(combined["gallery"][0])
    results["all, one gallery"] = score(
        *combined["gallery"], combined["mated"], combined["non_mated"], openfr_thresholds(settings, size)
    )
    summary = {"photos": len(paths), "no_face": no_face, "below_quality_gate": below_gate}
    policy = "refused" if args.probe_gate else "searched"
    print(
        json.dumps({"pack": settings.model_pack, "probes_below_gate": policy, **summary, "results": results}, indent=2)
    )
    print(
        "\n| set | gallery | mated probes | non-mated probes | failed probes | rank-1 "
        "| FNIR @ FPIR 0.01 | FNIR @ FPIR 0.003 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        f1, f3 = r["fnir_at_fpir_0.01"], r["fnir_at_fpir_0.003"]
        mark = lambda f: f"{f['fnir']:.2%} (t={f['threshold']:.3f}){'' if f['resolved'] else ' *'}"  # noqa: E731
        print(
            f"| {name} | {r['gallery']} | {r['mated_probes']} | {r['non_mated_probes']} | {r['failed_probes']} "
            f"| {r['rank1']:.2%} | {mark(f1)} | {mark(f3)} |"
        )
    print("\n| set | gallery | 1:1 threshold: FPIR / FNIR | RFR threshold: FPIR / FNIR | OIFR threshold: FPIR / FNIR |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        cells = [
            f"{r[k]['fpir']:.2%} / {r[k]['fnir']:.2%} (t={r[k]['threshold']:.3f})"
            for k in ("at_1to1", "at_rfr", "at_oifr")
        ]
        print(f"| {name} | {r['gallery']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
