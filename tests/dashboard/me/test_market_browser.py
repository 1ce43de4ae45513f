"""The market in real headless Chromium on a 360 px phone: post an offer, answer a request,
claim and confirm the hours."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hub.bulk.demo import DEMO_PIN
from tests.dashboard.me.test_me_browser import PHONE, fits_the_phone, serving
from tests.fixtures.browser import new_page, screenshot

pytestmark = pytest.mark.browser
ADA, BEA = "1004", "1006"  # Bea is the demo's blade sharpener


@pytest.fixture
def database_content() -> str:
    return "demo"


def sign_in(page: Page, number: str) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # a data-confirm question: yes
    page.fill("#number", number)
    page.fill("#pin", DEMO_PIN)
    page.click("text=Sign in")
    expect(page.locator("h1")).to_contain_text("Hello, ")


def test_an_offer_answered_claimed_and_confirmed_and_a_request_answered(
    browser, sqlite_engine, tmp_path
):
    with (
        serving(sqlite_engine, tmp_path) as url,
        new_page(browser, f"{url}/me/", viewport=PHONE, has_touch=True) as ada,
        new_page(browser, f"{url}/me/", viewport=PHONE, has_touch=True) as bea,
    ):
        sign_in(ada, ADA)
        sign_in(bea, BEA)

        ada.goto(f"{url}/me/market")
        ada.click("text=Offer help")
        ada.fill("#title", "I can patch bike tubes")
        ada.fill("#text", "Bring the wheel; ten minutes.")
        ada.click("button:has-text('Post it')")
        expect(ada.locator("h1")).to_have_text("I can patch bike tubes")
        offer_url = ada.url

        bea.goto(f"{url}/me/market?q=tubes")
        bea.click("text=I can patch bike tubes")
        bea.fill("#note", "My back tyre is flat")
        bea.click("button:has-text('Answer')")
        expect(bea.locator(".flash")).to_contain_text("Your answer is sent")

        bea.goto(f"{url}/me/market?kind=request")
        bea.click("text=Show me how to use the tile cutter")
        bea.fill("#note", "I can show you on Thursday")
        bea.click("button:has-text('Answer')")
        expect(bea.locator("article.card").first).to_contain_text("I can show you on Thursday")
        fits_the_phone(bea)
        screenshot(bea, "market-request-answered-360.png", full_page=True)

        ada.goto(offer_url)
        expect(ada.locator("h2").nth(1)).to_have_text("Claim the hours you gave")
        ada.fill("#hours", "0.555")
        ada.click("button:has-text('Claim hours')")
        expect(ada.locator("[role=alert]")).to_contain_text("two decimal places")
        expect(ada.locator("#hours")).to_have_attribute("aria-invalid", "true")
        ada.fill("#hours", "0.5")
        ada.click("button:has-text('Claim hours')")
        expect(ada.locator("article:has-text('0.50 h from')")).to_contain_text("claimed")
        fits_the_phone(ada)
        screenshot(ada, "market-offer-claimed-360.png", full_page=True)

        bea.goto(offer_url)
        bea.click("button:has-text('Confirm and pay 0.50 h')")
        expect(bea.locator(".flash")).to_contain_text("Hours confirmed and moved")
        expect(bea.locator("article:has-text('0.50 h from')")).to_contain_text("confirmed")
        fits_the_phone(bea)
        screenshot(bea, "market-hours-confirmed-360.png", full_page=True)
