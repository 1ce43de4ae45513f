"""The members' API writes: add, edit, cards, trainings, PIN reset, search; each audited once
by the hub's service, or refused whole with the field named."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import card_by_uid, member_by_number
from tests.dashboard import api_fixtures as fixtures

api_world, bearer = fixtures.api_world, fixtures.bearer
PLAIN = 10  # demo member 1010: a member only


def audit_entries(engine) -> list[AuditEntry]:
    """Return the audit entries the API's callers caused (not the fixture's token issue)."""
    with reading(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action != "token.issue")
        return list(session.exec(query.order_by(AuditEntry.id)))


def refused(answer, status: int, field: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["field"] == field, answer.get_json()


def test_add_a_member_is_201_and_audited(client, engine, bearer, api_world):
    answer = client.post(
        "/api/v1/members",
        json={"name": " Nia Okafor ", "email": "nia@example.org", "roles": ["volunteer"]},
        headers=bearer,
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert (body["name"], body["roles"], body["cards"]) == (
        "Nia Okafor",
        ["member", "volunteer"],
        [],
    )
    added, granted = audit_entries(engine)
    assert (added.action, added.target, added.actor_member_id) == (
        "member.add", f"member:{body['number']}", api_world.steward_id
    )  # fmt: skip
    assert json.loads(added.after)["email"] == "nia@example.org"
    assert granted.action == "member.roles"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "   "}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "x" * 121}, 422, "name"),
        ({"name": "Ok", "number": "12a"}, 422, "number"),
        ({"name": "Ok", "number": "1002"}, 409, "number"),
        ({"name": "Boss", "roles": ["admin"]}, 403, "roles"),
        ({"name": "Ok", "colour": "blue"}, 422, "colour"),
    ],
)
def test_a_refused_new_member_writes_nothing(
    client, engine, bearer, api_world, body, status, field
):
    refused(client.post("/api/v1/members", json=body, headers=bearer), status, field)
    assert audit_entries(engine) == []


def test_a_volunteer_may_not_add_a_member(client, engine, api_world):
    with transaction(engine) as session:
        volunteer = member_by_number(session, "1004")
        token = tokens.issue_token(session, OPERATOR, volunteer.id, "volunteer's", scope="member")
    answer = client.post(
        "/api/v1/members", json={"name": "Newcomer"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403
    assert audit_entries(engine) == []


def test_patch_changes_only_what_is_sent(client, engine, bearer, api_world):
    url = f"/api/v1/members/{PLAIN}"
    answer = client.patch(url, json={"phone": "0700 900", "email": None}, headers=bearer)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["phone"], body["email"], body["name"]) == ("0700 900", None, body["name"])
    (edited,) = audit_entries(engine)
    assert edited.action == "member.edit"
    assert client.patch(url, json={"phone": "0700 900"}, headers=bearer).status_code == 200
    assert len(audit_entries(engine)) == 1  # nothing changed, nothing recorded
    refused(client.patch(url, json={"name": " "}, headers=bearer), 422, "name")
    refused(client.patch(url, json={"roles": ["admin"]}, headers=bearer), 403, "roles")
    refused(client.patch("/api/v1/members/999999", json={}, headers=bearer), 404, "member_id")
    answer = client.patch(url, json={"roles": ["volunteer"]}, headers=bearer)
    assert answer.get_json()["roles"] == ["member", "volunteer"]


def test_cards_assign_lost_and_revoke(client, engine, bearer, api_world):
    url = f"/api/v1/members/{PLAIN}/cards"
    answer = client.post(url, json={"uid": "de:ad:be:ef", "label": "fob"}, headers=bearer)
    assert answer.status_code == 201 and answer.get_json()["uid"] == "DEADBEEF"
    refused(client.post(url, json={"uid": "C0DE0001"}, headers=bearer), 409, "uid")
    refused(client.post(url, json={"uid": "nothex"}, headers=bearer), 422, "uid")
    lost = client.post(f"{url}/DEADBEEF/lost", json={"note": "on the bus"}, headers=bearer)
    assert lost.status_code == 200 and lost.get_json()["revoked_at"] is not None
    refused(client.post(f"{url}/C0DE0001/revoke", json={}, headers=bearer), 404, "uid")
    refused(client.post(f"{url}/not-a-uid/revoke", json={}, headers=bearer), 404, "uid")
    answer = client.post(f"{url}/C0DE0009/revoke", json={"reason": "moved away"}, headers=bearer)
    assert answer.status_code == 200
    actions = [(e.action, json.loads(e.after).get("reason")) for e in audit_entries(engine)]
    assert actions == [
        ("card.assign", None),
        ("card.revoke", "lost: on the bus"),
        ("card.revoke", "moved away"),
    ]
    with reading(engine) as session:
        assert card_by_uid(session, "C0DE0009").revoked_at is not None


def test_trainings_grant_with_expiry_and_revoke(client, engine, bearer, api_world):
    url = f"/api/v1/members/{PLAIN}/trainings"
    answer = client.post(
        url, json={"training": "laser", "expires_on": "2030-06-30"}, headers=bearer
    )
    assert answer.status_code == 200
    assert answer.get_json()["expires_at"].startswith("2030-06-30T23:59:59")
    refused(client.post(url, json={"training": "juggling"}, headers=bearer), 404, "training")
    refused(
        client.post(url, json={"training": "laser", "expires_on": "2001-01-01"}, headers=bearer),
        422,
        "expires_on",
    )
    answer = client.post(f"{url}/laser/revoke", headers=bearer)
    assert answer.status_code == 200
    assert "laser" not in {t["code"] for t in answer.get_json()["trainings"]}
    refused(client.post(f"{url}/laser/revoke", headers=bearer), 404, "training")
    assert [e.action for e in audit_entries(engine)] == ["training.grant", "training.revoke"]


def test_pin_reset_and_search_by_card(client, engine, bearer, api_world):
    url = f"/api/v1/members/{PLAIN}/pin-reset"
    assert client.post(url, json={"reason": "forgot"}, headers=bearer).status_code == 200
    assert [(e.action, e.after) for e in audit_entries(engine)] == [
        ("pin.reset", '{"pin": "cleared", "reason": "forgot"}')
    ]
    refused(client.post("/api/v1/members/999999/pin-reset", headers=bearer), 404, "member_id")
    found = client.get("/api/v1/members?q=c0:de:00:09", headers=bearer).get_json()["members"]
    assert [m["number"] for m in found] == ["1010"]


def test_the_document_lists_the_members_writes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/members"]
    assert paths["/api/v1/members"]["post"]["responses"].keys() >= {"201", "403", "409", "422"}
    assert "patch" in paths["/api/v1/members/{member_id}"]
    for path in ("cards", "cards/{uid}/revoke", "cards/{uid}/lost", "trainings",
                 "trainings/{code}/revoke", "pin-reset"):  # fmt: skip
        assert "post" in paths[f"/api/v1/members/{{member_id}}/{path}"], path
