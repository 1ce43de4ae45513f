"""Tools: the status board by kiosk and locker, each tool's history and tickets."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_flag, form_text
from hub.inventory import registry
from hub.maintenance import history as maintenance_history
from hub.maintenance import stewarding as maintenance_stewarding
from hub.queries import maintenance as maintenance_rows
from hub.queries import tools

bp = Blueprint("steward_tools", __name__, url_prefix="/steward")
NAV = (NavLink("steward_tools.board", "Tools"),)


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
        ticket = maintenance_stewarding.open_ticket(
            db,
            acting_member(),
            tool_id=tool_id,
            note=form_text("note"),
            blocking=form_flag("blocking"),
        )
    flash(
        f"Ticket {ticket.id} opened" + ("; the tool is out of service." if ticket.blocking else ".")
    )
    return back("steward_tools.tool", tool_id=tool_id)


@bp.post("/tickets/<int:ticket_id>/start")
@steward_required
def start_ticket(ticket_id: int) -> ResponseReturnValue:
    """Mark a live ticket in progress."""
    with transaction() as db:
        ticket = maintenance_stewarding.start_ticket(db, acting_member(), ticket_id)
    flash(f"Ticket {ticket_id} in progress.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)


@bp.post("/tickets/<int:ticket_id>/resolve")
@steward_required
def resolve_ticket(ticket_id: int) -> ResponseReturnValue:
    """Resolve a ticket as fixed; the tool returns to service if nothing else blocks it."""
    with transaction() as db:
        ticket = maintenance_stewarding.resolve_ticket(
            db, acting_member(), ticket_id, form_text("note") or None
        )
    flash(f"Ticket {ticket_id} resolved.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)


@bp.post("/tickets/<int:ticket_id>/wont-fix")
@steward_required
def wont_fix_ticket(ticket_id: int) -> ResponseReturnValue:
    """Close a ticket without a fix, saying why."""
    with transaction() as db:
        ticket = maintenance_stewarding.wont_fix_ticket(
            db, acting_member(), ticket_id, form_text("note")
        )
    flash(f"Ticket {ticket_id} closed without a fix.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)


@bp.post("/tickets/<int:ticket_id>/blocking")
@steward_required
def mark_blocking(ticket_id: int) -> ResponseReturnValue:
    """Mark a live ticket blocking, taking its tool out of service."""
    with transaction() as db:
        ticket = maintenance_stewarding.set_blocking(db, acting_member(), ticket_id, True)
    flash(f"Ticket {ticket_id} now blocks its tool; the kiosks will not lend it.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)


@bp.post("/tickets/<int:ticket_id>/not-blocking")
@steward_required
def unmark_blocking(ticket_id: int) -> ResponseReturnValue:
    """Stop a live ticket blocking its tool; it returns to service if nothing else blocks it."""
    with transaction() as db:
        ticket = maintenance_stewarding.set_blocking(db, acting_member(), ticket_id, False)
    flash(f"Ticket {ticket_id} no longer blocks its tool.")
    return back("steward_tools.tool", tool_id=ticket.tool_id)
