"""Fixtures for the booking tablet: demo machines, members with cards and PINs, a settable clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from dashboard import create_app, database
from dashboard.tablet import DEVICE_COOKIE
from hub.bookings import add_resource, set_pin
from hub.bookings.tablets import enrol_tablet
from hub.infra.db import transaction
from hub.members.roster import add_training, grant_training
from tests.hub.builders import a_member

# Monday 08:00 in London (GMT in November): the tablet's "now" unless a test moves it.
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


class SettableClock:
    """A clock a test can read, set and move forward (the app calls it for "now")."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass(frozen=True)
class TabletWorld:
    laser_id: int
    printer_id: int
    ada_id: int
    grace_id: int


def add_demo_machines(session: Session) -> TabletWorld:
    """Add the demo machines and two members (cards, PINs 2468 and 1357, laser training)."""
    add_training(session, code="laser", name="Laser cutter induction")
    laser = add_resource(
        session,
        code="laser",
        name="Laser cutter",
        training="laser",
        max_minutes_per_week=180,
        max_booking_minutes=120,
    )
    printer = add_resource(
        session,
        code="printer-1",
        name="3D printer (Prusa)",
        slot_minutes=60,
        max_booking_minutes=240,
        max_minutes_per_week=600,
    )
    add_resource(session, code="sewing", name="Sewing machine")
    add_resource(
        session, code="bench", name="Woodshop bench", slot_minutes=60, max_booking_minutes=180
    )
    ada = a_member(session, "Ada Lovelace", uid="DEADBEEF")
    grace = a_member(session, "Grace Hopper", uid="CAFEF00D")
    for member, pin in ((ada, "2468"), (grace, "1357")):
        set_pin(session, member.id, pin)
        grant_training(session, member.id, "laser")
    return TabletWorld(laser.id, printer.id, ada.id, grace.id)


@pytest.fixture
def database_content() -> str:
    """The tablet's tests start from an empty database (not the dashboard's demo library)."""
    return "empty"


@pytest.fixture
def tablet_world(engine) -> TabletWorld:
    with transaction(engine) as session:
        return add_demo_machines(session)


@pytest.fixture
def tablet_clock() -> SettableClock:
    return SettableClock(MONDAY_MORNING)


@pytest.fixture
def tablet_app(tablet_world, database_url, tmp_path, tablet_clock):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "tablet-tests",
            "TESTING": True,
            "TABLET_CLOCK": tablet_clock,
        }
    )
    yield app
    database.dispose(app)


def enrolled(client, engine, name: str = "Makerspace door"):
    """Give ``client`` the device cookie of a newly enrolled tablet (enrolment through the page
    is tested in tests/dashboard/security/test_tablet_identity.py); return the client."""
    with transaction(engine) as session:
        steward = a_member(session, f"Steward of {name}", roles="member steward")
        _, token = enrol_tablet(session, name, by_member_id=steward.id)
    client.set_cookie(DEVICE_COOKIE, token, path="/tablet")
    return client


@pytest.fixture
def tablet(tablet_app, engine):
    """A test client standing in for one enrolled tablet (one browser session)."""
    return enrolled(tablet_app.test_client(), engine)


@pytest.fixture
def other_tablet(tablet_app, engine):
    """A second enrolled tablet, with its own session."""
    return enrolled(tablet_app.test_client(), engine, "Woodshop door")


def csrf_token(client) -> str:
    """Return the CSRF token the tablet page carries for this client's session."""
    page = client.get("/tablet/").get_data(as_text=True)
    return CSRF_META.search(page).group(1)


def post(client, path: str, data: dict | None = None, **options):
    """POST a form the way the tablet page does, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(client)} | (data or {}), **options)


def identify_by_pin(client, number: str, pin: str, **options):
    return post(client, "/tablet/identify/pin", {"number": number, "pin": pin}, **options)
