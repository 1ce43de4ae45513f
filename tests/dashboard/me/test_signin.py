"""Signing in to /me with number and PIN: the tablet's throttles, a hub-kept session, CSRF."""

from __future__ import annotations

import re

from sqlmodel import select

from hub.bookings.models import MemberPin
from hub.bulk.demo import DEMO_PIN
from hub.infra.security_log import SecurityEvent
from hub.members.roster import member_by_number
from hub.members.sessions import SignInSession
from tests.dashboard.conftest import csrf_token
from tests.dashboard.me.conftest import BORROWER, alert, hub_session, me_sign_in


def sessions_started(app) -> int:
    with hub_session(app) as db:
        return len(db.exec(select(SignInSession)).all())


def test_a_member_signs_in_with_number_and_pin_and_sees_their_loans(client):
    response = me_sign_in(client)
    assert response.status_code == 302 and response.location.endswith("/me/")
    page = client.get("/me/").get_data(as_text=True)
    assert "Hammer drill" in page and "Due back" in page and "Renew" in page


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/me/hours")
    assert response.status_code == 302 and "/me/signin?next=/me/hours" in response.location


def test_a_wrong_pin_is_refused_logged_and_starts_nothing(client, app):
    before = sessions_started(app)
    response = me_sign_in(client, pin="0000")
    assert response.status_code == 401
    assert alert(response) == "Member number or PIN not recognised."
    assert 'id="pin" name="pin"' in response.get_data(as_text=True)
    assert f'value="{BORROWER}"' in response.get_data(as_text=True)  # the number is kept
    assert sessions_started(app) == before
    assert client.get("/me/").status_code == 302
    with hub_session(app) as db:
        events = db.exec(select(SecurityEvent.event)).all()
    assert "tablet.pin.failed" in events


def test_a_missing_number_or_pin_is_refused_naming_the_field(client, app):
    no_pin = me_sign_in(client, pin="")
    assert no_pin.status_code == 422 and "Type your PIN" in alert(no_pin)
    assert re.search(r'id="pin"[^>]*aria-invalid="true"', no_pin.get_data(as_text=True))
    no_number = me_sign_in(client, number="")
    assert no_number.status_code == 422 and "member number" in alert(no_number)
    with hub_session(app) as db:
        record = db.get(MemberPin, member_by_number(db, BORROWER).id)
    assert record.failed_tries == 0  # nothing was tried, so nothing was counted


def test_wrong_pins_here_and_at_the_tablet_share_one_lockout(client, app):
    for _ in range(4):
        assert me_sign_in(client, pin="0000").status_code == 401
    tablet_token = csrf_token(client, "/tablet/")
    client.post(
        "/tablet/identify/pin", data={"number": BORROWER, "pin": "0000", "csrf_token": tablet_token}
    )
    locked = me_sign_in(client, pin=DEMO_PIN)  # the right PIN, but locked for a while
    assert locked.status_code == 403 and "Too many wrong PINs" in alert(locked)
    assert client.get("/me/").status_code == 302


def test_a_sign_in_without_its_csrf_token_is_refused(client, app):
    before = sessions_started(app)
    response = client.post("/me/signin", data={"number": BORROWER, "pin": DEMO_PIN})
    assert response.status_code == 400
    assert sessions_started(app) == before


def test_signing_out_ends_the_session_on_the_hub(client, app):
    me_sign_in(client)
    with client.session_transaction() as cookie:
        copied = dict(cookie)
    client.post("/me/signout", data={"csrf_token": csrf_token(client, "/me/")})
    with client.session_transaction() as cookie:
        cookie.update(copied)  # a copy of the old cookie
    assert client.get("/me/").status_code == 302


def test_a_member_signed_in_here_reaches_no_steward_page(client):
    me_sign_in(client)
    assert client.get("/steward/").status_code == 403
