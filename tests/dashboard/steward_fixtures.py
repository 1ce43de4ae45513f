"""Work for stewards on top of the demo library: a claim, a ticket, a kiosk in trouble, bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from hub.bookings import Booking, BookingStatus, add_resource
from hub.infra.clock import utcnow
from hub.inventory import fleet
from hub.inventory.registry import tool_by_code
from hub.maintenance import plans, tickets
from hub.members.roster import member_by_number
from hub.timebank import claims

STEWARD_ID = 1  # demo member 1001, a steward


@dataclass(frozen=True)
class StewardWork:
    claim_id: int
    ticket_id: int
    tool_id: int
    alarm_id: int
    booking_id: int
    no_show_id: int
    fixer_id: int


def add_steward_work(session: Session, now: datetime | None = None) -> StewardWork:
    """Add what a steward must deal with: a claim on a blocking ticket, a forced door, bookings."""
    now = now or utcnow()
    sander = tool_by_code(session, "SAND-1")
    fixer = member_by_number(session, "1010")
    ticket = tickets.open_ticket(
        session,
        tool_id=sander.id,
        note="Pad worn through",
        source="steward",
        opened_by=STEWARD_ID,
        blocking=True,
    )
    claim = claims.log_repair(
        session,
        member_id=fixer.id,
        tool_id=sander.id,
        hours="1.50",
        note="Fitted a new pad",
        source="dashboard",
        ticket_id=ticket.id,
    )
    plans.add_plan(
        session,
        name="Check cords and brushes",
        steward_id=STEWARD_ID,
        category="garden",
        every_days=30,
        now=now - timedelta(days=45),
    )
    fleet.record_availability(
        session, "shed-1", state="online", since=now, allowlist_version=1, outbox_backlog=3
    )
    alarm = fleet.raise_alarm(session, "shed-2", 3, fleet.AlarmKind.DOOR_FORCED, now)
    booked, no_show = _bookings_today(session, now, fixer.id)
    session.flush()
    return StewardWork(claim.id, ticket.id, sander.id, alarm.id, booked.id, no_show.id, fixer.id)


def _bookings_today(session: Session, now: datetime, member_id: int) -> tuple[Booking, Booking]:
    laser = add_resource(session, code="laser-s", name="Laser cutter")
    lathe = add_resource(session, code="lathe-s", name="Wood lathe")
    # NOTE: inserted as rows, not through create_booking: its opening-hour rules depend on
    # the hour the test runs at, and these tests are about showing bookings, not making them.
    booked = Booking(
        resource_id=laser.id,
        member_id=member_id,
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
    )
    no_show = Booking(
        resource_id=lathe.id,
        member_id=member_id,
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        status=BookingStatus.NO_SHOW,
    )
    session.add_all([booked, no_show])
    return booked, no_show
