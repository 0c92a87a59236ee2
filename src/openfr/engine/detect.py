"""SCRFD face detection (InsightFace), decoded here for any input size, at every scale a face may need.

SCRFD predicts, on stride-8/16/32 feature maps with two anchors per cell, a face score, distances from
the anchor centre to the four box sides, and offsets to five landmarks. The network is fully
convolutional, so we size its input to the image (a multiple of 32) rather than always 640x640. It sees
faces between about 16 and 320 px at its input: a single scale cannot cover both a 24 px face and a close-up
in a 12 MP photo, so large images are scanned at a fine scale (in tiles when big) and a coarse one, and the
detections are merged by non-maximum suppression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from openfr.engine.onnx import make_session
from openfr.settings.engine import DetectionSettings
from openfr.types import Face

_STRIDES = (8, 16, 32)
_ANCHORS_PER_CELL = 2
# What SCRFD-500M sees at its input, measured on real faces scaled step by step (docs/benchmarks.md): from
# about 16 px (recall 92% at 16 px, 99% at 20, 37% at 12) to about 320 px (none found at 384 px or more).
MIN_FACE_AT_INPUT = 16.0
MAX_FACE_AT_INPUT = 320.0
# Between two passes of different scale, at most this factor, so that their face-size bands overlap well.
_PASS_STEP = 8.0
_TILE_MARGIN = 16  # px at the pass's scale, added to the largest face a tile border may cut


class Detector(Protocol):
    landmark_scheme: str

    def detect(self, image: np.ndarray) -> list[Face]: ...


@dataclass(frozen=True)
class ScanPass:
    """One scan of the image at `scale`, in tiles of at most `tile` px (0: the whole image at once).
    `overlap` is how far neighbouring tiles overlap, at the pass's scale: more than the largest face that
    this pass alone must find, so every such face lies whole inside one tile."""

    scale: float
    tile: int = 0
    overlap: int = 0


def plan_passes(height: int, width: int, cfg: DetectionSettings) -> list[ScanPass]:
    """The scans that together find every face from `min_face_px` (or `min_face_fraction` of the shorter
    side, if larger) up to `max_face_fraction` of it, finest first. One scan suffices for most images; a large
    photo gets a fine scan for its small faces plus a coarse one (about 0.1 MP) for faces too large for the
    fine one, and a fine scan larger than `tile_side` is cut into overlapping tiles."""
    if cfg.input_size is not None:
        return [ScanPass(min(cfg.input_size / height, cfg.input_size / width))]
    longest, shortest = max(height, width), min(height, width)
    smallest = max(float(cfg.min_face_px), cfg.min_face_fraction * shortest)
    largest = max(smallest, cfg.max_face_fraction * shortest)
    # The finest scan: small faces at >= MIN_FACE_AT_INPUT, never enlarged, and images up to max_input_side
    # kept at full resolution (landmarks are most precise there).
    scale = min(1.0, max(MIN_FACE_AT_INPUT / smallest, cfg.max_input_side / longest))
    scales, coarsest = [scale], MAX_FACE_AT_INPUT / largest  # the scale at which the largest face fits
    while scales[-1] > coarsest * (1 + 1e-9):  # faces larger than this scan can see need a coarser one
        scales.append(max(scales[-1] / _PASS_STEP, coarsest))
    passes = []
    for i, s in enumerate(scales):
        coarser = scales[i + 1] if i + 1 < len(scales) else None
        big = max(height, width) * s > cfg.tile_side
        if coarser is None or not big:
            passes.append(ScanPass(s))
        else:  # only faces smaller than the coarser scan's smallest can be cut by a tile border and missed
            passes.append(ScanPass(s, cfg.tile_side, math.ceil(MIN_FACE_AT_INPUT * s / coarser) + _TILE_MARGIN))
    return passes


def _tiles(height: int, width: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) windows covering the image, overlapping by `overlap`."""
    if tile <= 0 or (height <= tile and width <= tile):
        return [(0, 0, height, width)]
    step = max(32, tile - overlap)
    tops = list(range(0, max(1, height - overlap), step)) or [0]
    lefts = list(range(0, max(1, width - overlap), step)) or [0]
    return [(top, left, min(height, top + tile), min(width, left + tile)) for top in tops for left in lefts]


