"""What a steward's pause or closing does to a member's bookings, as the member sees it on the
tablet's "My bookings" page (kept with a notice, or cancelled with the reason)."""

from datetime import date

import pytest

from hub.bookings import HolderChoice, close_day, pause_resource
from hub.infra.db import transaction
from hub.members.ranks import OPERATOR
from tests.dashboard import tablet_fixtures as fixtures
from tests.dashboard.tablet_fixtures import MONDAY_MORNING, identify_by_pin, post

database_content, tablet_world, tablet_clock, tablet_app = (
    fixtures.database_content,
    fixtures.tablet_world,
    fixtures.tablet_clock,
    fixtures.tablet_app,
)
tablet = fixtures.tablet


def text(response) -> str:
    return response.get_data(as_text=True)


def book_tuesday_10(client):
    start = "2026-11-24T10:00:00+00:00"
    return post(client, "/tablet/bookings", {"resource": "laser", "start": start, "minutes": "30"})


@pytest.mark.parametrize(
    ("holders", "seen"),
    [
        (HolderChoice.KEEP, "Laser cutter is paused: lens cracked. Your booking Tuesday"),
        (HolderChoice.CANCEL, "Cancelled by a steward: Laser cutter is paused: lens cracked."),
    ],
)
def test_a_paused_machine_shows_on_the_members_bookings(
    tablet, engine, tablet_world, holders, seen
):
    identify_by_pin(tablet, "1001", "2468")
    assert book_tuesday_10(tablet).status_code == 302
    with transaction(engine) as session:
        pause_resource(
            session, OPERATOR, tablet_world.laser_id, "lens cracked", holders=holders,
            now=MONDAY_MORNING,
        )  # fmt: skip
    assert seen in text(tablet.get("/tablet/mine"))


def test_a_closed_day_shows_on_the_members_bookings(tablet, engine, tablet_world):
    identify_by_pin(tablet, "1001", "2468")
    book_tuesday_10(tablet)
    with transaction(engine) as session:
        close_day(
            session, OPERATOR, tablet_world.laser_id, date(2026, 11, 24),
            holders=HolderChoice.CANCEL, reason="Open day", now=MONDAY_MORNING,
        )  # fmt: skip
    mine = text(tablet.get("/tablet/mine"))
    assert "Laser cutter is closed on Tuesday 2026-11-24: Open day." in mine
