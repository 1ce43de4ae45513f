"""Maintenance tickets: open, start, resolve or give up; a blocking one keeps its tool out.

Closing the last blocking ticket puts the tool back in service.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.infra.clock import utcnow
from hub.inventory.registry import (
    Tool,
    ToolStatus,
    get_tool,
    return_to_service,
    take_out_of_service,
)
from hub.loans.records import open_loan
from hub.maintenance.models import (
    LIVE_STATUSES,
    ServiceRecord,
    Ticket,
    TicketSource,
    TicketStatus,
)
from hub.members.roster import NOTE_MAX, clean_text, get_member
from hub.timebank.ledger import require_steward


def open_ticket(
    session: Session,
    *,
    tool_id: int,
    note: str,
    source: str,
    opened_by: int | None = None,
    blocking: bool = False,
    loan_id: int | None = None,
    plan_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a maintenance ticket on a tool; a blocking one takes the tool out of service.

    Stewards open ``steward`` tickets; ``return`` and ``kiosk`` tickets name the member who
    reported the fault; ``schedule`` tickets come from :func:`open_due_tickets`.
    """
    source = _parse_ticket_source(source)
    _require_reporter(session, source, opened_by)
    return add_ticket(
        session,
        tool_id=tool_id,
        note=note,
        source=source,
        opened_by=opened_by,
        blocking=blocking,
        loan_id=loan_id,
        plan_id=plan_id,
        now=now,
    )


