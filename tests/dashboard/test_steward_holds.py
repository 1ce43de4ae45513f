"""The steward's Holds page (dashboard/steward/holds.py) on the demo library, both databases:
every queue shown, a hold moved (audited) or cancelled, the policy set, a bad value refused
next to its field with what was typed kept; and a look at the page in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from dashboard import create_app, database
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.loans import holds, policy
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from tests.dashboard.conftest import csrf_token
from tests.dashboard.test_dashboard_browser import LAPTOP, PHONE, shoot, signed_in
from tests.fixtures.web import serve_app


def queue_for_drill(engine) -> list[int]:
    """Members 1005, 1006, 1007 queue for DRILL-2 (out with 1004); return their hold ids."""
    ids = []
    with transaction(engine) as session:
        for number in ("1005", "1006", "1007"):
            member = member_by_number(session, number)
            ids.append(
                holds.place_hold(session, OPERATOR, member_id=member.id, tool_code="DRILL-2").id
            )
    return ids


@pytest.fixture
def post(steward):
    token = csrf_token(steward, "/steward/holds")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def test_the_page_shows_queues_and_a_steward_moves_a_hold_audited(steward, post, engine):
    ids = queue_for_drill(engine)
    page = steward.get("/steward/holds").get_data(as_text=True)
    assert page.count('data-hold="') == 3 and "DRILL-2" in page
    assert f'data-confirm="Cancel hold {ids[0]} (1005 on DRILL-2)?"' in page
    moved = post(f"/steward/holds/{ids[2]}/move", position="1")
    assert moved.status_code == 302
    with reading(engine) as session:
        queue = holds.queue_of(session, holds.get_hold(session, ids[0]).tool_id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "hold.move")).one()
        steward_id = member_by_number(session, "1001").id
    assert [hold.id for hold in queue] == [ids[2], ids[0], ids[1]]
    assert entry.actor_member_id == steward_id
    assert post(f"/steward/holds/{ids[0]}/cancel").status_code == 302
    assert (
        "1005"
        not in steward.get("/steward/holds")
        .get_data(as_text=True)
        .split("queues")[1]
        .split("</table>")[0]
    )


def test_the_policy_is_set_and_a_bad_value_is_refused_with_what_was_typed(steward, post, engine):
    saved = post(
        "/steward/policy", max_loans="3", overdue_grace_days="", max_holds="2", hold_hours="12"
    )
    assert saved.status_code == 302
    refused = post(
        "/steward/policy", max_loans="3", overdue_grace_days="", max_holds="0", hold_hours="48"
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "max_holds: &#39;0&#39; must be a whole number from 1 to 50." in page
    assert 'name="hold_hours" value="48"' in page  # what was typed, kept
    with reading(engine) as session:
        held = policy.current_policy(session)
    assert (held.max_loans, held.max_holds, held.hold_hours) == (3, 2, 12)  # nothing written
    length = post("/steward/policy/loan-length", which="category", name="power tools", days="3")
    assert length.status_code == 302
    assert "Category <strong>power tools</strong>: 3 days" in steward.get(
        "/steward/holds"
    ).get_data(True)


@pytest.mark.browser
def test_the_holds_page_in_chromium(sqlite_engine, tmp_path, browser):
    queue_for_drill(sqlite_engine)
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "b"}
    )
    try:
        with serve_app(app) as url:
            for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
                with signed_in(browser, url, viewport) as page:
                    menu = page.locator("[data-menu-toggle]")
                    if menu.is_visible():  # on a phone the links fold behind Menu
                        menu.click()
                    page.click("header nav >> text=Holds")
                    expect(page.locator("h1")).to_contain_text("Holds")
                    expect(page.locator("#queues tbody tr")).to_have_count(3)
                    shoot(page, f"steward-holds-{name}.png")
    finally:
        database.dispose(app)
