"""Reads the JSON API needs that the other services do not offer: joined rows, ready to show.

Read-only SQLModel selects; each returns plain rows and never writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, select

from hub.bookings.models import Booking
from hub.inventory.registry import Locker, Tool
from hub.loans.lending import Loan
from hub.maintenance.models import RepairLog, Ticket
from hub.members.roster import Member, MemberTraining, Training
from hub.timebank.claims import ClaimStatus, CreditClaim


class HeldTraining(NamedTuple):
    code: str
    name: str
    granted_at: datetime
    expires_at: datetime | None


class LoanRow(NamedTuple):
    loan: Loan
    tool_code: str
    member_number: str


class TicketRow(NamedTuple):
    ticket: Ticket
    tool_code: str


class ClaimRow(NamedTuple):
    claim: CreditClaim
    repair: RepairLog
    tool_code: str
    member_number: str


class BookingRow(NamedTuple):
    booking: Booking
    member_number: str


def trainings_of(session: Session, member_id: int) -> list[HeldTraining]:
    """Return the trainings a member holds, by code, with when each was granted and expires."""
    query = (
        select(Training.code, Training.name, MemberTraining.granted_at, MemberTraining.expires_at)
        .join(Training, Training.id == MemberTraining.training_id)
        .where(MemberTraining.member_id == member_id)
        .order_by(Training.code)
    )
    return [HeldTraining(*row) for row in session.exec(query)]


def home_of(session: Session, tool: Tool) -> tuple[str | None, int | None]:
    """Return the kiosk and slot of a tool's home locker, or (None, None) if it has none."""
    locker = session.get(Locker, tool.locker_id) if tool.locker_id else None
    return (locker.kiosk_id, locker.slot) if locker else (None, None)


def open_loans(session: Session, *, due_before: datetime | None = None) -> list[LoanRow]:
    """Return open loans with tool code and member number, soonest due first.

    With ``due_before``, only loans due before then (the overdue ones, given now).
    """
    query = (
        select(Loan, Tool.code, Member.number)
        .join(Tool, Tool.id == Loan.tool_id)
        .join(Member, Member.id == Loan.member_id)
        .where(Loan.returned_at.is_(None))
        .order_by(Loan.due_at, Loan.id)
    )
    if due_before is not None:
        query = query.where(Loan.due_at < due_before)
    return [LoanRow(*row) for row in session.exec(query)]


def tickets_with_tools(session: Session, tickets: list[Ticket]) -> list[TicketRow]:
    """Return ``tickets`` each with its tool's code."""
    ids = {ticket.tool_id for ticket in tickets}
    query = select(Tool.id, Tool.code).where(Tool.id.in_(ids))
    codes = dict(session.exec(query).all()) if ids else {}
    return [TicketRow(ticket, codes[ticket.tool_id]) for ticket in tickets]


def claim_rows(session: Session, *, claim_id: int | None = None) -> list[ClaimRow]:
    """Return pending claims (or the one claim ``claim_id``) with repair, tool and claimant."""
    query = (
        select(CreditClaim, RepairLog, Tool.code, Member.number)
        .join(RepairLog, RepairLog.id == CreditClaim.repair_id)
        .join(Tool, Tool.id == RepairLog.tool_id)
        .join(Member, Member.id == CreditClaim.member_id)
        .order_by(CreditClaim.created_at, CreditClaim.id)
    )
    if claim_id is None:
        query = query.where(CreditClaim.status == ClaimStatus.PENDING)
    else:
        query = query.where(CreditClaim.id == claim_id)
    return [ClaimRow(*row) for row in session.exec(query)]


def bookings_between(
    session: Session, resource_id: int, starts_at: datetime, ends_at: datetime
) -> list[BookingRow]:
    """Return a resource's bookings of any status starting in ``[starts_at, ends_at)``."""
    query = (
        select(Booking, Member.number)
        .join(Member, Member.id == Booking.member_id)
        .where(
            Booking.resource_id == resource_id,
            Booking.starts_at >= starts_at,
            Booking.starts_at < ends_at,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [BookingRow(*row) for row in session.exec(query)]


def booking_row(session: Session, booking: Booking) -> BookingRow:
    """Return ``booking`` with its holder's member number."""
    return BookingRow(booking, session.get(Member, booking.member_id).number)
