"""``commonshed hub reports`` on SQLite and PostgreSQL: the network or one site, as text or
as the API's JSON; an unknown site is refused by name with exit code 1."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from commonshed.cli import main
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.loans.lending import lend_tool, return_tool
from tests.hub.builders import a_kiosk, a_member, a_tool


@pytest.fixture
def run(tmp_path, database_url):
    """Return a function that runs `commonshed hub ...` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        options = ["--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return runner.invoke(main, ["hub", *options, *args])

    return invoke


@pytest.fixture
def two_sites(engine):
    """north (n-1, DRILL-1) and south (s-1, SAW-1); the drill lent at n-1, returned at s-1."""
    with transaction(engine) as session:
        a_kiosk(session, "n-1", site="north")
        a_kiosk(session, "s-1", site="south")
        drill = a_tool(session, "DRILL-1", kiosk_id="n-1", slot=1)
        a_tool(session, "SAW-1", kiosk_id="s-1", slot=1)
        member = a_member(session)
        lend_tool(session, tool_id=drill.id, member_id=member.id, kiosk_id="n-1", now=utcnow())
        return_tool(session, tool_id=drill.id, kiosk_id="s-1", now=utcnow())
    return engine


def test_the_network_as_text_sets_the_sites_side_by_side(run, two_sites):
    done = run("reports")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Reports: whole network (sites: north, south)")
    table = done.output.split("\n\n")[1].splitlines()
    assert table[0].split()[:3] == ["site", "kiosks", "tools"]
    assert table[1].split() == ["north", "1", "1", "1", "1", "0", "0", "0"]
    assert table[2].split() == ["south", "1", "1", "0", "0", "1", "0", "0"]
    assert "Most borrowed tools (loans):\n  DRILL-1" in done.output


def test_one_site_as_json_matches_the_api_shape(run, two_sites):
    done = run("reports", "--site", "south", "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.output)
    assert document["site"] == "south" and document["sites"] == ["north", "south"]
    assert document["most_borrowed"] == []  # the drill's loan started at north
    assert [row["site"] for row in document["side_by_side"]] == ["south"]
    assert document["side_by_side"][0]["returned_here_from_elsewhere"] == 1
    assert len(document["loans_per_week"]) == 12
    assert set(document["loans_per_week"][0]) == {"start", "count"}
    assert document["hours_credited_per_month"][-1]["hours"] == "0.00"


def test_an_unknown_site_is_refused_by_name(run, two_sites):
    done = run("reports", "--site", "east")
    assert done.exit_code == 1
    assert "east" in done.output and "site" in done.output
