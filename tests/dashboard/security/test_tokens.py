"""Tokens forever: API tokens could not be listed, revoked, scoped or made to expire. Each is
now done through the dashboard, the API and the CLI, and a token past its end is refused.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.errors import InvalidInput
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.members import tokens
from hub.members.ranks import OPERATOR, Outranked
from hub.members.roster import Member, member_by_number
from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.conftest import csrf_token

api_world, bearer = fixtures.api_world, fixtures.bearer


def issue(engine, number: str, **options) -> dict[str, str]:
    """Issue member ``number`` a token (by the operator); return its bearer headers."""
    with transaction(engine) as session:
        holder = member_by_number(session, number)
        return {
            "Authorization": "Bearer "
            + tokens.issue_token(session, OPERATOR, holder.id, "t", **options)
        }


def audited(engine, action: str) -> list[AuditEntry]:
    with reading(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def cli(database_url: str, tmp_path, *args: str):
    hub = ["hub", "--data-dir", str(tmp_path / "cli"), "--database-url", database_url]
    return CliRunner().invoke(main, [*hub, *args])


# --- listed and revoked, through the API --------------------------------------------------


def test_the_api_lists_a_stewards_own_tokens_with_their_last_use(client, bearer, engine, api_world):
    issue(engine, "1002")  # another steward's: not shown to 1001
    assert client.get("/api/v1/members", headers=bearer).status_code == 200
    listed = client.get("/api/v1/tokens", headers=bearer).get_json()["tokens"]
    assert [t["holder"] for t in listed] == [listed[0]["holder"]] * len(listed)
    assert listed[0]["holder"].startswith("1001 ") and listed[0]["scope"] == "steward"
    assert listed[0]["last_used_at"] is not None and listed[0]["live"] is True
    assert "token" not in listed[0] and "token_hash" not in listed[0]


def test_an_admin_lists_everyones_tokens(client, engine, api_world):
    as_admin = issue(engine, "1003")
    holders = {
        t["holder"][:4] for t in client.get("/api/v1/tokens", headers=as_admin).json["tokens"]
    }
    assert {"1001", "1003"} <= holders


def test_a_token_revoked_through_the_api_is_refused_from_then_on(client, bearer, engine, api_world):
    (mine,) = client.get("/api/v1/tokens", headers=bearer).get_json()["tokens"]
    answer = client.post(
        f"/api/v1/tokens/{mine['id']}/revoke", json={"reason": "leaked"}, headers=bearer
    )
    assert answer.status_code == 200 and answer.get_json()["live"] is False
    refused = client.get("/api/v1/members", headers=bearer)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]
    (entry,) = audited(engine, "token.revoke")
    assert entry.actor_member_id == api_world.steward_id and '"reason": "leaked"' in entry.after


def test_a_steward_cannot_revoke_the_admins_token(client, bearer, engine, api_world):
    admins = issue(engine, "1003")
    with reading(engine) as session:
        admin = member_by_number(session, "1003")
        (row,) = tokens.list_tokens(session, admin.id)
    answer = client.post(f"/api/v1/tokens/{row.id}/revoke", json={}, headers=bearer)
    assert answer.status_code == 403
    assert client.get("/api/v1/members", headers=admins).status_code == 200


# --- scoped -------------------------------------------------------------------------------


def test_a_read_only_token_reads_but_changes_nothing(client, engine, api_world):
    read_only = issue(engine, "1001", scope="read")
    assert client.get("/api/v1/members", headers=read_only).status_code == 200
    answer = client.post(
        f"/api/v1/members/{api_world.fixer_id}/suspend", json={"reason": "x"}, headers=read_only
    )
    assert answer.status_code == 403 and "read-only" in answer.get_json()["error"]
    with reading(engine) as session:
        assert session.get(Member, api_world.fixer_id).is_active


def test_a_member_scoped_token_reaches_only_open_records(client, engine, api_world):
    members_own = issue(engine, "1010", scope="member")
    assert client.get("/api/v1/tools", headers=members_own).status_code == 200
    assert client.get("/api/v1/members", headers=members_own).status_code == 403
    stewards_narrow = issue(engine, "1001", scope="member")  # a steward's, narrowed on purpose
    answer = client.get("/api/v1/members", headers=stewards_narrow)
    assert answer.status_code == 403 and "member-scoped" in answer.get_json()["error"]


def test_a_plain_member_gets_no_steward_scope(engine):
    with transaction(engine) as session, pytest.raises(InvalidInput, match="only a member-scoped"):
        tokens.issue_token(
            session, OPERATOR, member_by_number(session, "1010").id, "x", scope="steward"
        )


# --- expiring -----------------------------------------------------------------------------


def test_an_expired_token_is_refused(client, engine, api_world):
    with transaction(engine) as session:
        steward = member_by_number(session, "1001")
        long_ago = utcnow() - timedelta(days=40)
        token = tokens.issue_token(session, OPERATOR, steward.id, "old", days=30, now=long_ago)
    answer = client.get("/api/v1/members", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "expired on" in answer.get_json()["error"]


@pytest.mark.parametrize("days", [0, -1, 367])
def test_a_token_lives_a_bounded_time(engine, days):
    with transaction(engine) as session, pytest.raises(InvalidInput) as refused:
        tokens.issue_token(session, OPERATOR, member_by_number(session, "1001").id, "x", days=days)
    assert refused.value.field == "days"


# --- through the dashboard ----------------------------------------------------------------


def test_the_account_page_issues_lists_and_revokes(steward, client, engine):
    form = {
        "csrf_token": csrf_token(steward, "/steward/"),
        "name": "weekly report",
        "scope": "read",
        "days": "7",
    }
    page = steward.post("/steward/account/tokens", data=form).get_data(as_text=True)
    token = re.search(r"(cs_[A-Za-z0-9_-]{40,})", page).group(1)
    assert "shown only this once" in page
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    listing = steward.get("/steward/account").get_data(as_text=True)
    assert "weekly report" in listing and token not in listing and "just now" in listing
    with reading(engine) as session:
        (row,) = [t for t in tokens.list_tokens(session) if t.name == "weekly report"]
    assert row.scope == "read" and (row.expires_at - row.created_at).days == 7
    revoke = steward.post(
        f"/steward/account/tokens/{row.id}/revoke", data={"csrf_token": form["csrf_token"]}
    )
    assert revoke.status_code == 302
    assert client.get("/api/v1/members", headers=headers).status_code == 401
    assert [e.actor_member_id for e in audited(engine, "token.issue")][-1] is not None


# --- through the CLI ----------------------------------------------------------------------


def test_the_cli_issues_lists_and_revokes(client, database_url, engine, tmp_path):
    issued = cli(
        database_url,
        tmp_path,
        "steward",
        "issue-token",
        "1002",
        "--name",
        "backup",
        "--scope",
        "read",
        "--days",
        "10",
    )
    assert issued.exit_code == 0, issued.output
    headers = {"Authorization": f"Bearer {issued.output.strip()}"}
    assert client.get("/api/v1/kiosks", headers=headers).status_code == 200
    listed = cli(database_url, tmp_path, "steward", "tokens", "1002")
    (line,) = [line for line in listed.output.splitlines() if line.endswith("backup")]
    assert " read " in line and "live" in line and "used 20" in line
    token_id = line.split()[0]
    assert cli(database_url, tmp_path, "steward", "revoke-token", token_id).exit_code == 0
    assert client.get("/api/v1/kiosks", headers=headers).status_code == 401
    assert "revoked" in cli(database_url, tmp_path, "steward", "tokens", "1002").output
    assert [e.action for e in audited(engine, "token.issue") + audited(engine, "token.revoke")] == [
        "token.issue",
        "token.revoke",
    ]


def test_the_rules_live_in_the_hub(engine):
    with transaction(engine) as session:
        steward, admin = member_by_number(session, "1001"), member_by_number(session, "1003")
        with pytest.raises(Outranked):
            tokens.issue_token(session, steward, admin.id, "for the admin")
