"""hub.infra.wallclock: the hub's UTC moments on the site's clock, the year shown when not this
year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from hub.infra.wallclock import site_format, site_time

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_a_summer_evening_in_utc_is_the_next_day_in_london():
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert site_format(late, "%Y-%m-%d %H:%M", LONDON, now=NOW) == "2026-07-02 00:30"
    assert site_format(late.replace(month=1), "%H:%M %Z", LONDON, now=NOW) == "23:30 GMT"


def test_a_naive_moment_from_the_database_is_taken_as_utc():
    naive = datetime(2026, 7, 1, 12, 0)
    assert site_time(naive, LONDON) == datetime(2026, 7, 1, 13, 0, tzinfo=LONDON)


def test_a_date_a_year_ahead_shows_its_year_after_the_month():
    ahead = NOW + timedelta(days=366)
    assert (
        site_format(ahead, "%A %d %B, %H:%M", LONDON, now=NOW)
        == "Wednesday 01 December 2027, 15:00"
    )
    assert site_format(date(2027, 12, 1), "%a %d %b", LONDON, now=NOW) == "Wed 01 Dec 2027"
    assert site_format(date(2026, 12, 1), "%a %d %b", LONDON, now=NOW) == "Tue 01 Dec"
    assert site_format(date(2027, 12, 1), "%Y-%m-%d", LONDON, now=NOW) == "2027-12-01"  # once


def test_new_year_is_decided_on_the_site_clock():
    # 23:30 UTC on 31 December is already next year in Auckland, not in London
    eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    auckland = ZoneInfo("Pacific/Auckland")
    assert site_format(eve, "%d %b", LONDON, now=eve) == "31 Dec"
    assert site_format(eve - timedelta(hours=12), "%d %b", auckland, now=eve) == "01 Jan"
    assert site_format(eve - timedelta(days=2), "%d %b", auckland, now=eve) == "30 Dec 2026"


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 1)))
def test_the_year_shows_exactly_when_it_is_not_this_year(moment):
    shown = site_format(moment.replace(tzinfo=UTC), "%d %B", LONDON, now=NOW)
    in_london = site_time(moment.replace(tzinfo=UTC), LONDON)
    assert shown.endswith(str(in_london.year)) == (in_london.year != 2026)
