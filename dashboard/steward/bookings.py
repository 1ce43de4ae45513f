"""Bookings of the makerspace machines, and the machines themselves.

A steward sees each machine's bookings and may cancel one with a reason; adds and edits a
machine (its rules and a weekly grid of opening hours), closes and reopens days, and pauses or
resumes it, choosing whether the bookings it touches are kept or cancelled; gives a machine a
calendar link of its busy time; and lifts a member's booking pause. The hub's services
check the role and write the audit entries; a refused form comes back as it was typed, with the
field at fault marked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text
from hub import bookings
from hub.bookings.hours import DAY_NAMES, at_local, describe_day, local_day
from hub.bookings.models import EVERY_DAY, HolderChoice, Resource
from hub.bookings.resources import RULE_LIMITS, future_bookings_of
from hub.errors import DomainError, InvalidInput
from hub.infra.clock import utcnow
from hub.inventory.registry import get_tool
from hub.members.roster import get_member
from hub.queries import bookings as booking_rows
from hub.queries import members as member_rows
from hub.queries.reports import site_names

bp = Blueprint("steward_bookings", __name__, url_prefix="/steward")
NAV = (
    NavLink("steward_bookings.schedule", "Bookings"),
    NavLink("steward_bookings.machines", "Machines"),
)

RULES = (
    ("slot_minutes", "Slot length", "minutes"),
    ("max_booking_minutes", "Longest booking", "minutes, whole slots"),
    ("max_minutes_per_week", "Per member per week", "minutes"),
    ("max_future_bookings", "Upcoming bookings per member", "at once"),
    ("cost_minutes_per_hour", "Hour cost", "timebank minutes per hour; 0 is free"),
    ("checkin_grace_minutes", "Check-in grace", "minutes after the start"),
)
DAYS = tuple(zip(EVERY_DAY, DAY_NAMES, strict=True))
OPENINGS_PER_DAY = 2  # the grid's rows per weekday: an opening and one after a break
HOLDER_CHOICES = (
    (HolderChoice.KEEP, "Keep them", "they stay booked; each holder sees a notice that it "
     "may not go ahead"),
    (HolderChoice.CANCEL, "Cancel them", "each holder sees them cancelled, with your reason"),
)  # fmt: skip


@bp.get("/bookings")
@steward_required
def schedule() -> str:
    """Show each machine's bookings from yesterday on, with today's no-shows."""
    now = utcnow()
    with reading() as db:
        machines = [
            (resource, booking_rows.upcoming_bookings(db, resource.id, now=now))
            for resource in bookings.list_resources(db)
        ]
        paused = bookings.paused_members(db, now=now)
    return render_template("steward/bookings.html", machines=machines, paused=paused, now=now)


@bp.post("/bookings/<int:booking_id>/cancel")
@steward_required
def cancel(booking_id: int) -> ResponseReturnValue:
    """Cancel a member's booking, giving the reason they will be told."""
    with transaction() as db:
        bookings.cancel_member_booking(db, acting_member(), booking_id, reason=form_text("reason"))
    flash(f"Booking {booking_id} cancelled.")
    return back("steward_bookings.schedule")


@bp.post("/bookings/pauses/<int:member_id>/lift")
@steward_required
def lift_pause(member_id: int) -> ResponseReturnValue:
    """End a member's booking pause now, so they may book again."""
    with transaction() as db:
        bookings.lift_booking_pause(
            db, acting_member(), member_id, reason=form_text("reason") or None
        )
        member = get_member(db, member_id)
    flash(f"{member.name} ({member.number}) may book again.")
    return redirect(url_for("steward_bookings.schedule") + "#paused")


# --- machines -----------------------------------------------------------------------------


@bp.get("/machines")
@steward_required
def machines() -> str:
    """List the bookable machines with their rules, whether paused, and their next closed day."""
    now = utcnow()
    with reading() as db:
        rows = [
            (r, bookings.closed_days(db, r.id, local_day(r, now))[:1])
            for r in bookings.list_resources(db)
        ]
    return render_template("steward/machines.html", rows=rows)


@bp.get("/machines/new")
@steward_required
def new_machine() -> str:
    """Show an empty machine form, with the hub's default rules and hours filled in."""
    return _machine_form(None, form_of(Resource(code="", name="")))


