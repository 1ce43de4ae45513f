"""Signing in through the real form: these tests never take the session shortcut."""

import pytest

from hub.infra import hashing
from hub.members import credentials
from hub.members.ranks import OPERATOR
from tests.dashboard.conftest import csrf_token, sign_in


@pytest.fixture
def steward(client):
    """Return a client signed in as demo steward 1001 through the sign-in form."""
    assert sign_in(client).status_code == 302
    return client


def test_steward_signs_in_and_sees_what_needs_them(steward):
    page = steward.get("/steward/").get_data(as_text=True)
    assert "What needs me" in page and "SAND-1" in page and "TENT-1" in page


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/steward/members")
    assert response.status_code == 302 and "/signin?next=/steward/members" in response.location


def test_a_member_is_refused_every_steward_page(client, app):
    with app.app_context():
        from dashboard.database import transaction
        from hub.members.roster import member_by_number

        with transaction() as db:
            member = member_by_number(db, "1010")
            member.roles = "member steward"  # give a password, then take the role away
            credentials.set_password(db, OPERATOR, member.id, "a member password")
            member.roles = "member"
    assert sign_in(client, "1010", "a member password").status_code == 401
    steward_rules = [
        r
        for r in client.application.url_map.iter_rules()
        if r.endpoint.startswith(("steward_front.", "steward_members."))
    ]
    assert steward_rules
    for rule in steward_rules:
        response = client.open(
            rule.rule.replace("<int:member_id>", "1"),
            method="POST" if "POST" in rule.methods else "GET",
            data={"csrf_token": csrf_token(client)},
        )
        assert response.status_code == 302 and "/signin" in response.location, rule.rule


def test_a_password_hashed_with_the_production_parameters_signs_in(client, app, monkeypatch):
    monkeypatch.setattr(hashing, "HASHER", hashing.PRODUCTION)
    with app.app_context():
        from dashboard.database import reading, transaction
        from hub.members.roster import member_by_number

        with transaction() as db:
            credentials.set_password(
                db, OPERATOR, member_by_number(db, "1002").id, "a real argon2 hash"
            )
        with reading() as db:
            stored = db.get(credentials.StewardLogin, member_by_number(db, "1002").id)
    assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert sign_in(client, "1002", "a real argon2 hash").status_code == 302
    assert "What needs me" in client.get("/steward/").get_data(as_text=True)


def test_wrong_password_is_a_clear_401(client):
    response = sign_in(client, "1001", "not the password")
    assert response.status_code == 401
    assert "Wrong member number or password." in response.get_data(as_text=True)


def test_post_without_csrf_is_refused_and_changes_nothing(steward):
    response = steward.post("/steward/members/5/suspend", data={"reason": "forged"})
    assert response.status_code == 400
    assert "csrf" in response.get_data(as_text=True).lower()
    assert "forged" not in steward.get("/steward/members?q=1005").get_data(as_text=True)


def test_suspend_is_audited_with_before_and_after(steward, app):
    token = csrf_token(steward, "/steward/members")
    response = steward.post(
        "/steward/members/5/suspend", data={"reason": "kept the tent", "csrf_token": token}
    )
    assert response.status_code == 302
    assert "kept the tent" in steward.get("/steward/members?q=1005").get_data(as_text=True)
    with app.app_context():
        from dashboard.database import reading
        from hub.infra.audit import recent

        with reading() as db:
            entry = recent(db, limit=1)[0]
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "member.suspend",
        "member:1005",
        1,
    )
    assert '"active"' in entry.before and '"suspended"' in entry.after


def test_suspend_without_reason_is_refused_by_field(steward):
    token = csrf_token(steward, "/steward/members")
    response = steward.post(
        "/steward/members/5/suspend",
        data={"reason": " ", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422 and response.json["field"] == "reason"
