"""Tools: the status board by kiosk and locker, each tool's history and tickets; adding,
editing, moving and retiring a tool (audited by the hub's ``hub.inventory.tools``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_flag, form_text
from hub.errors import Conflict, DomainError, InvalidInput, NotFound, ToolUnavailable
from hub.inventory import registry
from hub.inventory import tools as tool_doors
from hub.maintenance import history as maintenance_history
from hub.maintenance import stewarding as maintenance_stewarding
from hub.queries import maintenance as maintenance_rows
from hub.queries import members as member_rows
from hub.queries import tools

bp = Blueprint("steward_tools", __name__, url_prefix="/steward")
NAV = (NavLink("steward_tools.board", "Tools"),)


@bp.get("/tools")
@steward_required
def board() -> str:
    """Show every tool by kiosk and locker, with its status and why."""
    return _board_page()


def _board_page(**refused: Any) -> str:
    with reading() as db:
        rows = tools.tool_board(db)
        categories = tool_doors.categories(db)
    return render_template("steward/tools.html", rows=rows, categories=categories, **refused)


@bp.get("/tools/<int:tool_id>")
@steward_required
def tool(tool_id: int) -> str:
    """Show a tool: its status, live tickets (with actions) and everything that happened to it;
    its edit, move and retire forms."""
    return _tool_page(tool_id)


def _tool_page(tool_id: int, **refused: Any) -> str:
    """Render a tool's page; after a refusal, with the refused form as typed (``refused``)."""
    with reading() as db:
        item = registry.get_tool(db, tool_id)
        history = maintenance_history.tool_history(db, tool_id)
        tickets = maintenance_rows.tickets_of_tool(db, tool_id)
        setup = _setup_choices(db, item)
    return render_template(
        "steward/tool.html", tool=item, history=history[::-1], tickets=tickets, **setup, **refused
    )


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


# --- adding and looking after tools ---------------------------------------------------------


@bp.get("/tools/new")
@steward_required
def new_tool() -> str:
    """Show the form that adds a tool."""
    return _new_tool_page({}, None)


def _new_tool_page(form: Any, error: DomainError | None) -> str:
    with reading() as db:
        choices = _setup_choices(db, None)
    return render_template("steward/tool_new.html", form=form, error=error, **choices)


@bp.post("/tools")
@steward_required
def add_tool() -> ResponseReturnValue:
    """Add a tool; a refusal shows the form again as typed, naming the field at fault."""
    try:
        with transaction() as db:
            added = tool_doors.add_tool(
                db,
                acting_member(),
                code=form_text("code"),
                name=form_text("name"),
                category=form_text("category"),
                kiosk_id=form_text("kiosk_id") or None,
                slot=_optional_number("slot"),
                training=form_text("training") or None,
                loan_days=_number("loan_days") if form_text("loan_days") else 7,
                notes=form_text("notes") or None,
            )
    except DomainError as error:
        return _new_tool_page(request.form, error), 422
    flash(f"Tool {added.code} {added.name} added.")
    return redirect(url_for("steward_tools.tool", tool_id=added.id))


@bp.post("/tools/<int:tool_id>/edit")
@steward_required
def edit_tool(tool_id: int) -> ResponseReturnValue:
    """Change a tool's name, category, required training, loan days and notes."""
    try:
        with transaction() as db:
            changed = tool_doors.edit_tool(db, acting_member(), tool_id, **_edited_fields())
    except (InvalidInput, NotFound) as error:
        return _refused(tool_id, "edit", error)
    flash(f"Tool {changed.code} saved.")
    return redirect(url_for("steward_tools.tool", tool_id=tool_id))


@bp.post("/tools/<int:tool_id>/move")
@steward_required
def move_tool(tool_id: int) -> ResponseReturnValue:
    """Give a tool another home locker (an empty one)."""
    try:
        with transaction() as db:
            moved = tool_doors.move_tool(
                db, acting_member(), tool_id, form_text("kiosk_id"), _number("slot")
            )
    except DomainError as error:
        return _refused(tool_id, "move", error)
    flash(f"Tool {moved.code} now lives in locker {form_text('slot')} at {form_text('kiosk_id')}.")
    return redirect(url_for("steward_tools.tool", tool_id=tool_id))


@bp.post("/tools/<int:tool_id>/retire")
@steward_required
def retire_tool(tool_id: int) -> ResponseReturnValue:
    """Retire a tool for good (not while it is on loan); its locker is freed."""
    try:
        with transaction() as db:
            retired = tool_doors.retire_tool(db, acting_member(), tool_id, form_text("reason"))
    except DomainError as error:
        return _refused(tool_id, "retire", error)
    flash(f"Tool {retired.code} retired.")
    return redirect(url_for("steward_tools.tool", tool_id=tool_id))


def _edited_fields() -> dict[str, Any]:
    """Return the edit form's fields as ``edit_tool`` takes them (empty means none)."""
    fields: dict[str, Any] = {
        "name": form_text("name"),
        "category": form_text("category"),
        "training": form_text("training") or None,
        "notes": form_text("notes") or None,
    }
    if form_text("loan_days"):
        fields["loan_days"] = _number("loan_days")
    return fields


@bp.post("/categories/rename")
@steward_required
def rename_category() -> ResponseReturnValue:
    """Move every tool of a category to another name."""
    try:
        with transaction() as db:
            count = tool_doors.rename_category(
                db, acting_member(), form_text("category"), form_text("new_name")
            )
    except DomainError as error:
        return _board_page(form=request.form, error=error), 422
    flash(f"{count} tool(s) moved to category {form_text('new_name').lower()}.")
    return redirect(url_for("steward_tools.board"))


def _refused(tool_id: int, form_name: str, error: DomainError) -> ResponseReturnValue:
    """Show the tool page again with ``form_name``'s form as typed and the refusal; 404 and
    the like stay the error page's."""
    if error.field == "tool_id" and not isinstance(error, ToolUnavailable | Conflict):
        raise error
    return _tool_page(tool_id, form=request.form, failed=form_name, error=error), 422


def _setup_choices(db: Session, item: registry.Tool | None) -> dict[str, Any]:
    """Return what the tool forms offer: trainings, categories, kiosks, the tool's home."""
    home = tools.home_of(db, item) if item else (None, None)
    training = registry.required_training(db, item) if item else None
    return dict(
        trainings=member_rows.list_trainings(db),
        categories=tool_doors.categories(db),
        kiosks=registry.list_kiosks(db),
        home=home,
        training_code=training.code if training else "",
    )


def _optional_number(name: str) -> int | None:
    """Return a form field as a whole number, None when empty; refuse naming the field."""
    return _number(name) if form_text(name) else None


def _number(name: str) -> int:
    text = form_text(name)
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput(f"{name} must be a whole number, not {text!r}.", field=name)
    return int(text)
