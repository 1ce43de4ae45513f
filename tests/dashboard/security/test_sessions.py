"""Sessions outliving sign-out: a copied session cookie still opened /steward/ after sign-out,
after a password change and after a suspension. Sessions now live on the hub; each attack is
replayed with a copied cookie through the real sign-in form and the CLI, and refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.members import sessions
from hub.members.ranks import OPERATOR, Outranked
from hub.members.roster import member_by_number
from hub.members.standing import reinstate_member, suspend_member
from tests.dashboard.conftest import csrf_token, sign_in

COOKIE = "session"


@pytest.fixture
def signed_in(client):
    """Return a client signed in as steward 1001 through the real form."""
    assert sign_in(client).status_code == 302
    return client


@pytest.fixture
def thief(app, signed_in):
    """Return a second browser holding a copy of the signed-in steward's cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, signed_in.get_cookie(COOKIE).value)
    return other


def opens_the_dashboard(client) -> bool:
    return client.get("/steward/").status_code == 200


def cli(database_url: str, tmp_path, *args: str):
    hub = ["hub", "--data-dir", str(tmp_path / "cli"), "--database-url", database_url]
    return CliRunner().invoke(main, [*hub, *args])


def test_a_copied_cookie_works_only_while_its_session_lives(signed_in, thief):
    assert opens_the_dashboard(thief)  # the copy is the session itself...
    signed_in.post("/signout", data={"csrf_token": csrf_token(signed_in, "/steward/")})
    assert not opens_the_dashboard(signed_in)
    response = thief.get("/steward/")  # ...so signing out ends it for the copy too
    assert response.status_code == 302 and "/signin" in response.location


def test_a_password_change_ends_every_session(signed_in, thief, database_url, tmp_path):
    result = cli(database_url, tmp_path, "steward", "set-password", "1001", "--password", "x" * 12)
    assert result.exit_code == 0, result.output
    assert not opens_the_dashboard(thief) and not opens_the_dashboard(signed_in)


def test_a_suspension_ends_every_session_for_good(signed_in, thief, engine):
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "left")
    with transaction(engine) as session:
        reinstate_member(session, OPERATOR, member_by_number(session, "1001").id)
    assert not opens_the_dashboard(thief) and not opens_the_dashboard(signed_in)


def test_sign_out_everywhere_from_the_account_page(app, signed_in, thief, engine):
    laptop = app.test_client()
    assert sign_in(laptop).status_code == 302
    page = signed_in.get("/steward/account").get_data(as_text=True)
    assert page.count("this one") == 1 and "Sign out everywhere" in page
    response = signed_in.post(
        "/steward/account/sign-out-everywhere",
        data={"csrf_token": csrf_token(signed_in, "/steward/")},
    )
    assert response.status_code == 302
    assert not any(opens_the_dashboard(c) for c in (signed_in, thief, laptop))
    with reading(engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "sessions.end_all")
        ).one()
        assert entry.target == "member:1001" and '"sessions_ended": 2' in entry.after


def test_sign_out_everywhere_from_the_cli(signed_in, thief, database_url, tmp_path):
    result = cli(database_url, tmp_path, "steward", "sign-out-everywhere", "1001")
    assert result.exit_code == 0 and "1 session(s) of member 1001 ended" in result.output
    assert not opens_the_dashboard(thief)


def test_a_steward_cannot_sign_out_a_peer(engine):
    with transaction(engine) as session, pytest.raises(Outranked):
        steward, peer = member_by_number(session, "1001"), member_by_number(session, "1002")
        sessions.sign_out_everywhere(session, steward, peer.id)


def test_a_cookie_from_before_hub_sessions_is_not_honoured(app, engine):
    """A cookie that names only a member id (as every cookie did before) signs nobody in."""
    browser = app.test_client()
    with reading(engine) as session:
        steward_id = member_by_number(session, "1001").id
    with browser.session_transaction() as cookie:
        cookie.update(member_id=steward_id, seen_at=9e12)
    assert browser.get("/steward/").status_code == 302


def test_a_copy_cannot_keep_an_idle_session_alive(signed_in, thief, engine):
    """The idle clock lives on the hub too: a copy's own fresh cookie clock does not count."""
    with transaction(engine) as session:
        (row,) = sessions.live_sessions(session, member_by_number(session, "1001").id)
        row.last_seen_at = utcnow() - timedelta(hours=2)
    assert not opens_the_dashboard(thief)
    with reading(engine) as session:
        assert session.get(sessions.SignInSession, row.id).ended_why == "idle"
