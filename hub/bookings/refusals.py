"""Booking refusals that say which rule refused and from when the request would pass."""

from __future__ import annotations

from datetime import datetime

from hub.errors import Conflict, RuleViolation


class BookingRefused(RuleViolation):
    """A booking rule refuses; ``rule`` names it and ``possible_from`` says when it would pass."""

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        possible_from: datetime | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.rule = rule
        self.possible_from = possible_from


class BookingRightsPaused(BookingRefused, PermissionError):
    """The member's booking rights are paused (repeated no-shows, or a steward's decision)."""


class ResourceUnavailable(BookingRefused):
    """The resource is paused or its linked tool is out of service."""


class SlotTaken(Conflict):
    """Another active booking holds part of the requested time."""

    def __init__(self, message: str, *, possible_from: datetime | None = None) -> None:
        super().__init__(message, field="starts_at")
        self.rule = "no_overlap"
        self.possible_from = possible_from


class PinLockedOut(RuleViolation, PermissionError):
    """Too many wrong PINs in a row: the PIN is refused until ``until``."""

    def __init__(self, message: str, *, until: datetime) -> None:
        super().__init__(message, field="pin")
        self.until = until
