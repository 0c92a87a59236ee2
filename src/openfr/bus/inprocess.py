"""In-process publish/subscribe: alerts and camera health reach the consoles of the server that runs the
cameras (a bus between servers is not built: docs/architecture.md, "Not yet"). Publishers never block on a
slow subscriber: each subscription has a bounded queue, and when it is full the oldest event is dropped and
counted, because a camera worker must never stall on a console."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """`topic` like "alert.created" or "camera.health"; `data` is JSON-ready and never holds biometric data
    (an alert event carries the alert's id, scores and labels; the crop stays in the store)."""

    topic: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Subscription:
    def __init__(self, bus: InProcessBus, prefix: str, maxsize: int, notify: Callable[[], None] | None = None):
        self._bus, self.prefix, self._notify = bus, prefix, notify
        self._queue: queue.Queue[Event] = queue.Queue(maxsize)
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                if self._notify is not None:
                    self._notify()
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def pending(self) -> bool:
        return not self._queue.empty()

    def close(self) -> None:
        self._bus._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcessBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(
        self, prefix: str = "", *, maxsize: int = 1000, notify: Callable[[], None] | None = None
    ) -> Subscription:
        """Events whose topic starts with `prefix`, from now on. `notify` is called (in the publisher's
        thread, so it must be quick) after each event is queued: an asyncio consumer wakes on it instead of
        polling."""
        subscription = Subscription(self, prefix, maxsize, notify)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def publish(self, topic: str, data: dict[str, Any]) -> Event:
        event = Event(topic, data)
        with self._lock:
            targets = [s for s in self._subscriptions if topic.startswith(s.prefix)]
        for subscription in targets:
            subscription._offer(event)
        return event

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
