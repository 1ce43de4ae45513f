"""Check-in at the machine, the no-show sweep, and pausing the booking rights of no-shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from hub.bookings.hours import describe_moment, describe_span
from hub.bookings.models import (
    BOOKING_PAUSE_LIFT,
    Booking,
    BookingPause,
    BookingStatus,
    Resource,
)
from hub.bookings.refusals import BookingRefused
from hub.bookings.resources import (
    find_resource,
    require_available,
    tell_holders_of_unavailable_resources,
)
from hub.bookings.rules import active_pause
from hub.errors import InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.ranks import Actor, require_role
from hub.members.roster import (
    NOTE_MAX,
    Member,
    Role,
    clean_text,
    get_member,
    member_for_card,
    require_active,
)
from hub.timebank import ledger

# A member may check in this long before their booking starts (setting up, warming a laser).
EARLY_CHECK_IN = timedelta(minutes=10)


@dataclass(frozen=True)
class NoShowPolicy:
    """How many no-shows within ``window`` pause a member's booking rights, and for how long."""

    limit: int = 3
    window: timedelta = timedelta(days=30)
    pause: timedelta = timedelta(days=14)


DEFAULT_NO_SHOW_POLICY = NoShowPolicy()


def check_in_by_card(
    session: Session, resource: int | str, uid: str, *, now: datetime | None = None
) -> Booking:
    """Check in the booking the card's holder has on ``resource`` (id or code) now.

    Checking in twice returns the same booking. Raises NotFound (unknown resource or card, or
    no booking in the check-in window), MemberSuspended, or ResourceUnavailable.
    """
    now = as_utc(now or utcnow())
    machine = find_resource(session, resource)
    member = member_for_card(session, uid)
    require_active(member)
    booking = _booking_to_check_in(session, machine, member.id, now)
    if booking.status == BookingStatus.BOOKED:
        require_available(session, machine)
        booking.status, booking.checked_in_at = BookingStatus.CHECKED_IN, now
        session.add(booking)
        session.flush()
        charge_for_use(session, booking, machine, now=now)
    return booking


def check_in_all_by_card(
    session: Session, uid: str, *, now: datetime | None = None
) -> list[Booking]:
    """Check in every booking of the card's holder whose check-in window is open now.

    A card tap on the tablet by the door does this: a member need not say which machine.
    Return the bookings checked in (none if nothing is due).
    """
    now = as_utc(now or utcnow())
    member = member_for_card(session, uid)
    due = session.exec(
        select(Booking.resource_id)
        .where(
            Booking.member_id == member.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.starts_at - EARLY_CHECK_IN <= now,
            Booking.ends_at > now,
        )
        .distinct()
    ).all()
    checked = []
    for resource_id in due:
        try:
            checked.append(check_in_by_card(session, resource_id, uid, now=now))
        except NotFound:  # that booking's grace period has passed: the sweep will release it
            continue
    return checked


def charge_for_use(
    session: Session, booking: Booking, resource: Resource, *, now: datetime
) -> None:
    """Charge the member the resource's timebank cost for the booking, in this transaction.

    Charged at check-in, once per booking (the ledger key is the booking): a cancelled or
    moved booking costs nothing, and a no-show is answered by the no-show pause, not a fee.
    The ledger refuses a charge past the member's credit limit, which refuses the check-in.
    """
    hours = booking_cost(booking, resource)
    if hours:
        span = describe_span(resource, booking.starts_at, booking.ends_at)
        ledger.charge_to_pool(
            session,
            key=f"booking:{booking.id}",
            member_id=booking.member_id,
            hours=hours,
            description=f"{resource.name} {span}",
            category="booking",
            now=now,
        )


