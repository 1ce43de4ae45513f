"""The JSON API's reads, who may call it, CSRF for cookie writes, and its OpenAPI document."""

from __future__ import annotations

import re

import pytest
import schemathesis
from markupsafe import escape
from sqlmodel import select

from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.roster import Member
from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.conftest import csrf_token, sign_in_by_session

api_world, bearer = fixtures.api_world, fixtures.bearer
META_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs"}  # the description, not described in it


def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, described)
        for path, methods in document["paths"].items()
        for method, described in methods.items()
    ]


def filled(path: str) -> str:
    """Put id 1 in every path parameter."""
    return re.sub(r"\{\w+\}", "1", path)


# --- reads --------------------------------------------------------------------------------


def test_list_members_finds_by_name_or_number(client, bearer):
    found = client.get("/api/v1/members?q=100", headers=bearer).get_json()["members"]
    assert [m["number"] for m in found][:3] == ["1001", "1002", "1003"]
    assert found[0]["roles"] == ["member", "steward"] and "email" not in found[0]
    by_name = client.get("/api/v1/members?q=ada", headers=bearer).get_json()["members"]
    assert [m["number"] for m in by_name] == ["1001"]


def test_show_member_has_contact_cards_and_trainings(client, bearer, api_world):
    member = client.get(f"/api/v1/members/{api_world.steward_id}", headers=bearer).get_json()
    assert member["number"] == "1001" and member["email"] == "ada@example.org"
    assert [c["uid"] for c in member["cards"]] == ["C0DE0000"]
    assert {t["code"] for t in member["trainings"]} == {"router", "laser", "ladder"}
    assert member["joined_at"].endswith("Z")  # UTC


def test_tool_board_and_history_are_open_records(client, api_world):
    tools = client.get("/api/v1/tools").get_json()["tools"]
    assert len(tools) == 16
    sander = next(t for t in tools if t["code"] == "SAND-1")
    assert sander["status"] == "out_of_service" and sander["kiosk_id"] == "shed-1"
    drill = client.get(f"/api/v1/tools/{tools[0]['id']}").get_json()
    assert drill["code"] == tools[0]["code"] and drill["history"]
    line = drill["history"][0]
    assert set(line) == {
        "loan_id", "member_number", "out_at", "due_at", "returned_at", "return_condition"
    }  # fmt: skip


def test_list_loans_open_or_overdue(client, bearer):
    open_loans = client.get("/api/v1/loans", headers=bearer).get_json()["loans"]
    overdue = client.get("/api/v1/loans?state=overdue", headers=bearer).get_json()["loans"]
    assert {loan["tool_code"] for loan in open_loans} == {"DRILL-2", "TENT-1"}
    assert [(loan["tool_code"], loan["overdue"]) for loan in overdue] == [("TENT-1", True)]


def test_list_live_tickets_and_pending_claims(client, bearer, api_world):
    tickets = client.get("/api/v1/maintenance/tickets", headers=bearer).get_json()["tickets"]
    assert [(t["id"], t["tool_code"], t["status"]) for t in tickets] == [
        (api_world.ticket_id, "DRILL-2", "in_progress")
    ]
    other = client.get("/api/v1/maintenance/tickets?tool_id=1", headers=bearer).get_json()
    assert other["tickets"] == []
    claims = client.get("/api/v1/claims", headers=bearer).get_json()["claims"]
    assert [(c["id"], c["hours"], c["member_number"], c["tool_code"]) for c in claims] == [
        (api_world.claim_id, "1.50", "1004", "DRILL-2")
    ]


def test_ledger_balances_and_statement_start_empty(client, bearer, api_world):
    assert client.get("/api/v1/ledger/balances", headers=bearer).get_json() == {"balances": []}
    statement = client.get(
        f"/api/v1/ledger/members/{api_world.fixer_id}/statement", headers=bearer
    ).get_json()
    assert statement == {
        "member_id": api_world.fixer_id, "number": "1004", "balance": "0.00", "lines": []
    }  # fmt: skip


