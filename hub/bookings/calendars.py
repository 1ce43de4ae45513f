"""Private iCalendar feeds: a member's own bookings, a resource's busy time without names.

A feed is reached by a random token in its URL; only the token's SHA-256 is stored. Issuing a
new token revokes the old one, so a leaked URL is stopped by asking for a new link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from hub.bookings.hours import describe_span
from hub.bookings.models import (
    ACTIVE_STATUSES,
    RESOURCE_FEED_ISSUE,
    Booking,
    CalendarFeed,
    Resource,
)
from hub.bookings.resources import get_resource, target_of
from hub.errors import NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.ranks import Actor, require_role
from hub.members.roster import Role, get_member

PRODID = "-//Commonshed//Bookings//EN"
# Feeds carry the recent past too, so a calendar app keeps last week's sessions.
FEED_HISTORY = timedelta(days=30)


def issue_member_feed(session: Session, member_id: int, *, now: datetime | None = None) -> str:
    """Return a new secret token for a member's own feed, revoking any earlier one."""
    member = get_member(session, member_id)
    return _issue(
        session,
        CalendarFeed.member_id == member.id,
        CalendarFeed(member_id=member.id, token_hash=""),
        now,
    )


def issue_resource_feed(
    session: Session, actor: Actor, resource_id: int, *, now: datetime | None = None
) -> str:
    """Return a new secret token for a resource's busy-time feed, revoking any earlier one.

    Stewards only; audited (the token itself is not kept: only its hash is stored).
    """
    require_role(actor, Role.STEWARD, "issue a machine's calendar link")
    resource = get_resource(session, resource_id)
    feed = CalendarFeed(resource_id=resource.id, token_hash="")
    with audit.audited(session, actor, RESOURCE_FEED_ISSUE, feed, target_of(resource)):
        token = _issue(session, CalendarFeed.resource_id == resource.id, feed, now)
    return token


def _issue(
    session: Session, same_owner: ColumnElement[bool], feed: CalendarFeed, now: datetime | None
) -> str:
    """Revoke the owner's live feeds, store the new feed's token hash, and return the token."""
    now = as_utc(now or utcnow())
    for old in session.exec(
        select(CalendarFeed).where(same_owner, CalendarFeed.revoked_at.is_(None))
    ):
        old.revoked_at = now
        session.add(old)
    token = secrets.token_urlsafe(32)
    feed.token_hash, feed.created_at = _digest(token), now
    session.add(feed)
    session.flush()
    return token


def feed_for_token(session: Session, token: str, *, now: datetime | None = None) -> bytes:
    """Return the iCalendar text of the feed ``token`` opens; refuse unknown or revoked tokens."""
    feed, now = _live_feed(session, token), as_utc(now or utcnow())
    if feed.member_id is not None:
        calendar = member_calendar(session, feed.member_id, now=now)
    else:
        calendar = resource_calendar(session, feed.resource_id, now=now)
    text: bytes = calendar.to_ical()
    return text


def _live_feed(session: Session, token: str) -> CalendarFeed:
    """Return the unrevoked feed whose token this is, or refuse without saying which part failed."""
    feed = session.exec(
        select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token or ""))
    ).first()
    if feed is None or feed.revoked_at is not None:
        raise NotFound("No calendar feed has that link; ask for a new one.", field="token")
    return feed


def _digest(token: str) -> str:
    """Return the SHA-256 hex of a token (tokens are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def member_calendar(session: Session, member_id: int, *, now: datetime | None = None) -> Calendar:
    """Return a calendar of a member's active bookings, with each resource's name."""
    member, now = get_member(session, member_id), as_utc(now or utcnow())
    rows = session.exec(
        select(Booking, Resource)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(Booking.member_id == member.id, *_feed_window(now))
        .order_by(Booking.starts_at)
    )
    calendar = _calendar(f"My bookings ({member.number})", f"member-{member.id}")
    for booking, resource in rows:
        span = describe_span(resource, booking.starts_at, booking.ends_at)
        calendar.add_component(_event(booking, f"{resource.label} booking", span, now))
    return calendar


def resource_calendar(
    session: Session, resource_id: int, *, now: datetime | None = None
) -> Calendar:
    """Return a calendar of a resource's busy time: when, never who."""
    resource, now = get_resource(session, resource_id), as_utc(now or utcnow())
    bookings = session.exec(
        select(Booking)
        .where(Booking.resource_id == resource.id, *_feed_window(now))
        .order_by(Booking.starts_at)
    )
    calendar = _calendar(f"{resource.label} (busy)", f"resource-{resource.id}")
    for booking in bookings:
        calendar.add_component(_event(booking, f"{resource.label}: busy", None, now))
    return calendar


def _feed_window(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Return the conditions on bookings a feed carries: active, not long past."""
    return col(Booking.status).in_(ACTIVE_STATUSES), col(Booking.ends_at) > now - FEED_HISTORY


def _calendar(name: str, owner: str) -> Calendar:
    """Return an empty calendar with a stable identity."""
    return Calendar.new(prodid=PRODID, name=name, uid=f"{owner}@commonshed")


def _event(booking: Booking, summary: str, description: str | None, now: datetime) -> Event:
    """Return one booking as an event (UTC times, stable UID)."""
    return Event.new(
        uid=f"booking-{booking.id}@commonshed",
        start=booking.starts_at,
        end=booking.ends_at,
        summary=summary,
        description=description,
        stamp=now,
    )
