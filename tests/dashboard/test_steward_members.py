"""The steward's member pages: add, edit, roles, cards, trainings, PIN reset, search.

Each action is the hub's audited service; these check what each page changes, the audit entry
it leaves, and that a refused form comes back as typed with the refusal beside its field.
"""

from __future__ import annotations

import json
import re

import pytest

from hub.bookings.pins import set_pin
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.members.roster import card_by_uid, get_member, member_by_number
from hub.queries.members import trainings_of
from tests.dashboard.conftest import csrf_token

PLAIN = 10  # demo member 1010: a member only
FELLOW = 2  # demo member 1002: a steward, like 1001 who is signed in


@pytest.fixture
def post(steward):
    """Return a function that posts a form as steward 1001, CSRF token included."""
    token = csrf_token(steward, "/steward/members")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def latest_audit(engine) -> audit.AuditEntry:
    with reading(engine) as session:
        return audit.recent(session, limit=1)[0]


def audit_count(engine) -> int:
    with reading(engine) as session:
        return len(audit.recent(session, limit=1000))


def invalid_field(page: str) -> list[str]:
    """Return the names of the inputs the page marks as wrong."""
    return re.findall(r'name="(\w+)"[^>]*aria-invalid="true"', page)


# --- adding -------------------------------------------------------------------------------


def test_add_a_member_opens_their_page_and_is_audited(post, steward, engine):
    form = steward.get("/steward/members/new").get_data(as_text=True)
    number = re.search(r'name="number" type="text" value="(\d+)"', form).group(1)
    answer = post(
        "/steward/members", name="Nia Okafor", number=number, email="nia@example.org",
        role_volunteer="on",
    )  # fmt: skip
    assert answer.status_code == 302
    with reading(engine) as session:
        nia = member_by_number(session, number)
    assert answer.location == f"/steward/members/{nia.id}"
    assert (nia.name, nia.email, nia.roles) == ("Nia Okafor", "nia@example.org", "member volunteer")
    with reading(engine) as session:
        added, granted = audit.recent(session, limit=2)[::-1]
    assert (added.action, added.actor_member_id) == ("member.add", 1)
    assert granted.action == "member.roles"
    again = post("/steward/members", name="Nia Okafor", number=number)  # a double submit
    assert again.location == f"/steward/members/{nia.id}" and audit_count(engine) == 2


def test_a_refused_new_member_comes_back_as_typed_naming_the_field(post, engine):
    before = audit_count(engine)
    answer = post("/steward/members", name="  ", number="9001", email="kept@example.org")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and invalid_field(page) == ["name"]
    assert 'value="kept@example.org"' in page and 'value="9001"' in page
    assert "<code>name</code>" in page
    taken = post("/steward/members", name="Someone", number="1002")
    assert taken.status_code == 409 and invalid_field(taken.get_data(as_text=True)) == ["number"]
    assert audit_count(engine) == before


def test_a_steward_may_not_grant_admin(post, engine):
    answer = post("/steward/members", name="Would-be Boss", role_admin="on")
    assert answer.status_code == 403 and "admin" in answer.get_data(as_text=True)
    with reading(engine) as session:
        assert audit.recent(session) == []


# --- editing ------------------------------------------------------------------------------


def test_edit_details(post, engine):
    answer = post(f"/steward/members/{PLAIN}/edit", name="Jo Bloggs", email="", phone="0700 900")
    assert answer.status_code == 302
    with reading(engine) as session:
        jo = get_member(session, PLAIN)
    assert (jo.name, jo.email, jo.phone) == ("Jo Bloggs", None, "0700 900")
    entry = latest_audit(engine)
    assert entry.action == "member.edit" and entry.target == f"member:{jo.number}"
    assert json.loads(entry.after) == {"name": "Jo Bloggs", "email": None, "phone": "0700 900"}


def test_a_refused_edit_keeps_what_was_typed(post, engine):
    answer = post(f"/steward/members/{PLAIN}/edit", name="", email="typed@example.org", phone="1")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and invalid_field(page) == ["name"]
    assert 'value="typed@example.org"' in page
    with reading(engine) as session:
        assert get_member(session, PLAIN).email != "typed@example.org"
        assert audit.recent(session) == []


def test_editing_a_fellow_steward_is_refused(post):
    answer = post(f"/steward/members/{FELLOW}/edit", name="Renamed", email="", phone="")
    assert answer.status_code == 403 and "ranked above" in answer.get_data(as_text=True)


def test_roles_within_the_rules(post, engine):
    assert post(f"/steward/members/{PLAIN}/roles", role_volunteer="on").status_code == 302
    assert latest_audit(engine).action == "member.roles"
    assert post(f"/steward/members/{PLAIN}/roles", role_admin="on").status_code == 403


