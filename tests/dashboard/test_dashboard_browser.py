"""The steward dashboard in real headless Chromium, served by a real WSGI server on temp SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from broker import messages as wire
from dashboard import create_app, database
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from hub.infra.db import reading, transaction
from hub.members.roster import get_member
from hub.timebank.claims import get_claim
from hub.worker.events import apply_event
from tests.dashboard.steward_fixtures import add_steward_work
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.web import serve_app

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TAP = 44  # px: the smallest comfortable touch target on a phone

pytestmark = pytest.mark.browser


@pytest.fixture
def shed(sqlite_engine, tmp_path):
    """Serve the demo library plus steward work from a migrated temp SQLite; yield (url, work)."""
    with transaction(sqlite_engine) as session:  # the demo library: see database_content
        work = add_steward_work(session)
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "b"}
    )
    try:
        with serve_app(app) as url:
            yield url, work
    finally:
        database.dispose(app)


@contextmanager
def signed_in(browser: Browser, url: str, viewport: dict) -> Iterator[Page]:
    """Open a fresh browser context and sign steward 1001 in through the form."""
    with new_page(browser, f"{url}/steward/", viewport=viewport) as page:
        page.fill("#number", "1001")
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        yield page


def shoot(page: Page, name: str) -> None:
    screenshot(page, name, full_page=True)


def door_forced(kiosk_id: str, slot: int) -> wire.DoorForcedEvent:
    return wire.DoorForcedEvent(
        event_id=str(uuid.uuid4()),
        kiosk_id=kiosk_id,
        seq=7,
        kiosk_time=datetime.now(UTC),
        body=wire.DoorChange(locker_slot=slot),
    )


def test_approve_suspend_and_see_a_kiosk_event_live(shed, browser, sqlite_engine):
    url, work = shed
    with signed_in(browser, url, LAPTOP) as page:
        shoot(page, "steward-front.png")
        claim = page.locator(f"[data-claim='{work.claim_id}']")
        page.once("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
        claim.get_by_role("button", name="Approve").click()
        expect(page.locator(".flash")).to_contain_text(f"Claim {work.claim_id} approved: 1.50 h")
        expect(page.locator(f"[data-claim='{work.claim_id}']")).to_have_count(0)

        page.click("header nav >> text=Members")
        page.fill("main input[name=q]", "1012")  # not the header's search box
        page.keyboard.press("Enter")
        page.get_by_label("Reason for suspending").fill("kept the tent all summer")
        page.get_by_role("button", name="Suspend").click()
        expect(page.locator(".flash")).to_contain_text("Member 1012")
        expect(page.locator("td .pill")).to_have_text("suspended")
        shoot(page, "steward-members.png")

        page.click("header nav >> text=Needs me")
        expect(page.locator("#live-state")).to_contain_text("Live")
        page.evaluate("window.notReloaded = true")
        with transaction(sqlite_engine) as session:
            apply_event(session, door_forced("shed-1", 7))
        forced = page.locator("#kiosks .alarm", has_text="locker 7")
        expect(forced).to_be_visible(timeout=8000)  # polled every 2 s; no reload
        assert page.evaluate("window.notReloaded") is True
        shoot(page, "steward-front-live.png")

    with reading(sqlite_engine) as session:
        assert get_claim(session, work.claim_id).status == "approved"
        assert get_member(session, 12).status == "suspended"


def test_working_pages_look_right_on_a_laptop(shed, browser):
    url, work = shed
    with signed_in(browser, url, LAPTOP) as page:
        for path, name in [
            ("/steward/maintenance", "steward-maintenance.png"),
            ("/steward/kiosks", "steward-kiosks.png"),
            (f"/steward/tools/{work.tool_id}", "steward-tool.png"),
            ("/steward/reports", "steward-reports.png"),
            ("/steward/bookings", "steward-bookings.png"),
        ]:
            page.goto(url + path)
            expect(page.locator("h1")).to_be_visible()
            shoot(page, name)
            if path.endswith("reports"):
                expect(page.locator("svg.chart")).to_have_count(6)


def test_front_page_on_a_phone_has_big_targets_and_no_sideways_scroll(shed, browser):
    url, _ = shed
    with signed_in(browser, url, PHONE) as page:
        shoot(page, "steward-front-phone.png")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], "the page scrolls sideways"
        heights = page.evaluate(
            "[...document.querySelectorAll('header nav a, main button, .tile')]"
            ".filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)"
        )
        assert heights and min(heights) >= TAP, heights
