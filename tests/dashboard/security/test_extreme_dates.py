"""Extreme dates: 9999-12-31 and friends get a clear refusal naming the field, never a 500.

Every date parameter of the tablet (day, start) and of the API (each query or body parameter
the OpenAPI description marks as a date or a date-time) is probed at the edges.
"""

from __future__ import annotations

import pytest

from tests.dashboard import tablet_fixtures as fixtures
from tests.dashboard.tablet_fixtures import identify_by_pin, post

database_content, tablet_world, tablet_clock, tablet_app = (
    fixtures.database_content,
    fixtures.tablet_world,
    fixtures.tablet_clock,
    fixtures.tablet_app,
)
tablet = fixtures.tablet

EXTREME_DAYS = ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"]
EXTREME_TIMES = [
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2101-01-01T00:00:00",
]


@pytest.fixture
def ada(tablet):
    assert identify_by_pin(tablet, "1001", "2468").status_code == 302
    return tablet


@pytest.mark.parametrize("day", EXTREME_DAYS)
@pytest.mark.parametrize("view", ["day", "week"])
def test_the_slots_page_refuses_an_extreme_day(ada, day, view):
    answer = ada.get(f"/tablet/machines/laser?day={day}&view={view}")
    assert answer.status_code == 422, answer.status_code
    assert "2000 to 2100" in answer.get_data(as_text=True) or "must look like" in answer.get_data(
        as_text=True
    )


@pytest.mark.parametrize("start", EXTREME_TIMES)
def test_confirm_and_book_refuse_an_extreme_start(ada, start):
    confirm = ada.get(f"/tablet/machines/laser/confirm?start={start}")
    assert confirm.status_code == 422
    assert "Start" in confirm.get_data(as_text=True)
    booked = post(ada, "/tablet/bookings", {"resource": "laser", "start": start, "minutes": "30"})
    assert booked.status_code == 422


def test_the_edges_of_the_kept_years_still_answer(ada):
    for day in ("2000-01-03", "2100-12-27"):
        assert ada.get(f"/tablet/machines/laser?day={day}&view=week").status_code == 200
