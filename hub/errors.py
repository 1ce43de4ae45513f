"""The hub's one family of domain errors.

Every refusal names what was refused and which thing it was about, so the CLI, the API and the
dashboard can show it as it is. Each specific error also subclasses a builtin, as gpiozero's
``BadPinFactory(GPIOZeroError, ImportError)`` does, so callers may catch either.
"""

from __future__ import annotations


class DomainError(Exception):
    """Root of every rule the hub enforces; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError, LookupError):
    """A member, card, tool, locker or kiosk that the request names does not exist."""


class InvalidInput(DomainError, ValueError):
    """A value is malformed: a bad UID, an empty name, an overlong field."""


class Conflict(DomainError):
    """The request collides with what is already recorded (a duplicate, a taken slot)."""


class RuleViolation(DomainError):
    """The request is well-formed but a rule of the commons forbids it."""


class MemberSuspended(RuleViolation, PermissionError):
    """A suspended member may not borrow, book or be credited until reinstated."""


class TrainingRequired(RuleViolation, PermissionError):
    """The tool or machine needs an induction the member lacks or has let expire."""


class ToolUnavailable(RuleViolation):
    """The tool is on loan, out of service or retired."""


class Throttled(DomainError, PermissionError):
    """Too many failures from this address, tablet or account: wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
