"""A return with its one question answered: is the tool OK, or does it need repair?

The loan side (which loan it closes, or keeping it until its loan arrives) belongs to
:mod:`hub.loans`; this module adds the maintenance side: "needs repair" opens a blocking ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from hub.errors import NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, get_tool
from hub.loans import holds
from hub.loans import kiosk as kiosk_loans
from hub.loans.records import Loan, ReturnCondition, open_loan
from hub.loans.returning import clean_note, parse_condition, return_tool
from hub.maintenance.models import Ticket, TicketSource
from hub.maintenance.tickets import open_ticket
from hub.members.ranks import Actor, require_role
from hub.members.roster import Member, Role

LOAN_RETURN_AT_DESK = audit.Action(
    "loan.return_at_desk", ("returned_at", "return_condition", "return_note")
)


@dataclass(frozen=True)
class ReturnOutcome:
    """A return: the loan it closed (None: kept until its loan arrives), the ticket it opened if
    the tool needs repair, and a note for the kiosk's ack."""

    loan: Loan | None
    ticket: Ticket | None
    note: str | None = None


def return_with_condition(
    session: Session,
    actor: Actor,
    *,
    tool_id: int,
    condition: str,
    note: str | None = None,
    now: datetime | None = None,
) -> ReturnOutcome:
    """Record a tool handed back at the desk (the kiosk is down, or the member came to a
    steward): close its open loan with the one question answered; "needs repair" also opens a
    blocking ticket, reported by the borrower. The next hold in its queue is served.

    Stewards only; audited on the loan.
    """
    require_role(actor, Role.STEWARD, "record a return at the desk")
    tool = get_tool(session, tool_id)
    loan = open_loan(session, tool.id)
    if loan is None:
        raise NotFound(f"Tool {tool.code} is not on loan.", field="tool_id")
    with audit.audited(session, actor, LOAN_RETURN_AT_DESK, loan, f"loan:{loan.id}"):
        loan = return_tool(session, tool_id=tool.id, condition=condition, note=note, now=now)
    ticket = _repair_ticket(
        session,
        ReturnCondition(loan.return_condition),
        loan.tool_id,
        loan,
        loan.member_id,
        loan.return_note,
    )
    holds.advance_queue(session, tool, now or utcnow())
    return ReturnOutcome(loan, ticket)


def record_kiosk_return(
    session: Session,
    stamp: kiosk_loans.Stamp,
    member: Member,
    tool: Tool,
    *,
    condition: str,
    note: str | None,
) -> ReturnOutcome:
    """Record a return a kiosk reports (``hub.loans.kiosk`` pairs it with its loan); "needs
    repair" opens a blocking ticket at once, on the loan if it is known yet."""
    parsed = parse_condition(condition)
    note = clean_note(parsed, note)
    recorded = kiosk_loans.record_return(session, stamp, member, tool, parsed, note)
    assert tool.id is not None and member.id is not None
    ticket = _repair_ticket(session, parsed, tool.id, recorded.loan, member.id, note, at=stamp.at)
    return ReturnOutcome(recorded.loan, ticket, recorded.note)


def _repair_ticket(
    session: Session,
    condition: ReturnCondition,
    tool_id: int,
    loan: Loan | None,
    reporter_id: int,
    note: str | None,
    *,
    at: datetime | None = None,
) -> Ticket | None:
    """Open the blocking ticket a "needs repair" return asks for; None for an OK return."""
    if condition != ReturnCondition.NEEDS_REPAIR:
        return None
    return open_ticket(
        session,
        tool_id=tool_id,
        note=note,
        source=TicketSource.RETURN,
        opened_by=reporter_id,
        blocking=True,
        loan_id=loan.id if loan else None,
        now=at or (loan.returned_at if loan else None),
    )
