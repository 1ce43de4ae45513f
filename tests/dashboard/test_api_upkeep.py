"""The upkeep API: plans, services, ticket transitions, claim decisions and ledger corrections.

Each operation answers with what it did and leaves one audit entry (written by the hub's
service), or refuses naming the field and writes nothing.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.infra.db import reading, transaction
from hub.inventory.registry import Tool, tool_by_code
from hub.maintenance.models import MaintenancePlan, ServiceRecord, Ticket
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.timebank.claims import TrustedFixer
from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.test_api_writes import audit_entries, ledger_entries, refused, row

api_world, bearer = fixtures.api_world, fixtures.bearer


def plans_in(engine) -> list[MaintenancePlan]:
    with reading(engine) as session:
        return list(session.exec(select(MaintenancePlan).order_by(MaintenancePlan.id)))


# --- plans and services -------------------------------------------------------------------


def test_add_edit_and_remove_a_plan(client, engine, bearer, api_world):
    existing = len(plans_in(engine))
    body = {"name": "Oil the chuck", "tool_id": api_world.tool_id, "every_loans": 10}
    answer = client.post("/api/v1/plans", json=body, headers=bearer)
    assert answer.status_code == 201, answer.get_json()
    plan = answer.get_json()
    assert (plan["tool_id"], plan["every_loans"], plan["blocks_when_overdue"]) == (
        api_world.tool_id,
        10,
        False,
    )
    url = f"/api/v1/plans/{plan['id']}"
    changed = client.patch(
        url, json={"every_days": 30, "blocks_when_overdue": True}, headers=bearer
    )
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["every_loans"], changed.get_json()["every_days"]) == (10, 30)
    assert changed.get_json()["blocks_when_overdue"] is True
    listed = client.get("/api/v1/plans", headers=bearer).get_json()["plans"]
    assert plan["id"] in [p["id"] for p in listed]
    removed = client.delete(url, headers=bearer)
    assert removed.status_code == 200 and removed.get_json()["name"] == "Oil the chuck"
    assert len(plans_in(engine)) == existing
    refused(client.delete(url, headers=bearer), 404, "plan_id")
    assert [(e.action, e.actor_member_id) for e in audit_entries(engine)] == [
        ("plan.add", api_world.steward_id),
        ("plan.edit", api_world.steward_id),
        ("plan.remove", api_world.steward_id),
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "every_days": 3}, "body"),  # neither tool nor category
        ({"name": "x", "tool_id": 1, "category": "power", "every_days": 3}, "body"),
        ({"name": "x", "category": "power"}, "body"),  # no interval
        ({"name": "x", "category": "power", "every_days": 0}, "every_days"),
        ({"name": "  ", "category": "power", "every_days": 3}, "name"),
        ({"name": "x", "category": "power", "every_days": 3, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_plan_is_422_naming_the_field(client, engine, bearer, api_world, body, field):
    before = len(plans_in(engine))
    answer = client.post("/api/v1/plans", json=body, headers=bearer)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["field"] == field or answer.get_json()["field"].startswith(field)
    assert len(plans_in(engine)) == before and audit_entries(engine) == []


def test_the_schema_says_what_a_plan_needs(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    plan = next(v for k, v in schemas.items() if k.startswith("NewPlan"))
    assert len(plan["oneOf"]) == 2 and len(plan["anyOf"]) == 3
    hours = schemas["NewTransfer"]["properties"]["hours"]["anyOf"]
    assert {"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "multipleOf": 0.01} in hours
    may_owe = schemas["CreditLimit"]["properties"]["credit_limit"]["anyOf"]
    assert {"type": "number", "minimum": 0, "maximum": 1000, "multipleOf": 0.01} in may_owe
    paths = document["paths"]
    for path, method in [
        ("/api/v1/plans", "post"),
        ("/api/v1/plans/{plan_id}", "patch"),
        ("/api/v1/plans/{plan_id}", "delete"),
        ("/api/v1/tools/{code}/services", "post"),
        ("/api/v1/transfers/{transfer_id}/reverse", "post"),
        ("/api/v1/transfers", "post"),
        ("/api/v1/members/{number}/credit-limit", "put"),
        ("/api/v1/members/{number}/trusted-fixer", "post"),
        ("/api/v1/members/{number}/trusted-fixer", "delete"),
        ("/api/v1/ledger/community", "get"),
        ("/api/v1/maintenance/tickets/{ticket_id}/wont-fix", "post"),
        ("/api/v1/maintenance/tickets/{ticket_id}/blocking", "put"),
        ("/api/v1/maintenance/tickets/{ticket_id}/start", "post"),
    ]:
        assert method in paths[path], path


def test_log_a_service_by_tool_code(client, engine, bearer, api_world):
    plan = client.post(
        "/api/v1/plans",
        json={"name": "Check the chuck", "category": "power", "every_days": 30},
        headers=bearer,
    ).get_json()
    with reading(engine) as session:
        code = tool_by_code(session, "DRILL-2").code
        category = tool_by_code(session, "DRILL-2").category
    if category != "power":  # the demo's drill category, whatever it is named
        plan = client.patch(
            f"/api/v1/plans/{plan['id']}", json={"category": category}, headers=bearer
        ).get_json()
    answer = client.post(
        f"/api/v1/tools/{code.lower()}/services",
        json={"plan_id": plan["id"], "note": "oiled"},
        headers=bearer,
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["serviced_by"] == api_world.steward_id
    assert row(engine, ServiceRecord, answer.get_json()["id"]).note == "oiled"
    assert audit_entries(engine)[-1].action == "service.log"
    refused(
        client.post("/api/v1/tools/NOPE-9/services", json={"plan_id": plan["id"]}, headers=bearer),
        404,
        "tool_code",
    )


# --- tickets ------------------------------------------------------------------------------


def test_ticket_transitions_each_audited(client, engine, bearer, api_world):
    url = f"/api/v1/maintenance/tickets/{api_world.ticket_id}"
    blocked = client.put(f"{url}/blocking", json={"blocking": True}, headers=bearer)
    assert blocked.status_code == 200 and blocked.get_json()["blocking"] is True
    assert row(engine, Tool, api_world.tool_id).status == "out_of_service"
    unblocked = client.put(f"{url}/blocking", json={"blocking": False}, headers=bearer)
    assert unblocked.get_json()["blocking"] is False
    assert row(engine, Tool, api_world.tool_id).status != "out_of_service"  # back (on loan)
    assert client.post(f"{url}/start", headers=bearer).get_json()["status"] == "in_progress"
    refused(client.post(f"{url}/wont-fix", json={"note": " "}, headers=bearer), 422, "note")
    closed = client.post(f"{url}/wont-fix", json={"note": "beyond repair"}, headers=bearer)
    assert closed.get_json()["status"] == "wont_fix"
    refused(client.post(f"{url}/start", headers=bearer), 409, "ticket_id")
    assert [e.action for e in audit_entries(engine)] == [
        "ticket.block",
        "ticket.unblock",
        "ticket.start",
        "ticket.wont_fix",
    ]
    assert row(engine, Ticket, api_world.ticket_id).resolution_note == "beyond repair"


# --- claims -------------------------------------------------------------------------------


def test_approve_keeping_the_tool_out_is_explicit_and_audited(client, engine, bearer, api_world):
    url = f"/api/v1/claims/{api_world.claim_id}/approve"
    refused(client.post(url, json={}, headers=bearer), 422, "return_to_service")
    answer = client.post(url, json={"return_to_service": False}, headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    assert row(engine, Ticket, api_world.ticket_id).status == "in_progress"
    assert ledger_entries(engine) == 2
    (entry,) = audit_entries(engine)
    assert json.loads(entry.after)["return_to_service"] is False


# --- the ledger ---------------------------------------------------------------------------


def test_steward_transfer_then_reverse_it_once(client, engine, bearer, api_world):
    body = {
        "payer": "1004",
        "payee": "1005",
        "hours": "1.50",
        "description": "Taught the lathe workshop",
        "category": "workshop",
        "key": "workshop-2026-11-30",
    }
    answer = client.post("/api/v1/transfers", json=body, headers=bearer)
    assert answer.status_code == 201, answer.get_json()
    paid = answer.get_json()
    assert (paid["hours"], paid["kind"], paid["created_by"]) == (
        "1.50",
        "exchange",
        api_world.steward_id,
    )
    again = client.post("/api/v1/transfers", json=body, headers=bearer)
    assert again.get_json()["id"] == paid["id"] and ledger_entries(engine) == 2
    url = f"/api/v1/transfers/{paid['id']}/reverse"
    refused(client.post(url, json={"reason": "   "}, headers=bearer), 422, "reason")
    reversal = client.post(url, json={"reason": "taught by someone else"}, headers=bearer)
    assert reversal.status_code == 201
    assert reversal.get_json()["reverses_transfer_id"] == paid["id"]
    assert reversal.get_json()["kind"] == "correction"
    refused(client.post(url, json={"reason": "again"}, headers=bearer), 409, "transfer_id")
    refused(
        client.post("/api/v1/transfers/999999/reverse", json={"reason": "x"}, headers=bearer),
        404,
        "transfer_id",
    )
    assert ledger_entries(engine) == 4
    assert [e.action for e in audit_entries(engine)] == ["transfer.enter", "transfer.reverse"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"hours": "0"}, "hours"),
        ({"hours": "1.234"}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"payer": "abc"}, "payer"),
        ({"payee": "999999"}, "payee"),
        ({"category": "   "}, "category"),
    ],
)
def test_a_bad_transfer_is_refused_naming_the_field(
    client, engine, bearer, api_world, change, field
):
    body = {"payer": "1004", "payee": "1005", "hours": "1", "description": "x", "category": "y"}
    answer = client.post("/api/v1/transfers", json=body | change, headers=bearer)
    assert answer.status_code in (404, 422) and answer.get_json()["field"] == field
    assert ledger_entries(engine) == 0 and audit_entries(engine) == []


def test_credit_limit_then_a_transfer_beyond_it_is_refused(client, engine, bearer, api_world):
    url = "/api/v1/members/1004/credit-limit"
    refused(client.put(url, json={"credit_limit": "-5"}, headers=bearer), 422, "credit_limit")
    refused(client.put(url, json={"credit_limit": "1.234"}, headers=bearer), 422, "credit_limit")
    refused(client.put(url, json={}, headers=bearer), 422, "credit_limit")
    assert audit_entries(engine) == []
    answer = client.put(url, json={"credit_limit": "1.00"}, headers=bearer)
    assert answer.status_code == 200
    assert answer.get_json() == {"number": "1004", "balance": "0.00", "credit_limit": "1.00"}
    body = {"payer": "1004", "payee": "1005", "hours": "1.50", "description": "x", "category": "y"}
    refused(client.post("/api/v1/transfers", json=body, headers=bearer), 422, "hours")
    assert ledger_entries(engine) == 0
    (entry,) = audit_entries(engine)
    assert (entry.action, entry.target) == ("ledger.credit_limit", "member:1004")
    unlimited = client.put(url, json={"credit_limit": None}, headers=bearer)
    assert unlimited.get_json()["credit_limit"] is None


def test_mark_and_unmark_a_trusted_fixer(client, engine, bearer, api_world):
    url = "/api/v1/members/1004/trusted-fixer"
    answer = client.post(url, json={"up_to": "1.50"}, headers=bearer)
    assert answer.get_json() == {"number": "1004", "trusted": True, "up_to": "1.50"}
    assert row(engine, TrustedFixer, api_world.fixer_id).granted_by == api_world.steward_id
    refused(client.post(url, json={"up_to": "0"}, headers=bearer), 422, "up_to")
    gone = client.delete(url, headers=bearer)
    assert gone.get_json() == {"number": "1004", "trusted": False, "up_to": None}
    refused(client.delete(url, headers=bearer), 422, "member_id")
    refused(client.delete("/api/v1/members/99999/trusted-fixer", headers=bearer), 404, "number")
    assert [e.action for e in audit_entries(engine)] == ["fixer.mark", "fixer.unmark"]


def test_the_community_account(client, bearer, api_world):
    client.post(
        f"/api/v1/claims/{api_world.claim_id}/approve",
        json={"return_to_service": True},
        headers=bearer,
    )
    pool = client.get("/api/v1/ledger/community", headers=bearer).get_json()
    assert pool["balance"] == "-1.50"
    assert [(t["payer"], t["hours"], t["kind"]) for t in pool["transfers"]] == [
        ("community pool", "1.50", "repair_credit")
    ]


def test_a_volunteers_token_is_refused_and_writes_nothing(client, engine, api_world):
    with reading(engine) as session:
        volunteer = member_by_number(session, "1004")
    with transaction(engine) as session:
        token = tokens.issue_token(
            session, OPERATOR, volunteer.id, "volunteer's script", scope="member"
        )
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, body in [
        ("post", "/api/v1/plans", {"name": "x", "category": "y", "every_days": 1}),
        ("put", "/api/v1/members/1005/credit-limit", {"credit_limit": "1"}),
        ("post", f"/api/v1/claims/{api_world.claim_id}/decline", {"reason": "x"}),
    ]:
        answer = getattr(client, method)(path, json=body, headers=headers)
        assert answer.status_code in (401, 403), (path, answer.status_code)
    assert [e.action for e in audit_entries(engine)] == []


def test_a_tool_handed_back_at_the_desk(client, engine, bearer, api_world):
    with reading(engine) as session:
        tent = tool_by_code(session, "TENT-1")
    url = f"/api/v1/tools/{tent.id}/return"
    refused(client.post(url, json={"condition": "needs_repair"}, headers=bearer), 422, "note")
    body = {"condition": "needs_repair", "note": "Pole bent"}
    answer = client.post(url, json=body, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    back = answer.get_json()
    assert (back["tool_code"], back["condition"]) == ("TENT-1", "needs_repair")
    assert back["ticket_id"] is not None
    with reading(engine) as session:
        assert session.get(Ticket, back["ticket_id"]).blocking
    (entry,) = [e for e in audit_entries(engine) if e.action == "loan.return_at_desk"]
    assert entry.target == f"loan:{back['loan_id']}"
    assert entry.actor_member_id == api_world.steward_id
    refused(client.post(url, json={"condition": "ok"}, headers=bearer), 404, "tool_id")
    refused(client.post(url, json={"condition": "lost"}, headers=bearer), 422, "condition")
