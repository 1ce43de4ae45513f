"""My holds at /me/holds on both databases: place one (once, however often it is submitted),
see it waiting, see it kept for me when the tool comes back (the hub's return service drives
the queue), cancel it; every refusal named by field, with nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from dashboard.times import local
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.inventory.registry import tool_by_code
from hub.inventory.tools import retire_tool
from hub.loans import holds, policy
from hub.loans.holds import Hold, HoldStatus
from hub.maintenance.returns import return_with_condition
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.queries.tools import home_of
from tests.dashboard.conftest import csrf_token
from tests.dashboard.me.conftest import BORROWER, LATE, alert, hub_session, me_sign_in

TENT = "TENT-1"  # out with member 1005 (LATE), five days overdue


def hold_form(client) -> dict[str, str]:
    """Open /me/holds; return its place-a-hold form's hidden fields (CSRF token, one-time key)."""
    page = client.get("/me/holds").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf_token(client, "/me/holds"), "key": key}


def live_holds(app, number: str = BORROWER) -> list[Hold]:
    with hub_session(app) as db:
        return holds.holds_of_member(db, member_by_number(db, number).id)


def written(app) -> tuple[int, int]:
    """Return how many holds and audit entries the hub holds."""
    with hub_session(app) as db:
        count = db.exec(select(func.count()).select_from(Hold)).one()
        return count, db.exec(select(func.count()).select_from(AuditEntry)).one()


def hold_as(app, number: str, code: str) -> Hold:
    """Place a hold through the hub's service, as the member themselves."""
    with hub_session(app, write=True) as db:
        member = member_by_number(db, number)
        return holds.place_hold(db, member, member_id=member.id, tool_code=code)


def test_a_hold_is_placed_once_waits_is_kept_when_the_tool_returns_and_is_cancelled(borrower, app):
    form = {**hold_form(borrower), "tool": "  four-person TENT "}  # by name, any case
    first = borrower.post("/me/holds", data=form)
    again = borrower.post("/me/holds", data=form)  # a double tap
    assert first.status_code == again.status_code == 302
    [hold] = live_holds(app)
    assert hold.status == HoldStatus.WAITING

    page = borrower.get("/me/holds").get_data(as_text=True)
    assert "You are number 1 in line for the Four-person tent (TENT-1)." in page
    assert "Four-person tent" in page and "you are next in line" in page
    assert 'data-confirm="Cancel your hold on TENT-1?"' in page
    assert "1 hold: see where you are in line" in borrower.get("/me/").get_data(as_text=True)

    with hub_session(app, write=True) as db:
        return_with_condition(db, OPERATOR, tool_id=tool_by_code(db, TENT).id, condition="ok")
    [kept] = live_holds(app)
    assert kept.status == HoldStatus.READY
    with hub_session(app) as db:
        kiosk_id, slot = home_of(db, tool_by_code(db, TENT))
        until = local(kept.expires_at)
    page = borrower.get("/me/holds").get_data(as_text=True)
    assert f"kept for you until {until} at {kiosk_id} locker {slot}" in page

    token = {"csrf_token": csrf_token(borrower, "/me/holds")}
    cancelled = borrower.post(f"/me/holds/{hold.id}/cancel", data=token)
    again = borrower.post(f"/me/holds/{hold.id}/cancel", data=token)
    assert cancelled.status_code == again.status_code == 302
    assert live_holds(app) == []
    with hub_session(app) as db:
        assert db.get(Hold, hold.id).status == HoldStatus.CANCELLED
    page = borrower.get("/me/holds").get_data(as_text=True)
    assert "Cancelled" in page and "No holds right now." in page


def test_the_list_of_tools_out_offers_others_tools_and_holds_one_by_code(borrower, app):
    page = borrower.get("/me/holds").get_data(as_text=True)
    assert "Hold TENT-1" in page
    assert "Hold DRILL-2" not in page  # my own loan is not offered
    key = re.search(r'name="key" value="([^"]+-TENT-1)"', page).group(1)
    token = csrf_token(borrower, "/me/holds")
    response = borrower.post("/me/holds", data={"csrf_token": token, "key": key, "tool": TENT})
    assert response.status_code == 302
    assert [h.tool_id for h in live_holds(app)] == [_tool_id(app, TENT)]
    assert "Hold TENT-1" not in borrower.get("/me/holds").get_data(as_text=True)


