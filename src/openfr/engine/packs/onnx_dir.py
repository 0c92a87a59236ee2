"""onnx-dir: a pack the force supplies itself, a folder of ONNX files described by `openfr-pack.json`.

For example InsightFace's buffalo_l (`det_10g.onnx` + `w600k_r50.onnx`) or a licensed vendor model in the
same SCRFD/ArcFace layout. The manifest pins each file's SHA-256 and carries the model card, so the same
integrity and licence checks apply as for the bundled packs. The pack's identification calibration lives in
the same folder (`identification-calibration.json`, written by `openfr evaluate calibrate`): without it a
live deployment is refused, since only it gives a threshold for a watchlist's size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from openfr.engine.packs.base import ModelCard, check_licence, scrfd_arcface, space_id, verify
from openfr.errors import ConfigurationError, ModelIntegrityError
from openfr.settings import Settings

MANIFEST = "openfr-pack.json"
CALIBRATION = "identification-calibration.json"


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    name: str
    licence: str
    licence_class: Literal["research", "open", "vendor"]
    training_data: str
    published_accuracy: str = "not stated"
    threshold: float = Field(ge=-1.0, le=1.0)
    threshold_note: str = "set by the supplier of this pack"
    detector: _FileEntry
    embedder: _FileEntry


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConfigurationError(f"onnx-dir pack: {path} not found") from None
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigurationError(f"onnx-dir pack: {path} is invalid ({first})") from None


class OnnxDirPack:
    def __init__(self, folder: Path | None):
        self.folder = folder
        self.manifest = read_manifest(folder) if folder is not None and (folder / MANIFEST).exists() else None
        m = self.manifest
        self.card = ModelCard(
            id="onnx-dir" if m is None else f"onnx-dir:{m.id}",
            name="User-supplied ONNX folder" if m is None else m.name,
            detector="SCRFD-layout ONNX detector" if m is None else f"{m.detector.file} (SCRFD layout)",
            embedder="ArcFace-layout ONNX embedder" if m is None else f"{m.embedder.file} (ArcFace layout)",
            embedding_size=0,
            training_data="as stated in the manifest" if m is None else m.training_data,
            licence="as stated in the manifest" if m is None else m.licence,
            licence_class="vendor" if m is None else m.licence_class,
            published_accuracy="as stated in the manifest" if m is None else m.published_accuracy,
            threshold=0.0 if m is None else m.threshold,
            threshold_note="from the manifest" if m is None else m.threshold_note,
            files=() if m is None else (m.detector.file, m.embedder.file),
            embedder_sha256="" if m is None else m.embedder.sha256.lower(),
            calibration_file=None if folder is None else folder / CALIBRATION,
        )

    def available(self) -> tuple[bool, str]:
        if self.folder is None:
            return False, "set OPENFR_MODEL_DIR to a folder holding openfr-pack.json"
        if self.manifest is None:
            return False, f"no {MANIFEST} in {self.folder}"
        return True, str(self.folder)

    def build(self, settings: Settings):
        if self.folder is None:
            raise ConfigurationError("model pack onnx-dir needs OPENFR_MODEL_DIR (a folder with openfr-pack.json)")
        m = self.manifest or read_manifest(self.folder)
        check_licence(self.card, settings)
        paths = {}
        for role, entry in (("detector", m.detector), ("embedder", m.embedder)):
            path = (self.folder / entry.file).resolve()
            if not path.is_file():
                raise ModelIntegrityError(f"onnx-dir pack: {role} file {entry.file} not found in {self.folder}")
            paths[role] = verify(path, entry.sha256)
        detector, embedder = scrfd_arcface(paths["detector"], paths["embedder"], settings)
        return detector, embedder, space_id(f"onnx-dir:{m.id}", m.embedder.sha256)
