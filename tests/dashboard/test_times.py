"""dashboard.times: every page shows times on the site's clock, with the year when it is not
this year (the audit log and the booking tablet as witnesses)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard import create_app, database
from hub.infra import audit
from hub.infra.db import transaction
from tests.dashboard import tablet_fixtures
from tests.dashboard.conftest import sign_in_by_session
from tests.dashboard.tablet_fixtures import identify_by_pin
from tests.dashboard.tablet_fixtures import tablet_world as _tablet_world

tablet_world = _tablet_world  # the fixture: machines, and members with PINs

LATE_IN_JULY = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 the next day in London


@pytest.fixture
def site_app(database_url, tmp_path):
    def make(**config):
        made = create_app(
            {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "TESTING": True} | config
        )
        apps.append(made)
        return made

    apps: list = []
    yield make
    for made in apps:
        database.dispose(made)


def an_audit_entry_at(engine, moment: datetime) -> None:
    with transaction(engine) as session:
        entry = audit.record(session, actor_member_id=None, action="tool.retire", target="tool:77")
        entry.at = moment


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/London", "2026-07-02 00:30:00"), ("America/New_York", "2026-07-01 19:30:00")],
)
def test_the_audit_log_shows_the_site_clock_not_utc(site_app, engine, zone, shown):
    an_audit_entry_at(engine, LATE_IN_JULY)
    client = site_app(TIMEZONE=zone).test_client()
    sign_in_by_session(client, "1003")  # the demo's admin
    page = client.get("/steward/audit?target=tool:77").get_data(as_text=True)
    assert f"<td>{shown}</td>" in page and f"When ({zone})" in page
    assert "2026-07-01 23:30:00" not in page  # UTC, as it was


def test_an_unknown_site_time_zone_stops_the_app_at_start(site_app):
    with pytest.raises(ValueError, match="COMMONSHED_TIMEZONE must be a time zone"):
        site_app(TIMEZONE="Mars/Olympus")


class TestTabletDays:
    @pytest.fixture
    def database_content(self) -> str:
        return "empty"  # the tablet's machines and members only

    @pytest.fixture
    def tablet(self, tablet_world, site_app):
        app = site_app(
            SECRET_KEY="times",
            TABLET_CLOCK=tablet_fixtures.SettableClock(tablet_fixtures.MONDAY_MORNING),
        )
        client = app.test_client()
        identify_by_pin(client, "1001", "2468")
        return client

    def test_a_day_a_year_ahead_shows_its_year_and_this_year_does_not(self, tablet):
        ahead = tablet.get("/tablet/machines/laser?day=2027-12-01").get_data(as_text=True)
        assert "Wednesday 01 December 2027" in ahead
        soon = tablet.get("/tablet/machines/laser?day=2026-12-01").get_data(as_text=True)
        assert "Tuesday 01 December</h2>" in soon or "Tuesday 01 December ·" in soon
        assert "Tuesday 01 December 2026" not in soon
