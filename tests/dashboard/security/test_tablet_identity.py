"""Identity without a secret on the tablet: cards only from enrolled tablets, PIN sprays stopped.

Every attack goes through the real tablet pages with the real form and CSRF token.
"""

from __future__ import annotations

from sqlmodel import select

from hub.bookings import set_pin
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.roster import member_by_number
from tests.dashboard import tablet_fixtures as fixtures
from tests.dashboard.conftest import sign_in_by_session
from tests.dashboard.tablet_fixtures import csrf_token, identify_by_pin, post
from tests.hub.builders import a_member

database_content, tablet_world, tablet_clock, tablet_app = (
    fixtures.database_content,
    fixtures.tablet_world,
    fixtures.tablet_clock,
    fixtures.tablet_app,
)
tablet = fixtures.tablet
ATTACKER = "198.51.100.66"
DEVICE_COOKIE = "commonshed_tablet"  # dashboard.tablet.DEVICE_COOKIE; spelt out to run on main
# The policy of hub.bookings.tablets, spelt out so this module runs (and fails) without it.
CARD_FREE, PIN_FREE = 10, 10


def identify_card(client, uid: str, address: str = "127.0.0.1", **options):
    return post(
        client,
        "/tablet/identify/card",
        {"uid": uid},
        environ_base={"REMOTE_ADDR": address},
        **options,
    )


def pin_from(client, number: str, pin: str, address: str = ATTACKER):
    return post(
        client,
        "/tablet/identify/pin",
        {"number": number, "pin": pin},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_card_uid_from_any_browser_identifies_nobody(tablet_app):
    browser = tablet_app.test_client()  # not an enrolled tablet
    answer = identify_card(browser, "DEADBEEF")
    assert answer.status_code == 403
    assert "enrolled" in answer.get_data(as_text=True)
    assert browser.get("/tablet/mine").status_code == 302  # still nobody identified


def test_a_made_up_device_cookie_is_no_tablet(tablet_app):
    browser = tablet_app.test_client()
    browser.set_cookie(DEVICE_COOKIE, "tab_forged-token", path="/tablet")
    assert identify_card(browser, "DEADBEEF").status_code == 403


def test_a_steward_enrols_a_tablet_its_cookie_reads_cards_until_revoked(tablet_app, engine):
    with transaction(engine) as session:
        a_member(session, "Sam Steward", roles="member steward")
    browser = tablet_app.test_client()
    sign_in_by_session(browser, number=_number_of(engine, "Sam Steward"))
    token = csrf_token(browser)
    enrolled_answer = browser.post("/tablet/enrol", data={"name": "Door", "csrf_token": token})
    assert enrolled_answer.status_code == 302
    cookie = browser.get_cookie(DEVICE_COOKIE, path="/tablet")
    assert cookie is not None and cookie.http_only and cookie.expires is not None
    with reading(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "tablet.enrol")).one()
        assert cookie.value not in (entry.after or "")  # only its hash is kept
    assert identify_card(browser, "DEADBEEF").status_code == 302
    post(browser, "/tablet/leave")
    page = browser.get("/tablet/enrol").get_data(as_text=True)
    assert "Door" in page
    post(browser, "/tablet/devices/1/revoke")
    assert identify_card(browser, "DEADBEEF").status_code == 403


def test_only_a_steward_may_enrol_a_tablet(tablet_app):
    browser = tablet_app.test_client()
    answer = browser.post("/tablet/enrol", data={"name": "Mine", "csrf_token": csrf_token(browser)})
    assert answer.status_code == 302 and "/signin" in answer.location
    assert browser.get_cookie(DEVICE_COOKIE, path="/tablet") is None


def test_guessing_card_uids_on_a_tablet_is_slowed(tablet):
    for guess in range(CARD_FREE):
        assert identify_card(tablet, f"0102{guess:04X}").status_code == 404
    slowed = identify_card(tablet, "DEADBEEF")  # even a real card waits now
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers


def test_one_wrong_pin_against_thirty_members_is_stopped(tablet_app, engine):
    with transaction(engine) as session:
        numbers = []
        for n in range(30):
            member = a_member(session, f"Member {n}")
            set_pin(session, member.id, "4321")
            numbers.append(member.number)
    sprayer = tablet_app.test_client()
    answers = [pin_from(sprayer, number, "0000").status_code for number in numbers]
    assert answers[:PIN_FREE] == [401] * PIN_FREE
    assert set(answers[PIN_FREE:]) == {429}
    assert pin_from(sprayer, numbers[-1], "4321").status_code == 429  # the right PIN waits too
    assert pin_from(tablet_app.test_client(), numbers[-1], "4321", "203.0.113.7").status_code == 302


def test_wrong_pins_are_counted_per_tablet_across_addresses(tablet):
    for n in range(PIN_FREE):
        assert pin_from(tablet, "1001", "0000", f"192.0.2.{n + 1}").status_code in (401, 403)
    assert pin_from(tablet, "1002", "1357", "192.0.2.100").status_code == 429


def test_a_member_sets_a_pin_after_a_card_tap_and_changes_it_with_the_old_one(tablet, engine):
    assert identify_card(tablet, "DEADBEEF").status_code == 302
    page = tablet.get("/tablet/pin").get_data(as_text=True)
    assert "Set your PIN" in page and "old_pin" not in page
    saved = post(tablet, "/tablet/pin", {"new_pin": "8642", "new_pin_again": "8642"})
    assert saved.status_code == 302
    post(tablet, "/tablet/leave")
    assert identify_by_pin(tablet, "1001", "8642").status_code == 302
    page = tablet.get("/tablet/pin").get_data(as_text=True)
    assert "Change your PIN" in page and "old_pin" in page
    wrong = post(
        tablet, "/tablet/pin", {"old_pin": "1111", "new_pin": "9753", "new_pin_again": "9753"}
    )
    assert wrong.status_code == 422 and "old PIN" in wrong.get_data(as_text=True)
    changed = post(
        tablet, "/tablet/pin", {"old_pin": "8642", "new_pin": "9753", "new_pin_again": "9753"}
    )
    assert changed.status_code == 302
    post(tablet, "/tablet/leave")
    assert identify_by_pin(tablet, "1001", "9753").status_code == 302


def test_a_steward_resets_a_pin_and_the_reset_is_audited(tablet_app, engine, tablet):
    with transaction(engine) as session:
        steward = a_member(session, "Sam Steward", roles="member steward")
    browser = tablet_app.test_client()
    sign_in_by_session(browser, number=steward.number)
    token = csrf_token(browser)
    ada = _id_of(engine, "1001")
    answer = browser.post(f"/steward/members/{ada}/pin/reset", data={"csrf_token": token})
    assert answer.status_code == 302
    assert identify_by_pin(tablet, "1001", "2468").status_code == 401
    with reading(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "pin.reset")).one()
    assert (entry.target, entry.actor_member_id) == ("member:1001", steward.id)


def _number_of(engine, name: str) -> str:
    from hub.members.roster import Member

    with reading(engine) as session:
        return session.exec(select(Member).where(Member.name == name)).one().number


def _id_of(engine, number: str) -> int:
    with reading(engine) as session:
        return member_by_number(session, number).id


def test_the_identify_screen_says_when_this_browser_reads_no_cards(tablet_app, tablet):
    notice = "cards are read only on one a steward enrolled"
    assert notice in tablet_app.test_client().get("/tablet/").get_data(as_text=True)
    assert notice not in tablet.get("/tablet/").get_data(as_text=True)
