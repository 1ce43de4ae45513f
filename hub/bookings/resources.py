"""Bookable resources: their rules, closed days, pauses, and the notices their holders get.

The steward's doors (add, change, close and reopen a day, pause, resume) take the acting member
first, check the role themselves and write their audit entry in the caller's transaction, so
the page, the API and the CLI are checked and audited alike.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from hub.bookings.hours import (
    at_local,
    describe_day,
    describe_span,
    local_day,
    parse_opening_hours,
    parse_timezone,
)
from hub.bookings.models import (
    ACTIVE_STATUSES,
    CLOSURE_ADD,
    CLOSURE_REMOVE,
    DEFAULT_TIMEZONE,
    RESOURCE_ADD,
    RESOURCE_EDIT,
    RESOURCE_PAUSE,
    RESOURCE_RESUME,
    Booking,
    BookingStatus,
    HolderChoice,
    Resource,
    ResourceClosure,
)
from hub.bookings.refusals import ResourceUnavailable
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.members.ranks import Actor, require_role
from hub.members.roster import NAME_MAX, NOTE_MAX, Role, clean_text, training_by_code
from hub.wire import parse_site_id

# Bookings never last longer than this, so a window query can bound its index range.
# A resource code is the hub's own (no kiosk sees it); written like a training code.
RESOURCE_CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
LONGEST_BOOKING_MINUTES = 24 * 60
TOOL_DOWN = (ToolStatus.OUT_OF_SERVICE, ToolStatus.RETIRED)
RULE_LIMITS = {
    "slot_minutes": (5, 240),
    "max_booking_minutes": (5, LONGEST_BOOKING_MINUTES),
    "max_minutes_per_week": (5, 7 * LONGEST_BOOKING_MINUTES),
    "max_future_bookings": (1, 100),
    "cost_minutes_per_hour": (0, 600),
    "checkin_grace_minutes": (0, 240),
}


def add_resource(
    session: Session,
    *,
    code: str,
    name: str,
    tool_code: str | None = None,
    training: str | None = None,
    opening_hours: dict[str, list[str]] | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    site: str | None = None,
    **rules: int,
) -> Resource:
    """Store a bookable resource, checked but neither role-checked nor audited: for seeding
    (the demo library, tests). A steward's door calls :func:`register_resource`.

    ``rules`` are the integer fields of :class:`Resource`; ``site`` is where it stands (None or
    "": no site). A code already in use is a Conflict.
    """
    code = _parse_code(code)
    if session.exec(select(Resource.id).where(Resource.code == code)).first():
        raise Conflict(f"Resource {code} already exists.", field="code")
    resource = Resource(
        code=code,
        name=clean_text(name, "name", limit=NAME_MAX),
        tool_id=_tool_id(session, tool_code),
        training_id=_training_id(session, training),
        timezone=parse_timezone(timezone),
        site=_site(site),
    )
    if opening_hours is not None:
        resource.opening_hours = parse_opening_hours(opening_hours)
    _apply_rules(resource, rules)
    session.add(resource)
    session.flush()
    return resource


def register_resource(session: Session, actor: Actor, **fields: Any) -> Resource:
    """Add a bookable machine (``fields`` as :func:`add_resource` takes them) as ``actor``.

    Stewards only; audited as created. A code already in use is a Conflict, so a repeated form
    does not add the machine twice.
    """
    require_role(actor, Role.STEWARD, "add a bookable machine")
    resource = add_resource(session, **fields)
    audit.record(
        session,
        actor_member_id=actor.id,
        action=RESOURCE_ADD.name,
        target=target_of(resource),
        after=audit.snapshot(resource, *RESOURCE_ADD.fields),
    )
    return resource


def update_rules(
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    opening_hours: dict[str, list[str]] | None = None,
    **changes: Any,
) -> Resource:
    """Change a resource: ``name``, ``training`` (a code, or "" for none), ``tool_code`` ("" for
    none), ``site`` ("" for none), ``opening_hours`` and the integer rules. Only what is named
    changes.

    Existing bookings stay as they are. Stewards only; audited.
    """
    require_role(actor, Role.STEWARD, "change a bookable machine")
    resource = get_resource(session, resource_id)
    with audit.audited(session, actor, RESOURCE_EDIT, resource, target_of(resource)):
        if "name" in changes:
            resource.name = clean_text(changes.pop("name"), "name", limit=NAME_MAX)
        if "training" in changes:
            resource.training_id = _training_id(session, changes.pop("training"))
        if "tool_code" in changes:
            resource.tool_id = _tool_id(session, changes.pop("tool_code"))
        if "site" in changes:
            resource.site = _site(changes.pop("site"))
        if opening_hours is not None:
            resource.opening_hours = parse_opening_hours(opening_hours)
        _apply_rules(resource, changes)
        session.add(resource)
    return resource


def target_of(resource: Resource) -> str:
    """Return how the audit log names a resource: ``resource:laser``."""
    return f"resource:{resource.code}"


def _training_id(session: Session, training: str | None) -> int | None:
    """Return the id of the training a resource requires (None for "" or None)."""
    code = (training or "").strip()
    return training_by_code(session, code).id if code else None


def _site(value: str | None) -> str | None:
    """Return the site a machine stands at, spelt as kiosks' sites are (None for "" or None)."""
    return parse_site_id(value) if (value or "").strip() else None


