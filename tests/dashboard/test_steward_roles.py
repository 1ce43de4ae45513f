"""Every steward route refuses the anonymous and plain members, and serves stewards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import url_for

from hub.infra.db import transaction
from hub.members.sessions import start_session
from tests.dashboard.conftest import csrf_token, sign_in
from tests.dashboard.steward_fixtures import add_steward_work

PLAIN_MEMBER_ID = 10  # demo member 1010: role "member" only
ADMIN_NUMBER = "1003"


@pytest.fixture
def work(app, engine):
    with transaction(engine) as session:
        return add_steward_work(session)


def steward_routes(app) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, url) of every route in the steward blueprints, ids filled in."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] not in STEWARD_BLUEPRINTS:
                continue
            method = "POST" if "POST" in rule.methods else "GET"
            # A member ranked below every steward: acting on oneself or a peer is the hub's
            # refusal (tests/dashboard/security/test_outranking.py), not this module's.
            ids = {arg: PLAIN_MEMBER_ID if arg == "member_id" else 1 for arg in rule.arguments}
            url = url_for(rule.endpoint, **ids)
            routes.append((rule.endpoint, method, url))
    return routes


STEWARD_BLUEPRINTS = {
    "steward_front",
    "steward_members",
    "steward_tools",
    "steward_maintenance",
    "steward_kiosks",
    "steward_ledger",
    "steward_bookings",
    "steward_reports",
    "steward_audit",
    "steward_account",
}


def test_every_steward_blueprint_has_routes(app):
    blueprints = {endpoint.split(".")[0] for endpoint, _, _ in steward_routes(app)}
    assert blueprints == STEWARD_BLUEPRINTS
    assert len(steward_routes(app)) >= 25


def test_anonymous_is_sent_to_sign_in_everywhere(client, app):
    token = csrf_token(client)
    for endpoint, method, url in steward_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, endpoint
        assert response.location.startswith("/signin?next="), endpoint


def test_a_plain_members_session_is_refused_everywhere(client, app, engine):
    token = csrf_token(client)
    with transaction(engine) as db:
        key = start_session(db, PLAIN_MEMBER_ID)  # as if a member had a session somehow
    with client.session_transaction() as session:
        session.update(key=key, seen_at=datetime.now(UTC).timestamp())
    for endpoint, method, url in steward_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 403, endpoint
        assert "not a steward" in response.get_data(as_text=True), endpoint


def test_a_suspended_steward_is_signed_out(client, app, engine):
    assert sign_in(client).status_code == 302
    with transaction(engine) as session:
        from hub.members.ranks import OPERATOR
        from hub.members.standing import suspend_member

        suspend_member(session, OPERATOR, 1, "stepped down")
    response = client.get("/steward/")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_a_steward_is_served_every_page(steward, app, work):
    pages = {
        "steward_members.member": f"/steward/members/{work.fixer_id}",
        "steward_tools.tool": f"/steward/tools/{work.tool_id}",
        "steward_kiosks.kiosk_page": "/steward/kiosks/shed-1",
        "steward_ledger.statement": f"/steward/ledger/members/{work.fixer_id}/statement.csv",
    }
    for endpoint, method, url in steward_routes(app):
        if method != "GET" or endpoint == "steward_audit.log":
            continue
        response = steward.get(pages.get(endpoint, url))
        assert response.status_code == 200, endpoint


def test_a_stewards_actions_are_answered_not_refused(steward, app, work):
    token = csrf_token(steward, "/steward/")
    for endpoint, method, url in steward_routes(app):
        if method != "POST" or endpoint == "steward_account.sign_out_everywhere":
            continue  # signing out everywhere would end the session this loop runs in
        response = steward.post(url, data={"csrf_token": token})
        # Empty forms and id 1 may be refused as bad input, but never for the role, never a 500;
        # a POST that shows what it made once (a calendar link) answers 200.
        assert response.status_code in (200, 302, 404, 409, 422), (endpoint, response.status_code)


def test_only_admins_see_the_audit_log(client, app):
    assert sign_in(client).status_code == 302  # 1001: a steward, not an admin
    refused = client.get("/steward/audit")
    assert refused.status_code == 403 and "Only an admin" in refused.get_data(as_text=True)
    assert "Audit</a>" not in client.get("/steward/").get_data(as_text=True)
    client.post("/signout", data={"csrf_token": csrf_token(client, "/steward/")})
    assert sign_in(client, ADMIN_NUMBER).status_code == 302
    assert client.get("/steward/audit").status_code == 200
    assert "Audit</a>" in client.get("/steward/").get_data(as_text=True)
