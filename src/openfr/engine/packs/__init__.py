"""Model-pack registry. Built-in packs register themselves here the way plugins would; a deployment can
register its own with `register_pack` before the engine is loaded."""

from __future__ import annotations

from collections.abc import Callable

from openfr.engine.packs.base import ModelCard, ModelPack, PinnedFile, locate_in_package, verify
from openfr.engine.packs.buffalo_s import BuffaloSPack
from openfr.engine.packs.dlib_pack import DlibPack
from openfr.engine.packs.onnx_dir import OnnxDirPack
from openfr.errors import ConfigurationError
from openfr.settings import Settings

PackFactory = Callable[[Settings], ModelPack]
_REGISTRY: dict[str, PackFactory] = {}


def register_pack(pack_id: str, factory: PackFactory) -> None:
    _REGISTRY[pack_id] = factory


def pack_ids() -> list[str]:
    return list(_REGISTRY)


def get_pack(settings: Settings, pack_id: str | None = None) -> ModelPack:
    wanted = pack_id or settings.model_pack
    if wanted not in _REGISTRY:
        raise ConfigurationError(f"unknown model pack '{wanted}' (known: {', '.join(_REGISTRY)})")
    return _REGISTRY[wanted](settings)


register_pack("buffalo_s", lambda settings: BuffaloSPack())
register_pack("dlib", lambda settings: DlibPack())
register_pack("onnx-dir", lambda settings: OnnxDirPack(settings.model_dir))

__all__ = [
    "ModelCard",
    "ModelPack",
    "PinnedFile",
    "get_pack",
    "locate_in_package",
    "pack_ids",
    "register_pack",
    "verify",
]
