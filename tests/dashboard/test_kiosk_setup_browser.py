"""Setting a kiosk up in real headless Chromium: register it through the form, provision it,
copy its password with the button, and print its setup sheet (the print stylesheet)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard import create_app, database
from tests.dashboard.test_dashboard_browser import LAPTOP, PHONE, signed_in
from tests.fixtures.browser import screenshot
from tests.fixtures.web import serve_app

pytestmark = pytest.mark.browser


@pytest.fixture
def hub_url(sqlite_engine, tmp_path):
    """Serve the demo library from a migrated temp SQLite, kiosks told of broker hub.local."""
    app = create_app(
        {
            "DATABASE_URL": str(sqlite_engine.url),
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "k",
            "MQTT_HOST": "hub.local",
            "MQTT_PORT": 1883,
        }
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


def test_register_provision_copy_and_print_a_kiosk(browser, hub_url):
    with signed_in(browser, hub_url, LAPTOP) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.goto(f"{hub_url}/steward/kiosks")
        page.click("text=Register a kiosk")
        page.fill("#f-kiosk_id", "shed-1")  # taken: the form comes back as typed
        page.fill("#f-site", "south")
        page.fill("#f-name", "Garden shed")
        page.click("button:text('Register')")
        expect(page.locator("#f-kiosk_id")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#f-name")).to_have_value("Garden shed")
        screenshot(page, "kiosk-register-refused.png", full_page=True)
        page.fill("#f-kiosk_id", "shed-3")
        page.click("button:text('Register')")
        expect(page.locator("h1")).to_contain_text("Kiosk shed-3")
        page.click("button:text('Provision')")
        expect(page.locator("h1")).to_contain_text("its broker login")
        password = page.locator("#kiosk-password").inner_text()
        assert len(password) >= 40
        page.click("button[data-copy='kiosk-password']")
        expect(page.locator("button[data-copy='kiosk-password']")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == password
        screenshot(page, "kiosk-login.png", full_page=True)

        page.emulate_media(media="print")
        expect(page.locator("header.top")).to_be_hidden()
        expect(page.locator("button[data-print]")).to_be_hidden()
        expect(page.locator(".setup-sheet .print-only")).to_be_visible()
        expect(page.locator("#kiosk-password")).to_be_visible()
        expect(page.locator(".setup-sheet")).to_contain_text("hub.local")
        screenshot(page, "kiosk-login-print.png", full_page=True)


def test_the_tool_page_forms_fit_a_phone(browser, hub_url):
    with signed_in(browser, hub_url, PHONE) as page:
        page.goto(f"{hub_url}/steward/tools/1")
        expect(page.locator("#tool-setup")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the tool page scrolls sideways: {width} px"
        screenshot(page, "tool-page-phone.png", full_page=True)
        page.goto(f"{hub_url}/steward/kiosks/shed-1")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "kiosk-page-phone.png", full_page=True)
