"""Close a loan: the one place a loan gets its ``returned_at``.

The clamp rule: a loan never ends before it starts. A return stamped earlier than its loan's
start (a kiosk clock far behind, or a 1970 stamp after a 2099 loan) is stored as ending at the
loan's start, and ``clock_note`` says what the kiosk claimed; the return itself is a fact (the
tool is back), so it is never refused for its stamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import ToolStatus, get_tool
from hub.loans.records import REASON_MAX, Loan, ReturnCondition, open_loan, open_loans_of_tool
from hub.members.roster import NOTE_MAX, clean_text


@dataclass(frozen=True)
class Returned:
    """How a loan ended: at a kiosk or on the hub (``kiosk_id``), with which event, if any."""

    at: datetime
    condition: ReturnCondition
    note: str | None = None
    kiosk_id: str | None = None
    event_id: str | None = None


def close_loan(
    session: Session, loan: Loan, returned: Returned, *, others_open: list[Loan] | None = None
) -> Loan:
    """End ``loan`` with ``returned``, clamped so it never ends before it began; free its tool
    once no other loan holds it (``others_open``: the tool's other open loans, if the caller
    has just read them, so they are not read again)."""
    if loan.returned_at is not None:
        raise Conflict(f"Loan {loan.id} is already closed.", field="loan_id")
    out_at, at = as_utc(loan.out_at), as_utc(returned.at)
    if at < out_at:
        loan.clock_note = (
            f"Return stamped {at:%Y-%m-%d %H:%M:%S}Z, before the loan began; "
            "recorded as ending when it began."
        )[:REASON_MAX]
        at = out_at
    loan.returned_at, loan.return_kiosk_id = at, returned.kiosk_id
    loan.return_condition, loan.return_note = returned.condition, returned.note
    loan.return_event_id = returned.event_id
    session.add(loan)
    session.flush()
    free_tool_if_idle(session, loan.tool_id, others_open)
    return loan


def free_tool_if_idle(session: Session, tool_id: int, open_loans: list[Loan] | None = None) -> None:
    """Mark an on-loan tool available once none of its loans is open (``open_loans``: its open
    loans as the caller has them; by default they are read)."""
    tool = get_tool(session, tool_id)
    if tool.status != ToolStatus.ON_LOAN:
        return
    if open_loans is None:
        open_loans = open_loans_of_tool(session, tool_id)
    if not any(other.returned_at is None for other in open_loans):
        tool.status = ToolStatus.AVAILABLE
        session.add(tool)


def return_tool(
    session: Session,
    *,
    tool_id: int,
    condition: str = ReturnCondition.OK,
    note: str | None = None,
    kiosk_id: str | None = None,
    now: datetime | None = None,
) -> Loan:
    """Close a tool's standing loan with the one-question condition check."""
    tool = get_tool(session, tool_id)
    loan = open_loan(session, tool.id)
    if loan is None:
        raise NotFound(f"Tool {tool.code} is not on loan.", field="tool_id")
    parsed = parse_condition(condition)
    return close_loan(
        session, loan, Returned(now or utcnow(), parsed, clean_note(parsed, note), kiosk_id)
    )


def clean_note(condition: ReturnCondition, note: str | None) -> str | None:
    """Return the return's note; "needs repair" must say why."""
    return clean_text(
        note, "note", limit=NOTE_MAX, required=condition == ReturnCondition.NEEDS_REPAIR
    )


def parse_condition(value: str) -> ReturnCondition:
    """Return the return condition or refuse it by name."""
    try:
        return ReturnCondition(value)
    except ValueError:
        raise InvalidInput(
            f"Condition {value!r} must be 'ok' or 'needs_repair'.", field="condition"
        ) from None
