"""The JSON API's writes: each is done whole and audited, or refused whole with a named field."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from hub.bookings import Booking
from hub.infra.audit import AuditEntry
from hub.infra.db import reading
from hub.inventory.registry import Tool
from hub.maintenance.models import Ticket
from hub.members.roster import Member
from hub.timebank.claims import CreditClaim
from hub.timebank.ledger import Entry
from tests.dashboard import api_fixtures as fixtures

api_world, bearer = fixtures.api_world, fixtures.bearer


def audit_entries(engine) -> list[AuditEntry]:
    """Return the audit entries the API's callers caused (not the fixture's token issue)."""
    with reading(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action != "token.issue")
        return list(session.exec(query.order_by(AuditEntry.id)))


def ledger_entries(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Entry)).one()


def row(engine, model, row_id):
    with reading(engine) as session:
        return session.get(model, row_id)


def refused(answer, status: int, field: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["field"] == field, answer.get_json()


# --- members ------------------------------------------------------------------------------


def test_suspend_and_reinstate_a_member_audited(client, engine, bearer, api_world):
    url = f"/api/v1/members/{api_world.fixer_id}"
    answer = client.post(f"{url}/suspend", json={"reason": " kept the tent "}, headers=bearer)
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "suspended"
    assert row(engine, Member, api_world.fixer_id).status_reason == "kept the tent"
    client.post(f"{url}/reinstate", json={"reason": "tent is back"}, headers=bearer)
    suspend, reinstate = audit_entries(engine)
    assert (suspend.action, suspend.target, suspend.actor_member_id) == (
        "member.suspend", "member:1004", api_world.steward_id
    )  # fmt: skip
    assert json.loads(suspend.before) == {"status": "active", "status_reason": None}
    assert json.loads(suspend.after) == {"status": "suspended", "status_reason": "kept the tent"}
    assert json.loads(reinstate.after) == {
        "status": "active", "status_reason": None, "reason": "tent is back"
    }  # fmt: skip


def test_reinstate_needs_no_body(client, bearer, api_world):
    answer = client.post(f"/api/v1/members/{api_world.fixer_id}/reinstate", headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["status"] == "active"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "nul\x00byte"}, "reason"),
        ({"reason": 7}, "reason"),
        ({"reason": "ok", "until": "never"}, "until"),
        (["reason"], "body"),
    ],
)
def test_suspend_refuses_malformed_bodies_and_changes_nothing(
    client, engine, bearer, api_world, body, field
):
    url = f"/api/v1/members/{api_world.fixer_id}/suspend"
    refused(client.post(url, json=body, headers=bearer), 422, field)
    assert row(engine, Member, api_world.fixer_id).status == "active"
    assert audit_entries(engine) == []


def test_broken_json_is_422_naming_the_body(client, bearer, api_world):
    answer = client.post(
        f"/api/v1/members/{api_world.fixer_id}/suspend",
        data="{reason: oops",
        headers=bearer | {"Content-Type": "application/json"},
    )
    refused(answer, 422, "body")


def test_writes_to_unknown_ids_are_404_and_write_nothing(client, engine, bearer, api_world):
    for path, body, field in [
        ("/api/v1/members/999999/suspend", {"reason": "x"}, "member_id"),
        ("/api/v1/members/999999/reinstate", {}, "member_id"),
        ("/api/v1/claims/999999/approve", {"return_to_service": True}, "claim_id"),
        ("/api/v1/claims/999999/decline", {"reason": "x"}, "claim_id"),
        ("/api/v1/maintenance/tickets/999999/resolve", {}, "ticket_id"),
        ("/api/v1/maintenance/tickets", {"tool_id": 999999, "note": "x"}, "tool_id"),
        ("/api/v1/bookings/999999/cancel", {"reason": "x"}, "booking_id"),
    ]:
        refused(client.post(path, json=body, headers=bearer), 404, field)
    assert audit_entries(engine) == []


# --- claims -------------------------------------------------------------------------------


def test_approve_a_claim_credits_the_fixer_resolves_the_ticket_and_audits(
    client, engine, bearer, api_world
):
    answer = client.post(
        f"/api/v1/claims/{api_world.claim_id}/approve",
        headers=bearer,
        json={"return_to_service": True},
    )
    assert answer.status_code == 200
    claim = answer.get_json()
    assert (claim["status"], claim["approved_hours"], claim["decided_by"]) == (
        "approved", "1.50", api_world.steward_id
    )  # fmt: skip
    assert row(engine, Ticket, api_world.ticket_id).status == "resolved"
    assert ledger_entries(engine) == 2
    balances = client.get("/api/v1/ledger/balances", headers=bearer).get_json()["balances"]
    assert [(b["name"], b["balance"]) for b in balances] == [
        ("Community pool", "-1.50"), ("Mary Moreau", "1.50")
    ]  # fmt: skip
    statement = client.get(
        f"/api/v1/ledger/members/{api_world.fixer_id}/statement", headers=bearer
    ).get_json()
    assert statement["balance"] == "1.50"
    assert [(line["hours"], line["counterparty"]) for line in statement["lines"]] == [
        ("1.50", "Community pool")
    ]
    (entry,) = audit_entries(engine)
    assert (entry.action, entry.target) == ("claim.approve", f"claim:{api_world.claim_id}")
    assert json.loads(entry.before)["status"] == "pending"
    assert json.loads(entry.after)["transfer_id"] == claim["transfer_id"]


def test_approve_with_other_hours_and_a_reason(client, bearer, api_world):
    answer = client.post(
        f"/api/v1/claims/{api_world.claim_id}/approve",
        json={"hours": "1.25", "reason": "the chuck was a spare", "return_to_service": True},
        headers=bearer,
    )
    assert answer.get_json()["approved_hours"] == "1.25"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"hours": 0}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"hours": "1.234"}, "hours"),
        ({"hours": 25}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"hours": "2.00"}, "reason"),  # other hours than claimed need a reason (the hub's rule)
    ],
)
def test_approve_with_bad_hours_writes_nothing(client, engine, bearer, api_world, body, field):
    answer = client.post(
        f"/api/v1/claims/{api_world.claim_id}/approve",
        json={"return_to_service": True} | body,
        headers=bearer,
    )
    refused(answer, 422, field)
    assert ledger_entries(engine) == 0
    assert row(engine, CreditClaim, api_world.claim_id).status == "pending"
    assert row(engine, Ticket, api_world.ticket_id).status == "in_progress"
    assert audit_entries(engine) == []


def test_decline_a_claim_posts_nothing_and_a_decided_claim_is_409(
    client, engine, bearer, api_world
):
    url = f"/api/v1/claims/{api_world.claim_id}"
    refused(client.post(f"{url}/decline", json={}, headers=bearer), 422, "reason")
    answer = client.post(f"{url}/decline", json={"reason": "not a repair"}, headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    refused(
        client.post(f"{url}/approve", json={"return_to_service": True}, headers=bearer),
        409,
        "claim_id",
    )
    refused(
        client.post(f"{url}/decline", json={"reason": "again"}, headers=bearer), 409, "claim_id"
    )
    assert ledger_entries(engine) == 0
    assert [e.action for e in audit_entries(engine)] == ["claim.decline"]
    assert client.get("/api/v1/claims", headers=bearer).get_json() == {"claims": []}


# --- tickets ------------------------------------------------------------------------------


def test_open_a_blocking_ticket_takes_the_tool_out_of_service(client, engine, bearer, api_world):
    body = {"tool_id": 1, "note": "Battery swells", "blocking": True}
    answer = client.post("/api/v1/maintenance/tickets", json=body, headers=bearer)
    assert answer.status_code == 201
    ticket = answer.get_json()
    assert (ticket["source"], ticket["opened_by"], ticket["blocking"]) == (
        "steward", api_world.steward_id, True
    )  # fmt: skip
    assert row(engine, Tool, 1).status == "out_of_service"
    (entry,) = audit_entries(engine)
    assert (entry.action, entry.before) == ("ticket.open", None)
    assert json.loads(entry.after)["note"] == "Battery swells"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"tool_id": 1}, "note"),
        ({"note": "x"}, "tool_id"),
        ({"tool_id": "one", "note": "x"}, "tool_id"),
        ({"tool_id": 0, "note": "x"}, "tool_id"),
        ({"tool_id": 1, "note": "x", "blocking": "sometimes"}, "blocking"),
    ],
)
def test_open_ticket_refuses_malformed_bodies(client, engine, bearer, api_world, body, field):
    refused(client.post("/api/v1/maintenance/tickets", json=body, headers=bearer), 422, field)
    assert audit_entries(engine) == []


def test_resolve_a_ticket_once(client, engine, bearer, api_world):
    url = f"/api/v1/maintenance/tickets/{api_world.ticket_id}/resolve"
    answer = client.post(url, json={"note": "chuck replaced"}, headers=bearer)
    assert answer.status_code == 200
    assert (answer.get_json()["status"], answer.get_json()["resolved_by"]) == (
        "resolved", api_world.steward_id
    )  # fmt: skip
    refused(client.post(url, json={}, headers=bearer), 409, "ticket_id")
    (entry,) = audit_entries(engine)
    assert json.loads(entry.before)["status"] == "in_progress"
    assert json.loads(entry.after)["resolution_note"] == "chuck replaced"


# --- bookings -----------------------------------------------------------------------------


def test_cancel_a_booking_with_a_reason(client, engine, bearer, api_world):
    url = f"/api/v1/bookings/{api_world.booking_id}/cancel"
    refused(client.post(url, json={"reason": ""}, headers=bearer), 422, "reason")
    answer = client.post(url, json={"reason": "laser tube cracked"}, headers=bearer)
    assert answer.status_code == 200
    assert (answer.get_json()["status"], answer.get_json()["cancel_reason"]) == (
        "cancelled", "laser tube cracked"
    )  # fmt: skip
    (entry,) = audit_entries(engine)
    assert (entry.action, json.loads(entry.after)["cancelled_by"]) == (
        "booking.cancel", api_world.steward_id
    )  # fmt: skip


def test_a_booking_already_over_cannot_be_cancelled(client, engine, bearer, api_world):
    url = f"/api/v1/bookings/{api_world.past_booking_id}/cancel"
    refused(client.post(url, json={"reason": "tidy up"}, headers=bearer), 422, "booking_id")
    assert row(engine, Booking, api_world.past_booking_id).status == "booked"
    assert audit_entries(engine) == []
