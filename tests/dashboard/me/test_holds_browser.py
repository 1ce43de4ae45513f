"""My holds in real headless Chromium on a 360 px phone: a refusal by field, a hold placed
from the list of tools out, kept when the tool comes back, cancelled after the data-confirm
question."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub.bulk.demo import DEMO_PIN
from hub.infra.db import transaction
from hub.inventory.registry import tool_by_code
from hub.maintenance.returns import return_with_condition
from hub.members.ranks import OPERATOR
from tests.dashboard.me.conftest import BORROWER
from tests.dashboard.me.test_me_browser import PHONE, fits_the_phone, serving
from tests.fixtures.browser import new_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def database_content() -> str:
    return "demo"


def test_a_member_places_and_cancels_a_hold_on_a_phone(browser, sqlite_engine, tmp_path):
    with (
        serving(sqlite_engine, tmp_path) as url,
        new_page(browser, f"{url}/me/holds", viewport=PHONE, has_touch=True) as page,
    ):
        questions: list[str] = []
        page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        page.fill("#number", BORROWER)
        page.fill("#pin", DEMO_PIN)
        page.click("text=Sign in")
        expect(page.locator("h1")).to_have_text("My holds")

        page.fill("#tool", "Hammer drill")  # the one I have out
        page.click("button:has-text('Place hold')")
        expect(page.locator("#error")).to_contain_text("has DRILL-2 out already")
        expect(page.locator("#tool")).to_have_attribute("aria-invalid", "true")
        fits_the_phone(page)
        screenshot(page, "me-holds-refused-360.png", full_page=True)

        page.click("button:has-text('Hold TENT-1')")
        expect(page.locator("[role=status]")).to_contain_text("number 1 in line")
        expect(page.locator("article.hold.waiting")).to_contain_text("you are next in line")
        fits_the_phone(page)
        screenshot(page, "me-holds-360.png", full_page=True)

        with transaction(sqlite_engine) as db:  # the tent comes back to its locker
            return_with_condition(
                db, OPERATOR, tool_id=tool_by_code(db, "TENT-1").id, condition="ok"
            )
        page.reload()
        expect(page.locator("article.hold.ready")).to_contain_text("kept for you until")
        expect(page.locator("article.hold.ready")).to_contain_text(" locker ")
        fits_the_phone(page)
        screenshot(page, "me-holds-ready-360.png", full_page=True)

        page.click("button:has-text('Cancel hold')")
        expect(page.locator("[role=status]")).to_contain_text("TENT-1 is cancelled")
        assert questions == ["Cancel your hold on TENT-1?"]
        expect(page.locator("article.hold.ended")).to_contain_text("Cancelled")
        fits_the_phone(page)
        screenshot(page, "me-holds-cancelled-360.png", full_page=True)