def test_list_kiosks_shows_fleet_health(client, bearer):
    kiosks = client.get("/api/v1/kiosks", headers=bearer).get_json()["kiosks"]
    assert [(k["id"], k["online"], k["state"]) for k in kiosks] == [
        ("shed-1", False, "offline"),
        ("shed-2", False, "offline"),
    ]


def test_list_bookings_of_a_resource_by_local_days(client, bearer, api_world):
    resources = client.get("/api/v1/resources", headers=bearer).get_json()["resources"]
    assert {"id": api_world.resource_id, "code": "api-bench", "name": "API test bench",
            "timezone": "Europe/London", "paused": False, "site": None} in resources  # fmt: skip
    url = f"/api/v1/resources/{api_world.resource_id}/bookings"
    ahead = client.get(url, query_string=_days(-1, 7), headers=bearer).get_json()["bookings"]
    assert [b["id"] for b in ahead] == [api_world.booking_id]
    assert ahead[0]["member_number"] == "1004" and ahead[0]["status"] == "booked"
    both = client.get(url, query_string=_days(-7, 7), headers=bearer).get_json()["bookings"]
    assert [b["id"] for b in both] == [api_world.past_booking_id, api_world.booking_id]


def _days(first: int, last: int) -> dict[str, str]:
    from datetime import date, timedelta

    today = date.today()
    return {
        "from": (today + timedelta(days=first)).isoformat(),
        "to": (today + timedelta(days=last)).isoformat(),
    }


# --- refusals -----------------------------------------------------------------------------


def test_every_steward_operation_refuses_the_anonymous_with_401(client, api_world):
    guarded = [op for op in operations(spec(client)) if op[2]["security"]]
    assert len(guarded) >= 15
    for method, path, _ in guarded:
        answer = client.open(filled(path), method=method, json={})
        assert answer.status_code == 401, (method, path)
        assert "Bearer" in answer.get_json()["error"]


def test_public_operations_need_no_sign_in(client, api_world):
    public = [(m, p) for m, p, described in operations(spec(client)) if not described["security"]]
    assert public == [("GET", "/api/v1/tools"), ("GET", "/api/v1/tools/{tool_id}")]


def test_a_non_steward_session_is_refused_with_403(client, engine, api_world):
    sign_in_by_session(client, "1004")
    answer = client.get("/api/v1/members")
    assert answer.status_code == 403
    assert answer.get_json() == {
        "error": "Member 1004 is not a steward; this page is for stewards."
    }


def test_an_unknown_token_is_refused_with_401_naming_the_header(client, api_world):
    answer = client.get("/api/v1/members", headers={"Authorization": "Bearer cs_forged"})
    assert answer.status_code == 401
    assert answer.get_json()["field"] == "Authorization"


def test_the_token_of_a_steward_no_longer_is_refused(client, engine, bearer, api_world):
    # NOTE: the hub refuses such a token as an unknown one would be (401), before any role check.
    with transaction(engine) as session:
        session.get(Member, api_world.steward_id).roles = "member"
    answer = client.get("/api/v1/members", headers=bearer)
    assert answer.status_code == 401
    assert "may no longer use the API" in answer.get_json()["error"]


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/members/999999", "member_id"),
        ("/api/v1/tools/999999", "tool_id"),
        ("/api/v1/ledger/members/999999/statement", "member_id"),
        ("/api/v1/resources/999999/bookings?from=2026-01-01&to=2026-01-02", "resource_id"),
    ],
)
def test_unknown_ids_are_404_naming_the_field(client, bearer, path, field):
    answer = client.get(path, headers=bearer)
    assert answer.status_code == 404
    assert answer.get_json()["field"] == field


