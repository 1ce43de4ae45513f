"""A tool's life story: loans, tickets, repairs and services, in the order they happened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from hub.inventory.registry import (
    get_tool,
)
from hub.loans.records import Loan
from hub.maintenance.models import MaintenancePlan, RepairLog, ServiceRecord, Ticket
from hub.members.roster import Member

# (when, what, which member, summary, record id), before member names are looked up
RawEvent = tuple[datetime, "HistoryKind", int | None, str, int | None]


class HistoryKind(StrEnum):
    LENT = "lent"
    RETURNED = "returned"
    TICKET_OPENED = "ticket_opened"
    TICKET_CLOSED = "ticket_closed"
    REPAIRED = "repaired"
    SERVICED = "serviced"


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to a tool: when, what, who, and the record it came from."""

    at: datetime
    kind: HistoryKind
    member_id: int | None
    member_name: str | None
    summary: str
    record_id: int


def tool_history(session: Session, tool_id: int) -> list[HistoryEntry]:
    """Return everything recorded about a tool — loans, tickets, repairs, services — by time."""
    tool = get_tool(session, tool_id)
    raw = [
        *_loan_events(session, tool.id),
        *_ticket_events(session, tool.id),
        *_repair_events(session, tool.id),
        *_service_events(session, tool.id),
    ]
    names = _member_names(session, {member_id for _, _, member_id, _, _ in raw})
    entries = [
        HistoryEntry(at, kind, member_id, names.get(member_id), summary, record_id)
        for at, kind, member_id, summary, record_id in raw
    ]
    return sorted(entries, key=lambda e: e.at)


def _loan_events(session: Session, tool_id: int) -> Iterable[RawEvent]:
    for loan in session.exec(select(Loan).where(Loan.tool_id == tool_id)):
        yield (
            loan.out_at,
            HistoryKind.LENT,
            loan.member_id,
            f"lent, due back {loan.due_at:%Y-%m-%d}",
            loan.id,
        )
        if loan.returned_at is not None:
            note = f": {loan.return_note}" if loan.return_note else ""
            yield (
                loan.returned_at,
                HistoryKind.RETURNED,
                loan.member_id,
                f"returned {loan.return_condition.replace('_', ' ')}{note}",
                loan.id,
            )


def _ticket_events(session: Session, tool_id: int) -> Iterable[RawEvent]:
    for ticket in session.exec(select(Ticket).where(Ticket.tool_id == tool_id)):
        blocking = "blocking " if ticket.blocking else ""
        yield (
            ticket.opened_at,
            HistoryKind.TICKET_OPENED,
            ticket.opened_by,
            f"{blocking}ticket {ticket.id} opened ({ticket.source}): {ticket.note}",
            ticket.id,
        )
        if ticket.resolved_at is not None:
            note = f": {ticket.resolution_note}" if ticket.resolution_note else ""
            yield (
                ticket.resolved_at,
                HistoryKind.TICKET_CLOSED,
                ticket.resolved_by,
                f"ticket {ticket.id} {ticket.status.replace('_', ' ')}{note}",
                ticket.id,
            )


def _repair_events(session: Session, tool_id: int) -> Iterable[RawEvent]:
    for repair in session.exec(select(RepairLog).where(RepairLog.tool_id == tool_id)):
        for_ticket = f" for ticket {repair.ticket_id}" if repair.ticket_id else ""
        yield (
            repair.logged_at,
            HistoryKind.REPAIRED,
            repair.member_id,
            f"repaired{for_ticket}, {repair.hours} h: {repair.note}",
            repair.id,
        )


def _service_events(session: Session, tool_id: int) -> Iterable[RawEvent]:
    query = (
        select(ServiceRecord, MaintenancePlan.name)
        .join(MaintenancePlan, MaintenancePlan.id == ServiceRecord.plan_id)
        .where(ServiceRecord.tool_id == tool_id)
    )
    for service, plan_name in session.exec(query):
        yield (
            service.serviced_at,
            HistoryKind.SERVICED,
            service.serviced_by,
            f"serviced under plan '{plan_name}'",
            service.id,
        )


def _member_names(session: Session, member_ids: set[int | None]) -> dict[int, str]:
    """Return names of the given members by id."""
    ids = [member_id for member_id in member_ids if member_id is not None]
    if not ids:
        return {}
    rows = session.exec(select(Member.id, Member.name).where(col(Member.id).in_(ids)))
    return {member_id: name for member_id, name in rows if member_id is not None}
