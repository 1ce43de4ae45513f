"""The wire's rules for the values the hub sends to kiosks, as the hub's refusals.

``broker`` alone says what a kiosk id, a site id, a tool code, a training code, a member
number, a name, a locker slot and a loan length may be (``broker/topics.py``,
``broker/messages.py``). The hub checks what people type with those same validators, so a
value it stores can always go on the wire: a kiosk called ``hub`` cannot be registered, and a
member's name cannot stop the allow-list from being built. Each parser tidies what people type
(surrounding spaces; the case of codes' ASCII letters), then asks the wire once; a refusal is
an ``InvalidInput`` that names the field and the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from broker import messages as wire
from broker import topics
from broker.uids import canonical_uid
from hub.errors import InvalidInput

T = TypeVar("T")

_TOOL_CODE = TypeAdapter(wire.ToolCode)
_TRAINING_CODE = TypeAdapter(wire.TrainingCode)
_MEMBER_NUMBER = TypeAdapter(wire.MemberNumber)
_NAME = TypeAdapter(wire.Name)
_LOCKER_SLOT = TypeAdapter(wire.LockerSlot)
_LOAN_DAYS = TypeAdapter(wire.LoanDays)


def parse_kiosk_id(value: str, field: str = "kiosk_id") -> str:
    """Return a kiosk id as the topic tree and the broker's ACL take it, or refuse it."""
    return _checked(field, lambda: topics.validate_kiosk_id(_stripped(value)))


def parse_site_id(value: str, field: str = "site") -> str:
    """Return a site id as the topic tree takes it, or refuse it."""
    return _checked(field, lambda: topics.validate_site_id(_stripped(value)))


def parse_tool_code(value: str, field: str = "code") -> str:
    """Return a tool code (its asset tag); lowercase letters are taken as uppercase."""
    rule = "1-24 letters, digits or '-', starting with a letter or digit"
    return _adapted(_TOOL_CODE, _ascii_case(value, str.upper), field, rule)


def parse_training_code(value: str, field: str = "code") -> str:
    """Return a training code; uppercase letters are taken as lowercase."""
    rule = "1-40 lowercase letters, digits, '_' or '-', starting with a letter or digit"
    return _adapted(_TRAINING_CODE, _ascii_case(value, str.lower), field, rule)


def parse_member_number(value: str, field: str = "number") -> str:
    """Return a member number (1 to 10 digits)."""
    return _adapted(_MEMBER_NUMBER, _stripped(value), field, "1 to 10 digits")


def parse_uid(value: str, field: str = "uid") -> str:
    """Return a card UID in its canonical spelling (``broker.uids``), or refuse it."""
    return _checked(field, lambda: canonical_uid(value))


def parse_name(value: str | None, field: str = "name") -> str:
    """Return a name a kiosk can show: printable, not blank, at most ``NAME_MAX`` long."""
    text = _stripped(value or "")
    if not text:
        raise InvalidInput(f"{field} is required.", field=field)
    return _adapted(_NAME, text, field, None)


def parse_locker_slot(value: int, field: str = "slot") -> int:
    """Return a locker slot (a whole number from 1 to 999, as the wire carries it)."""
    return _adapted(_LOCKER_SLOT, value, field, "a whole number from 1 to 999")


def parse_loan_days(value: int, field: str = "loan_days") -> int:
    """Return how many days a tool may be borrowed (as a kiosk's config carries it)."""
    return _adapted(_LOAN_DAYS, value, field, "a whole number from 1 to 365")


# --- one way of asking the wire ----------------------------------------------------------------


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _ascii_case(value: Any, change: Callable[[str], str]) -> Any:
    """Strip ``value`` and change the case of its ASCII letters only.

    NOTE: ``"ß".upper()`` is ``"SS"`` and ``"ﬀ".upper()`` is ``"FF"``: a code must not become
    valid through Unicode case mapping, so other characters are left for the wire to refuse.
    """
    if not isinstance(value, str):
        return value
    return "".join(change(c) if c.isascii() else c for c in value.strip())


def _adapted(adapter: TypeAdapter[T], value: Any, field: str, rule: str | None) -> T:
    """Validate ``value`` as the wire type of ``adapter``; refuse naming ``rule`` (if given)
    or the wire's own reason."""
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as error:
        raise InvalidInput(_refusal(error, value, field, rule), field=field) from None


def _refusal(error: ValidationError, value: Any, field: str, rule: str | None) -> str:
    detail = error.errors(include_url=False)[0]
    if detail["type"] == "string_too_long":
        limit = detail["ctx"]["max_length"]
        return f"{field} is {len(value)} characters; the limit is {limit}."
    if rule is not None:
        return f"{field} {value!r} must be {rule}."
    reason = detail["ctx"]["error"] if detail["type"] == "value_error" else detail["msg"]
    return f"{field} {value!r} {str(reason).lower()}."


def _checked(field: str, validate: Callable[[], T]) -> T:
    """Return ``validate()``, or refuse with the wire's own reason, naming ``field``."""
    try:
        return validate()
    except ValueError as error:
        text = str(error)
        raise InvalidInput(f"{text[:1].upper()}{text[1:]}.", field=field) from None
