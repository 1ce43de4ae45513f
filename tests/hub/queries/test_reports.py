"""The reports for the network or one site, and the sites side by side."""

from __future__ import annotations

from datetime import date

import pytest

from hub.errors import InvalidInput, NotFound
from hub.infra.db import reading
from hub.queries.reports import SiteFigures, report, site_names, sites_side_by_side
from tests.hub.queries.conftest import NOW


def test_sites_side_by_side_count_each_site_once(two_sites):
    with reading(two_sites) as session:
        rows = sites_side_by_side(session, now=NOW)
    assert rows == [
        SiteFigures(
            site="north",
            kiosks=2,
            tools=2,
            loans_this_month=1,
            returned_elsewhere=1,
            returned_here_from_elsewhere=0,
            open_fault_tickets=1,
            overdue_loans=1,
        ),
        SiteFigures(
            site="south",
            kiosks=1,
            tools=1,
            loans_this_month=1,
            returned_elsewhere=0,
            returned_here_from_elsewhere=1,
            open_fault_tickets=0,
            overdue_loans=0,
        ),
    ]


def test_a_report_of_one_site_differs_from_the_network(two_sites):
    with reading(two_sites) as session:
        network = report(session, now=NOW)
        south = report(session, " south ", now=NOW)
        assert site_names(session) == ["north", "south"]
    assert network.site is None and network.sites == ["north", "south"]
    assert [row.site for row in network.side_by_side] == ["north", "south"]
    assert south.site == "south" and [row.site for row in south.side_by_side] == ["south"]
    assert south.most_borrowed == [("SANDER-1", 1)] != network.most_borrowed
    assert south.alarms_per_kiosk == [("s-1", 1)]
    assert south.loans_per_week[-1] == (date(2026, 3, 2), 1)
    assert network.loans_per_week[-1] == (date(2026, 3, 2), 2)
    assert len(network.loans_per_week) == 12 and len(network.repairs_per_month) == 12


def test_a_report_refuses_a_site_no_kiosk_is_at(two_sites):
    with reading(two_sites) as session:
        with pytest.raises(NotFound) as unknown:
            report(session, "east", now=NOW)
        with pytest.raises(InvalidInput) as malformed:
            report(session, "no such/site", now=NOW)
    assert unknown.value.field == "site" and "east" in str(unknown.value)
    assert malformed.value.field == "site"
