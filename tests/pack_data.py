"""A model pack as a force would supply one (`onnx-dir`): buffalo_s's weights copied into a folder with the
pack's manifest, for the pack and calibration tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from openfr.engine.packs.buffalo_s import DETECTOR, EMBEDDER


def onnx_dir_pack(root: Path, **manifest_changes) -> Path:
    """The folder `root/pack` holding det.onnx, rec.onnx and openfr-pack.json; `manifest_changes` replace
    manifest fields (id, licence_class, ...)."""
    folder = root / "pack"
    folder.mkdir(parents=True)
    shutil.copy(DETECTOR.locate(), folder / "det.onnx")
    shutil.copy(EMBEDDER.locate(), folder / "rec.onnx")
    manifest = {
        "id": "mbf-copy",
        "name": "buffalo_s files in a folder",
        "licence": "non-commercial research",
        "licence_class": "research",
        "training_data": "WebFace600K",
        "threshold": 0.25,
        "detector": {"file": "det.onnx", "sha256": DETECTOR.sha256},
        "embedder": {"file": "rec.onnx", "sha256": EMBEDDER.sha256},
    } | manifest_changes
    (folder / "openfr-pack.json").write_text(json.dumps(manifest))
    return folder
