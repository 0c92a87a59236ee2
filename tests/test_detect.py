import itertools
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from conftest import shared
from openfr.engine.detect import MAX_FACE_AT_INPUT, MIN_FACE_AT_INPUT, ScrfdDetector, _tiles, plan_passes
from openfr.settings import DetectionSettings


@pytest.mark.parametrize(
    ("h", "w", "scales"),
    [
        (250, 250, [1.0]),  # small images: one scan at full resolution, never enlarged
        (112, 92, [1.0]),
        (480, 640, [1.0, 320 / 480]),  # a close-up filling the frame is larger than the detector sees at 1.0
        (1080, 1920, [2 / 3, 320 / 1080]),  # 24 px faces need 2/3; faces over 480 px a coarse scan
        (3024, 4032, [16 / 37.8, 320 / 3024]),  # 12 MP: faces from 1/80 of the shorter side (37.8 px)
        (6144, 8192, [16 / 76.8, 320 / 6144]),  # 50 MP: the same shares
    ],
)
def test_scans_cover_every_face_size_from_min_face_to_the_whole_frame(h, w, scales):
    cfg = DetectionSettings()
    passes = plan_passes(h, w, cfg)
    assert [p.scale for p in passes] == pytest.approx(scales)
    # Together they see faces from the smallest looked for (16 px at the finest input) to the shorter side
    # (320 px at the coarsest), and each scan's range reaches into the next one's.
    smallest = max(cfg.min_face_px, cfg.min_face_fraction * min(h, w))
    assert MIN_FACE_AT_INPUT / passes[0].scale <= smallest * (1 + 1e-9)
    assert MAX_FACE_AT_INPUT / passes[-1].scale >= min(h, w) * (1 - 1e-9)
    for finer, coarser in itertools.pairwise(passes):
        assert MAX_FACE_AT_INPUT / finer.scale >= 2 * MIN_FACE_AT_INPUT / coarser.scale
    big = [p for p in passes if max(h, w) * p.scale > cfg.tile_side]
    assert all(p.tile == cfg.tile_side and p.overlap > 0 for p in big[:-1] if p is not passes[-1])


def test_live_frames_keep_one_scan_and_a_fixed_input_is_letterboxed():
    live = DetectionSettings(min_face_px=40, max_input_side=512, max_face_fraction=0.7)
    assert [p.scale for p in plan_passes(1080, 1920, live)] == [0.4]  # faces 40-800 px in one 768x432 scan
    assert [p.scale for p in plan_passes(720, 1280, live)] == [0.4]
    assert [p.scale for p in plan_passes(250, 250, DetectionSettings(input_size=640))] == [640 / 250]


def test_tiles_overlap_and_cover_the_image():
    windows = _tiles(3000, 4500, 2048, 200)
    covered = np.zeros((3000, 4500), bool)
    for top, left, bottom, right in windows:
        assert bottom - top <= 2048 and right - left <= 2048
        covered[top:bottom, left:right] = True
    assert covered.all() and len(windows) == 6


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


def _portrait(samples, engine, face_px: int) -> np.ndarray:
    """The sample portrait scaled so that its face is about `face_px` across."""
    image = samples["yaoming"]
    factor = face_px / engine.detector.detect(image)[0].width
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=method)


@pytest.mark.parametrize("face_px", [2400, 900, 60, 40])
def test_a_12_megapixel_photo_finds_its_face_close_up_or_far_away(engine, samples, face_px):
    """A 4032x3024 phone photo: a face filling most of the frame, a portrait, or a face in the distance
    (down to 1/80 of the photo's height), wherever it is."""
    canvas = np.full((3024, 4032, 3), 200, np.uint8)
    portrait = _portrait(samples, engine, face_px)
    box = engine.detector.detect(portrait)[0].box.astype(int)
    cy, cx = (box[1] + box[3]) // 2, (box[0] + box[2]) // 2  # the face's centre goes to (1500, 1900)
    src_top, src_left = max(0, cy - 1500), max(0, cx - 1900)
    piece = portrait[src_top : src_top + 3024, src_left : src_left + 4032]
    top, left = 1500 - (cy - src_top), 1900 - (cx - src_left)
    h, w = min(piece.shape[0], 3024 - top), min(piece.shape[1], 4032 - left)
    canvas[top : top + h, left : left + w] = piece[:h, :w]
    found = engine.detector.detect(canvas)
    assert len(found) == 1, [f.box for f in found]
    assert found[0].width == pytest.approx(face_px, rel=0.35)


def test_a_small_face_on_a_tile_border_of_a_50_megapixel_image_is_found_once(engine, samples):
    """Set to find 24 px faces even in 50 MP (min_face_fraction 0), the fine scan is tiled; a face across the
    first tile border is found, once."""
    from openfr.engine.packs.buffalo_s import DETECTOR

    cfg = DetectionSettings(min_face_fraction=0.0)
    detector = ScrfdDetector(DETECTOR.locate(), cfg, threads=2, providers=None)
    canvas = np.full((6144, 8192, 3), 180, np.uint8)
    face = _portrait(samples, engine, 40)
    scan = plan_passes(6144, 8192, cfg)[0]
    assert scan.tile == cfg.tile_side  # the fine scan of 50 MP is tiled
    border = round(cfg.tile_side / scan.scale)  # where the first tile ends, in source pixels
    top, left = 3000, border - face.shape[1] // 2
    canvas[top : top + face.shape[0], left : left + face.shape[1]] = face
    found = detector.detect(canvas)
    assert len(found) == 1 and found[0].width == pytest.approx(40, rel=0.35)
