"""Tools: the status board by kiosk and locker, each tool's history and tickets."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auditing import record_change
from dashboard.auth import current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_flag, form_text, snapshot
from hub.infra.clock import utcnow
from hub.inventory import registry
from hub.maintenance import history as maintenance_history
from hub.maintenance import models
from hub.maintenance import tickets as maintenance_tickets
from hub.queries import maintenance as maintenance_rows
from hub.queries import tools

bp = Blueprint("steward_tools", __name__, url_prefix="/steward")
NAV = (NavLink("steward_tools.board", "Tools"),)

TICKET_FIELDS = ("status", "blocking", "resolution_note", "resolved_by")


@bp.get("/tools")
@steward_required
def board() -> str:
    """Show every tool by kiosk and locker, with its status and why."""
    with reading() as db:
        rows = tools.tool_board(db)
    return render_template("steward/tools.html", rows=rows)


@bp.get("/tools/<int:tool_id>")
@steward_required
def tool(tool_id: int) -> str:
    """Show a tool: its status, live tickets (with actions) and everything that happened to it."""
    with reading() as db:
        item = registry.get_tool(db, tool_id)
        history = maintenance_history.tool_history(db, tool_id)
        tickets = maintenance_rows.tickets_of_tool(db, tool_id)
    return render_template("steward/tool.html", tool=item, history=history[::-1], tickets=tickets)


@bp.post("/tools/<int:tool_id>/tickets")
@steward_required
def open_ticket(tool_id: int) -> ResponseReturnValue:
    """Open a steward ticket on a tool; a blocking one takes the tool out of service."""
    with transaction() as db:
        ticket = maintenance_tickets.open_ticket(
            db,
            tool_id=tool_id,
            note=form_text("note"),
            source=models.TicketSource.STEWARD,
            opened_by=current_member().id,
            blocking=form_flag("blocking"),
        )
        record_change(db, "ticket.open", f"ticket:{ticket.id}", None, snapshot(ticket))
    flash(
        f"Ticket {ticket.id} opened" + ("; the tool is out of service." if ticket.blocking else ".")
    )
    return back("steward_tools.tool", tool_id=tool_id)


@bp.post("/tickets/<int:ticket_id>/resolve")
@steward_required
def resolve_ticket(ticket_id: int) -> ResponseReturnValue:
    """Resolve a ticket as fixed; the tool returns to service if nothing else blocks it."""
    return _close_ticket(
        ticket_id, "ticket.resolve", "resolved", maintenance_tickets.resolve_ticket
    )


@bp.post("/tickets/<int:ticket_id>/wont-fix")
@steward_required
def wont_fix_ticket(ticket_id: int) -> ResponseReturnValue:
    """Close a ticket without a fix, saying why."""
    return _close_ticket(
        ticket_id, "ticket.wont_fix", "closed without a fix", maintenance_tickets.wont_fix_ticket
    )


@bp.post("/tickets/<int:ticket_id>/blocking")
@steward_required
def mark_blocking(ticket_id: int) -> ResponseReturnValue:
    """Mark a live ticket blocking, taking its tool out of service."""
    with transaction() as db:
        ticket = maintenance_tickets.get_ticket(db, ticket_id)
        before = snapshot(ticket, *TICKET_FIELDS)
        maintenance_tickets.mark_blocking(db, ticket_id, steward_id=current_member().id)
        record_change(
            db, "ticket.block", f"ticket:{ticket_id}", before, snapshot(ticket, *TICKET_FIELDS)
        )
    flash(f"Ticket {ticket_id} now blocks its tool; the kiosks will not lend it.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)


def _close_ticket(
    ticket_id: int,
    action: str,
    outcome: str,
    # resolve_ticket or wont_fix_ticket: (db, ticket_id, *, steward_id, note, now) -> Ticket;
    # they differ in `note` (resolve takes None, won't fix refuses it), so no one signature fits.
    close: Callable[..., models.Ticket],
) -> ResponseReturnValue:
    """Close a ticket with ``close`` (resolve or won't fix), audited, and go back."""
    with transaction() as db:
        ticket = maintenance_tickets.get_ticket(db, ticket_id)
        before = snapshot(ticket, *TICKET_FIELDS)
        note = form_text("note") or None
        close(db, ticket_id, steward_id=current_member().id, note=note, now=utcnow())
        record_change(db, action, f"ticket:{ticket_id}", before, snapshot(ticket, *TICKET_FIELDS))
    flash(f"Ticket {ticket_id} {outcome}.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)