def add_ticket(
    session: Session,
    *,
    tool_id: int,
    note: str,
    source: TicketSource,
    opened_by: int | None,
    blocking: bool = False,
    loan_id: int | None = None,
    plan_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Insert a ticket (the caller has checked who may); a blocking one takes the tool out."""
    tool = _serviceable_tool(session, tool_id)
    now = now or utcnow()
    ticket = Ticket(
        tool_id=tool.id,
        source=source,
        note=clean_text(note, "note", limit=NOTE_MAX),
        blocking=blocking,
        opened_by=opened_by,
        opened_at=now,
        updated_at=now,
        loan_id=loan_id,
        plan_id=plan_id,
    )
    session.add(ticket)
    session.flush()
    if blocking:
        _block_tool(session, ticket)
    return ticket


def _serviceable_tool(session: Session, tool_id: int) -> Tool:
    """Return the tool, refusing a retired one (nothing to maintain)."""
    tool = get_tool(session, tool_id)
    if tool.status == ToolStatus.RETIRED:
        raise ToolUnavailable(f"Tool {tool.code} is retired; it takes no more tickets.")
    return tool


def _require_reporter(session: Session, source: TicketSource, opened_by: int | None) -> None:
    """Check who may open a ticket from ``source``."""
    if source == TicketSource.STEWARD:
        if opened_by is None:
            raise InvalidInput("A steward ticket names the steward.", field="opened_by")
        require_steward(session, opened_by, "open steward tickets")
    elif source in (TicketSource.RETURN, TicketSource.KIOSK):
        if opened_by is None:
            raise InvalidInput(
                f"A {source} ticket names the member who reported it.", field="opened_by"
            )
        # NOTE: no active check: a suspended member must still be able to report a broken tool.
        get_member(session, opened_by)


def _parse_ticket_source(value: str) -> TicketSource:
    """Return the ticket source or refuse it by name."""
    try:
        return TicketSource(value)
    except ValueError:
        known = ", ".join(s.value for s in TicketSource)
        raise InvalidInput(
            f"Ticket source {value!r} is not one of {known}.", field="source"
        ) from None


def _block_tool(session: Session, ticket: Ticket) -> None:
    """Take the ticket's tool out of service, giving the ticket as the reason."""
    reason = f"ticket {ticket.id}: {ticket.note}"
    take_out_of_service(session, ticket.tool_id, reason[:NOTE_MAX])


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """Return ticket ``ticket_id`` or refuse."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.", field="ticket_id")
    return ticket


def live_tickets(session: Session, *, tool_id: int | None = None) -> list[Ticket]:
    """Return tickets not yet closed, oldest first, optionally of one tool."""
    query = select(Ticket).where(Ticket.status.in_(LIVE_STATUSES)).order_by(Ticket.opened_at)
    if tool_id is not None:
        query = query.where(Ticket.tool_id == tool_id)
    return list(session.exec(query))


def set_blocking(
    session: Session, ticket_id: int, blocking: bool, *, now: datetime | None = None
) -> Ticket:
    """Make a live ticket block its tool or not (the caller has checked who may).

    Blocking takes the tool out of service; unblocking returns it once nothing else blocks it.
    """
    ticket = _live_ticket(session, ticket_id)
    if ticket.blocking == blocking:
        return ticket
    ticket.blocking, ticket.updated_at = blocking, now or utcnow()
    session.add(ticket)
    session.flush()
    if blocking:
        _block_tool(session, ticket)
    else:
        _release_tool_if_unblocked(session, ticket.tool_id)
    return ticket


def set_in_progress(session: Session, ticket_id: int, *, now: datetime | None = None) -> Ticket:
    """Mark a live ticket in progress (the caller has checked who may)."""
    ticket = _live_ticket(session, ticket_id)
    ticket.status, ticket.updated_at = TicketStatus.IN_PROGRESS, now or utcnow()
    session.add(ticket)
    return ticket


def close_ticket(
    session: Session,
    ticket_id: int,
    *,
    status: TicketStatus,
    by: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close a live ticket (the caller has checked who may); free its tool if nothing blocks it.

    Resolving a ticket opened by a plan records a service, which resets the plan's counters.
    """
    ticket = _live_ticket(session, ticket_id)
    now = now or utcnow()
    ticket.status, ticket.updated_at, ticket.resolved_at = status, now, now
    ticket.resolved_by = by
    ticket.resolution_note = clean_text(note, "note", limit=NOTE_MAX, required=False)
    session.add(ticket)
    session.flush()
    if status == TicketStatus.RESOLVED and ticket.plan_id is not None:
        record_service(
            session,
            plan_id=ticket.plan_id,
            tool_id=ticket.tool_id,
            by=by,
            ticket_id=ticket.id,
            note=ticket.resolution_note,
            now=now,
        )
    if ticket.blocking:
        _release_tool_if_unblocked(session, ticket.tool_id)
    return ticket


def _live_ticket(session: Session, ticket_id: int) -> Ticket:
    """Return a ticket that is still open or in progress, else refuse."""
    ticket = get_ticket(session, ticket_id)
    if ticket.is_closed:
        raise Conflict(
            f"Ticket {ticket.id} is already {ticket.status.replace('_', ' ')}.", field="ticket_id"
        )
    return ticket


def _release_tool_if_unblocked(session: Session, tool_id: int) -> None:
    """Return the tool to service once no live blocking ticket holds it."""
    still_blocked = session.exec(
        select(Ticket.id).where(
            Ticket.tool_id == tool_id, Ticket.blocking, Ticket.status.in_(LIVE_STATUSES)
        )
    ).first()
    if still_blocked is None:
        return_to_service(session, tool_id, on_loan=open_loan(session, tool_id) is not None)


def record_service(
    session: Session,
    *,
    plan_id: int,
    tool_id: int,
    by: int | None,
    ticket_id: int | None,
    note: str | None,
    now: datetime,
) -> ServiceRecord:
    """Insert a service record: the plan's counters for this tool start again from ``now``."""
    service = ServiceRecord(
        plan_id=plan_id,
        tool_id=tool_id,
        serviced_at=now,
        serviced_by=by,
        ticket_id=ticket_id,
        note=clean_text(note, "note", limit=NOTE_MAX, required=False),
    )
    session.add(service)
    session.flush()
    return service
