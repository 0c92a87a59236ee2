"""dlib: Davis King's HOG face detector, 5-point landmarks and ResNet-29 face descriptor (128-d).

Public domain / Boost-licensed code and weights (the weights from `face_recognition_models`), so fit for
operational use. Older and less accurate than ArcFace; the 68-point landmark model in the same wheel is
research-only (trained on iBUG 300-W) and is deliberately not used.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from openfr.engine.detect import sort_and_limit
from openfr.engine.embed import l2_normalise
from openfr.engine.packs.base import OPEN, SHIPPED_CALIBRATIONS, ModelCard, PinnedFile, check_licence, space_id, verify
from openfr.errors import ModelIntegrityError
from openfr.settings import DetectionSettings, Settings
from openfr.types import Face

CARRIER = "face_recognition_models"
PREDICTOR = PinnedFile(
    CARRIER,
    "models/shape_predictor_5_face_landmarks.dat",
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
)
DESCRIPTOR = PinnedFile(
    CARRIER,
    "models/dlib_face_recognition_resnet_model_v1.dat",
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
)
# HOG's sliding window is 80x80 px; one 2x upsampling lets it see faces of about 40 px.
_HOG_WINDOW_PX = 80
# Upsampling huge photos makes HOG very slow for no gain: shrink them to this longest side first.
_MAX_SIDE_PX = 2000
CHIP_SIZE = 150


def _import_dlib():
    try:
        import dlib  # the library (dlib-bin), not a weights carrier: importing it runs no model
    except ImportError:
        raise ModelIntegrityError("the dlib pack needs the 'dlib' extra: pip install 'openfr[dlib]'") from None
    return dlib


class DlibDetector:
    landmark_scheme = "dlib5"

    def __init__(self, predictor: Path, cfg: DetectionSettings):
        self.dlib = _import_dlib()
        self.cfg = cfg
        self.hog = self.dlib.get_frontal_face_detector()
        self.predictor = self.dlib.shape_predictor(str(predictor))
        self.upsample = max(0, min(2, math.ceil(math.log2(_HOG_WINDOW_PX / cfg.min_face_px))))

    def detect(self, image: np.ndarray) -> list[Face]:
        import cv2

        height, width = image.shape[:2]
        scale = min(1.0, _MAX_SIDE_PX / max(height, width))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, margins, _ = self.hog.run(small, self.upsample, 0.0)
        faces = []
        for rect, margin in zip(rects, margins, strict=True):
            # HOG scores are SVM margins (0 = on the decision boundary); a logistic maps them to 0..1
            # so that the boundary is 0.5, in line with the other detectors' score_threshold.
            score = 1.0 / (1.0 + math.exp(-2.0 * margin))
            if score < self.cfg.score_threshold:
                continue
            shape = self.predictor(small, rect)
            points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32) / scale
            box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=np.float32) / scale
            box[[0, 2]] = box[[0, 2]].clip(0, width)
            box[[1, 3]] = box[[1, 3]].clip(0, height)
            face = Face(box=box, score=score, landmarks=points, landmark_scheme="dlib5")
            if min(face.width, face.height) >= self.cfg.min_face_px:
                faces.append(face)
        return sort_and_limit(faces, self.cfg.max_faces)


class DlibEmbedder:
    dim = 128

    def __init__(self, descriptor: Path):
        self.dlib = _import_dlib()
        self.model = self.dlib.face_recognition_model_v1(str(descriptor))

    def crop(self, image: np.ndarray, face: Face) -> np.ndarray:
        x1, y1, x2, y2 = (round(float(v)) for v in face.box)
        rect = self.dlib.rectangle(x1, y1, x2, y2)
        parts = [self.dlib.point(round(float(x)), round(float(y))) for x, y in face.landmarks]
        shape = self.dlib.full_object_detection(rect, parts)
        return np.asarray(self.dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=0.25))

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.compute_face_descriptor([np.ascontiguousarray(c) for c in crops])
        return l2_normalise(np.array([np.asarray(v) for v in vectors], dtype=np.float32))


class DlibPack:
    card = ModelCard(
        id="dlib",
        name="dlib HOG + 5-point landmarks + ResNet face descriptor",
        detector="dlib HOG frontal face detector with 5-point shape predictor",
        embedder="dlib_face_recognition_resnet_model_v1 (ResNet-29, metric learning)",
        embedding_size=128,
        training_data="about 3 million faces of 7,485 identities (FaceScrub, VGG-Face and web images)",
        licence="Public domain weights (Davis King) with Boost-licensed dlib code",
        licence_class=OPEN,
        published_accuracy="LFW 99.38% (dlib, with its CNN detector and 68-point alignment)",
        threshold=0.910,
        threshold_note=(
            "accuracy-maximising threshold on LFW View 1 DevTrain (cosine of L2-normalised descriptors; "
            "dlib's Euclidean 0.6 is cosine 0.82); there FMR 0.82%, FNMR 2.91% (docs/models.md)"
        ),
        files=(PREDICTOR.relpath, DESCRIPTOR.relpath),
        extra={"carrier_package": "face_recognition_models==0.3.0 with dlib-bin"},
        embedder_sha256=DESCRIPTOR.sha256,
        calibration_file=SHIPPED_CALIBRATIONS / "dlib.json",
    )

    def available(self) -> tuple[bool, str]:
        try:
            where = str(PREDICTOR.locate().parent)
        except ModelIntegrityError as exc:
            return False, str(exc)
        import importlib.util

        if importlib.util.find_spec("dlib") is None:
            return False, "dlib is not installed (pip install 'openfr[dlib]')"
        return True, where

    def build(self, settings: Settings):
        check_licence(self.card, settings)
        predictor = verify(PREDICTOR.locate(), PREDICTOR.sha256)
        descriptor = verify(DESCRIPTOR.locate(), DESCRIPTOR.sha256)
        return (
            DlibDetector(predictor, settings.detection),
            DlibEmbedder(descriptor),
            space_id(self.card.id, DESCRIPTOR.sha256),
        )
