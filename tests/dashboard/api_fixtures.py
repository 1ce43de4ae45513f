"""Fixtures for the JSON API: a live ticket, a pending claim, bookings, and stewards' tokens.

The API world is a database content on top of the demo library (tests/fixtures/database.py):
built once per run, copied for each test that asks for ``api_world``; each such test gets a
token of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from hub.bookings import Booking, add_resource, create_booking, resource_by_code
from hub.bookings.hours import at_local, local_day
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.inventory.registry import tool_by_code
from hub.maintenance import tickets
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.timebank import claims
from tests.fixtures.database import add_content


@dataclass(frozen=True)
class ApiWorld:
    steward_id: int  # demo steward 1001, who holds ``token``
    other_steward_id: int  # demo steward 1002, who opened the ticket
    fixer_id: int  # member 1004, who repaired the drill and booked the bench
    tool_id: int  # DRILL-2
    ticket_id: int
    claim_id: int
    resource_id: int
    booking_id: int  # three days ahead
    past_booking_id: int  # over five days ago
    token: str


def build_api_world(session: Session) -> ApiWorld:
    """Add the API world to the demo library, with a token for steward 1001; return it."""
    add_api_world(session)
    return find_api_world(session)


def add_api_world(session: Session) -> None:
    """Add to the demo library: a ticket, a claim for its repair, a bench with two bookings."""
    other = member_by_number(session, "1002")
    fixer, tool = member_by_number(session, "1004"), tool_by_code(session, "DRILL-2")
    ticket = tickets.open_ticket(
        session, tool_id=tool.id, note="Chuck slips", source="steward", opened_by=other.id
    )
    claims.log_repair(
        session,
        member_id=fixer.id,
        tool_id=tool.id,
        hours="1.50",
        note="New chuck fitted",
        source="kiosk",
        ticket_id=ticket.id,
    )
    laser = add_resource(session, code="api-bench", name="API test bench")
    now = utcnow()
    _book(session, laser, fixer.id, local_day(laser, now) + timedelta(days=3))
    long_ago = now - timedelta(days=10)
    _book(session, laser, fixer.id, local_day(laser, now) - timedelta(days=5), now=long_ago)


def find_api_world(session: Session) -> ApiWorld:
    """Return the API world ``add_api_world`` made, with a new token for steward 1001."""
    steward, other = member_by_number(session, "1001"), member_by_number(session, "1002")
    fixer, tool = member_by_number(session, "1004"), tool_by_code(session, "DRILL-2")
    (ticket,) = tickets.live_tickets(session, tool_id=tool.id)
    claim = session.exec(
        select(claims.CreditClaim).where(claims.CreditClaim.member_id == fixer.id)
    ).one()
    bench = resource_by_code(session, "api-bench")
    past, ahead = session.exec(
        select(Booking.id).where(Booking.resource_id == bench.id).order_by(Booking.starts_at)
    ).all()
    return ApiWorld(
        steward.id,
        other.id,
        fixer.id,
        tool.id,
        ticket.id,
        claim.id,
        bench.id,
        ahead,
        past,
        tokens.issue_token(session, OPERATOR, steward.id, "api tests"),
    )


API_WORLD = add_content("demo + API world", add_api_world, base="demo")


def _book(session: Session, resource, member_id: int, day, *, now=None) -> int:
    """Book ``resource`` from 10:00 to 11:00 local on ``day``; return the booking id."""
    starts = at_local(resource, day, 10 * 60)
    booking = create_booking(
        session,
        resource_id=resource.id,
        member_id=member_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        now=now,
    )
    session.flush()
    return booking.id


@pytest.fixture
def api_world(app, engine) -> ApiWorld:
    """Return the API world, in the app's database already (the dashboard's database_content)."""
    with transaction(engine) as session:
        return find_api_world(session)


@pytest.fixture
def bearer(api_world) -> dict[str, str]:
    """Return the headers that sign a script in as demo steward 1001."""
    return {"Authorization": f"Bearer {api_world.token}"}
