"""A hand-written helper for locker tests: a recorder of locker events."""

import threading

from devices.lockers.events import LockerEvent


class EventLog:
    """Collect locker events from any thread, and wait for the one a test expects."""

    def __init__(self) -> None:
        self.events: list[LockerEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: LockerEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    @property
    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def wait_for(self, kind: str, timeout: float = 2.0) -> LockerEvent:
        with self._changed:
            self._changed.wait_for(lambda: kind in self.kinds, timeout)
            return next(event for event in self.events if event.kind == kind)

    def clear(self) -> None:
        with self._changed:
            self.events.clear()
