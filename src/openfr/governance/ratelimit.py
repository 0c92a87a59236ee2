"""Limits on failed sign-ins per client address, on top of the per-account lockout.

Two windows, failures only: one address guessing one account (10 failures in 5 minutes) waits, and so does
one address spraying many accounts (50). Counting per account and address means a colleague's typos behind
a control room's shared address never lock everyone else out; counting only failures means a room signing
in together is never turned away.
"""

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


class LoginGuard:
    """Per (address, account) and per address: both must allow a sign-in attempt."""

    def __init__(self, per_account: int = 10, per_address: int = 50, window_s: float = 300):
        self.accounts = SlidingWindowLimit(per_account, window_s)
        self.addresses = SlidingWindowLimit(per_address, window_s)

    def allow(self, address: str, username: str) -> bool:
        return self.accounts.allow(f"{address}\0{username.lower()}") and self.addresses.allow(address)

    def failed(self, address: str, username: str) -> None:
        self.accounts.failed(f"{address}\0{username.lower()}")
        self.addresses.failed(address)
