"""The kiosk screen in headless Chromium: the simulation panel drives a borrow and a return."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from broker import messages as wire
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.fixtures.browser import new_page, screenshot
from tests.kiosk.builders import ADA, a_config, an_allowlist, kiosk_settings

TAP = 64  # px: the smallest touch target on the kiosk screen

pytestmark = pytest.mark.browser


@pytest.fixture
def station(tmp_path) -> Iterator[Station]:
    settings = kiosk_settings(tmp_path / "kiosk")
    hardware = SimulatedHardware(settings.lockers)
    running = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
    ).start(serve_screen=True)
    running.submit(lambda s: s.store.offer("allowlist", wire.encode(an_allowlist())))
    running.submit(lambda s: s.store.offer("config", wire.encode(a_config())))
    yield running
    running.stop()
    hardware.close()


@pytest.fixture
def page(station, browser: Browser) -> Iterator[Page]:
    screen = f"{station.screen.url}/"
    with new_page(browser, screen, viewport={"width": 1280, "height": 800}, has_touch=True) as page:
        yield page


def tap_card(page: Page, uid: str) -> None:
    page.click(f"#sim-cards button[data-uid='{uid}']")


def door(page: Page, slot: int, label: str) -> None:
    page.click(f".sim-locker[data-slot='{slot}'] button:has-text('{label}')")


def test_borrow_and_return_through_the_simulation_panel(page: Page, station: Station):
    expect(page.locator("#title")).to_have_text("Tap your card")
    tap_card(page, ADA)
    expect(page.locator("#title")).to_have_text("Hello, Ada")
    borrow = page.locator("button[data-action='borrow'][data-slot='1']")
    assert_touchable(borrow)
    borrow.click()
    expect(page.locator("#title")).to_have_text("Locker 1 is open")
    expect(page.locator("#message")).to_have_text("Take DRILL-1 and close the door.")
    expect(page.locator(".sim-locker[data-slot='1']")).to_have_class("sim-locker unlocked")
    door(page, 1, "Open door")
    door(page, 1, "Shut door")
    expect(page.locator("#title")).to_have_text("Thank you!")
    tap_card(page, ADA)
    page.click("button[data-action='return'][data-slot='1']")
    expect(page.locator("#title")).to_have_text("Is DRILL-1 OK?")
    page.click("button[data-answer='needs_repair']")
    page.fill("#note", "The chuck slips")
    page.click("button[data-send='return']")
    expect(page.locator("#message")).to_have_text("Put DRILL-1 back inside and close the door.")
    screenshot(page, "kiosk.png")
    door(page, 1, "Open door")
    door(page, 1, "Shut door")
    expect(page.locator("#title")).to_have_text("Thank you!")
    assert station.figures["next_seq"] == 6  # door, loan, door, door, return, door
    page.fill("#sim-uid-input", "01:02:03:04")  # a card not on the allow-list, typed
    page.click("#sim-uid button")
    expect(page.locator("#message")).to_contain_text("This card is not known here")


def test_every_member_choice_is_a_big_touch_target(page: Page):
    tap_card(page, ADA)
    expect(page.locator("#title")).to_have_text("Hello, Ada")
    screenshot(page, "kiosk-member.png")
    buttons = page.locator("#screen button")
    assert buttons.count() >= 3
    for index in range(buttons.count()):
        assert_touchable(buttons.nth(index))


def assert_touchable(button) -> None:
    box = button.bounding_box()
    assert box["height"] >= TAP and box["width"] >= TAP, box
