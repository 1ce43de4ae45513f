"""A return with its one question answered: is the tool OK, or does it need repair?

The loan side (which loan it closes, or keeping it until its loan arrives) belongs to
:mod:`hub.loans`; this module adds the maintenance side: "needs repair" opens a blocking ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, get_tool
from hub.loans import holds
from hub.loans import kiosk as kiosk_loans
from hub.loans.records import Loan, ReturnCondition
from hub.loans.returning import clean_note, parse_condition, return_tool
from hub.maintenance.models import Ticket, TicketSource
from hub.maintenance.tickets import open_ticket
from hub.members.roster import Member, get_member


@dataclass(frozen=True)
class ReturnOutcome:
    """A return: the loan it closed (None: kept until its loan arrives), the ticket it opened if
    the tool needs repair, and a note for the kiosk's ack."""

    loan: Loan | None
    ticket: Ticket | None
    note: str | None = None


def return_with_condition(
    session: Session,
    *,
    tool_id: int,
    condition: str,
    note: str | None = None,
    kiosk_id: str | None = None,
    member_id: int | None = None,
    now: datetime | None = None,
) -> ReturnOutcome:
    """Close a tool's standing loan on the hub; "needs repair" also opens a blocking ticket.

    ``member_id`` is who returned it; by default, the borrower.
    """
    if member_id is not None:
        get_member(session, member_id)
    loan = return_tool(
        session, tool_id=tool_id, condition=condition, note=note, kiosk_id=kiosk_id, now=now
    )
    ticket = _repair_ticket(
        session,
        ReturnCondition(loan.return_condition),
        loan.tool_id,
        loan,
        member_id or loan.member_id,
        loan.return_note,
    )
    holds.advance_queue(session, get_tool(session, loan.tool_id), now or utcnow())
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