# --- cards --------------------------------------------------------------------------------


def test_cards_assign_revoke_and_lost(post, steward, engine):
    assert (
        post(f"/steward/members/{PLAIN}/cards", uid="de:ad:be:ef", label="fob").status_code == 302
    )
    assert latest_audit(engine).action == "card.assign"
    post(f"/steward/members/{PLAIN}/cards", uid="CAFEBABE")
    page = steward.get(f"/steward/members/{PLAIN}").get_data(as_text=True)
    assert 'data-confirm="Revoke card DEADBEEF of ' in page
    assert post(f"/steward/members/{PLAIN}/cards/lost", uid="DEADBEEF").status_code == 302
    lost = latest_audit(engine)
    assert lost.action == "card.revoke" and json.loads(lost.after)["reason"] == "lost"
    assert post(f"/steward/members/{PLAIN}/cards/revoke", uid="CAFEBABE").status_code == 302
    with reading(engine) as session:
        assert card_by_uid(session, "CAFEBABE").revoked_at is not None
        assert card_by_uid(session, "C0DE0009").revoked_at is None  # 1010's demo card stays


def test_a_card_another_member_holds_is_refused_naming_uid_and_kept(post, engine):
    before = audit_count(engine)
    answer = post(f"/steward/members/{PLAIN}/cards", uid="C0DE0001", label="typed label")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409 and invalid_field(page) == ["uid"]
    assert 'value="C0DE0001"' in page and 'value="typed label"' in page
    assert "another member (1002)" in page and audit_count(engine) == before


# --- trainings and PIN --------------------------------------------------------------------


def test_grant_with_expiry_then_revoke(post, steward, engine):
    answer = post(f"/steward/members/{PLAIN}/trainings", training="laser", expires_on="2030-06-30")
    assert answer.status_code == 302
    with reading(engine) as session:
        held = {t.code: t for t in trainings_of(session, PLAIN)}
    assert f"{held['laser'].expires_at:%Y-%m-%d}" == "2030-06-30"
    assert latest_audit(engine).action == "training.grant"
    page = steward.get(f"/steward/members/{PLAIN}").get_data(as_text=True)
    assert 'data-confirm="Take the laser training away from member 1010?"' in page
    assert post(f"/steward/members/{PLAIN}/trainings/revoke", training="laser").status_code == 302
    assert latest_audit(engine).action == "training.revoke"
    with reading(engine) as session:
        assert "laser" not in {t.code for t in trainings_of(session, PLAIN)}


@pytest.mark.parametrize("expires_on", ["2001-01-01", "31/12/2030"])
def test_a_bad_expiry_is_refused_by_expires_on(post, expires_on):
    answer = post(f"/steward/members/{PLAIN}/trainings", training="laser", expires_on=expires_on)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and invalid_field(page) == ["expires_on"]
    assert f'value="{expires_on}"' in page


def test_pin_reset_is_audited_and_asks_first(post, steward, engine):
    page = steward.get(f"/steward/members/{PLAIN}").get_data(as_text=True)
    assert 'data-confirm="Reset the tablet PIN of member 1010?"' in page
    assert post(f"/steward/members/{PLAIN}/pin/reset").status_code == 302
    entry = latest_audit(engine)
    assert entry.action == "pin.reset" and entry.target == "member:1010"


def test_unknown_member_is_404(post, steward):
    assert steward.get("/steward/members/99999").status_code == 404
    assert post("/steward/members/99999/edit", name="x").status_code == 404


# --- search -------------------------------------------------------------------------------


def test_header_search_finds_members_by_card_and_tools_by_code(steward):
    front = steward.get("/steward/").get_data(as_text=True)
    assert 'action="/steward/search"' in front and 'role="search"' in front
    page = steward.get("/steward/search?q=c0de0009").get_data(as_text=True)
    assert "/steward/members/10" in page
    tools = steward.get("/steward/search?q=drill").get_data(as_text=True)
    assert "DRILL-1" in tools and "DRILL-2" in tools
    listing = steward.get("/steward/members?q=C0:DE:00:09").get_data(as_text=True)
    assert "/steward/members/10" in listing


def test_the_member_page_says_whether_a_pin_is_set(steward, post, engine):
    with transaction(engine) as session:
        set_pin(session, PLAIN, "4826")
    page = steward.get(f"/steward/members/{PLAIN}").get_data(as_text=True)
    assert '<p id="pin-state">A PIN is set.</p>' in page and "Reset PIN</button>" in page
    assert post(f"/steward/members/{PLAIN}/pin/reset").status_code == 302
    page = steward.get(f"/steward/members/{PLAIN}").get_data(as_text=True)
    assert '<p id="pin-state">No PIN set:' in page and "Reset PIN</button>" not in page
