"""`openfr detect`, `openfr embed`, `openfr compare`: the engine's command-line contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openfr.cli.common import JsonFlag, PackOption, emit, err, fail, guarded, out, runtime
from openfr.engine.batch import analyse_paths
from openfr.imageio import iter_image_paths, load_image
from openfr.thresholds import check_threshold
from openfr.types import Face

ImageArg = Annotated[Path, typer.Argument(help="Image file (JPEG, PNG, WebP, GIF, PGM, ...).")]


def _load(svc, path: Path):
    return load_image(path, max_pixels=svc.settings.engine.max_image_pixels)


def faces_table(faces: list[Face], title: str) -> Table:
    table = Table("#", "box (x1,y1,x2,y2)", "score", "eyes px", "yaw", "pitch", "sharp", "usable", title=title)
    for i, face in enumerate(faces, 1):
        q = face.quality
        assert q is not None
        table.add_row(
            str(i),
            ",".join(f"{v:.0f}" for v in face.box),
            f"{face.score:.2f}",
            f"{q.inter_eye_px:.0f}",
            f"{q.yaw:+.0f}",
            f"{q.pitch:+.0f}",
            f"{q.blur:.0f}",
            "yes" if q.usable else "no: " + "; ".join(q.reasons),
        )
    return table


@guarded
def detect(image: ImageArg, json: JsonFlag = False, pack: PackOption = None) -> None:
    """Find faces: boxes, five landmarks and quality for each."""
    svc = runtime(pack)
    faces = svc.engine.detect(_load(svc, image))
    if json:
        emit({"image": str(image), "faces": [f.as_dict() for f in faces]})
    else:
        out.print(faces_table(faces, f"{image}: {len(faces)} face(s)"))


@guarded
def embed(
    paths: Annotated[list[Path], typer.Argument(help="Images and/or folders (searched recursively).")],
    json: JsonFlag = True,
    pack: PackOption = None,
    workers: Annotated[int, typer.Option(help="Worker processes (0 = one per core).")] = -1,
) -> None:
    """Embed every face in every image: one JSON line per image, streamed in input order.

    A file that cannot be read gives an `error` line and the run carries on; the exit code is then 2.
    """
    svc = runtime(pack)
    if workers >= 0:
        svc.settings.engine.workers = workers
    files = iter_image_paths(paths)
    if not files:
        fail("no images found in the given paths")
    bad = 0
    for result in analyse_paths(files, svc.settings, pack_id=pack):
        if result.error is not None:
            bad += 1
            emit({"image": str(result.path), "error": result.error})
            continue
        assert result.faces is not None
        emit({"image": str(result.path), "faces": [f.as_dict(with_embedding=True) for f in result.faces]})
    if bad:
        err.print(f"openfr: {bad} of {len(files)} image(s) could not be read (see their error lines)")
        raise typer.Exit(2)


@guarded
def compare(
    image_a: ImageArg,
    image_b: ImageArg,
    json: JsonFlag = False,
    pack: PackOption = None,
    threshold: Annotated[
        float | None, typer.Option(help="A higher threshold than the calibrated one (never lower; reported).")
    ] = None,
    allow_poor_quality: Annotated[
        bool, typer.Option(help="Compare even if a face fails the quality gate (scores are less reliable).")
    ] = False,
) -> None:
    """Compare the main (largest) face of two photos. A match is a prompt for human review, not proof."""
    svc = runtime(pack)
    engine = svc.engine
    face_a = engine.probe(_load(svc, image_a), name=str(image_a), require_usable=not allow_poor_quality)
    face_b = engine.probe(_load(svc, image_b), name=str(image_b), require_usable=not allow_poor_quality)
    score = engine.similarity(face_a, face_b)
    used = engine.threshold if threshold is None else check_threshold(threshold, engine.card.threshold)
    result = {
        "score": round(score, 4),
        "threshold": round(used, 4),
        "match": score >= used,
        "pack": engine.card.id,
        "quality": {"a": face_a.quality.as_dict(), "b": face_b.quality.as_dict()},  # type: ignore[union-attr]
    }
    if json:
        emit(result)
        return
    verdict = "[bold green]possible match[/]" if result["match"] else "[bold]no match[/]"
    out.print(f"score {score:.3f}  threshold {used:.3f} ({engine.card.id})  ->  {verdict}")
    if result["match"]:
        out.print("A match is a prompt for a trained person to review the two images, never an identification.")