@bp.post("/machines")
@steward_required
def add_machine() -> ResponseReturnValue:
    """Add a machine from the form; a refusal shows the form again as typed."""
    try:
        fields = _machine_fields(adding=True)
        with transaction() as db:
            added = bookings.register_resource(db, acting_member(), **fields)
            added_id = added.id
    except DomainError as refused:
        return _machine_form(None, request.form.to_dict(), refused), 422
    flash(f"{added.name} added. Members can book it on the tablet.")
    return redirect(url_for("steward_bookings.machine", resource_id=added_id))


@bp.get("/machines/<int:resource_id>")
@steward_required
def machine(resource_id: int) -> str:
    """Show a machine's form, its closed days, and pausing or resuming it."""
    with reading() as db:
        resource = bookings.get_resource(db, resource_id)
        values = form_of(resource)
    return _machine_form(resource_id, values)


@bp.post("/machines/<int:resource_id>")
@steward_required
def edit_machine(resource_id: int) -> ResponseReturnValue:
    """Save a machine's form; existing bookings stay as they are."""
    try:
        fields = _machine_fields(adding=False)
        with transaction() as db:
            changed = bookings.update_rules(db, acting_member(), resource_id, **fields)
    except DomainError as refused:
        return _machine_form(resource_id, request.form.to_dict(), refused), 422
    flash(f"{changed.name} saved. New bookings follow the new rules; existing ones stay.")
    return redirect(url_for("steward_bookings.machine", resource_id=resource_id))


@bp.post("/machines/<int:resource_id>/closed-days")
@steward_required
def close_day(resource_id: int) -> ResponseReturnValue:
    """Close a machine for a day, keeping or cancelling that day's bookings as chosen."""
    day, choice = _form_day("day"), _holder_choice()
    with transaction() as db:
        touched = bookings.close_day(
            db, acting_member(), resource_id, day, holders=choice, reason=form_text("reason")
        )
        resource = bookings.get_resource(db, resource_id)
        when = describe_day(resource, at_local(resource, day, 0))
    flash(f"{resource.name} is closed on {when}. {bookings.describe_choice(choice, len(touched))}")
    return redirect(url_for("steward_bookings.machine", resource_id=resource_id) + "#closed")


@bp.post("/machines/<int:resource_id>/closed-days/<day>/reopen")
@steward_required
def reopen_day(resource_id: int, day: str) -> ResponseReturnValue:
    """Open a closed day again; bookings kept through it are told they go ahead."""
    reopening = _parse_day(day, "day")
    with transaction() as db:
        bookings.reopen_day(db, acting_member(), resource_id, reopening)
        resource = bookings.get_resource(db, resource_id)
    flash(f"{resource.name} is open again on {reopening:%Y-%m-%d}.")
    return redirect(url_for("steward_bookings.machine", resource_id=resource_id) + "#closed")


@bp.post("/machines/<int:resource_id>/calendar-link")
@steward_required
def calendar_link(resource_id: int) -> str:
    """Make a new link to the machine's busy-time calendar (the old one stops working); show
    it once, since only its hash is kept."""
    with transaction() as db:
        token = bookings.issue_resource_feed(db, acting_member(), resource_id)
        resource = bookings.get_resource(db, resource_id)
    link = url_for("tablet.calendar_feed", token=token, _external=True)
    return render_template("steward/calendar_link.html", resource=resource, link=link)


@bp.post("/machines/<int:resource_id>/pause")
@steward_required
def pause(resource_id: int) -> ResponseReturnValue:
    """Pause a machine with a reason, keeping or cancelling its future bookings as chosen."""
    choice = _holder_choice()
    with transaction() as db:
        touched = bookings.pause_resource(
            db, acting_member(), resource_id, form_text("reason"), holders=choice
        )
        resource = bookings.get_resource(db, resource_id)
    flash(f"{resource.name} is paused. {bookings.describe_choice(choice, len(touched))}")
    return redirect(url_for("steward_bookings.machine", resource_id=resource_id) + "#pause")


@bp.post("/machines/<int:resource_id>/resume")
@steward_required
def resume(resource_id: int) -> ResponseReturnValue:
    """Let a paused machine be booked again; holders of kept bookings are told."""
    with transaction() as db:
        told = bookings.resume_resource(
            db, acting_member(), resource_id, reason=form_text("reason")
        )
        resource = bookings.get_resource(db, resource_id)
    flash(f"{resource.name} can be booked again; {len(told)} holder(s) told it goes ahead.")
    return redirect(url_for("steward_bookings.machine", resource_id=resource_id) + "#pause")


# --- the form -----------------------------------------------------------------------------


