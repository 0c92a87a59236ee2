"""Failed sign-ins slow down the address they come from; they never lock a right password out for long.

A refusal that holds for minutes lets anyone behind a control room's shared address (or a spray of made-up
names from it) shut out every colleague signing in correctly. So failures buy delay instead: after
FREE_PER_ADDRESS failed attempts from one address (FREE_PER_ACCOUNT for one account from one address) within
WINDOW_S, each further attempt from there waits, the wait doubling with each failure up to MAX_DELAY_S. The
wait is awaited by the door without holding a thread (`AccountService.wait_turn`), and the service refuses
(429 with Retry-After) an attempt that did not wait; at most WAITING_PER_ADDRESS attempts from one address
wait at once, so a flood cannot pile up. A right password still signs in, after the wait: a guesser gets
one try per MAX_DELAY_S per address, a colleague a few seconds' pause. Guessing one account from many
addresses is stopped by the account's own lockout (governance/credentials.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

FREE_PER_ADDRESS = 10  # failures from one address before its attempts are slowed (a room of typos is free)
FREE_PER_ACCOUNT = 3  # failures for one account from one address before they are slowed
BASE_DELAY_S = 0.5  # the first wait; each failure beyond the free ones doubles it
MAX_DELAY_S = 10.0  # the longest wait between attempts: a person waits seconds, a guesser minutes per dozen
WINDOW_S = 300.0  # failures older than this are forgotten
WAITING_PER_ADDRESS = 8  # attempts from one address waiting at once; more are refused at once (429)
TURN_S = 300.0  # how long a turn waited for stays good: the attempt may still queue for the CPU behind others


class TooSoon(Exception):  # noqa: N818 - a signal between the throttle and the account service
    def __init__(self, retry_after: float):
        self.retry_after = retry_after


@dataclass(frozen=True)
class Turn:
    """Proof that an attempt waited what its address owed when it arrived: failures that land while it then
    queues for the CPU do not send it back (they slow the attempts after it)."""

    address: str
    username: str
    at: float


class LoginThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._waiting: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures[key]
        while seen and now - seen[0] > WINDOW_S:
            seen.popleft()
        return seen

    def _not_before(self, key: str, free: int, now: float) -> float:
        seen = self._recent(key, now)
        beyond = len(seen) - free
        if beyond < 0:
            return 0.0
        return seen[-1] + min(MAX_DELAY_S, BASE_DELAY_S * 2**beyond)

    def wait_s(self, address: str, username: str, now: float | None = None) -> float:
        """How long an attempt from `address` for `username` must wait before it may be tried (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until = max(
                self._not_before(address, FREE_PER_ADDRESS, now),
                self._not_before(f"{address}\0{username.lower()}", FREE_PER_ACCOUNT, now),
            )
        return max(0.0, until - now)

    def check(self, address: str, username: str, turn: Turn | None = None) -> None:
        """TooSoon if an attempt comes before its wait is over: one that did not wait its turn (`wait`)."""
        waited = turn is not None and (turn.address, turn.username) == (address, username)
        if waited and time.monotonic() - turn.at < TURN_S:  # type: ignore[union-attr]
            return
        wait = self.wait_s(address, username)
        if wait > 0.05:  # a scheduler's jitter is not an attempt to jump the queue
            raise TooSoon(wait)

    async def wait(self, address: str, username: str) -> Turn:
        """Sleep out the wait without holding a thread, then the attempt's turn; TooSoon when the address
        already has too many waiting."""
        wait = self.wait_s(address, username)
        if wait > 0:
            with self._lock:
                if self._waiting[address] >= WAITING_PER_ADDRESS:
                    raise TooSoon(wait)
                self._waiting[address] += 1
            try:
                await asyncio.sleep(wait)
            finally:
                with self._lock:
                    self._waiting[address] -= 1
        return Turn(address, username, time.monotonic())

    def failed(self, address: str, username: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (address, f"{address}\0{username.lower()}"):
                self._recent(key, now).append(now)

    def forget(self) -> None:
        """Clear every count (tests; an administrator after an incident)."""
        with self._lock:
            self._failures.clear()