def _apply_rules(resource: Resource, rules: dict[str, int]) -> None:
    """Set each named rule after checking it is a whole number within its bounds."""
    for name, value in rules.items():
        if name not in RULE_LIMITS:
            raise InvalidInput(f"Unknown booking rule {name!r}.", field=name)
        low, high = RULE_LIMITS[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(
                f"{name} {value!r} must be a whole number from {low} to {high}.", field=name
            )
        setattr(resource, name, value)
    if resource.max_booking_minutes % resource.slot_minutes:
        raise InvalidInput(
            f"max_booking_minutes {resource.max_booking_minutes} must be a whole number of "
            f"{resource.slot_minutes}-minute slots.",
            field="max_booking_minutes",
        )


def _parse_code(value: str) -> str:
    """Return a resource code (lowercase letters, digits, - or _) or refuse it."""
    code = (value or "").strip().lower()
    if not RESOURCE_CODE_PATTERN.fullmatch(code):
        raise InvalidInput(
            f"Resource code {value!r} must be lowercase letters, digits, - or _.", field="code"
        )
    return code


def _tool_id(session: Session, tool_code: str | None) -> int | None:
    """Return the id of the library tool a resource stands for, if it names one."""
    if not tool_code:
        return None
    tool = session.exec(select(Tool).where(Tool.code == tool_code.strip().upper())).first()
    if tool is None:
        raise NotFound(f"Tool {tool_code} does not exist.", field="tool_code")
    return tool.id


def get_resource(session: Session, resource_id: int) -> Resource:
    """Return resource ``resource_id`` or refuse."""
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(f"Resource {resource_id} does not exist.", field="resource_id")
    return resource


def resource_by_code(session: Session, code: str) -> Resource:
    """Return the resource with ``code`` or refuse."""
    resource = session.exec(
        select(Resource).where(Resource.code == (code or "").strip().lower())
    ).first()
    if resource is None:
        raise NotFound(f"Resource {code!r} does not exist.", field="resource")
    return resource


def find_resource(session: Session, resource: int | str) -> Resource:
    """Return a resource named by id or by code."""
    if isinstance(resource, int) or str(resource).isdigit():
        return get_resource(session, int(resource))
    return resource_by_code(session, resource)


def list_resources(session: Session) -> list[Resource]:
    """Return every resource, by name."""
    return list(session.exec(select(Resource).order_by(Resource.name)))


# --- closed days --------------------------------------------------------------------------


def close_day(
    session: Session,
    actor: Actor,
    resource_id: int,
    day: date,
    *,
    holders: HolderChoice,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Close a resource for a whole local day; return the bookings that day it touched.

    ``holders`` says what happens to them: KEEP leaves them booked with a notice that they may
    not go ahead, CANCEL cancels them with the closing as the reason; either way their holders
    see it on their bookings. Closing a day already closed changes nothing. Stewards only;
    audited (with the bookings touched).
    """
    require_role(actor, Role.STEWARD, "close a bookable machine for a day")
    resource, now = get_resource(session, resource_id), now or utcnow()
    if day < local_day(resource, now):
        raise InvalidInput(f"{day:%Y-%m-%d} is in the past; close today or later.", field="day")
    if closure_of(session, resource.id, day) is not None:
        return []
    reason = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    closure = ResourceClosure(resource_id=resource.id, day=day, reason=reason)
    touched = bookings_on(session, resource, day, now)
    with audit.audited(session, actor, CLOSURE_ADD, closure, target_of(resource)) as notes:
        session.add(closure)
        why = f"{resource.name} is closed on {describe_day(resource, at_local(resource, day, 0))}"
        settle_holders(
            session, actor, resource, touched, why + (f": {reason}" if reason else ""), holders, now
        )
        notes |= {"bookings": holders.value, "booking_ids": [b.id for b in touched]}
    return touched


def reopen_day(
    session: Session, actor: Actor, resource_id: int, day: date, *, now: datetime | None = None
) -> ResourceClosure | None:
    """Open a closed day again; return the closure removed (None if the day was not closed).

    Bookings kept through the closing are told they go ahead; cancelled ones stay cancelled.
    Stewards only; audited.
    """
    require_role(actor, Role.STEWARD, "reopen a closed day")
    resource, now = get_resource(session, resource_id), now or utcnow()
    closure = closure_of(session, resource.id, day)
    if closure is None:
        return None
    before = audit.snapshot(closure, *CLOSURE_REMOVE.fields)
    session.delete(closure)
    told = [b for b in bookings_on(session, resource, day, now) if b.notice]
    for booking in told:
        span = describe_span(resource, booking.starts_at, booking.ends_at)
        _tell(booking, f"{resource.name} is open again: your booking {span} goes ahead.", now)
        session.add(booking)
    audit.record(
        session,
        actor_member_id=actor.id,
        action=CLOSURE_REMOVE.name,
        target=target_of(resource),
        before=before,
        after={"booking_ids_told": [b.id for b in told]},
    )
    session.flush()
    return closure


def bookings_on(session: Session, resource: Resource, day: date, now: datetime) -> list[Booking]:
    """Return the active bookings of a resource starting on local ``day`` that have not ended."""
    return [
        booking
        for booking in future_bookings_of(session, resource.id, now)
        if local_day(resource, booking.starts_at) == day
    ]


def settle_holders(
    session: Session,
    actor: Actor,
    resource: Resource,
    touched: list[Booking],
    why: str,
    holders: HolderChoice,
    now: datetime,
) -> None:
    """Keep (with a notice) or cancel (with the reason) each booking ``touched``, as chosen."""
    for booking in touched:
        if holders is HolderChoice.CANCEL:
            booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
            booking.cancelled_by, booking.cancel_reason = actor.id, f"{why}."[:NOTE_MAX]
        else:
            _tell(booking, _may_not_go_ahead(resource, booking, why), now)
        session.add(booking)
    session.flush()


def describe_choice(holders: HolderChoice, count: int) -> str:
    """Say what happened to the bookings touched: "2 bookings kept; their holders are told"."""
    noun = "booking" if count == 1 else "bookings"
    if not count:
        return "No bookings were affected."
    if holders is HolderChoice.CANCEL:
        return f"{count} {noun} cancelled; each holder sees why on their bookings."
    return f"{count} {noun} kept; each holder sees a notice that it may not go ahead."


def closed_days(session: Session, resource_id: int, since: date) -> list[ResourceClosure]:
    """Return a resource's closed days from ``since`` on, by day."""
    return list(
        session.exec(
            select(ResourceClosure)
            .where(ResourceClosure.resource_id == resource_id, ResourceClosure.day >= since)
            .order_by(ResourceClosure.day)
        )
    )


def closure_of(session: Session, resource_id: int, day: date) -> ResourceClosure | None:
    """Return the closure of a resource on local ``day``, if it is closed then."""
    return session.exec(
        select(ResourceClosure).where(
            ResourceClosure.resource_id == resource_id, ResourceClosure.day == day
        )
    ).first()


def closures_between(
    session: Session, resource_id: int, first: date, last: date
) -> dict[date, str]:
    """Return ``{day: reason or "closed"}`` for the resource's closed days from first to last."""
    closures = session.exec(
        select(ResourceClosure).where(
            ResourceClosure.resource_id == resource_id,
            ResourceClosure.day >= first,
            ResourceClosure.day <= last,
        )
    )
    return {closure.day: closure.reason or "closed" for closure in closures}


# --- pauses and out-of-service tools ------------------------------------------------------


def pause_resource(
    session: Session,
    actor: Actor,
    resource_id: int,
    reason: str,
    *,
    holders: HolderChoice,
    now: datetime | None = None,
) -> list[Booking]:
    """Stop new bookings of a resource; return the future bookings it touched.

    ``holders`` says what happens to them (see :func:`close_day`). Pausing a paused resource
    again with the same reason changes nothing. Stewards only; audited.
    """
    require_role(actor, Role.STEWARD, "pause a bookable machine")
    resource, now = get_resource(session, resource_id), now or utcnow()
    reason = clean_text(reason, "reason", limit=NOTE_MAX)
    if resource.paused and resource.paused_reason == reason:
        return []
    touched = future_bookings_of(session, resource.id, now)
    with audit.audited(session, actor, RESOURCE_PAUSE, resource, target_of(resource)) as notes:
        resource.paused, resource.paused_reason = True, reason
        session.add(resource)
        why = f"{resource.name} is paused: {reason}"
        settle_holders(session, actor, resource, touched, why, holders, now)
        notes |= {"bookings": holders.value, "booking_ids": [b.id for b in touched]}
    return touched


def resume_resource(
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Let a paused resource be booked again; return the kept bookings whose holders are told
    they go ahead. Resuming a resource that is not paused changes nothing. Stewards only;
    audited, with the ``reason`` if one is given ("new lens fitted")."""
    require_role(actor, Role.STEWARD, "resume a bookable machine")
    resource, now = get_resource(session, resource_id), now or utcnow()
    if not resource.paused:
        return []
    told = [b for b in future_bookings_of(session, resource.id, now) if b.notice]
    with audit.audited(session, actor, RESOURCE_RESUME, resource, target_of(resource)) as notes:
        resource.paused, resource.paused_reason = False, None
        session.add(resource)
        for booking in told:
            span = describe_span(resource, booking.starts_at, booking.ends_at)
            _tell(
                booking, f"{resource.name} is back in service: your booking {span} goes ahead.", now
            )
            session.add(booking)
        notes["booking_ids_told"] = [b.id for b in told]
        why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
        if why:
            notes["reason"] = why
    return told


def unavailability(session: Session, resource: Resource) -> str | None:
    """Return why the resource cannot be used now (paused, tool out of service), or None."""
    if resource.paused:
        return f"{resource.name} is paused: {resource.paused_reason}"
    tool = get_tool(session, resource.tool_id) if resource.tool_id else None
    if tool is not None and tool.status in TOOL_DOWN:
        why = f": {tool.status_reason}" if tool.status_reason else ""
        return f"{resource.name} is {tool.status.replace('_', ' ')}{why}"
    return None


def require_available(session: Session, resource: Resource) -> None:
    """Refuse a resource that is paused or whose linked tool is out of service."""
    why = unavailability(session, resource)
    if why:
        raise ResourceUnavailable(
            f"{why}. It cannot be booked until a steward puts it back in service.",
            rule="in_service",
            field="resource",
        )


def tell_holders_of_unavailable_resources(
    session: Session, *, now: datetime | None = None
) -> list[Booking]:
    """Give a notice to holders of bookings on resources that became unusable; return them."""
    now = now or utcnow()
    told: list[Booking] = []
    for resource in list_resources(session):
        why = unavailability(session, resource)
        if why:
            unnoticed = [b for b in future_bookings_of(session, resource.id, now) if not b.notice]
            for booking in unnoticed:
                _tell(booking, _may_not_go_ahead(resource, booking, why), now)
                session.add(booking)
            told += unnoticed
    session.flush()
    return told


def future_bookings_of(session: Session, resource_id: int, now: datetime) -> list[Booking]:
    """Return the active bookings of a resource that have not ended, by start."""
    return list(
        session.exec(
            select(Booking)
            .where(
                Booking.resource_id == resource_id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.ends_at > now,
            )
            .order_by(Booking.starts_at)
        )
    )


def _may_not_go_ahead(resource: Resource, booking: Booking, why: str) -> str:
    """Return the notice a holder reads: what happened and which booking it touches."""
    span = describe_span(resource, booking.starts_at, booking.ends_at)
    return f"{why}. Your booking {span} may not go ahead."


def _tell(booking: Booking, notice: str, now: datetime) -> None:
    """Put ``notice`` on a booking, where "my bookings" shows it."""
    booking.notice, booking.notice_at = notice[:NOTE_MAX], now
