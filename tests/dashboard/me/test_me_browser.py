"""The member's pages in real headless Chromium on a 360 px phone: sign in, loans, give hours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from dashboard import create_app, database
from hub.bulk.demo import DEMO_PIN
from tests.dashboard.me.conftest import BORROWER, LATE
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.web import serve_app

PHONE = {"width": 360, "height": 740}
SMALLEST_TAP = 44  # px: the least a finger can hit reliably

pytestmark = pytest.mark.browser


@pytest.fixture
def database_content() -> str:
    return "demo"


@contextmanager
def serving(sqlite_engine, tmp_path) -> Iterator[str]:
    """Serve the dashboard on ``sqlite_engine``'s database; yield its URL."""
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "me"}
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


def fits_the_phone(page: Page) -> None:
    """Nothing is wider than the screen, and every button is big enough to tap."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in page.locator("main button, main .button").all():
        if button.is_visible():
            box = button.bounding_box()
            assert box is not None and box["height"] >= SMALLEST_TAP, button.inner_text()


def test_a_member_signs_in_sees_loans_and_gives_hours_on_a_phone(browser, sqlite_engine, tmp_path):
    with (
        serving(sqlite_engine, tmp_path) as url,
        new_page(browser, f"{url}/me/", viewport=PHONE, has_touch=True) as page,
    ):
        expect(page.locator("h1")).to_have_text("Your tool library")
        page.fill("#number", BORROWER)
        page.fill("#pin", "0000")
        page.click("text=Sign in")
        expect(page.locator("[role=alert]")).to_have_text("Member number or PIN not recognised.")
        screenshot(page, "me-signin-refused-360.png")
        page.fill("#pin", DEMO_PIN)
        page.click("text=Sign in")
        expect(page.locator("h1")).to_contain_text("Hello, ")
        expect(page.locator("article.loan h3")).to_contain_text("Hammer drill")
        expect(page.locator("article.loan")).to_contain_text("Due back")
        fits_the_phone(page)
        screenshot(page, "me-loans-360.png", full_page=True)

        page.click("text=Give hours")
        page.fill("#to", "1006")
        page.fill("#hours", "0")
        page.fill("#note", "Sharpened my saw")
        page.click("button:has-text('Give hours')")
        expect(page.locator("[role=alert]")).to_contain_text("more than 0")
        expect(page.locator("#hours")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#note")).to_have_value("Sharpened my saw")
        fits_the_phone(page)
        screenshot(page, "me-give-refused-360.png", full_page=True)
        page.fill("#hours", "1.5")
        page.click("button:has-text('Give hours')")
        expect(page.locator(".flash")).to_have_text("You gave 1.50 hours to member 1006.")
        expect(page.locator("article.line").first).to_contain_text("Sharpened my saw")
        fits_the_phone(page)
        screenshot(page, "me-hours-360.png", full_page=True)

        page.click("text=Reminder emails")
        page.uncheck("input[value=due_tomorrow]")
        page.click("button:has-text('Save')")
        expect(page.locator(".flash")).to_have_text("Saved your reminder choices.")
        expect(page.locator("input[value=due_tomorrow]")).not_to_be_checked()
        fits_the_phone(page)
        screenshot(page, "me-reminders-360.png", full_page=True)


def test_an_overdue_loan_is_marked_on_the_phone(browser, sqlite_engine, tmp_path):
    with (
        serving(sqlite_engine, tmp_path) as url,
        new_page(browser, f"{url}/me/signin", viewport=PHONE, has_touch=True) as page,
    ):
        page.fill("#number", LATE)
        page.fill("#pin", DEMO_PIN)
        page.click("text=Sign in")
        expect(page.locator("article.loan.late .pill")).to_have_text("Overdue")
        expect(page.locator("article.loan.late")).to_contain_text("Cannot renew")
        fits_the_phone(page)
        screenshot(page, "me-overdue-360.png", full_page=True)