def booking_cost(booking: Booking, resource: Resource) -> Decimal:
    """Return the timebank hours a booking costs, to the hundredth (0 for a free resource)."""
    minutes = Decimal(booking.minutes * resource.cost_minutes_per_hour)
    return (minutes / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _booking_to_check_in(
    session: Session, resource: Resource, member_id: int, now: datetime
) -> Booking:
    """Return the member's booking whose check-in window holds ``now``, or say what is next."""
    candidates = session.exec(
        select(Booking)
        .where(
            Booking.resource_id == resource.id,
            Booking.member_id == member_id,
            Booking.status.in_((BookingStatus.BOOKED, BookingStatus.CHECKED_IN)),
            Booking.ends_at > now,
        )
        .order_by(Booking.starts_at)
    ).all()
    for booking in candidates:
        if booking.status == BookingStatus.CHECKED_IN and booking.starts_at <= now:
            return booking
        if booking.starts_at - EARLY_CHECK_IN <= now <= check_in_deadline(booking, resource):
            return booking
    raise NotFound(_no_booking_now(resource, candidates, now), field="booking")


def check_in_deadline(booking: Booking, resource: Resource) -> datetime:
    """Return when the booking's check-in closes: the grace period after its start, or after
    it was made if it was made for a slot already under way."""
    grace = timedelta(minutes=resource.checkin_grace_minutes)
    return max(booking.starts_at, booking.created_at) + grace


def _no_booking_now(resource: Resource, upcoming: list[Booking], now: datetime) -> str:
    """Say why there is nothing to check in: no booking, too early, or too late."""
    ahead = [b for b in upcoming if b.starts_at - EARLY_CHECK_IN > now]
    if ahead:
        opens = describe_moment(resource, ahead[0].starts_at - EARLY_CHECK_IN)
        return (
            f"Your next booking of {resource.name} is "
            f"{describe_span(resource, ahead[0].starts_at, ahead[0].ends_at)}; "
            f"check-in opens {opens}."
        )
    late = [b for b in upcoming if check_in_deadline(b, resource) < now]
    if late:
        closed = describe_moment(resource, check_in_deadline(late[0], resource))
        return f"Check-in for your booking of {resource.name} closed at {closed}."
    return f"You have no booking of {resource.name} now."


def release_no_shows(
    session: Session, *, now: datetime | None = None, policy: NoShowPolicy = DEFAULT_NO_SHOW_POLICY
) -> list[Booking]:
    """Release every booking not checked in within its grace period, pausing repeat no-shows.

    Run periodically by the hub; running it twice releases nothing twice. Returns the released.
    """
    now = as_utc(now or utcnow())
    released = [
        booking
        for booking, resource in _started_unchecked(session, now)
        if check_in_deadline(booking, resource) <= now
    ]
    for booking in released:
        booking.status, booking.notice_at = BookingStatus.NO_SHOW, now
        booking.notice = "Released: nobody checked in within the grace period."
        session.add(booking)
    session.flush()
    for member_id in sorted({booking.member_id for booking in released}):
        _pause_if_repeated(session, member_id, now, policy)
    return released


def _started_unchecked(session: Session, now: datetime) -> list[tuple[Booking, Resource]]:
    """Return bookings that have started but are not checked in, with their resources."""
    return list(
        session.exec(
            select(Booking, Resource)
            .join(Resource, Resource.id == Booking.resource_id)
            .where(Booking.status == BookingStatus.BOOKED, Booking.starts_at <= now)
        )
    )


def _pause_if_repeated(
    session: Session, member_id: int, now: datetime, policy: NoShowPolicy
) -> BookingPause | None:
    """Pause a member's booking rights when their recent no-shows reach the policy's limit."""
    if active_pause(session, member_id, now) is not None:
        return None
    since = max(now - policy.window, _last_pause_start(session, member_id) or now - policy.window)
    count = no_shows_since(session, member_id, since)
    if count < policy.limit:
        return None
    days = policy.window.days
    return pause_booking_rights(
        session,
        member_id,
        until=now + policy.pause,
        reason=f"{count} no-shows in {days} days without checking in.",
        now=now,
    )


def _last_pause_start(session: Session, member_id: int) -> datetime | None:
    """Return when the member's latest pause began; no-shows before it are already answered."""
    return session.exec(
        select(func.max(BookingPause.starts_at)).where(BookingPause.member_id == member_id)
    ).one()


def no_shows_since(session: Session, member_id: int, since: datetime) -> int:
    """Return how many of a member's bookings starting at or after ``since`` were no-shows."""
    return session.exec(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.member_id == member_id,
            Booking.status == BookingStatus.NO_SHOW,
            Booking.starts_at >= since,
        )
    ).one()


def pause_booking_rights(
    session: Session,
    member_id: int,
    *,
    until: datetime,
    reason: str,
    now: datetime | None = None,
) -> BookingPause:
    """Stop a member making new bookings until ``until``, saying why (shown to them)."""
    member, now = get_member(session, member_id), as_utc(now or utcnow())
    until = as_utc(until)
    if until <= now:
        raise InvalidInput("A pause must end in the future.", field="until")
    pause = BookingPause(
        member_id=member.id,
        starts_at=now,
        ends_at=until,
        reason=clean_text(reason, "reason", limit=NOTE_MAX),
    )
    session.add(pause)
    session.flush()
    return pause


def lift_booking_pause(
    session: Session,
    actor: Actor,
    member_id: int,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> BookingPause:
    """End the member's booking pause now, so they may book again (a steward's decision).

    Stewards only; audited, with the ``reason`` if one is given. Refused (BookingRefused) when
    the member is not paused.
    """
    require_role(actor, Role.STEWARD, "lift a member's booking pause")
    member, now = get_member(session, member_id), as_utc(now or utcnow())
    pause = active_pause(session, member_id, now)
    if pause is None:
        raise BookingRefused(
            f"{member.name}'s booking rights are not paused.",
            rule="booking_rights",
            field="member_id",
        )
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    target = f"member:{member.number}"
    with audit.audited(session, actor, BOOKING_PAUSE_LIFT, pause, target) as notes:
        if why:
            notes["lifted_because"] = why
        pause.ends_at = now
        session.add(pause)
    session.flush()
    return pause


def paused_members(session: Session, *, now: datetime | None = None) -> list[PausedMember]:
    """Return the members whose booking rights are paused now, soonest end first."""
    now = as_utc(now or utcnow())
    query = (
        select(BookingPause, Member)
        .join(Member, Member.id == BookingPause.member_id)
        .where(BookingPause.starts_at <= now, BookingPause.ends_at > now)
        .order_by(BookingPause.ends_at)
    )
    return [PausedMember(pause, member) for pause, member in session.exec(query)]


def booking_pause_of(
    session: Session, member_id: int, *, now: datetime | None = None
) -> BookingPause | None:
    """Return the member's pause in force now, if any (the tablet shows it with its reason)."""
    return active_pause(session, member_id, as_utc(now or utcnow()))


@dataclass(frozen=True)
class PausedMember:
    """A booking pause in force, with the member it stops."""

    pause: BookingPause
    member: Member


@dataclass(frozen=True)
class SweepReport:
    released: list[Booking]
    told: list[Booking]


def sweep_bookings(
    session: Session, *, now: datetime | None = None, policy: NoShowPolicy = DEFAULT_NO_SHOW_POLICY
) -> SweepReport:
    """Do the hub's periodic booking work: release no-shows, tell holders of unusable machines."""
    now = as_utc(now or utcnow())
    return SweepReport(
        released=release_no_shows(session, now=now, policy=policy),
        told=tell_holders_of_unavailable_resources(session, now=now),
    )
