"""The holds and policy API (dashboard/api/holds.py), on both databases: a member's own holds
with a member-scoped token, refusals naming the field with nothing written, the stewards'
queue reorder (audited) and the borrowing policy."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.loans.holds import Hold
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from tests.dashboard import api_fixtures as fixtures

api_world, bearer = fixtures.api_world, fixtures.bearer


def member_token(engine, number: str, scope: str = "member") -> dict[str, str]:
    with transaction(engine) as session:
        member = member_by_number(session, number)
        token = tokens.issue_token(session, OPERATOR, member.id, "phone", scope=scope)
    return {"Authorization": f"Bearer {token}"}


def hold_count(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Hold)).one()


def test_a_member_places_lists_and_cancels_their_holds(client, engine, api_world):
    phone = member_token(engine, "1005")
    placed = client.post("/api/v1/me/holds", json={"tool_code": "drill-2"}, headers=phone)
    assert placed.status_code == 201, placed.get_json()
    body = placed.get_json()
    assert (body["tool_code"], body["status"], body["place"]) == ("DRILL-2", "waiting", 1)
    listed = client.get("/api/v1/me/holds", headers=phone).get_json()["holds"]
    assert [hold["id"] for hold in listed] == [body["id"]]
    gone = client.delete(f"/api/v1/me/holds/{body['id']}", headers=phone)
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    assert client.get("/api/v1/me/holds", headers=phone).get_json()["holds"] == []


@pytest.mark.parametrize(
    ("tool_code", "status", "field"),
    [
        ("NOPE-9", 404, "tool_code"),
        ("DRILL-2", 409, "tool_code"),  # a second hold on it
        ("not a code!", 422, "tool_code"),
    ],
)
def test_bad_holds_are_refused_naming_the_field(
    client, engine, api_world, tool_code, status, field
):
    phone = member_token(engine, "1005")
    client.post("/api/v1/me/holds", json={"tool_code": "DRILL-2"}, headers=phone)
    before = hold_count(engine)
    answer = client.post("/api/v1/me/holds", json={"tool_code": tool_code}, headers=phone)
    assert answer.status_code == status
    assert answer.get_json()["field"] == field
    assert hold_count(engine) == before


def test_a_member_cannot_cancel_anothers_hold_nor_reach_the_queues(client, engine, api_world):
    theirs = client.post(
        "/api/v1/me/holds", json={"tool_code": "DRILL-2"}, headers=member_token(engine, "1005")
    ).get_json()
    mine = member_token(engine, "1006")
    assert client.delete(f"/api/v1/me/holds/{theirs['id']}", headers=mine).status_code == 404
    assert client.get("/api/v1/holds", headers=mine).status_code == 403
    assert client.get("/api/v1/me/holds").status_code == 401


def test_a_steward_reorders_a_queue_audited_and_sets_the_policy(client, engine, bearer, api_world):
    ids = [
        client.post(
            "/api/v1/me/holds", json={"tool_code": "DRILL-2"}, headers=member_token(engine, n)
        ).get_json()["id"]
        for n in ("1005", "1006", "1007")
    ]
    moved = client.post(f"/api/v1/holds/{ids[2]}/move", json={"position": 1}, headers=bearer)
    assert moved.status_code == 200, moved.get_json()
    assert [hold["id"] for hold in moved.get_json()["holds"]] == [ids[2], ids[0], ids[1]]
    queue = client.get("/api/v1/holds?tool_code=DRILL-2", headers=bearer).get_json()["holds"]
    assert [hold["place"] for hold in queue] == [1, 2, 3]
    with reading(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "hold.move")).one()
        assert entry.actor_member_id == api_world.steward_id
    bad = client.put("/api/v1/policy", json={"max_loans": 0}, headers=bearer)
    assert bad.status_code == 422 and bad.get_json()["field"] == "max_loans"
    set_ = client.put("/api/v1/policy", json={"max_loans": 2, "hold_hours": 12}, headers=bearer)
    assert set_.status_code == 200
    assert (set_.get_json()["max_loans"], set_.get_json()["hold_hours"]) == (2, 12)
    length = client.put(
        "/api/v1/policy/loan-lengths", json={"category": "power tools", "days": 3}, headers=bearer
    )
    assert length.get_json()["loan_lengths"] == [
        {"tool_code": None, "category": "power tools", "days": 3}
    ]
