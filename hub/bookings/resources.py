"""Bookable resources: their rules, closed days, pauses, and the notices their holders get."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlmodel import Session, select

from hub.bookings.hours import describe_span, local_day, parse_opening_hours, parse_timezone
from hub.bookings.models import (
    ACTIVE_STATUSES,
    DEFAULT_TIMEZONE,
    Booking,
    Resource,
    ResourceClosure,
)
from hub.bookings.refusals import ResourceUnavailable
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.members.roster import NAME_MAX, NOTE_MAX, clean_text, training_by_code

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
    **rules: int,
) -> Resource:
    """Add a bookable resource; ``rules`` are the integer fields of :class:`Resource`."""
    code = _parse_code(code)
    if session.exec(select(Resource.id).where(Resource.code == code)).first():
        raise Conflict(f"Resource {code} already exists.", field="code")
    resource = Resource(
        code=code,
        name=clean_text(name, "name", limit=NAME_MAX),
        tool_id=_tool_id(session, tool_code),
        training_id=training_by_code(session, training).id if training else None,
        timezone=parse_timezone(timezone),
    )
    if opening_hours is not None:
        resource.opening_hours = parse_opening_hours(opening_hours)
    _apply_rules(resource, rules)
    session.add(resource)
    session.flush()
    return resource


def update_rules(
    session: Session,
    resource_id: int,
    *,
    opening_hours: dict[str, list[str]] | None = None,
    **rules: int,
) -> Resource:
    """Change a resource's rules; existing bookings stay as they are."""
    resource = get_resource(session, resource_id)
    if opening_hours is not None:
        resource.opening_hours = parse_opening_hours(opening_hours)
    _apply_rules(resource, rules)
    session.add(resource)
    return resource


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


def close_day(session: Session, resource_id: int, day: date, *, reason: str | None = None) -> None:
    """Close a resource for a whole local day; bookings already made that day are told."""
    resource = get_resource(session, resource_id)
    if closure_of(session, resource.id, day) is None:
        reason = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
        session.add(ResourceClosure(resource_id=resource.id, day=day, reason=reason))
        why = f": {reason}" if reason else ""
        for booking in future_bookings_of(session, resource.id, utcnow()):
            if local_day(resource, booking.starts_at) == day:
                _tell(booking, f"{resource.name} is closed on {day:%Y-%m-%d}{why}.", utcnow())
    session.flush()


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
    session: Session, resource_id: int, reason: str, *, now: datetime | None = None
) -> list[Booking]:
    """Stop new bookings of a resource and tell every holder of a future booking; return those."""
    resource = get_resource(session, resource_id)
    resource.paused, resource.paused_reason = True, clean_text(reason, "reason", limit=NOTE_MAX)
    session.add(resource)
    return tell_holders(
        session, resource, f"{resource.name} is paused: {resource.paused_reason}", now=now
    )


def resume_resource(session: Session, resource_id: int) -> Resource:
    """Let a paused resource be booked again."""
    resource = get_resource(session, resource_id)
    resource.paused, resource.paused_reason = False, None
    session.add(resource)
    return resource


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


def tell_holders(
    session: Session, resource: Resource, notice: str, *, now: datetime | None = None
) -> list[Booking]:
    """Record ``notice`` on every active future booking of ``resource``; return those bookings."""
    now = now or utcnow()
    told = future_bookings_of(session, resource.id, now)
    for booking in told:
        _tell(booking, _may_not_go_ahead(resource, booking, notice), now)
        session.add(booking)
    session.flush()
    return told


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
