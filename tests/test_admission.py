"""The heavy-request queue (web/admission.py): the most urgent request goes first whatever the order of
arrival (but never starves the oldest), bulk work leaves room for officers, and only a request beyond the queue
or past its wait is told to come back (503 with Retry-After). The burst through a real server is in
test_concurrency.py."""

from __future__ import annotations

import threading

import pytest
from fastapi import HTTPException

from openfr.web import admission as admission_module
from openfr.web.admission import Admission, RequestKind


@pytest.fixture
def one_slot():
    """An admission with one slot, held busy by a request until the test releases it."""
    admission = Admission(slots=1, queue=8, wait_s=60)
    release, started = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(30)

    holding = admission.submit(RequestKind.SEARCH, hold)
    assert started.wait(30)  # the slot is taken: everything below waits its turn
    yield admission, release
    release.set()
    holding.result(30)
    admission.close()


def _refused(admission: Admission, kind: RequestKind) -> HTTPException:
    with pytest.raises(HTTPException) as refused:
        admission.submit(kind, lambda: None)
    assert refused.value.status_code == 503 and int(refused.value.headers["Retry-After"]) >= 1
    return refused.value


def test_officers_then_sign_ins_go_before_the_bulk_work_that_waited_longer(one_slot):
    admission, release = one_slot
    order: list[str] = []
    arrivals = [
        (RequestKind.SEARCH, "search 1"),
        (RequestKind.ENROLMENT, "enrolment"),
        (RequestKind.SIGN_IN, "sign-in"),
        (RequestKind.SUBJECT_ACCESS, "subject access"),
        (RequestKind.OIFR, "oifr"),
        (RequestKind.SEARCH, "search 2"),
    ]
    futures = [admission.submit(kind, order.append, label) for kind, label in arrivals]
    release.set()
    for future in futures:
        future.result(30)
    assert order == ["oifr", "sign-in", "search 1", "enrolment", "subject access", "search 2"]


def test_a_stream_of_sign_ins_delays_a_waiting_search_without_starving_it(one_slot):
    admission, release = one_slot
    order: list[str] = []
    futures = [admission.submit(RequestKind.SEARCH, order.append, "search")]
    futures += [admission.submit(RequestKind.SIGN_IN, order.append, f"sign-in {i}") for i in range(1, 6)]
    release.set()
    for future in futures:
        future.result(30)
    # Later sign-ins go first, but only MAX_OVERTAKEN turns in a row: then the search that waited longest.
    assert admission_module.MAX_OVERTAKEN == 3
    assert order == ["sign-in 1", "sign-in 2", "sign-in 3", "search", "sign-in 4", "sign-in 5"]


def test_bulk_work_fills_only_its_share_of_the_queue_and_officers_still_get_a_place(one_slot):
    admission, _ = one_slot
    assert admission.bulk_places == 6  # three quarters of 8
    waiting = [admission.submit(RequestKind.SEARCH, lambda: None) for _ in range(6)]
    _refused(admission, RequestKind.ENROLMENT)  # bulk work's share is full
    waiting += [admission.submit(RequestKind.OIFR, lambda: None), admission.submit(RequestKind.SIGN_IN, lambda: None)]
    _refused(admission, RequestKind.OIFR)  # the whole queue is full: beyond the bound, even an officer
    assert admission.refused == 2 and not any(future.done() for future in waiting)


def test_a_request_that_waited_past_its_deadline_is_told_to_come_back(one_slot, monkeypatch):
    admission, release = one_slot
    clock = [1000.0]
    monkeypatch.setattr(admission_module.time, "monotonic", lambda: clock[0])
    late = admission.submit(RequestKind.SEARCH, lambda: "ran")
    clock[0] += admission.wait_s + 1  # it waits longer than web.heavy_wait_s
    release.set()
    with pytest.raises(HTTPException) as refused:
        late.result(30)
    assert refused.value.status_code == 503 and "Retry-After" in refused.value.headers
    assert admission.submit(RequestKind.SEARCH, lambda: "ran").result(30) == "ran"  # the next one runs
