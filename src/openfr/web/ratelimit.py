"""A sliding-window limit on failed logins per client address, on top of the per-account lockout: the
lockout stops guessing one password, this stops one address trying many accounts. Only failures count, so
a control room signing in together from behind one address is never turned away."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SlidingWindowLimit:
    def __init__(self, attempts: int, window_s: float):
        self.attempts, self.window_s = attempts, window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """False once `key` has failed `attempts` times within the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen[key]
            while seen and now - seen[0] > self.window_s:
                seen.popleft()
            return len(seen) < self.attempts

    def failed(self, key: str, now: float | None = None) -> None:
        with self._lock:
            self._seen[key].append(time.monotonic() if now is None else now)