def test_ids_beyond_the_database_range_are_404(client, bearer):
    answer = client.get("/api/v1/members/99999999999999999999", headers=bearer)
    assert answer.status_code == 404 and "error" in answer.get_json()


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/loans?state=lost", "state"),
        ("/api/v1/members?q=" + "x" * 101, "q"),
        ("/api/v1/maintenance/tickets?tool_id=drill", "tool_id"),
        ("/api/v1/ledger/members/1/statement?since=yesterday", "since"),
        ("/api/v1/ledger/members/1/statement?until=0001-01-01T00:00:00%2B05:00", "until"),
        ("/api/v1/resources/1/bookings?to=2026-01-02", "from"),
        ("/api/v1/resources/1/bookings?from=2026-01-02&to=2026-01-01", "to"),
        ("/api/v1/resources/1/bookings?from=2026-01-01&to=2026-12-31", "to"),
        ("/api/v1/resources/1/bookings?from=9999-12-31&to=9999-12-31", "from"),
    ],
)
def test_malformed_query_values_are_422_naming_the_field(client, bearer, path, field):
    answer = client.get(path, headers=bearer)
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["field"] == field and body["error"].startswith(f"{field}: ")
    # A rule between two fields is the hub's, not the model's: it lists no pydantic ``errors``.
    assert body.get("errors", [{"field": field}])[0]["field"] == field


def test_an_unknown_route_or_method_answers_json(client, bearer):
    assert client.get("/api/v1/nothing", headers=bearer).get_json()["error"]
    answer = client.delete("/api/v1/members", headers=bearer)
    assert answer.status_code == 405 and answer.get_json()["error"]


# --- CSRF ---------------------------------------------------------------------------------


def test_a_cookie_write_without_csrf_token_is_400_and_changes_nothing(steward, engine, api_world):
    answer = steward.post(
        f"/api/v1/members/{api_world.fixer_id}/suspend", json={"reason": "kept the tent"}
    )
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "csrf_token"
    with reading(engine) as session:
        assert session.get(Member, api_world.fixer_id).status == "active"
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.action != "token.issue")).all() == []
        )


def test_a_cookie_write_with_its_csrf_header_is_done(steward, api_world):
    answer = steward.post(
        f"/api/v1/members/{api_world.fixer_id}/suspend",
        json={"reason": "kept the tent"},
        headers={"X-CSRFToken": csrf_token(steward, "/api/v1/docs")},
    )
    assert answer.status_code == 200 and answer.get_json()["status"] == "suspended"


def test_a_bearer_write_needs_no_csrf_token(client, bearer, api_world):
    answer = client.post(
        f"/api/v1/members/{api_world.fixer_id}/suspend",
        json={"reason": "kept the tent"},
        headers=bearer,
    )
    assert answer.status_code == 200


def test_an_anonymous_write_is_401_not_a_csrf_refusal(client, api_world):
    answer = client.post(f"/api/v1/members/{api_world.fixer_id}/suspend", json={"reason": "x"})
    assert answer.status_code == 401


# --- the OpenAPI document -----------------------------------------------------------------


def test_the_document_lists_every_api_route_of_the_app(app, client):
    document = spec(client)
    described = {(method, path) for method, path, _ in operations(document)}
    routed = {
        (method, re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule not in META_ROUTES
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == routed
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_documents_its_refusals(client):
    for method, path, described in operations(spec(client)):
        codes = set(described["responses"])
        if described["security"]:
            assert {"401", "403"} <= codes, path
        if "{" in path:
            assert "404" in codes, path
        if method == "POST":
            assert {"400", "422"} <= codes and "requestBody" in described, path


def test_schemathesis_loads_every_operation(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert len(loaded) == len(operations(app.test_client().get("/api/v1/openapi.json").json))


def test_the_docs_page_lists_every_operation_with_nothing_from_outside(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for _, path, described in operations(spec(client)):
        assert path in page and str(escape(described["summary"])) in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert not re.search(r'<script(?! src="/static/)', page)  # only our own static scripts
