"""Give hours: a member pays another member from their own account, with a note.

A gift is a ledger exchange (zero-sum, within the giver's credit limit) whose key the giver's
door chooses once per form or request: the same key given twice moves the hours once. Every
refusal names the field at fault and writes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, select

from hub.errors import InvalidInput, MemberSuspended, NotFound, RuleViolation
from hub.members.roster import Member
from hub.timebank.ledger import (
    CENT,
    DEFAULT_MEMBER_CREDIT_LIMIT,
    DESCRIPTION_MAX,
    Transfer,
    balance,
    exchange_hours,
    find_member_account,
    parse_hours,
    transfer_by_key,
)

GIFT_CATEGORY = "gift"
GIFT_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def give_hours(
    session: Session,
    giver: Member,
    *,
    to_number: str,
    hours: Decimal | int | str,
    note: str,
    key: str,
    now: datetime | None = None,
) -> Transfer:
    """Move ``hours`` from ``giver`` to the member numbered ``to_number``; return the transfer.

    ``key`` (8-64 letters, digits, ``.``, ``_``, ``:`` or ``-``) names this gift: a repeat of
    the same gift returns the transfer already made. Refused: a malformed key, hours not more
    than 0 or finer than hundredths, an unknown number, oneself, a suspended giver or
    recipient, a blank note, more than the giver's credit limit allows.
    """
    ledger_key = f"gift:{giver.id}:{_parse_key(key)}"
    amount = _parse_amount(hours)
    done = transfer_by_key(session, ledger_key)
    recipient = _recipient(session, giver, to_number)
    if not giver.is_active:
        raise MemberSuspended(
            f"Your membership is suspended, so you cannot give hours{_why(giver)}.", field="member"
        )
    if not (note or "").strip():
        raise InvalidInput("Say what the hours are for (a short note).", field="note")
    if len(note.strip()) > DESCRIPTION_MAX:
        raise InvalidInput(f"The note is longer than {DESCRIPTION_MAX} characters.", field="note")
    if done is None:
        _require_enough(session, giver, amount)
    return exchange_hours(
        session,
        key=ledger_key,
        payer_id=giver.id or 0,
        payee_id=recipient.id or 0,
        hours=amount,
        description=note,
        category=GIFT_CATEGORY,
        now=now,
    )


def available_to_give(session: Session, member: Member) -> Decimal | None:
    """Return the hours ``member`` could give now (balance down to their limit; None: no
    limit)."""
    account = find_member_account(session, member.id or 0)
    limit = account.credit_limit if account else DEFAULT_MEMBER_CREDIT_LIMIT
    if limit is None:
        return None
    held = balance(session, account.id or 0) if account else Decimal("0.00")
    return max(held - limit, Decimal("0.00"))


def _parse_amount(hours: Decimal | int | str) -> Decimal:
    """Return the hours to give, refusing in a member's words what is not more than 0 hours in
    hundredths (the ledger's own parse then checks the largest transfer)."""
    try:
        amount = Decimal(str(hours).strip())
    except InvalidOperation:
        raise InvalidInput("Type the hours as a number, like 1.5.", field="hours") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"Give more than 0 hours (not {hours}).", field="hours")
    if amount != amount.quantize(CENT):
        raise InvalidInput(
            f"Hours go to two decimals at most, like 1.25 (not {hours}).", field="hours"
        )
    return parse_hours(amount, "hours")


def _parse_key(key: str | None) -> str:
    if not GIFT_KEY.fullmatch(key or ""):
        raise InvalidInput(
            "The gift's key must be 8 to 64 letters, digits, '.', '_', ':' or '-'; "
            "reload the form to get a new one.",
            field="key",
        )
    return key or ""


def _recipient(session: Session, giver: Member, to_number: str) -> Member:
    number = str(to_number or "").strip()
    if not number:
        raise InvalidInput("Type the member number of who gets the hours.", field="to")
    found = session.exec(select(Member).where(Member.number == number)).first()
    if found is None:
        raise NotFound(f"There is no member number {number}.", field="to")
    if found.id == giver.id:
        raise InvalidInput("You cannot give hours to yourself.", field="to")
    if not found.is_active:
        raise MemberSuspended(
            f"Member {found.number} is suspended and cannot receive hours now.", field="to"
        )
    return found


def _require_enough(session: Session, giver: Member, amount: Decimal) -> None:
    """Refuse, in the member's words, a gift beyond their credit limit (the ledger checks it
    again under its lock)."""
    left = available_to_give(session, giver)
    if left is not None and amount > left:
        raise RuleViolation(
            f"You can give at most {left} hours now (your balance may go down to your limit, "
            "and no further).",
            field="hours",
        )


def _why(member: Member) -> str:
    return f" ({member.status_reason})" if member.status_reason else ""
