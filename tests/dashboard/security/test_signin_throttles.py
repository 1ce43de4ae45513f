"""Lock-out as a weapon: wrong passwords slow the attacker, never lock the steward out.

Each test goes through the real sign-in form of the real app; addresses are the WSGI
REMOTE_ADDR a server would set, or X-Forwarded-For behind a trusted proxy.
"""

from __future__ import annotations

import json
import logging

import pytest

from dashboard import create_app, database
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from tests.dashboard.conftest import csrf_token

ATTACKER, STEWARD = "198.51.100.66", "203.0.113.10"
# The policy of hub.members.throttling, spelt out so that this module runs (and fails) on a
# version without it; tests/hub/members/test_throttling.py checks they agree.
PAIR_FREE, ADDRESS_FREE, ACCOUNT_FREE = 5, 20, 10


def sign_in_from(client, address: str, number: str = "1001", password: str = "wrong", **headers):
    """Post the sign-in form as a browser at ``address`` would."""
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client)
    return client.post(
        "/signin",
        data={"number": number, "password": password, "csrf_token": token},
        environ_base=environ,
        headers=headers,
    )


def test_wrong_passwords_from_one_address_do_not_lock_the_steward_out(app):
    attacker, steward = app.test_client(), app.test_client()
    for _ in range(12):
        sign_in_from(attacker, ATTACKER)
    assert sign_in_from(steward, STEWARD, password=DEMO_STEWARD_PASSWORD).status_code == 302
    assert "What needs me" in steward.get("/steward/").get_data(as_text=True)


def test_the_attacker_is_slowed_even_with_the_right_password(app):
    attacker = app.test_client()
    answers = [sign_in_from(attacker, ATTACKER).status_code for _ in range(PAIR_FREE)]
    assert answers == [401] * PAIR_FREE
    refused = sign_in_from(attacker, ATTACKER, password=DEMO_STEWARD_PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "try again in" in refused.get_data(as_text=True)


def test_an_address_spraying_many_accounts_is_slowed(app):
    attacker = app.test_client()
    for number in range(2000, 2000 + ADDRESS_FREE):
        assert sign_in_from(attacker, ATTACKER, number=str(number)).status_code == 401
    assert sign_in_from(attacker, ATTACKER, number="1002").status_code == 429


def test_a_distributed_attack_slows_fresh_addresses_but_not_the_stewards_own(app):
    steward = app.test_client()
    assert sign_in_from(steward, STEWARD, password=DEMO_STEWARD_PASSWORD).status_code == 302
    for bot in range(ACCOUNT_FREE + 2):  # one try from each of many addresses
        sign_in_from(app.test_client(), f"192.0.2.{bot + 1}")
    fresh = sign_in_from(app.test_client(), "192.0.2.200", password=DEMO_STEWARD_PASSWORD)
    assert fresh.status_code == 429 and "Retry-After" in fresh.headers
    known = sign_in_from(app.test_client(), STEWARD, password=DEMO_STEWARD_PASSWORD)
    assert known.status_code == 302


@pytest.fixture
def proxied_app(database_url, tmp_path):
    """The app behind one trusted reverse proxy (all requests arrive from the proxy's address)."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path),
            "TESTING": True,
            "TRUSTED_PROXIES": 1,
        }
    )
    yield app
    database.dispose(app)


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied_app):
    proxy = "10.0.0.2"
    attacker = proxied_app.test_client()
    for _ in range(25):
        sign_in_from(attacker, proxy, **{"X-Forwarded-For": ATTACKER})
    steward = proxied_app.test_client()
    answer = sign_in_from(
        steward, proxy, password=DEMO_STEWARD_PASSWORD, **{"X-Forwarded-For": STEWARD}
    )
    assert answer.status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_not_believed(app):
    attacker = app.test_client()
    answers = [
        sign_in_from(attacker, ATTACKER, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code
        for n in range(PAIR_FREE + 1)
    ]
    assert answers[-1] == 429  # one address, however many it claims to be


def test_refusals_locks_and_sign_ins_are_logged_and_shown_to_admins(app, caplog):
    caplog.set_level(logging.INFO, logger="commonshed.security")
    attacker = app.test_client()
    for _ in range(PAIR_FREE + 1):
        sign_in_from(attacker, ATTACKER)
    admin = app.test_client()
    assert (
        sign_in_from(admin, STEWARD, number="1003", password=DEMO_STEWARD_PASSWORD).status_code
        == 302
    )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "commonshed.security"]
    events = {(line["event"], line["address"]) for line in lines}
    assert {
        ("signin.failed", ATTACKER),
        ("signin.locked", ATTACKER),
        ("signin.throttled", ATTACKER),
        ("signin.ok", STEWARD),
    } <= events
    page = admin.get("/steward/audit").get_data(as_text=True)
    assert "Sign-ins and refusals" in page
    assert "signin.throttled" in page and ATTACKER in page and "signin.ok" in page


def test_a_plain_steward_does_not_see_the_security_log(app):
    steward = app.test_client()
    assert sign_in_from(steward, STEWARD, password=DEMO_STEWARD_PASSWORD).status_code == 302
    assert steward.get("/steward/audit").status_code == 403
