"""The machine form and the imports page in real headless Chromium on a 360 px phone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard import create_app, database
from hub.bookings import pause_booking_rights, resource_by_code
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.web import serve_app
from tests.hub.builders import a_member

PHONE = {"width": 360, "height": 780}

pytestmark = pytest.mark.browser


@pytest.fixture
def shed(sqlite_engine, tmp_path):
    """Serve the demo library from a migrated temp SQLite; yield its URL."""
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "m"}
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


@contextmanager
def on_phone(browser: Browser, url: str) -> Iterator[Page]:
    with new_page(browser, f"{url}/steward/", viewport=PHONE, has_touch=True) as page:
        page.fill("#number", "1001")
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        yield page


def main_fits(page: Page) -> bool:
    """Tell whether the page's main content fits the phone's width (no sideways scrolling)."""
    return page.evaluate("() => document.querySelector('main').scrollWidth <= window.innerWidth")


def test_a_steward_adds_a_machine_on_a_phone(browser, shed, sqlite_engine):
    with on_phone(browser, shed) as page:
        page.goto(f"{shed}/steward/machines/new")
        page.fill("#code", "cnc")
        page.fill("#name", "CNC router")
        page.select_option("#training", "router")
        page.fill("#slot_minutes", "60")
        page.fill("#max_booking_minutes", "120")
        page.fill("input[name=sun_opens_1]", "")
        page.fill("input[name=sun_closes_1]", "")
        page.fill("input[name=sat_opens_1]", "14:00")
        page.fill("input[name=sat_closes_1]", "10:00")  # ends before it starts
        assert main_fits(page)
        screenshot(page, "machine-form-360.png", full_page=True)
        page.click("button:text('Add the machine')")
        alert = page.locator("#form-error")
        expect(alert).to_contain_text("Opening hours on Saturday")
        expect(alert).to_contain_text("opening_hours.sat")
        expect(page.locator("#name")).to_have_value("CNC router")  # kept as typed
        expect(page.locator("input[name=sat_opens_1]")).to_have_attribute("aria-invalid", "true")
        screenshot(page, "machine-form-refused-360.png", full_page=True)
        page.fill("input[name=sat_closes_1]", "18:00")
        page.click("button:text('Add the machine')")
        expect(page.locator(".flash")).to_contain_text("CNC router added")
        assert main_fits(page)
        screenshot(page, "machine-page-360.png", full_page=True)
    with reading(sqlite_engine) as session:
        cnc = resource_by_code(session, "cnc")
    assert cnc.opening_hours["sat"] == ["14:00-18:00"] and cnc.opening_hours["sun"] == []


def test_a_steward_checks_and_imports_a_members_file_on_a_phone(browser, shed, tmp_path):
    bad = tmp_path / "members.csv"
    bad.write_text(
        "number,name,email,phone,roles,cards\n"
        "7001,Ada Byron,ada@example.org,,member,\n"
        "7002,,mary@example.org,,member,\n"
        "7003,Emmy Noether,,,wizard,\n"
    )
    with on_phone(browser, shed) as page:
        page.goto(f"{shed}/steward/imports")
        page.set_input_files("#file-members", str(bad))
        page.locator("#import-members button:text('Check the file')").click()
        refusal = page.locator("#import-members .refusal")
        expect(refusal).to_contain_text("2 of 3 rows refused: nothing will be imported.")
        expect(refusal.locator("tbody tr")).to_have_count(2)
        assert main_fits(page)
        screenshot(page, "import-dry-run-360.png", full_page=True)
        bad.write_text(
            bad.read_text()
            .replace("7002,,mary", "7002,Mary Somerville,mary")
            .replace("wizard", "volunteer")
        )
        page.set_input_files("#file-members", str(bad))
        page.locator("#import-members button:text('Check the file')").click()
        expect(page.locator("#import-members")).to_contain_text("All 3 rows can be imported.")
        screenshot(page, "import-dry-run-ok-360.png", full_page=True)
        page.once("dialog", lambda dialog: dialog.accept())  # "Import 3 members? ..."
        page.click("button:text('Import 3 members')")
        expect(page.locator(".flash")).to_contain_text("3 members imported.")


def test_a_steward_lifts_a_booking_pause_on_a_phone(browser, shed, sqlite_engine):
    with transaction(sqlite_engine) as session:
        member = a_member(session, "Pia Paused")
        pause_booking_rights(
            session, member.id, until=utcnow() + timedelta(days=2), reason="2 no-shows in 30 days"
        )
    with on_phone(browser, shed) as page:
        page.goto(f"{shed}/steward/bookings")
        expect(page.locator("#paused")).to_contain_text("Pia Paused")
        assert main_fits(page)
        screenshot(page, "booking-pause-360.png")
        page.on("dialog", lambda dialog: dialog.accept())
        page.fill("#paused input[name=reason]", "Talked it through")
        page.click("#paused button:text('Lift pause')")
        expect(page.locator("#paused")).to_contain_text("No member's booking rights are paused.")
        screenshot(page, "booking-pause-lifted-360.png")


def test_a_tool_handed_back_at_the_desk_on_a_phone(browser, shed, sqlite_engine):
    with on_phone(browser, shed) as page:
        page.goto(f"{shed}/steward/loans")
        page.on("dialog", lambda dialog: dialog.accept())
        form = page.locator("form.desk-return").first
        form.locator("select[name=condition]").select_option("needs_repair")
        form.locator("input[name=note]").fill("Zip broken")
        screenshot(page, "desk-return-360.png")
        form.locator("button").click()
        expect(page.locator("body")).to_contain_text("is back (loan")
        screenshot(page, "desk-return-done-360.png")
