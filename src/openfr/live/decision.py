"""Per-track memory of a camera worker: which shots are worth embedding, and when a match becomes an alert.

Everything here lives in memory only and is forgotten when the track ends. Nothing about a face that matches
no one is ever written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openfr.live.watchlist import WatchEntry
from openfr.types import Quality


def shot_score(quality: Quality) -> float:
    """How good a shot is for recognition, 0..1: detector confidence, face size (inter-eye distance up to
    60 px counts), frontalness and sharpness. Only compares shots of the same track."""
    size = min(quality.inter_eye_px / 60.0, 1.0)
    pose = max(0.0, 1 - abs(quality.yaw) / 60.0) * max(0.0, 1 - abs(quality.pitch) / 60.0)
    sharp = min(quality.blur / 150.0, 1.0)
    return quality.det_score * (0.4 + 0.6 * size) * (0.4 + 0.6 * pose) * (0.6 + 0.4 * sharp)


@dataclass(frozen=True)
class DecisionPolicy:
    """The alerting rules of one deployment (or one `openfr watch`)."""

    threshold: float  # similarity at or above which a shot counts as a match
    consistent_shots: int = 1  # matching shots of the same subject in one track before an alert
    better_shot_gain: float = 0.15  # re-embed when a shot scores this much (relative) above the track's best
    max_embeds_per_track: int = 8  # bound on the embedding work one passer-by can cause
    cooldown_s: float = 60.0  # no second alert for a subject on the same camera within this (stream time)
    replace_margin: float = 0.05  # a later match of someone else replaces the track's alert only this far above


@dataclass
class TrackState:
    id: int
    first_frame: int
    last_frame: int
    last_seen: float  # stream seconds
    first_usable_frame: int | None = None
    first_usable_at: float | None = None  # time.monotonic() when that frame was decoded
    best_shot: float = -1.0
    embeds: int = 0
    matches: dict[str, int] = field(default_factory=dict)  # subject -> matching shots so far
    alerted: str | None = None  # the subject this track alerted on (at most one at a time)
    alerted_score: float = -1.0

    def wants_embedding(self, quality: Quality, policy: DecisionPolicy) -> bool:
        """Embed a usable shot when the track has none yet or this one is clearly better: each embedding
        costs about 20 ms of CPU, and a better shot is the only thing that can change the answer."""
        if not quality.usable or self.embeds >= policy.max_embeds_per_track:
            return False
        score = shot_score(quality)
        if self.embeds and score < self.best_shot * (1 + policy.better_shot_gain):
            return False
        self.best_shot = max(self.best_shot, score)
        self.embeds += 1
        return True

    def matches_to_alert(
        self, ranked: list[tuple[WatchEntry, float]], policy: DecisionPolicy
    ) -> list[tuple[WatchEntry, float, str | None]]:
        """The alert this shot completes, if any: (entry, score, subject it replaces or None).

        One passer-by is one track and raises at most one alert, for the subject that scores best: a face
        scoring above the threshold against three look-alikes is one false alert, not three. Only the best
        match of each shot counts. A later shot may replace the track's alert with someone else's when it
        scores `replace_margin` above it (a clearly better view); the replacement is recorded as such."""
        if not ranked or ranked[0][1] < policy.threshold:
            return []
        entry, score = ranked[0]  # ranked best first
        if entry.subject == self.alerted:
            self.alerted_score = max(self.alerted_score, score)
            return []
        self.matches[entry.subject] = self.matches.get(entry.subject, 0) + 1
        if self.matches[entry.subject] < policy.consistent_shots:
            return []
        if self.alerted is not None and score < self.alerted_score + policy.replace_margin:
            return []
        replaced, self.alerted, self.alerted_score = self.alerted, entry.subject, score
        return [(entry, score, replaced)]
