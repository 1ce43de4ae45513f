"""The reports page in real Chromium at 1280 and 360 px, for the network and for one site:
the site choice in sight and marked, the sites side by side, nothing scrolling sideways.

Screenshots go to test-artifacts/reports-*.png, to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard import create_app, database
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.loans.lending import lend_tool
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.web import serve_app
from tests.hub.builders import a_kiosk, a_member, a_tool

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.browser


@pytest.fixture
def two_sites(sqlite_engine, tmp_path) -> Iterator[str]:
    """Serve the demo library (site north) plus site south, with a loan there; yield the URL."""
    with transaction(sqlite_engine) as session:
        a_kiosk(session, "s-1", site="south", slots=2)
        tool = a_tool(session, "SOUTH-1", kiosk_id="s-1", slot=1)
        member = a_member(session, "Sol South")
        lend_tool(session, tool_id=tool.id, member_id=member.id, kiosk_id="s-1", now=utcnow())
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "r"}
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/steward/")
    page.fill("#number", "1001")
    page.fill("#password", DEMO_STEWARD_PASSWORD)
    page.click("button:text('Sign in')")
    expect(page.locator("h1")).to_have_text("What needs me")


def sideways(page: Page, width: int) -> int:
    wide: int = page.evaluate("document.documentElement.scrollWidth")
    return wide - width


@pytest.mark.parametrize(("viewport", "size"), [(LAPTOP, "1280"), (PHONE, "360")])
def test_the_network_and_one_site_in_chromium(browser: Browser, two_sites, viewport, size):
    with new_page(browser, viewport=viewport) as page:
        sign_in(page, two_sites)
        page.goto(f"{two_sites}/steward/reports")
        choice = page.locator("nav.sites")
        expect(choice.locator("[aria-current=page]")).to_have_text("Whole network")
        expect(page.locator("tr[data-site]")).to_have_count(2)
        assert sideways(page, viewport["width"]) <= 0
        screenshot(page, f"reports-network-{size}.png", full_page=True)
        choice.get_by_role("link", name="south", exact=True).click()
        expect(page.locator("h1")).to_have_text("Reports: south")
        expect(choice.locator("[aria-current=page]")).to_have_text("south")
        expect(page.locator("section[data-site=south] dd")).to_have_count(7)
        bars = page.locator("svg[aria-label='Most borrowed tools'] rect.bar")
        expect(bars).to_have_count(1)
        assert bars.get_attribute("data-label") == "SOUTH-1"
        assert sideways(page, viewport["width"]) <= 0
        screenshot(page, f"reports-south-{size}.png", full_page=True)
