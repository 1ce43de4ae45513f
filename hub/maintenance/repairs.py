"""Repair records: who fixed which tool, how long it took, and the ticket it closes.

Credit for repairs (claims, approvals, the ledger) lives in :mod:`hub.timebank.claims`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from hub.errors import InvalidInput, NotFound
from hub.infra.clock import utcnow
from hub.inventory.registry import (
    Tool,
    get_tool,
)
from hub.maintenance.models import MAX_REPAIR_HOURS, RepairLog, RepairSource, Ticket, TicketStatus
from hub.maintenance.tickets import _live_ticket
from hub.members.roster import NOTE_MAX, clean_text, get_member, require_active
from hub.timebank.ledger import parse_hours


def record_repair(
    session: Session,
    *,
    member_id: int,
    tool_id: int,
    hours: Decimal | int | str,
    note: str,
    source: str,
    ticket_id: int | None = None,
    now: datetime | None = None,
) -> RepairLog:
    """Record who repaired which tool, for how long, and which ticket the work was for.

    Credit for it is claimed through :func:`hub.timebank.claims.log_repair`, which calls this.
    """
    member, tool = get_member(session, member_id), get_tool(session, tool_id)
    require_active(member)
    hours = parse_hours(hours, maximum=MAX_REPAIR_HOURS)
    repair = RepairLog(
        tool_id=tool.id,
        member_id=member.id,
        hours=hours,
        note=clean_text(note, "note", limit=NOTE_MAX),
        source=_parse_repair_source(source),
        logged_at=now or utcnow(),
    )
    if ticket_id is not None:
        repair.ticket_id = _ticket_for_repair(session, ticket_id, tool, repair.logged_at).id
    session.add(repair)
    session.flush()
    return repair


def _ticket_for_repair(session: Session, ticket_id: int, tool: Tool, now: datetime) -> Ticket:
    """Return the live ticket a repair is for, now in progress; it must be about the same tool."""
    ticket = _live_ticket(session, ticket_id)
    if ticket.tool_id != tool.id:
        raise InvalidInput(
            f"Ticket {ticket.id} is about another tool, not {tool.code}.", field="ticket_id"
        )
    if ticket.status == TicketStatus.OPEN:
        ticket.status, ticket.updated_at = TicketStatus.IN_PROGRESS, now
        session.add(ticket)
    return ticket


def _parse_repair_source(value: str) -> RepairSource:
    """Return where a repair was logged from, or refuse it by name."""
    try:
        return RepairSource(value)
    except ValueError:
        known = ", ".join(s.value for s in RepairSource)
        raise InvalidInput(
            f"Repair source {value!r} is not one of {known}.", field="source"
        ) from None


def get_repair(session: Session, repair_id: int) -> RepairLog:
    """Return repair record ``repair_id`` or refuse."""
    repair = session.get(RepairLog, repair_id)
    if repair is None:
        raise NotFound(f"Repair {repair_id} does not exist.", field="repair_id")
    return repair
