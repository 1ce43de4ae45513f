"""The report series: buckets by week and month, and the ranked lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hub.infra.db import reading, transaction
from hub.inventory import fleet
from hub.loans.lending import lend_tool, return_tool
from hub.queries.charts import (
    alarms_per_kiosk,
    hours_credited_per_month,
    loans_per_week,
    month_starts,
    most_borrowed,
    most_broken,
    repairs_per_month,
    week_starts,
)
from tests.hub.builders import a_kiosk, a_member, a_tool

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday
SITES = (None, "north", "south")


def test_weeks_start_on_monday_and_months_on_the_first():
    assert [d.date() for d in week_starts(NOW, 3)] == [
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 3, 2),
    ]
    assert [d.date() for d in month_starts(NOW, 3)] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_loans_counted_per_week_and_ranked_by_tool(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        a_kiosk(session, "shed-2")
        member = a_member(session)
        drill, saw = a_tool(session, "DRILL-1", slot=1), a_tool(session, "SAW-1", slot=2)
        for tool, days_ago in ((drill, 1), (drill, 8), (saw, 2)):
            lend_tool(
                session, tool_id=tool.id, member_id=member.id, now=NOW - timedelta(days=days_ago)
            )
            return_tool(session, tool_id=tool.id, now=NOW - timedelta(days=days_ago, hours=-1))
        for kiosk in ("shed-2", "shed-2", "shed-1"):
            fleet.raise_alarm(session, kiosk, 1, fleet.AlarmKind.DOOR_LEFT_OPEN, NOW)
    with reading(engine) as session:
        assert loans_per_week(session, weeks=2, now=NOW) == [
            (date(2026, 2, 23), 1),
            (date(2026, 3, 2), 2),
        ]
        assert most_borrowed(session) == [("DRILL-1", 2), ("SAW-1", 1)]
        assert most_borrowed(session, limit=1) == [("DRILL-1", 2)]
        assert alarms_per_kiosk(session) == [("shed-2", 2), ("shed-1", 1)]


def test_each_series_counts_one_site_or_the_whole_network(two_sites):
    with reading(two_sites) as session:
        weeks = {
            site: loans_per_week(session, weeks=2, now=NOW, site=site)
            for site in (None, "north", "south")
        }
        assert weeks == {
            None: [(date(2026, 2, 23), 1), (date(2026, 3, 2), 2)],
            "north": [(date(2026, 2, 23), 1), (date(2026, 3, 2), 1)],
            "south": [(date(2026, 2, 23), 0), (date(2026, 3, 2), 1)],
        }
        assert [repairs_per_month(session, months=1, now=NOW, site=s)[0][1] for s in SITES] == [
            1,
            0,
            1,
        ]
        hours = [hours_credited_per_month(session, months=1, now=NOW, site=s) for s in SITES]
        assert hours == [
            [(date(2026, 3, 1), Decimal("1.50"))],
            [(date(2026, 3, 1), Decimal("0.00"))],
            [(date(2026, 3, 1), Decimal("1.50"))],
        ]
        assert most_borrowed(session) == [("DRILL-1", 2), ("SANDER-1", 1), ("SAW-1", 1)]
        assert most_borrowed(session, site="north") == [("DRILL-1", 2), ("SAW-1", 1)]
        assert most_borrowed(session, site="south") == [("SANDER-1", 1)]
        assert most_broken(session, site="north") == [("SAW-1", 1)]
        assert most_broken(session, site="south") == [("SANDER-1", 1)]
        assert alarms_per_kiosk(session, site="north") == [("n-1", 2)]
        assert alarms_per_kiosk(session, site="south") == [("s-1", 1)]
        assert most_borrowed(session, site="east") == []  # a site with no kiosk has nothing
