"""Unaudited power: granting steward or admin from the CLI or a CSV import, and CLI suspensions,
left no audit entry. The hub's services now audit these acts themselves, in the same
transaction, whichever door they come through, and exactly once.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.bookings import has_pin, set_pin
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.credentials import reset_pin
from hub.members.ranks import OPERATOR, Outranked
from hub.members.roster import member_by_number
from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.conftest import csrf_token, sign_in_by_session

api_world, bearer = fixtures.api_world, fixtures.bearer


def cli(database_url: str, tmp_path, *args: str):
    hub = ["hub", "--data-dir", str(tmp_path / "cli"), "--database-url", database_url]
    return CliRunner().invoke(main, [*hub, *args])


def entries(engine, action: str, target: str | None = None) -> list[AuditEntry]:
    with reading(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if target:
            query = query.where(AuditEntry.target == target)
        return list(session.exec(query.order_by(AuditEntry.id)))


def test_a_cli_grant_is_audited(database_url, engine, tmp_path):
    result = cli(database_url, tmp_path, "member", "roles", "1010", "steward admin")
    assert result.exit_code == 0, result.output
    (grant,) = entries(engine, "member.roles", "member:1010")
    assert grant.actor_member_id is None  # the operator
    assert json.loads(grant.before) == {"roles": "member"}
    assert json.loads(grant.after) == {"roles": "member steward admin"}


def test_a_cli_enrolment_with_roles_is_audited(database_url, engine, tmp_path):
    result = cli(database_url, tmp_path, "member", "add", "--name", "New Admin", "--roles", "admin")
    assert result.exit_code == 0, result.output
    number = result.output.split()[1]
    (grant,) = entries(engine, "member.roles", f"member:{number}")
    assert json.loads(grant.after) == {"roles": "member admin"}


def test_a_csv_import_grant_is_audited(database_url, engine, tmp_path):
    rows = tmp_path / "members.csv"
    rows.write_text("number,name,roles\n7001,Ivy Import,steward\n7002,Plain Import,member\n")
    result = cli(database_url, tmp_path, "import", "members", str(rows))
    assert result.exit_code == 0, result.output
    (grant,) = entries(engine, "member.roles", "member:7001")
    assert json.loads(grant.after) == {"roles": "member steward"}
    assert entries(engine, "member.roles", "member:7002") == []


def test_a_refused_import_audits_nothing(database_url, engine, tmp_path):
    rows = tmp_path / "members.csv"
    rows.write_text("number,name,roles\n7001,Ivy Import,steward\n7002,Bad Role,king\n")
    assert cli(database_url, tmp_path, "import", "members", str(rows)).exit_code == 1
    assert entries(engine, "member.roles") == []


def test_a_cli_suspension_and_reinstatement_are_audited(database_url, engine, tmp_path):
    assert (
        cli(database_url, tmp_path, "member", "suspend", "1004", "--reason", "tent").exit_code == 0
    )
    assert (
        cli(database_url, tmp_path, "member", "reinstate", "1004", "--reason", "back").exit_code
        == 0
    )
    (suspension,) = entries(engine, "member.suspend", "member:1004")
    (reinstatement,) = entries(engine, "member.reinstate", "member:1004")
    assert json.loads(suspension.after) == {"status": "suspended", "status_reason": "tent"}
    assert json.loads(reinstatement.after)["reason"] == "back"


def test_an_api_suspension_is_audited_once(client, engine, bearer, api_world):
    url = f"/api/v1/members/{api_world.fixer_id}/suspend"
    assert client.post(url, json={"reason": "x"}, headers=bearer).status_code == 200
    (entry,) = entries(engine, "member.suspend")
    assert entry.actor_member_id == api_world.steward_id


def test_a_page_suspension_and_grant_are_audited_once(steward, engine):
    with reading(engine) as session:
        volunteer = member_by_number(session, "1004")
    token = csrf_token(steward, "/steward/")
    steward.post(
        f"/steward/members/{volunteer.id}/suspend", data={"csrf_token": token, "reason": "x"}
    )
    steward.post(f"/steward/members/{volunteer.id}/roles", data={"csrf_token": token})
    assert len(entries(engine, "member.suspend")) == 1
    (grant,) = entries(engine, "member.roles")
    assert json.loads(grant.after) == {"roles": "member"} and grant.actor_member_id is not None


def test_a_refused_act_leaves_no_entry(client, engine, bearer, api_world):
    with reading(engine) as session:
        admin = member_by_number(session, "1003")
    client.post(f"/api/v1/members/{admin.id}/suspend", json={"reason": "x"}, headers=bearer)
    assert entries(engine, "member.suspend") == []


def test_a_pin_reset_is_audited_without_the_pin(engine):
    with transaction(engine) as session:
        steward, volunteer = member_by_number(session, "1001"), member_by_number(session, "1004")
        set_pin(session, volunteer.id, "4321")
        reset_pin(session, steward, volunteer.id)
        assert not has_pin(session, volunteer.id)
        reset_pin(session, steward, volunteer.id, new_pin="9876")
        assert has_pin(session, volunteer.id)
    cleared, set_again = entries(engine, "pin.reset", "member:1004")
    assert json.loads(cleared.after) == {"pin": "cleared"} and "9876" not in set_again.after


def test_a_steward_cannot_reset_a_peers_pin(engine):
    with transaction(engine) as session, pytest.raises(Outranked):
        steward, peer = member_by_number(session, "1001"), member_by_number(session, "1002")
        reset_pin(session, steward, peer.id)


def test_the_operator_password_reset_is_audited(database_url, engine, tmp_path):
    result = cli(database_url, tmp_path, "steward", "set-password", "1002", "--password", "y" * 12)
    assert result.exit_code == 0
    (entry,) = entries(engine, "password.set", "member:1002")
    assert "y" * 12 not in (entry.after or "") and entry.actor_member_id is None
    assert OPERATOR.id is None


def test_the_admin_sees_cli_grants_in_the_audit_log(client, database_url, tmp_path):
    assert cli(database_url, tmp_path, "member", "roles", "1010", "steward").exit_code == 0
    sign_in_by_session(client, "1003")
    page = client.get("/steward/audit?target=member:1010").get_data(as_text=True)
    assert "member.roles" in page and "the operator (CLI)" in page and "member steward" in page