def _tool_id(app, code: str) -> int:
    with hub_session(app) as db:
        return tool_by_code(db, code).id


def retired(app) -> str:
    with hub_session(app, write=True) as db:
        retire_tool(db, OPERATOR, tool_by_code(db, "SAW-2").id, "Blade guard cracked")
    return "SAW-2"


def already_held(app) -> str:
    hold_as(app, BORROWER, TENT)
    return TENT


def over_the_limit(app) -> str:
    with hub_session(app, write=True) as db:
        policy.set_policy(db, OPERATOR, max_holds=1)
    hold_as(app, BORROWER, "LEVEL-1")
    return TENT


@pytest.mark.parametrize(
    ("setup", "typed", "status", "said"),
    [
        (retired, None, 422, "SAW-2 is retired: it cannot be held."),
        (already_held, None, 409, "already holds a place in the queue for TENT-1"),
        (over_the_limit, None, 422, "has 1 holds; the limit is 1 at once."),
        (None, "DRILL-2", 409, "has DRILL-2 out already."),
        (None, "Chainsaw", 404, "No tool has the code or name “Chainsaw”."),
        (None, "   ", 422, "Type the code or name of a tool"),
    ],
    ids=["retired", "already-holding", "over-the-limit", "mine-out", "unknown", "blank"],
)
def test_a_refused_hold_names_the_field_and_rule_and_writes_nothing(
    borrower, app, setup, typed, status, said
):
    tool = setup(app) if setup else typed
    before = written(app)
    response = borrower.post("/me/holds", data={**hold_form(borrower), "tool": tool})
    assert response.status_code == status
    assert said in alert(response)
    page = response.get_data(as_text=True)
    assert re.search(r'id="tool"[^>]*value="[^"]*"[^>]*aria-invalid="true"', page, re.S)
    assert f'value="{tool}"' in page  # what was typed is kept
    assert written(app) == before


def test_a_suspended_member_is_refused_and_nothing_is_written(client, app):
    with hub_session(app, write=True) as db:
        suspend_member(db, OPERATOR, member_by_number(db, BORROWER).id, "Broke the rules")
    assert me_sign_in(client).status_code == 302
    assert "cannot place holds now" in client.get("/me/holds").get_data(as_text=True)
    before = written(app)
    form = {"csrf_token": csrf_token(client, "/me/holds"), "key": "k-1", "tool": TENT}
    response = client.post("/me/holds", data=form)
    assert response.status_code == 403
    assert "suspended and may not place holds" in alert(response)
    assert written(app) == before


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(borrower, app):
    before = written(app)
    response = borrower.post("/me/holds", data={"tool": TENT, "key": "no-token"})
    assert response.status_code == 400
    hold = hold_as(app, BORROWER, TENT)
    assert borrower.post(f"/me/holds/{hold.id}/cancel").status_code == 400
    assert written(app)[0] == before[0] + 1
    assert live_holds(app)[0].status == HoldStatus.WAITING


def test_another_members_hold_cannot_be_cancelled_from_my_page(borrower, app):
    theirs = hold_as(app, "1006", TENT)
    token = {"csrf_token": csrf_token(borrower, "/me/holds")}
    response = borrower.post(f"/me/holds/{theirs.id}/cancel", data=token)
    assert response.status_code == 404
    assert "is not one of yours" in alert(response)
    assert [h.id for h in live_holds(app, "1006")] == [theirs.id]


def test_my_holds_needs_a_signed_in_member(client):
    response = client.get("/me/holds")
    assert response.status_code == 302
    assert "/me/signin" in response.headers["Location"]


def test_a_lapsed_hold_shows_as_ended_with_its_words(borrower, app):
    hold_as(app, BORROWER, TENT)
    with hub_session(app, write=True) as db:
        return_with_condition(db, OPERATOR, tool_id=tool_by_code(db, TENT).id, condition="ok")
        holds.advance_holds(db, utcnow() + timedelta(days=30))
    page = borrower.get("/me/holds").get_data(as_text=True)
    assert "Not collected in time" in page
    assert live_holds(app) == []
    assert LATE  # the tent's borrower, whose return let the queue move
