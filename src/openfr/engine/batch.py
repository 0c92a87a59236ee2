"""Run the engine over many image files on every core, streaming results in input order.

One worker process per core, each with its own single-threaded onnxruntime sessions, beats one process
with a multi-threaded session on this workload: decoding, resizing and alignment are Python/GIL-bound, and
small detector inputs leave intra-op threads idle. Images are sent in small groups so their faces share
embedding batches, and results come back in order as soon as each group is done.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openfr.engine.onnx import available_cores
from openfr.errors import BadInputError
from openfr.imageio import load_image
from openfr.settings import Settings
from openfr.types import Face


@dataclass(slots=True)
class ImageResult:
    path: Path
    faces: list[Face] | None = None
    error: str | None = None
    size: tuple[int, int] | None = None  # (width, height)

    def main_face(self) -> Face | None:
        """The face an identity-labelled photo is about: among faces covering the image centre, the
        largest; otherwise the largest face. (Custody photos and LFW centre their subject.)"""
        if not self.faces or self.size is None:
            return None
        cx, cy = self.size[0] / 2, self.size[1] / 2
        covering = [f for f in self.faces if f.box[0] <= cx <= f.box[2] and f.box[1] <= cy <= f.box[3]]
        return max(covering or self.faces, key=lambda f: f.area)


_engine = None
_settings: Settings | None = None


def _init_worker(settings_json: str, pack_id: str | None) -> None:
    global _engine, _settings
    from openfr.engine.pipeline import load_engine

    _settings = Settings.model_validate_json(settings_json)
    _engine = load_engine(_settings, pack_id)


def _process_group(paths: list[Path]) -> list[ImageResult]:
    assert _engine is not None and _settings is not None
    results: list[ImageResult] = []
    images = []
    for path in paths:
        try:
            image = load_image(path, max_pixels=_settings.engine.max_image_pixels)
        except BadInputError as exc:
            results.append(ImageResult(path, error=str(exc)))
            continue
        results.append(ImageResult(path, size=(image.shape[1], image.shape[0])))
        images.append(image)
    analysed = iter(_engine.analyse_many(images))
    for result in results:
        if result.error is None:
            result.faces = next(analysed)
    return results


def plan_workers(settings: Settings, n_items: int) -> tuple[int, int]:
    """(worker processes, threads per worker)."""
    cores = available_cores()
    workers = settings.engine.workers or cores
    workers = max(1, min(workers, n_items))
    threads = settings.engine.threads or max(1, cores // workers)
    return workers, threads


def analyse_paths(
    paths: list[Path], settings: Settings, *, pack_id: str | None = None, group: int = 8
) -> Iterator[ImageResult]:
    """Yield one `ImageResult` per path, in order. Bad files give an `error`, never an exception."""
    if not paths:
        return
    workers, threads = plan_workers(settings, len(paths))
    worker_settings = settings.model_copy(deep=True)
    worker_settings.engine.threads = threads
    payload = worker_settings.model_dump_json()
    groups = [paths[i : i + group] for i in range(0, len(paths), group)]
    if workers == 1:
        _init_worker(payload, pack_id)
        for chunk in groups:
            yield from _process_group(chunk)
        return
    # spawn, not fork: onnxruntime's thread pools do not survive a fork safely.
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(payload, pack_id)) as pool:
        for chunk_results in pool.imap(_process_group, groups):
            yield from chunk_results
