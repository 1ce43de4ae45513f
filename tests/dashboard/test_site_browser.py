"""Every page's static/site.js and the steward layout at 360 px, in real headless Chromium.

A phone at the shed: on every steward page "Sign out" is in sight and the links are a tap on
"Menu" away, and no page scrolls sideways. ``data-confirm`` asks before a one-click action:
dismissed, nothing is sent; accepted, the form goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from hub.infra.db import reading
from hub.members.roster import card_by_uid
from tests.dashboard.test_dashboard_browser import shed  # noqa: F401  (a fixture)
from tests.fixtures.browser import new_page, screenshot

PHONE = {"width": 360, "height": 740}
ADMIN = "1003"  # an admin steward of the demo: sees every page, the audit log too
NAV_PAGES = [
    ("/steward/", "Needs me"),
    ("/steward/tools", "Tools"),
    ("/steward/maintenance", "Maintenance"),
    ("/steward/members", "Members"),
    ("/steward/loans", "Loans"),
    ("/steward/kiosks", "Kiosks"),
    ("/steward/bookings", "Bookings"),
    ("/steward/ledger", "Ledger"),
    ("/steward/reports", "Reports"),
    ("/steward/audit", "Audit"),
    ("/steward/account", "Account"),
]
OTHER_PAGES = ["/steward/members/5", "/steward/tools/2", "/steward/no-such-page"]

pytestmark = pytest.mark.browser


@contextmanager
def signed_in_on_a_phone(browser: Browser, url: str) -> Iterator[Page]:
    """Open a 360 x 740 touch screen and sign admin steward 1003 in through the form."""
    with new_page(browser, f"{url}/steward/", viewport=PHONE, has_touch=True) as page:
        page.fill("#number", ADMIN)
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        yield page


def in_sight(page: Page, selector: str) -> bool:
    """Tell whether the element is visible and wholly inside the phone's width."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def sideways(page: Page) -> int:
    """Return by how many pixels the page is wider than the phone."""
    wide: int = page.evaluate("document.documentElement.scrollWidth")
    return wide - PHONE["width"]


def test_sign_out_and_every_link_are_reachable_on_every_steward_page(shed, browser):  # noqa: F811
    url, _ = shed
    with signed_in_on_a_phone(browser, url) as page:
        for path in [path for path, _ in NAV_PAGES] + OTHER_PAGES:
            page.goto(url + path)
            name = "phone-" + (path.strip("/").replace("/", "-") or "steward")
            screenshot(page, f"{name}.png", full_page=True)
            assert in_sight(page, "header button:text-is('Sign out')"), path
            assert sideways(page) <= 0, f"{path} scrolls sideways by {sideways(page)} px"
            menu = page.get_by_role("button", name="Menu")
            expect(menu).to_have_attribute("aria-expanded", "false")
            expect(page.locator("header nav a").first).to_be_hidden()  # folded
            menu.click()
            expect(menu).to_have_attribute("aria-expanded", "true")
            for _, label in NAV_PAGES:
                link = page.locator("header nav a", has_text=label)
                expect(link).to_be_visible()
                assert in_sight(page, f"header nav a:text-is('{label}')"), (path, label)
            screenshot(page, f"{name}-menu.png")
        page.locator("header nav a", has_text="Members").click()
        expect(page.locator("h1")).to_contain_text("Members")
        page.click("header button:text-is('Sign out')")
        expect(page.locator("#password")).to_be_visible()


def test_without_script_the_links_wrap_instead_of_scrolling(shed, browser):  # noqa: F811
    url, _ = shed
    with new_page(browser, viewport=PHONE, java_script_enabled=False) as page:
        page.goto(f"{url}/steward/")
        page.fill("#number", ADMIN)
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        for _, label in NAV_PAGES:
            assert in_sight(page, f"header nav a:text-is('{label}')"), label
        assert in_sight(page, "header button:text-is('Sign out')")
        assert sideways(page) <= 0
        screenshot(page, "phone-steward-no-script.png", full_page=True)


def test_a_dismissed_confirmation_sends_nothing_and_an_accepted_one_sends(
    shed,  # noqa: F811
    browser,
    sqlite_engine,
):
    url, _ = shed
    with signed_in_on_a_phone(browser, url) as page:
        page.goto(f"{url}/steward/members/5")
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        questions: list[str] = []

        def answer(dialog, accept: bool) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        revoke = page.locator("#cards").get_by_role("button", name="Revoke")
        page.once("dialog", lambda dialog: answer(dialog, accept=False))
        revoke.click()
        assert questions == ["Revoke card C0DE0004 of Kofi Nakamura (1005)?"]
        page.wait_for_timeout(0)  # let a submission, were there one, start
        expect(revoke).to_be_visible()
        assert posts == []
        with reading(sqlite_engine) as session:
            assert card_by_uid(session, "C0DE0004").revoked_at is None

        page.once("dialog", lambda dialog: answer(dialog, accept=True))
        with page.expect_navigation():
            revoke.click()
        assert len(questions) == 2 and len(posts) == 1 and posts[0].endswith("/cards/revoke")
        expect(page.locator(".flash")).to_contain_text("C0DE0004")
        screenshot(page, "phone-member-card-revoked.png", full_page=True)
    with reading(sqlite_engine) as session:
        assert card_by_uid(session, "C0DE0004").revoked_at is not None


def test_a_wide_table_scrolls_in_its_box_and_keeps_its_buttons(shed, browser):  # noqa: F811
    url, _ = shed
    with signed_in_on_a_phone(browser, url) as page:
        page.goto(f"{url}/steward/members")
        table = page.locator("table.board")
        table.evaluate("t => { t.scrollLeft = t.scrollWidth; }")
        button = page.get_by_role("button", name="Suspend").first
        button.scroll_into_view_if_needed()
        assert in_sight(page, "table.board button:text-is('Suspend') >> nth=0")
        assert sideways(page) <= 0
        screenshot(page, "phone-steward-members-scrolled.png")
