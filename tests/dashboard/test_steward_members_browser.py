"""The member page on a phone, in real headless Chromium: nothing overflows at 360 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard import create_app, database
from hub.infra.db import transaction
from hub.members import cards
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from tests.dashboard.test_dashboard_browser import signed_in
from tests.fixtures.browser import screenshot
from tests.fixtures.web import serve_app

PHONE_360 = {"width": 360, "height": 780}

pytestmark = pytest.mark.browser


@pytest.fixture
def shed(sqlite_engine, tmp_path):
    """Serve the demo library, member 1004 holding two cards (one revoked); yield (url, id)."""
    with transaction(sqlite_engine) as session:
        member = member_by_number(session, "1004")
        cards.assign_card(session, OPERATOR, member.id, "04:A2:2B:1A:3C:5D:80", label="key fob")
        cards.report_lost(session, OPERATOR, member.id, "04A22B1A3C5D80")
        cards.assign_card(session, OPERATOR, member.id, "CAFE0042", label="spare card")
        member_id = member.id
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "b"}
    )
    try:
        with serve_app(app) as url:
            yield url, member_id
    finally:
        database.dispose(app)


@pytest.fixture
def database_content() -> str:
    return "demo"


def test_member_page_fits_a_360px_phone(browser, shed):
    url, member_id = shed
    with signed_in(browser, url, PHONE_360) as page:
        page.goto(f"{url}/steward/members/{member_id}")
        expect(page.locator("h1")).to_contain_text("1004")
        screenshot(page, "steward-member-360.png", full_page=True)
        widest = page.evaluate("document.documentElement.scrollWidth")
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main button')]
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth)
                 .map(e => e.name || e.textContent.trim())"""
        )
    assert widest <= PHONE_360["width"]
    assert overflowing == []


def test_header_search_and_a_refused_new_member_on_a_phone(browser, shed):
    url, _ = shed
    with signed_in(browser, url, PHONE_360) as page:
        page.fill("header form.find input", "c0de0003")
        page.press("header form.find input", "Enter")
        expect(page.locator("main")).to_contain_text("1004 Mary Moreau")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_360["width"]
        page.goto(f"{url}/steward/members/new")
        page.fill("#new-name", "   ")
        page.fill("#new-email", "kept@example.org")
        page.evaluate("document.querySelector('#new-name').removeAttribute('required')")
        page.click("button:text('Add member')")
        expect(page.locator("#new-name")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#new-email")).to_have_value("kept@example.org")
        screenshot(page, "steward-member-new-refused-360.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_360["width"]
