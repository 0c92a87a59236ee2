"""Face tracks across frames, from Roboflow's `trackers` ByteTrack (Kalman motion + IoU association).

A track lets the worker treat the many frames of one passer-by as one person: embed a few of the best shots
instead of every face in every frame, and raise at most one alert per track and subject.
"""

from __future__ import annotations

import numpy as np

from openfr.types import Face


class FaceTracker:
    def __init__(self, *, frame_rate: float, lost_after_s: float, min_iou: float = 0.1):
        """`lost_after_s`: how long a face may go undetected (turned away, occluded) and keep its track.
        Longer bridges gaps and so avoids a second alert for the same passer-by; too long lets a new person
        who steps into the same place inherit the track."""
        from trackers import ByteTrackTracker

        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_after_s * 30)),  # counted in 30 fps frames, scaled by frame_rate
            frame_rate=max(frame_rate, 1.0),
            track_activation_threshold=0.5,
            minimum_consecutive_frames=1,  # a face is worth following from its first sighting
            minimum_iou_threshold=min_iou,
            high_conf_det_threshold=0.6,
        )

    def update(self, faces: list[Face]) -> list[int]:
        """Track id of each face (same order), or -1 for a face the tracker did not take up."""
        import supervision as sv

        if not faces:
            self._tracker.update(sv.Detections.empty())
            return []
        detections = sv.Detections(
            xyxy=np.stack([f.box for f in faces]).astype(np.float32),
            confidence=np.array([f.score for f in faces], dtype=np.float32),
            data={"face": np.arange(len(faces))},
        )
        tracked = self._tracker.update(detections)
        ids = [-1] * len(faces)
        if tracked.tracker_id is not None:
            for face_index, track_id in zip(tracked.data["face"], tracked.tracker_id, strict=True):
                ids[int(face_index)] = int(track_id)
        return ids