def form_of(resource: Resource) -> dict[str, str]:
    """Return a machine as the form's values (every one a string, as a browser sends them)."""
    values = {
        "code": resource.code,
        "name": resource.name,
        "tool_code": "",
        "training": "",
        "site": resource.site or "",
    }
    values |= {name: str(getattr(resource, name)) for name, *_ in RULES}
    for day in EVERY_DAY:
        for index, interval in enumerate(resource.opening_hours.get(day, []), start=1):
            opens, closes = interval.split("-")
            values[f"{day}_opens_{index}"] = opens
            values[f"{day}_closes_{index}"] = "00:00" if closes == "24:00" else closes
    return values


def _machine_form(
    resource_id: int | None, values: dict[str, str], refused: DomainError | None = None
) -> str:
    """Render the machine form with ``values``, and the refusal's message and field if any."""
    now = utcnow()
    with reading() as db:
        resource = bookings.get_resource(db, resource_id) if resource_id else None
        if resource is not None and not request.form:  # shown afresh, not as typed
            values["training"] = _training_code(db, resource.training_id)
            values["tool_code"] = get_tool(db, resource.tool_id).code if resource.tool_id else ""
        page: dict[str, Any] = dict(
            resource=resource,
            values=values,
            trainings=member_rows.list_trainings(db),
            sites=site_names(db),
            error=refused,
            rules=RULES,
            limits=RULE_LIMITS,
            days=DAYS,
            openings=_openings_per_day(values),
            holder_choices=HOLDER_CHOICES,
        )
        if resource is not None:
            today = local_day(resource, now)
            page |= dict(
                closed=bookings.closed_days(db, resource.id, today),
                future=len(future_bookings_of(db, resource.id, now)),
                today=today,
            )
    return render_template("steward/machine.html", **page)


def _openings_per_day(values: dict[str, str]) -> int:
    """Return how many opening rows each day needs (two, or more if a machine already has)."""
    used = [int(key.rsplit("_", 1)[1]) for key in values if "_opens_" in key]
    return max([OPENINGS_PER_DAY, *used])


def _training_code(db: Session, training_id: int | None) -> str:
    for training in member_rows.list_trainings(db):
        if training.id == training_id:
            return str(training.code)
    return ""


def _machine_fields(*, adding: bool) -> dict[str, Any]:
    """Return the form's fields as the services take them, refusing a rule that is no number."""
    fields: dict[str, Any] = {
        "name": form_text("name"),
        "training": form_text("training"),
        "site": form_text("site"),  # blank: no site
        "opening_hours": _opening_hours(),
    }
    if adding:
        fields["code"] = form_text("code")
        fields["tool_code"] = form_text("tool_code") or None
        fields["training"] = fields["training"] or None
    else:
        fields["tool_code"] = form_text("tool_code")  # blank: not a library tool
    for name, label, _ in RULES:
        text = form_text(name)
        if not (text.isascii() and text.isdigit()):
            low, high = RULE_LIMITS[name]
            raise InvalidInput(
                f"{label} {text!r} must be a whole number from {low} to {high}.", field=name
            )
        fields[name] = int(text)
    return fields


def _opening_hours() -> dict[str, list[str]]:
    """Return the weekly grid as ``{"mon": ["09:00-21:00"], ...}``; a blank row is no opening.

    A closing time of 00:00 is midnight at the end of the day (a time input cannot say 24:00).
    """
    rows = _openings_per_day(request.form.to_dict())
    hours: dict[str, list[str]] = {}
    for day, day_name in DAYS:
        hours[day] = []
        for index in range(1, rows + 1):
            opens = form_text(f"{day}_opens_{index}")
            closes = form_text(f"{day}_closes_{index}")
            if not opens and not closes:
                continue
            if not (opens and closes):
                raise InvalidInput(
                    f"Opening hours on {day_name}: give both the opening and the closing time "
                    "(or neither, to leave that row closed).",
                    field=f"opening_hours.{day}",
                )
            hours[day].append(f"{opens}-{'24:00' if closes == '00:00' else closes}")
    return hours


def _holder_choice() -> HolderChoice:
    """Return whether the steward chose to keep or cancel the bookings touched."""
    value = form_text("bookings")
    if value not in {choice.value for choice in HolderChoice}:
        raise InvalidInput(
            "Choose what happens to the bookings it touches: keep them or cancel them.",
            field="bookings",
        )
    return HolderChoice(value)


def _form_day(name: str) -> date:
    return _parse_day(form_text(name), name)


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a day (YYYY-MM-DD).", field=field) from None
