"""Outranking: a steward suspended the only admin through the API, and stewards suspended peers
and themselves. Each attack is replayed through the real app and the CLI; the hub refuses it.

Demo ranks: 1001 and 1002 are stewards, 1003 the only admin, 1004 a volunteer, 1010 a member.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR, LastAdmin, Outranked, SelfSuspension
from hub.members.roster import Member, member_by_number
from hub.members.standing import set_roles, suspend_member
from hub.members.tokens import issue_token
from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.conftest import csrf_token, sign_in_by_session

api_world, bearer = fixtures.api_world, fixtures.bearer


def member(engine, number: str) -> Member:
    with reading(engine) as session:
        return member_by_number(session, number)


def token_of(engine, number: str) -> dict[str, str]:
    """Return bearer headers for a fresh steward-scoped token of member ``number``."""
    with transaction(engine) as session:
        holder = member_by_number(session, number)
        return {"Authorization": f"Bearer {issue_token(session, holder, holder.id, 'x')}"}


def suspensions(engine) -> list[AuditEntry]:
    with reading(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action == "member.suspend")
        return list(session.exec(query))


# --- through the API --------------------------------------------------------------------


def test_a_steward_cannot_suspend_the_only_admin(client, engine, bearer, api_world):
    admin = member(engine, "1003")
    answer = client.post(
        f"/api/v1/members/{admin.id}/suspend", json={"reason": "coup"}, headers=bearer
    )
    assert answer.status_code == 403
    assert "may not suspend member 1003" in answer.get_json()["error"]
    assert answer.get_json()["field"] == "member_id"
    assert member(engine, "1003").is_active and suspensions(engine) == []
    sign_in_by_session(client, "1003")
    assert client.get("/steward/audit").status_code == 200  # the admin still reaches the log


def test_a_steward_cannot_suspend_another_steward(client, engine, bearer, api_world):
    peer = member(engine, "1002")
    answer = client.post(f"/api/v1/members/{peer.id}/suspend", json={"reason": "x"}, headers=bearer)
    assert (
        answer.status_code == 403
        and "(steward): only someone ranked above" in answer.get_json()["error"]
    )
    assert member(engine, "1002").is_active


def test_a_steward_cannot_suspend_themselves(client, engine, bearer, api_world):
    answer = client.post(
        f"/api/v1/members/{api_world.steward_id}/suspend", json={"reason": "x"}, headers=bearer
    )
    assert answer.status_code == 403 and "may not suspend themselves" in answer.get_json()["error"]
    assert member(engine, "1001").is_active


def test_a_steward_still_suspends_and_reinstates_a_volunteer(client, engine, bearer, api_world):
    url = f"/api/v1/members/{api_world.fixer_id}"
    assert client.post(f"{url}/suspend", json={"reason": "x"}, headers=bearer).status_code == 200
    assert client.post(f"{url}/reinstate", json={}, headers=bearer).status_code == 200


def test_a_steward_cannot_reinstate_a_suspended_admin(client, engine, api_world):
    admin = member(engine, "1003")
    with transaction(engine) as session:
        admin, second = member_by_number(session, "1003"), member_by_number(session, "1002")
        set_roles(session, admin, second.id, "steward admin")
        suspend_member(session, second, admin.id, "holiday")
    answer = client.post(
        f"/api/v1/members/{admin.id}/reinstate", json={}, headers=token_of(engine, "1001")
    )
    assert answer.status_code == 403 and not member(engine, "1003").is_active


@pytest.mark.parametrize("roles", [["steward"], ["admin"], ["volunteer", "steward"]])
def test_a_steward_cannot_grant_steward_or_admin(client, engine, bearer, api_world, roles):
    answer = client.post(
        f"/api/v1/members/{api_world.fixer_id}/roles", json={"roles": roles}, headers=bearer
    )
    assert answer.status_code == 403 and answer.get_json()["field"] == "roles"
    assert "steward" not in member(engine, "1004").roles


def test_a_steward_cannot_make_themselves_admin(client, engine, bearer, api_world):
    answer = client.post(
        f"/api/v1/members/{api_world.steward_id}/roles",
        json={"roles": ["steward", "admin"]},
        headers=bearer,
    )
    assert answer.status_code == 403 and "admin" not in member(engine, "1001").roles


def test_a_steward_grants_and_removes_volunteer(client, engine, bearer, api_world):
    plain = member(engine, "1010")
    url = f"/api/v1/members/{plain.id}/roles"
    answer = client.post(url, json={"roles": ["volunteer"]}, headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["roles"] == ["member", "volunteer"]
    assert client.post(url, json={"roles": []}, headers=bearer).get_json()["roles"] == ["member"]


def test_the_last_admin_can_be_neither_suspended_nor_demoted(client, engine, api_world):
    admin = member(engine, "1003")
    as_admin = token_of(engine, "1003")
    url = f"/api/v1/members/{admin.id}"
    demoted = client.post(f"{url}/roles", json={"roles": ["steward"]}, headers=as_admin)
    assert demoted.status_code == 409 and "last active admin" in demoted.get_json()["error"]
    with pytest.raises(LastAdmin), transaction(engine) as session:
        suspend_member(session, OPERATOR, admin.id, "x")
    assert "admin" in member(engine, "1003").roles.split()


def test_with_a_second_admin_an_admin_may_step_down(client, engine, api_world):
    as_admin = token_of(engine, "1003")
    second = member(engine, "1002")
    answer = client.post(
        f"/api/v1/members/{second.id}/roles", json={"roles": ["steward", "admin"]}, headers=as_admin
    )
    assert answer.status_code == 200
    admin = member(engine, "1003")
    answer = client.post(
        f"/api/v1/members/{admin.id}/roles", json={"roles": ["steward"]}, headers=as_admin
    )
    assert answer.status_code == 200 and answer.get_json()["roles"] == ["member", "steward"]


# --- through the pages -------------------------------------------------------------------


def test_the_page_refuses_a_steward_suspending_the_admin(steward, engine):
    admin = member(engine, "1003")
    response = steward.post(
        f"/steward/members/{admin.id}/suspend",
        data={"csrf_token": csrf_token(steward, "/steward/"), "reason": "coup"},
    )
    assert response.status_code == 403 and member(engine, "1003").is_active


def test_the_page_refuses_a_steward_granting_admin(steward, engine):
    plain = member(engine, "1010")
    response = steward.post(
        f"/steward/members/{plain.id}/roles",
        data={"csrf_token": csrf_token(steward, "/steward/"), "role_admin": "on"},
    )
    assert response.status_code == 403 and member(engine, "1010").roles.split() == ["member"]


def test_the_page_lets_a_steward_make_a_volunteer(steward, engine):
    plain = member(engine, "1010")
    response = steward.post(
        f"/steward/members/{plain.id}/roles",
        data={"csrf_token": csrf_token(steward, "/steward/"), "role_volunteer": "on"},
    )
    assert response.status_code == 302 and member(engine, "1010").roles.split() == [
        "member",
        "volunteer",
    ]


# --- in the hub, whichever door -------------------------------------------------------------


def test_the_rules_live_in_the_hub(engine):
    with transaction(engine) as session:
        steward, peer = member_by_number(session, "1001"), member_by_number(session, "1002")
        with pytest.raises(SelfSuspension):
            suspend_member(session, steward, steward.id, "x")
        with pytest.raises(Outranked):
            suspend_member(session, steward, peer.id, "x")


def test_the_cli_cannot_suspend_the_last_admin(database_url, tmp_path):
    hub = ["hub", "--data-dir", str(tmp_path / "cli"), "--database-url", database_url]
    result = CliRunner().invoke(main, [*hub, "member", "suspend", "1003", "--reason", "x"])
    assert result.exit_code == 1 and "last active admin" in result.output
