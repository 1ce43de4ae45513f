"""Maintenance tickets: list the live ones, open one, resolve one (stewards only)."""

from __future__ import annotations

from dashboard.auditing import audited, record_change
from dashboard.auth import current_member
from dashboard.database import reading, transaction
from hub.infra import audit
from hub.maintenance import tickets as maintenance_tickets
from hub.maintenance.models import TicketSource
from hub.queries import maintenance as maintenance_rows

from .blueprint import api
from .schemas import NewTicket, Resolution, TicketFilter, TicketList, TicketOut

ID = "<int(min=1, max=2147483647):ticket_id>"
STATE_FIELDS = ("status", "resolved_at", "resolved_by", "resolution_note")


@api.operation(
    "GET", "/maintenance/tickets", query=TicketFilter, response=TicketList, tag="maintenance"
)
def list_tickets(query: TicketFilter) -> TicketList:
    """List tickets not yet closed (open or in progress), oldest first; optionally one tool's.

    Stewards only: tickets name who reported a fault.
    """
    with reading() as db:
        rows = maintenance_rows.live_tickets_with_tools(db, tool_id=query.tool_id)
    return TicketList(tickets=[ticket_out(row) for row in rows])


@api.operation(
    "POST",
    "/maintenance/tickets",
    body=NewTicket,
    response=TicketOut,
    status=201,
    refusals=(404,),
    tag="maintenance",
)
def open_ticket(body: NewTicket) -> TicketOut:
    """Open a steward ticket on a tool; a blocking one takes the tool out of service.

    A retired tool takes no tickets (422). Stewards only; audited.
    """
    with transaction() as db:
        ticket = maintenance_tickets.open_ticket(
            db,
            tool_id=body.tool_id,
            note=body.note,
            source=TicketSource.STEWARD,
            opened_by=current_member().id,
            blocking=body.blocking,
        )
        record_change(
            db,
            action="ticket.open",
            target=f"ticket:{ticket.id}",
            before=None,
            after=audit.snapshot(ticket),
        )
        row = maintenance_rows.ticket_row(db, ticket)
    return ticket_out(row)


@api.operation(
    "POST",
    f"/maintenance/tickets/{ID}/resolve",
    body=Resolution,
    response=TicketOut,
    refusals=(409,),
    tag="maintenance",
)
def resolve_ticket(ticket_id: int, body: Resolution) -> TicketOut:
    """Resolve a live ticket as fixed; the tool goes back into service once nothing blocks it.

    A ticket already closed is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        ticket = maintenance_tickets.get_ticket(db, ticket_id)
        with audited(
            db,
            action="ticket.resolve",
            target=f"ticket:{ticket.id}",
            row=ticket,
            fields=STATE_FIELDS,
        ):
            maintenance_tickets.resolve_ticket(
                db, ticket.id, steward_id=current_member().id, note=body.note
            )
        row = maintenance_rows.ticket_row(db, ticket)
    return ticket_out(row)


def ticket_out(row: maintenance_rows.TicketRow) -> TicketOut:
    """Return a ticket with its tool's code."""
    ticket = row.ticket
    return TicketOut(
        id=ticket.id,
        tool_id=ticket.tool_id,
        tool_code=row.tool_code,
        status=ticket.status,
        source=ticket.source,
        note=ticket.note,
        blocking=ticket.blocking,
        opened_by=ticket.opened_by,
        opened_at=ticket.opened_at,
        resolved_at=ticket.resolved_at,
        resolved_by=ticket.resolved_by,
        resolution_note=ticket.resolution_note,
    )
