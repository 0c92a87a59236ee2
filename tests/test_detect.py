import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from conftest import shared
from openfr.engine.detect import ScrfdDetector, plan_input
from openfr.settings import DetectionSettings


@pytest.mark.parametrize(
    ("h", "w", "expected"),
    [
        (250, 250, (1.0, 256, 256)),  # small images are never enlarged, only padded to a multiple of 32
        (112, 92, (1.0, 128, 96)),
        (720, 1280, (2 / 3, 480, 864)),  # shrink limited by min_face_px=24: 16/24
        (4000, 3000, (2 / 3, 2688, 2016)),
    ],
)
def test_input_plan_fits_the_image(h, w, expected):
    scale, in_h, in_w = plan_input(h, w, DetectionSettings())
    assert scale == pytest.approx(expected[0])
    assert (in_h, in_w) == expected[1:]
    assert in_h % 32 == 0 and in_w % 32 == 0


def test_input_plan_with_large_min_face_shrinks_to_max_side():
    scale, in_h, in_w = plan_input(1080, 1920, DetectionSettings(min_face_px=64))
    assert scale == pytest.approx(640 / 1920) and max(in_h, in_w) == 640


def test_fixed_input_size_is_letterboxed():
    assert plan_input(250, 250, DetectionSettings(input_size=640)) == (640 / 250, 640, 640)


def test_finds_the_team(engine, samples):
    faces = engine.detector.detect(samples["players"])
    assert len(faces) >= 14  # 17 people; a few are partly hidden
    for face in faces:
        assert face.box[0] < face.landmarks[:, 0].mean() < face.box[2]
        assert face.box[1] < face.landmarks[:, 1].mean() < face.box[3]
        left, right = face.eye_centres()
        assert left[0] < right[0] and face.landmarks[2][1] > left[1]  # nose below the eyes


def test_adaptive_and_fixed_inputs_agree(engine, samples):
    adaptive = engine.detector.detect(samples["yaoming"])
    from openfr.engine.packs.buffalo_s import DETECTOR

    fixed_detector = ScrfdDetector(DETECTOR.locate(), DetectionSettings(input_size=640), threads=1, providers=None)
    fixed = fixed_detector.detect(samples["yaoming"])
    assert len(adaptive) == len(fixed) == 1
    assert np.abs(adaptive[0].box - fixed[0].box).max() < 6
    assert np.abs(adaptive[0].landmarks - fixed[0].landmarks).max() < 4


def test_small_faces_down_to_about_24px(engine, samples):
    """Shrink a portrait until the face is ~26 px across: still found; below min_face_px it is dropped."""
    image = samples["yaoming"]
    face_px = engine.detector.detect(image)[0].width
    for target, expect in ((26, 1), (18, 0)):
        factor = target / face_px
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        canvas = np.full((200, 200, 3), 127, np.uint8)
        canvas[: small.shape[0], : small.shape[1]] = small[:200, :200]
        assert len(engine.detector.detect(canvas)) == expect, target


def _iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _ground_truth():
    folder = shared("dlib_face_boxes")
    truth = {}
    for xml in ("training.xml", "testing.xml"):
        for image in ET.parse(folder / xml).getroot().iter("image"):
            boxes = []
            for box in image.iter("box"):
                if box.get("ignore") == "1":
                    continue
                top, left = float(box.get("top")), float(box.get("left"))
                boxes.append((left, top, left + float(box.get("width")), top + float(box.get("height"))))
            truth[folder / image.get("file")] = boxes
    return truth


@pytest.mark.shared_data
def test_recall_and_precision_against_hand_drawn_boxes(engine):
    """dlib's hand-labelled faces: square boxes from brow to chin, so IoU >= 0.3 counts as found."""
    from openfr.imageio import load_image

    hits = misses = false = 0
    for path, truth in _ground_truth().items():
        found = [f.box for f in engine.detector.detect(load_image(path))]
        matched = set()
        for gt in truth:
            best = max(range(len(found)), key=lambda i: _iou(gt, found[i]), default=None)
            if best is not None and best not in matched and _iou(gt, found[best]) >= 0.3:
                matched.add(best)
                hits += 1
            else:
                misses += 1
        false += len(found) - len(matched)
    recall = hits / (hits + misses)
    precision = hits / max(hits + false, 1)
    assert hits + misses >= 40
    assert recall >= 0.9, (hits, misses)
    assert precision >= 0.85, (hits, false)
