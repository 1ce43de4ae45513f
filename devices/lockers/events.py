"""What a locker reports: the door's movements and alarms, with which locker and when."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class LockerEventKind(StrEnum):
    """The kinds of locker event; each compares equal to its string (``"door_opened"``)."""

    DOOR_OPENED = "door_opened"  # opened during an unlock pulse or its grace period
    DOOR_FORCED = "door_forced"  # opened with no unlock pulse: forced, or a cut switch wire
    DOOR_CLOSED = "door_closed"
    DOOR_LEFT_OPEN = "door_left_open"  # still open after door_open_alarm_seconds


@dataclass(frozen=True)
class LockerEvent:
    """One thing that happened at a locker; ``at`` is a ``time.monotonic()`` reading."""

    kind: LockerEventKind
    locker_id: int | str
    at: float


EventCallback = Callable[[LockerEvent], object]
