"""Face quality: is this face fit to search with, and if not, why not.

Every measurement is kept (not just the verdict) so an operator or auditor can see why a probe was refused,
and so thresholds can be re-tuned from recorded data. Pose comes from the 2-D landmarks alone: a coarse
estimate, good enough to turn away profiles, not a head-pose model.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from openfr.settings.engine import QualitySettings
from openfr.types import Face, Quality

# In a frontal face the nose point sits about this far below the eye line, as a fraction of the inter-eye
# distance: the tip for SCRFD (ArcFace template: (71.7 - 51.6) / 35.2), the base for dlib's 5 points.
_NEUTRAL_NOSE_DROP = {"scrfd5": 0.57, "dlib5": 0.78}
_NOSE_DEPTH = 0.5  # nose-tip protrusion, inter-eye units (anthropometric average)
# Effective lever for nodding. Natural variation in nose length alone spreads the frontal drop from about
# 0.38 to 0.76 (1st-99th percentile on LFW); a lever of 0.8 maps that spread to roughly +-15 degrees instead
# of saturating at the model's limit and rejecting ordinary frontal faces as "tilted".
_PITCH_LEVER = 0.8


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the grey crop: high for crisp edges, low for blur."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def pose_from_landmarks(face: Face) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from eye centres and nose tip."""
    left, right = face.eye_centres()
    nose = face.nose()
    eye_vec = right - left
    inter_eye = float(np.hypot(*eye_vec))
    if inter_eye < 1e-6:
        return 90.0, 90.0, 0.0
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # Express the nose in the eye-line frame: x along the eyes from their midpoint, y perpendicular.
    unit = eye_vec / inter_eye
    rel = nose - (left + right) / 2.0
    along = float(rel @ unit) / inter_eye
    across = float(rel[0] * -unit[1] + rel[1] * unit[0]) / inter_eye
    # Simple head model, in inter-eye units: the nose tip sits NOSE_DROP below the eye line and NOSE_DEPTH in
    # front of it. Turning moves it sideways by depth*sin(yaw) while the eyes close up by cos(yaw), so the
    # measured offset is depth*tan(yaw); nodding changes its drop to
    # drop*cos(pitch) - depth*sin(pitch), i.e. R*cos(pitch + phi).
    yaw = math.degrees(math.atan(along / _NOSE_DEPTH))
    neutral_drop = _NEUTRAL_NOSE_DROP.get(face.landmark_scheme, 0.57)
    radius = math.hypot(neutral_drop, _PITCH_LEVER)
    phi = math.atan2(_PITCH_LEVER, neutral_drop)
    pitch = math.degrees(math.acos(max(-1.0, min(1.0, across / radius))) - phi)
    return yaw, pitch, roll


def assess(face: Face, crop: np.ndarray, cfg: QualitySettings) -> Quality:
    left, right = face.eye_centres()
    inter_eye = float(np.hypot(*(right - left)))
    yaw, pitch, roll = pose_from_landmarks(face)
    blur = sharpness(crop)
    reasons = []
    if inter_eye < cfg.min_inter_eye_px:
        reasons.append(f"eyes {inter_eye:.0f}px apart (< {cfg.min_inter_eye_px:g})")
    if blur < cfg.min_blur:
        reasons.append(f"blurred (sharpness {blur:.0f} < {cfg.min_blur:g})")
    if abs(yaw) > cfg.max_yaw:
        reasons.append(f"turned {abs(yaw):.0f} degrees (> {cfg.max_yaw:g})")
    if abs(pitch) > cfg.max_pitch:
        reasons.append(f"tilted {abs(pitch):.0f} degrees (> {cfg.max_pitch:g})")
    if face.score < cfg.min_det_score:
        reasons.append(f"detector score {face.score:.2f} (< {cfg.min_det_score:g})")
    return Quality(
        face_px=min(face.width, face.height),
        inter_eye_px=inter_eye,
        blur=blur,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        det_score=face.score,
        reasons=tuple(reasons),
    )
