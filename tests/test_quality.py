import cv2
import numpy as np
import pytest

from openfr.engine.quality import assess, pose_from_landmarks
from openfr.settings import QualitySettings
from openfr.types import Face


def _face(landmarks, score=0.9, scheme="scrfd5") -> Face:
    pts = np.asarray(landmarks, dtype=np.float32)
    box = np.array([pts[:, 0].min() - 20, pts[:, 1].min() - 30, pts[:, 0].max() + 20, pts[:, 1].max() + 20])
    return Face(box=box.astype(np.float32), score=score, landmarks=pts, landmark_scheme=scheme)


FRONTAL = [[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [41.5, 92.4], [70.7, 92.2]]


def test_frontal_template_reads_as_frontal():
    yaw, pitch, roll = pose_from_landmarks(_face(FRONTAL))
    assert abs(yaw) < 2 and abs(pitch) < 2 and abs(roll) < 1


def test_nose_towards_one_eye_reads_as_yaw_with_sign():
    turned = [p[:] for p in FRONTAL]
    turned[2] = [56.0 + 14.0, 71.7]  # nose 0.4 inter-eye distances to the right
    yaw, _, _ = pose_from_landmarks(_face(turned))
    assert 30 < yaw < 45
    turned[2] = [56.0 - 14.0, 71.7]
    assert pose_from_landmarks(_face(turned))[0] == pytest.approx(-yaw, abs=0.5)


def test_rolled_face_reports_roll_not_yaw():
    centre = np.array([56.0, 72.0])
    angle = np.deg2rad(25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rolled = (np.asarray(FRONTAL) - centre) @ rot.T + centre
    yaw, pitch, roll = pose_from_landmarks(_face(rolled))
    assert roll == pytest.approx(25, abs=1) and abs(yaw) < 2 and abs(pitch) < 2


def test_real_face_is_usable_and_blurring_it_is_not(engine, samples):
    image = samples["yaoming"]
    face = engine.detect(image)[0]
    assert face.quality.usable, face.quality.reasons
    blurred = cv2.GaussianBlur(image, (0, 0), 4)
    soft = engine.detect(blurred)
    assert soft, "a blurred face is still detected"
    assert soft[0].quality.blur < face.quality.blur / 3
    assert any("blurred" in r for r in soft[0].quality.reasons)


def test_small_face_fails_on_eye_distance(engine, samples):
    image = samples["yaoming"]
    small = cv2.resize(image, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    canvas = np.full((160, 160, 3), 127, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    face = engine.detect(canvas)[0]
    assert face.quality.inter_eye_px < 16
    assert not face.quality.usable and "apart" in face.quality.reasons[0]


def test_every_reason_is_reported():
    face = _face(FRONTAL, score=0.3)
    crop = np.full((112, 112, 3), 100, np.uint8)  # flat: zero sharpness
    q = assess(face, crop, QualitySettings(min_inter_eye_px=50))
    assert len(q.reasons) == 3 and not q.usable
    assert q.as_dict()["reasons"] == list(q.reasons)
