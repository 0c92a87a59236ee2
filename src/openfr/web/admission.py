"""Admission control for the requests that cost real CPU (searches, enrolments, sign-ins): at most
`web.heavy_requests` run at once, up to `web.heavy_queue` wait their turn (for at most `web.heavy_wait_s`),
and the rest are told to come back later (503 with Retry-After) instead of piling up.

This is what keeps a server's cameras at their frame rate under a crowd of API clients: on two cores, one
heavy request at a time leaves the other core to the cameras, and memory stays bounded by the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from openfr.engine.onnx import available_cores
from openfr.settings import WebSettings


class Admission:
    def __init__(self, slots: int, queue: int, wait_s: float):
        self.slots, self.queue, self.wait_s = slots, queue, wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self.refused = 0

    @classmethod
    def from_settings(cls, web: WebSettings) -> Admission:
        return cls(web.heavy_requests or max(1, available_cores() - 1), web.heavy_queue, web.heavy_wait_s)

    def _busy(self) -> HTTPException:
        self.refused += 1
        retry = str(max(1, round(self.wait_s / 2)))
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the server is busy; try again shortly", {"Retry-After": retry}
        )

    def enter(self) -> None:
        with self._lock:
            if self._waiting >= self.slots + self.queue:
                raise self._busy()
            self._waiting += 1
        if not self._free.acquire(timeout=self.wait_s):
            with self._lock:
                self._waiting -= 1
            raise self._busy()

    def leave(self) -> None:
        self._free.release()
        with self._lock:
            self._waiting -= 1


def heavy(request: Request) -> Iterator[None]:
    """A route dependency: the request waits for a slot (in a worker thread, never on the event loop)."""
    admission: Admission = request.app.state.admission
    admission.enter()
    try:
        yield
    finally:
        admission.leave()


HeavyWork = Annotated[None, Depends(heavy)]
