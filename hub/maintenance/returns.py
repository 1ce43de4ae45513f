"""A return with its one question answered: is the tool OK, or does it need repair?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from hub.loans.lending import Loan, ReturnCondition, return_tool
from hub.maintenance.models import Ticket, TicketSource
from hub.maintenance.tickets import open_ticket
from hub.members.roster import get_member


@dataclass(frozen=True)
class ReturnOutcome:
    """A kiosk return: the closed loan, and the ticket it opened if the tool needs repair."""

    loan: Loan
    ticket: Ticket | None


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
    """Close a tool's loan from a kiosk; "needs repair" also opens a blocking ticket.

    ``member_id`` is who returned it (the card tapped); by default, the borrower.
    """
    if member_id is not None:
        get_member(session, member_id)
    loan = return_tool(
        session, tool_id=tool_id, condition=condition, note=note, kiosk_id=kiosk_id, now=now
    )
    if loan.return_condition != ReturnCondition.NEEDS_REPAIR:
        return ReturnOutcome(loan, None)
    ticket = open_ticket(
        session,
        tool_id=tool_id,
        note=loan.return_note,
        source=TicketSource.RETURN,
        opened_by=member_id or loan.member_id,
        blocking=True,
        loan_id=loan.id,
        now=loan.returned_at,
    )
    return ReturnOutcome(loan, ticket)
