"""Admission control for the requests that cost real CPU (searches, enrolments, sign-ins, subject access): they
run on a small pool of `web.heavy_requests` threads, at lowered scheduling priority, taking their turn from a
bounded queue in order of priority, most urgent first; a request beyond the queue, or one that waited longer
than `web.heavy_wait_s` for its turn, is told to come back (503 with Retry-After) instead of piling up.

Priorities are stated once, in `RequestKind`: an officer at the roadside (OIFR) first, then sign-ins, then bulk
work (retrospective searches, enrolment, subject access), first come first served within a kind's priority.
The oldest waiting request is overtaken by later, more urgent ones at most `MAX_OVERTAKEN` turns in a row, then
goes next: a steady stream of sign-ins delays searches without starving them (benchmarks/faults.py: 20 clients
signing in in a loop left 20 clients searching without one answer in 20 s before this bound).
Bulk work may take only part of the queue (`BULK_SHARE`), so that a crowd of searches never leaves an officer
without a place. Live work never waits here at all: alert adjudication, the alert stream, deployment start and
stop are light requests, served at once at normal scheduling priority, ahead of every heavy request.

This is what keeps a server's cameras at their frame rate under a crowd of API clients: on two cores, one heavy
request at a time at low priority (nice 10) leaves the cameras the CPU they need (benchmarks/faults.py: >= 80% of
their frame rate), and memory stays bounded by the queue. That holds only while a heavy request holds no lock a
camera waits for: a low-priority thread holding one stalls the camera behind it (a sign-in therefore hashes its
password before its write transaction: services/accounts.py). The queue is long enough by default that a burst of
50 mixed requests on two cores is answered in full (tests/test_concurrency.py, benchmarks/burst.py). The rules
themselves stay in the services; this only decides when a request may run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status

from openfr.engine.onnx import available_cores
from openfr.settings.web import WebSettings

T = TypeVar("T")
NICENESS = 10  # below the cameras' threads (0): the kernel serves the cameras first when both want a core
BULK_SHARE = 0.75  # of the waiting places: the last quarter is kept for officers and sign-ins
# Turns in a row that later, more urgent requests may take ahead of the oldest waiting one; then it goes. One
# turn in four at least for the oldest: searches keep a share of the pool under a crowd of sign-ins, and an
# officer behind bulk work waits for at most one bulk request (about a second) in every four turns.
MAX_OVERTAKEN = 3


class RequestKind(Enum):
    """Every kind of heavy request, with its priority (lower runs first). Each door names its kind."""

    OIFR = ("oifr", 0)  # an officer at the roadside, with the person in front of them
    SIGN_IN = ("sign-in", 1)  # someone who cannot do anything else until it is done
    SEARCH = ("search", 2)  # retrospective search: an investigation, minutes matter less than seconds
    ENROLMENT = ("enrolment", 2)
    SUBJECT_ACCESS = ("subject-access", 2)  # the auditor's report for a data subject

    def __init__(self, label: str, priority: int):
        self.label, self.priority = label, priority

    @property
    def bulk(self) -> bool:
        return self.priority >= 2


@dataclass
class _Job:
    priority: int
    sequence: int  # first come, first served within one priority
    kind: RequestKind
    deadline: float
    call: Callable[[], Any]
    future: Future = field(default_factory=Future)


def _lower_priority() -> None:
    # This thread only (Linux); elsewhere the pool is still bounded, at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class Admission:
    def __init__(self, slots: int, queue: int, wait_s: float):
        self.slots, self.queue, self.wait_s = slots, queue, wait_s
        self.bulk_places = math.floor(queue * BULK_SHARE)
        self._ready = threading.Condition()
        self._waiting: list[_Job] = []  # in order of arrival; `_next` picks whose turn it is
        self._overtaken = 0  # turns in a row that went to a later request than the oldest waiting one
        self._running = 0
        self._sequence = itertools.count()
        self._seconds_each = 1.0  # moving average of a heavy request's run time: for Retry-After
        self._closed = False
        self._threads: list[threading.Thread] = []  # started with the first heavy request
        self.refused = 0

    @classmethod
    def from_settings(cls, web: WebSettings) -> Admission:
        return cls(web.heavy_requests or max(1, available_cores() - 1), web.heavy_queue, web.heavy_wait_s)

    def _busy(self) -> HTTPException:
        self.refused += 1  # a statistic only: an occasional lost increment is harmless
        # Come back when the queue ahead has drained, by its recent pace; never later than the longest wait.
        ahead = len(self._waiting) + self._running
        retry = min(max(1, math.ceil(ahead * self._seconds_each / self.slots)), max(1, round(self.wait_s)))
        detail = "the server is busy; try again shortly"
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, {"Retry-After": str(retry)})

    def submit(self, kind: RequestKind, fn: Callable[..., T], *args, **kwargs) -> Future[T]:
        """Queue `fn` for the heavy pool, or raise the 503 at once when the queue (or bulk work's share of
        it) is full."""
        with self._ready:
            places = self.queue if not kind.bulk else self.bulk_places
            if self._closed or self._running + len(self._waiting) >= self.slots + places:
                raise self._busy()
            deadline = time.monotonic() + self.wait_s
            job = _Job(kind.priority, next(self._sequence), kind, deadline, lambda: fn(*args, **kwargs))
            self._waiting.append(job)
            while len(self._threads) < self.slots:
                self._threads.append(threading.Thread(target=self._work, name="heavy request", daemon=True))
                self._threads[-1].start()
            self._ready.notify()
        return job.future

    async def run(self, kind: RequestKind, fn: Callable[..., T], *args, **kwargs) -> T:
        """From a route: run `fn` on the heavy pool in its turn, or 503."""
        return await asyncio.wrap_future(self.submit(kind, fn, *args, **kwargs))

    def _work(self) -> None:
        _lower_priority()
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                job = self._next()
                self._running += 1
            try:
                self._run(job)
            finally:
                with self._ready:
                    self._running -= 1

    def _next(self) -> _Job:
        """Take the waiting request whose turn it is: the most urgent (the oldest of those), unless the oldest
        of all has been overtaken `MAX_OVERTAKEN` turns in a row. The queue holds at most `web.heavy_queue`
        requests, so a scan is cheap next to a heavy request."""
        oldest = self._waiting[0]
        urgent = min(self._waiting, key=lambda waiting: (waiting.priority, waiting.sequence))
        job = oldest if self._overtaken >= MAX_OVERTAKEN else urgent
        self._overtaken = 0 if job is oldest else self._overtaken + 1
        self._waiting.remove(job)
        return job

    def _run(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return  # the client went away while it waited
        if time.monotonic() > job.deadline:
            job.future.set_exception(self._busy())  # the client has likely given up, and others are waiting
            return
        started = time.monotonic()
        try:
            result = job.call()
        except BaseException as exc:  # handed to the request, which raises it where the door can render it
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
        self._seconds_each = 0.8 * self._seconds_each + 0.2 * (time.monotonic() - started)

    def close(self) -> None:
        with self._ready:
            self._closed = True
            waiting, self._waiting = self._waiting, []
            self._ready.notify_all()
        for job in waiting:
            job.future.cancel()


def heavy(request: Request) -> Admission:
    return request.app.state.admission
