"""SCRFD face detection (InsightFace), decoded here for any input size.

SCRFD predicts, on stride-8/16/32 feature maps with two anchors per cell, a face score, distances from
the anchor centre to the four box sides, and offsets to five landmarks. The network is fully
convolutional, so we size its input to the image (a multiple of 32) rather than always 640x640.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from openfr.engine.onnx import make_session
from openfr.settings import DetectionSettings
from openfr.types import Face

_STRIDES = (8, 16, 32)
_ANCHORS_PER_CELL = 2
# SCRFD detects faces down to about this many pixels at its input; below it recall collapses.
DETECTOR_MIN_FACE_PX = 16.0


class Detector(Protocol):
    landmark_scheme: str

    def detect(self, image: np.ndarray) -> list[Face]: ...


def plan_input(height: int, width: int, cfg: DetectionSettings) -> tuple[float, int, int]:
    """Choose the resize scale and the (height, width) of the padded network input for one image."""
    if cfg.input_size is not None:
        side = cfg.input_size
        scale = min(side / height, side / width)
        return scale, side, side
    longest = max(height, width)
    scale = min(1.0, cfg.max_input_side / longest)
    # Never shrink so far that the smallest face we promised to find drops below what SCRFD can see.
    scale = min(1.0, max(scale, DETECTOR_MIN_FACE_PX / cfg.min_face_px))
    in_h = max(32, math.ceil(height * scale / 32) * 32)
    in_w = max(32, math.ceil(width * scale / 32) * 32)
    return scale, in_h, in_w


class ScrfdDetector:
    landmark_scheme = "scrfd5"

    def __init__(self, model: Path, cfg: DetectionSettings, *, threads: int, providers: list[str] | None):
        self.cfg = cfg
        self.session = make_session(model, threads=threads, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self._centres: dict[tuple[int, int, int], np.ndarray] = {}

    def detect(self, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        scale, in_h, in_w = plan_input(height, width, self.cfg)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = (
            image
            if (new_w, new_h) == (width, height)
            else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        )
        # Letterbox: image in the top-left corner, zero padding (= mean after normalisation) elsewhere.
        canvas = np.zeros((in_h, in_w, 3), dtype=np.float32)
        canvas[:new_h, :new_w] = resized
        blob = ((canvas - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outputs = self.session.run(None, {self.input_name: blob})
        boxes, scores, kps = self._decode(outputs, in_h, in_w)
        scale_x, scale_y = new_w / width, new_h / height
        boxes[:, [0, 2]] /= scale_x
        boxes[:, [1, 3]] /= scale_y
        kps[:, :, 0] /= scale_x
        kps[:, :, 1] /= scale_y
        return self._select(boxes, scores, kps, width, height)

    def _anchor_centres(self, fh: int, fw: int, stride: int) -> np.ndarray:
        key = (fh, fw, stride)
        if key not in self._centres:
            ys, xs = np.mgrid[:fh, :fw]
            centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
            self._centres[key] = np.repeat(centres, _ANCHORS_PER_CELL, axis=0)
        return self._centres[key]

    def _decode(self, outputs: list[np.ndarray], in_h: int, in_w: int):
        n = len(_STRIDES)
        all_boxes, all_scores, all_kps = [], [], []
        for i, stride in enumerate(_STRIDES):
            scores = outputs[i].reshape(-1)
            keep = np.flatnonzero(scores >= self.cfg.score_threshold)
            if keep.size == 0:
                continue
            centres = self._anchor_centres(math.ceil(in_h / stride), math.ceil(in_w / stride), stride)[keep]
            dist = outputs[i + n].reshape(-1, 4)[keep] * stride
            offs = outputs[i + 2 * n].reshape(-1, 10)[keep].reshape(-1, 5, 2) * stride
            all_boxes.append(np.concatenate([centres - dist[:, :2], centres + dist[:, 2:]], axis=1))
            all_kps.append(centres[:, None, :] + offs)
            all_scores.append(scores[keep])
        if not all_boxes:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
        return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_kps)

    def _select(self, boxes, scores, kps, width: int, height: int) -> list[Face]:
        if len(scores) == 0:
            return []
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.cfg.score_threshold, self.cfg.nms_iou)
        keep = np.asarray(keep, dtype=np.int64).reshape(-1)
        faces: list[Face] = []
        for idx in keep:
            box = boxes[idx].copy()
            box[[0, 2]] = box[[0, 2]].clip(0, width)
            box[[1, 3]] = box[[1, 3]].clip(0, height)
            face = Face(box=box, score=float(scores[idx]), landmarks=kps[idx].astype(np.float32))
            if min(face.width, face.height) >= self.cfg.min_face_px:
                faces.append(face)
        return sort_and_limit(faces, self.cfg.max_faces)


def sort_and_limit(faces: list[Face], max_faces: int) -> list[Face]:
    """Largest face first (the usual subject of a photo); keep at most `max_faces` (0 = all)."""
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces[:max_faces] if max_faces else faces
