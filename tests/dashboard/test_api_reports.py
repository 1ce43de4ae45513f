"""GET /api/v1/reports: the reports page's figures as JSON, for the network or one site, with
a read-scoped token; an unknown site is 404, a malformed one 422."""

from __future__ import annotations

import pytest

from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.tokens import issue_token
from hub.queries import reports
from tests.dashboard import site_fixtures

south = site_fixtures.south


@pytest.fixture
def read_token(engine) -> dict[str, str]:
    """Return the headers of a read-scoped token of demo steward 1001."""
    with transaction(engine) as session:
        steward = member_by_number(session, "1001")
        token = issue_token(session, OPERATOR, steward.id, "reports", scope="read")
    return {"Authorization": f"Bearer {token}"}


def test_the_network_and_one_site_as_json(client, read_token, south, engine):
    network = client.get("/api/v1/reports", headers=read_token)
    one = client.get("/api/v1/reports?site=south", headers=read_token)
    assert network.status_code == 200 and one.status_code == 200
    whole, there = network.get_json(), one.get_json()
    assert whole["site"] is None and whole["sites"] == ["north", "south"]
    assert [row["site"] for row in whole["side_by_side"]] == ["north", "south"]
    assert there["site"] == "south" and [r["site"] for r in there["side_by_side"]] == ["south"]
    assert there["most_borrowed"] == [{"tool_code": "SOUTH-1", "count": 1}]
    assert there["side_by_side"][0] | {"site": "south"} == {
        "site": "south",
        "kiosks": 1,
        "tools": 1,
        "loans_this_month": 1,
        "returned_elsewhere": 0,
        "returned_here_from_elsewhere": 0,
        "open_fault_tickets": 0,
        "overdue_loans": 0,
    }
    with reading(engine) as session:
        north = reports.report(session, "north")
    assert whole["most_borrowed"] != there["most_borrowed"]
    weeks = client.get("/api/v1/reports?site=north", headers=read_token).get_json()
    assert [w["count"] for w in weeks["loans_per_week"]] == [n for _, n in north.loans_per_week]
    assert len(weeks["hours_credited_per_month"]) == 12
    assert all(isinstance(m["hours"], str) for m in weeks["hours_credited_per_month"])


def test_unknown_and_malformed_sites_are_refused_by_field(client, read_token, south):
    unknown = client.get("/api/v1/reports?site=east", headers=read_token)
    malformed = client.get("/api/v1/reports?site=no/such", headers=read_token)
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "site"
    assert malformed.status_code == 422 and malformed.get_json()["field"] == "site"


def test_reports_are_for_stewards_and_described(client):
    assert client.get("/api/v1/reports").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/reports"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"site"}
    assert {"200", "404", "422"} <= set(operation["responses"])
