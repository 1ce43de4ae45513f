"""The booking tablet in real headless Chromium against a real WSGI server on a temp SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import segno
from playwright.sync_api import Browser, Page, expect

from dashboard import create_app, database
from dashboard.tablet import DEVICE_COOKIE
from hub.bookings.tablets import enrol_tablet
from hub.infra.db import transaction
from tests.dashboard import tablet_fixtures
from tests.dashboard.tablet_fixtures import add_demo_machines
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.web import serve_app
from tests.hub.builders import a_member

database_content = tablet_fixtures.database_content  # machines and members of its own
TABLET = {"width": 1280, "height": 800}  # a 10-inch tablet, landscape
TAP = 56  # px: the smallest touch target allowed (--tap in style.css)

pytestmark = pytest.mark.browser


@contextmanager
def serving(config: dict) -> Iterator[str]:
    """Serve the dashboard made from ``config``; yield its URL."""
    app = create_app(config)
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


@pytest.fixture
def site(sqlite_engine, tmp_path):
    """Return a function that serves a migrated temp SQLite with the demo machines."""
    with transaction(sqlite_engine) as session:
        add_demo_machines(session)
    base = {
        "DATABASE_URL": str(sqlite_engine.url),
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "browser-tests",
    }
    return lambda **extra: serving(base | extra)


def enrol(page: Page, engine, url: str) -> None:
    """Make ``page``'s browser an enrolled tablet (its device cookie; the enrolment page itself
    is tested in tests/dashboard/security/test_tablet_identity.py)."""
    with transaction(engine) as session:
        steward = a_member(session, "Sam Steward", roles="member steward")
        _, token = enrol_tablet(session, "Makerspace door", by_member_id=steward.id)
    page.context.add_cookies([{"name": DEVICE_COOKIE, "value": token, "url": f"{url}/tablet/"}])


def tablet_page(browser: Browser, url: str):
    """Open the tablet page in a fresh browser context (its own cookies: its own tablet)."""
    return new_page(browser, f"{url}/tablet/", viewport=TABLET, has_touch=True)


def identify_by_pin(page: Page, number: str, pin: str) -> None:
    page.fill("#number", number)
    page.fill("#pin", pin)
    page.click("text=Continue")
    expect(page.locator("h1")).to_have_text("Pick a machine")


def tap_card(page: Page, uid: str) -> None:
    """Type a UID and Enter as a USB keyboard-wedge reader does, into whatever has focus."""
    page.keyboard.type(uid)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Pick a machine")


def open_laser_tomorrow(page: Page) -> None:
    page.click("text=Laser cutter")
    page.click("[aria-label=Later]")


def smallest_target(page: Page) -> float:
    """Return the height in px of the smallest tappable thing on the page."""
    heights = page.eval_on_selector_all(
        "main a.slot, main button, main .button, header nav a",
        "targets => targets.map(t => t.getBoundingClientRect().height)",
    )
    return min(heights)


def test_book_see_taken_elsewhere_cancel_and_free_again(site, browser, sqlite_engine):
    with site() as url, tablet_page(browser, url) as ada, tablet_page(browser, url) as grace:
        enrol(grace, sqlite_engine, url)
        screenshot(ada, "tablet-identify.png")
        identify_by_pin(ada, "1001", "2468")
        open_laser_tomorrow(ada)
        free = ada.locator("a.slot.free").first
        start = free.get_attribute("data-start")
        free.click()  # first tap
        ada.click("#confirm-booking")  # second tap
        expect(ada.locator(".flash")).to_contain_text("Booked: Laser cutter")
        expect(ada.locator(f'.slot.mine[data-start="{start}"]')).to_be_visible()
        assert smallest_target(ada) >= TAP
        screenshot(ada, "tablet.png")

        tap_card(grace, "CAFEF00D")  # the reader types into the focused hidden field
        open_laser_tomorrow(grace)
        expect(grace.locator(f'.slot.taken[data-start="{start}"] .state')).to_have_text("taken")
        assert "Ada" not in grace.content() and "1001" not in grace.content()

        ada.click("header >> text=My bookings")
        ada.click("button:has-text('Cancel')")
        expect(ada.locator(".flash")).to_contain_text("Cancelled: Laser cutter")

        grace.reload()
        expect(grace.locator(f'a.slot.free[data-start="{start}"]')).to_be_visible()


def test_the_page_signs_out_by_itself_when_idle(site, browser):
    with site(TABLET_IDLE_SECONDS=3) as url, tablet_page(browser, url) as page:
        identify_by_pin(page, "1002", "1357")
        expect(page.locator(".flash")).to_contain_text("Signed out after 3 seconds", timeout=10_000)
        expect(page.locator("#card-uid")).to_be_focused()


PORTRAIT = {"width": 800, "height": 1280}  # the booking tablet by the door, portrait
WEEK_SCREENS_MAX = 1.5  # the week may scroll at most half a screen past the first


def portrait_page(browser: Browser, url: str):
    return new_page(browser, f"{url}/tablet/", viewport=PORTRAIT, has_touch=True)


def test_the_week_fits_a_portrait_tablet_one_day_at_a_time(site, browser):
    with site() as url, portrait_page(browser, url) as page:
        identify_by_pin(page, "1001", "2468")
        page.click("text=Laser cutter")
        page.click("text=Week")
        expect(page.locator(".weekday")).to_have_count(7)
        height = page.evaluate("document.documentElement.scrollHeight")
        screenshot(page, "tablet-week-800x1280.png", full_page=True)
        assert height <= WEEK_SCREENS_MAX * PORTRAIT["height"], f"the week is {height} px tall"
        wednesday = page.locator(".weekday").nth(2)
        day = wednesday.get_attribute("data-day")
        wednesday.click()
        expect(page.locator(".weekday.chosen")).to_have_attribute("data-day", day)
        expect(page.locator("section.day")).to_have_count(1)
        assert (
            all(
                s.startswith(day)
                for s in page.locator(".slot").evaluate_all(
                    "slots => slots.map(s => s.dataset.start)"
                )
            )
            or page.locator(".closed").count() == 1
        )
        assert smallest_target(page) >= TAP


def test_the_number_pad_enters_the_member_number_and_pin(site, browser):
    with site() as url, portrait_page(browser, url) as page:
        pad = page.locator("#numpad")
        expect(pad).to_be_visible()
        for key in "10012":  # one digit too many: taken back
            pad.locator(f"button[data-key='{key}']").click()
        pad.locator("button[data-key='back']").click()
        expect(page.locator("#number")).to_have_value("1001")
        page.click("#pin")
        for key in "2468":
            pad.locator(f"button[data-key='{key}']").click()
        expect(page.locator("#pin")).to_have_value("2468")
        screenshot(page, "tablet-numpad-800x1280.png")
        page.click("text=Continue")
        expect(page.locator("h1")).to_have_text("Pick a machine")


def test_the_calendar_link_is_a_qr_code_of_the_link(site, browser):
    with site() as url, portrait_page(browser, url) as page:
        identify_by_pin(page, "1001", "2468")
        page.click("header >> text=My bookings")
        page.click("text=New private calendar link")
        figure = page.locator("figure.qr-code")
        expect(figure.locator("svg")).to_be_visible()
        link = figure.get_attribute("data-link")
        assert link.startswith(f"{url}/tablet/calendars/") and link.endswith(".ics")
        expect(page.locator(".link code")).to_be_hidden()  # not in plain text for all to see
        screenshot(page, "tablet-calendar-qr-800x1280.png")
        shown = modules_of(figure.locator("svg path").get_attribute("d"), border=4)
        assert shown == [list(row) for row in segno.make(link, error="m").matrix]
        assert page.request.get(link).headers["content-type"].startswith("text/calendar")


def modules_of(path: str, *, border: int) -> list[list[bool]]:
    """Read segno's SVG path back into the QR code's matrix of dark (True) modules: "M x y"
    moves to a row, "m dx dy" moves on, "h n" paints n modules of the row."""
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(x) + i - border, int(y - 0.5) - border) for i in range(int(a)))
            x += float(a)
    size = max(max(col, row) for col, row in dark) + 1
    return [[(col, row) in dark for col in range(size)] for row in range(size)]