class ScrfdDetector:
    landmark_scheme = "scrfd5"

    def __init__(
        self,
        model: Path,
        cfg: DetectionSettings,
        *,
        threads: int,
        providers: list[str] | None,
        spinning: bool = True,
    ):
        self.cfg = cfg
        self.session = make_session(model, threads=threads, providers=providers, spinning=spinning)
        self.input_name = self.session.get_inputs()[0].name
        self._centres: dict[tuple[int, int, int], np.ndarray] = {}

    def detect(self, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        found_boxes, found_scores, found_kps = [], [], []
        source = image
        for scan in plan_passes(height, width, self.cfg):  # finest first: each coarser one resizes the last
            new_w, new_h = max(1, round(width * scan.scale)), max(1, round(height * scan.scale))
            if (new_w, new_h) != source.shape[1::-1]:
                source = resize(source, new_w, new_h)
            sx, sy = new_w / width, new_h / height
            for top, left, bottom, right in _tiles(new_h, new_w, scan.tile, scan.overlap):
                boxes, scores, kps = self._scan(source[top:bottom, left:right])
                if scan.tile:  # a face cut by an inner tile border lies whole inside a neighbouring tile
                    keep = _inside_inner_borders(boxes, top, left, bottom, right, new_h, new_w)
                    boxes, scores, kps = boxes[keep], scores[keep], kps[keep]
                boxes[:, [0, 2]] = (boxes[:, [0, 2]] + left) / sx
                boxes[:, [1, 3]] = (boxes[:, [1, 3]] + top) / sy
                kps[:, :, 0] = (kps[:, :, 0] + left) / sx
                kps[:, :, 1] = (kps[:, :, 1] + top) / sy
                found_boxes.append(boxes)
                found_scores.append(scores)
                found_kps.append(kps)
        return self._select(
            np.concatenate(found_boxes), np.concatenate(found_scores), np.concatenate(found_kps), width, height
        )

    def _scan(self, view: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes, scores and landmarks in `view`'s pixels (letterboxed to a multiple of 32)."""
        h, w = view.shape[:2]
        in_h, in_w = max(32, math.ceil(h / 32) * 32), max(32, math.ceil(w / 32) * 32)
        # Letterbox: the view in the top-left corner, black padding elsewhere, then (x - 127.5) / 128, built
        # in NCHW directly (one strided copy per channel, then in place: the fewest passes over megapixels).
        blob = np.zeros((1, 3, in_h, in_w), dtype=np.float32)
        for channel in range(3):
            blob[0, channel, :h, :w] = view[:, :, channel]
        blob -= 127.5
        blob *= 1 / 128.0
        return self._decode(self.session.run(None, {self.input_name: blob}), in_h, in_w)

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


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shrink by whole factors with pixel averaging (OpenCV's fast path), then the last step of less than 2x
    bilinearly: about as sharp as area averaging all the way, and 5-7x faster on 12 MP photos."""
    factor = min(image.shape[1] / width, image.shape[0] / height)
    whole = int(factor)
    if whole >= 2:
        image = cv2.resize(image, (image.shape[1] // whole, image.shape[0] // whole), interpolation=cv2.INTER_AREA)
    if image.shape[1::-1] == (width, height):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _inside_inner_borders(boxes, top, left, bottom, right, height, width) -> np.ndarray:
    """Detections not touching a tile border that lies inside the image (those are cut faces)."""
    edge = 2.0
    keep = np.ones(len(boxes), dtype=bool)
    if left > 0:
        keep &= boxes[:, 0] > edge
    if top > 0:
        keep &= boxes[:, 1] > edge
    if right < width:
        keep &= boxes[:, 2] < (right - left) - edge
    if bottom < height:
        keep &= boxes[:, 3] < (bottom - top) - edge
    return keep


def sort_and_limit(faces: list[Face], max_faces: int) -> list[Face]:
    """Largest face first (the usual subject of a photo); keep at most `max_faces` (0 = all)."""
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces[:max_faces] if max_faces else faces
