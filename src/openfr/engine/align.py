"""Five-point similarity alignment to the 112x112 ArcFace crop.

The embedder was trained on faces warped so that the eyes, nose tip and mouth corners land on fixed
template points; the same warp at inference is what makes scores comparable across photos.
"""

from __future__ import annotations

import cv2
import numpy as np

CROP_SIZE = 112
# InsightFace's reference landmark positions in a 112x112 crop (left eye, right eye, nose, mouth L, R).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src to dst: a 2x3 matrix.

    Umeyama's closed form, as InsightFace computes it at training time. OpenCV's
    estimateAffinePartial2D fits the same family but through RANSAC/LMedS sampling, which is neither
    exactly least squares nor deterministic across versions.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / var_src if var_src > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = dst_mean - scale * rot @ src_mean
    return matrix


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Warp `image` so the five landmarks meet the ArcFace template; returns size x size x 3 uint8."""
    template = ARCFACE_TEMPLATE * (size / CROP_SIZE)
    matrix = similarity_transform(landmarks, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
