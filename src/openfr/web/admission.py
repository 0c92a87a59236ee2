"""Admission control for the requests that cost real CPU (searches, enrolments, sign-ins): they run on a small
pool of `web.heavy_requests` threads, at lowered scheduling priority, with at most `web.heavy_queue` waiting
their turn; a request beyond that, or one that waited longer than `web.heavy_wait_s`, is told to come back
(503 with Retry-After) instead of piling up.

This is what keeps a server's cameras at their frame rate under a crowd of API clients: on two cores, one
heavy request at a time at low priority leaves the cameras the CPU they need, and memory stays bounded by
the queue. The rules themselves stay in the services; this only decides when a request may run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import HTTPException, Request, status

from openfr.engine.onnx import available_cores
from openfr.settings import WebSettings

T = TypeVar("T")
NICENESS = 10  # below the cameras' threads (0): the kernel serves the cameras first when both want a core


def _lower_priority() -> None:
    # This thread only (Linux); elsewhere the pool is still bounded, at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class Admission:
    def __init__(self, slots: int, queue: int, wait_s: float):
        self.slots, self.queue, self.wait_s = slots, queue, wait_s
        self.pool = ThreadPoolExecutor(slots, thread_name_prefix="heavy request", initializer=_lower_priority)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.refused = 0

    @classmethod
    def from_settings(cls, web: WebSettings) -> Admission:
        return cls(web.heavy_requests or max(1, available_cores() - 1), web.heavy_queue, web.heavy_wait_s)

    def _busy(self) -> HTTPException:
        self.refused += 1  # a statistic only: an occasional lost increment is harmless, a second lock is not
        retry = str(max(1, round(self.wait_s / 2)))
        detail = "the server is busy; try again shortly"
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, {"Retry-After": retry})

    def _admit(self) -> None:
        with self._lock:
            if self._in_flight >= self.slots + self.queue:
                raise self._busy()
            self._in_flight += 1

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _timed(self, fn: Callable[..., T], args, kwargs) -> Callable[[], T]:
        queued = time.monotonic()

        def task() -> T:
            if time.monotonic() - queued > self.wait_s:
                raise self._busy()  # waited too long: the client has likely given up, and others are waiting
            return fn(*args, **kwargs)

        return task

    async def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """From an async route: run `fn` on the heavy pool, or 503."""
        self._admit()
        try:
            return await asyncio.wrap_future(self.pool.submit(self._timed(fn, args, kwargs)))
        finally:
            self._done()

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """From a sync route (already on a worker thread): the same, waiting for the result."""
        self._admit()
        try:
            return self.pool.submit(self._timed(fn, args, kwargs)).result()
        finally:
            self._done()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def heavy(request: Request) -> Admission:
    return request.app.state.admission
