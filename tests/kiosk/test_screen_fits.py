"""The kiosk screen on the official 7" display (800x480) and on 1024x600, in headless Chromium.

A member borrows a tool, returns it saying it needs repair, and logs a repair; at every step
the step's primary action lies inside the viewport, the page itself never scrolls, and a
refusal shows next to the field that caused it. Each step is saved as a screenshot under
test-artifacts/kiosk-<width>x<height>/ (see tests/fixtures/browser.py) to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from broker import messages as wire
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.fixtures.browser import new_page, screenshot
from tests.kiosk.builders import ADA, NOW, SAM, an_allowlist, kiosk_settings

pytestmark = pytest.mark.browser

# Ten lockers on the Pi's own pins (feedback uses 14, 15 and 18).
FREE_PINS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 19, 20, 21, 22, 23, 24]
PINS = [(slot, FREE_PINS[2 * i], FREE_PINS[2 * i + 1]) for i, slot in enumerate(range(1, 11))]
TOOLS = {
    1: ("DRILL-1", "Cordless drill 18V"),
    2: ("SAW-2", "Circular saw"),
    3: ("SANDER-1", "Orbital sander"),
    4: ("JIGSAW-1", "Jigsaw"),
    5: ("LADDER-1", "Step ladder, 6 treads"),
    6: ("MOWER-1", "Push lawn mower"),
    7: ("PLANER-1", "Electric hand planer"),
    8: ("WRENCH-1", "Torque wrench set"),
    9: ("GLUE-1", "Hot glue gun"),
    10: ("TILE-1", "Tile cutter"),
}
SIZES = [(800, 480), (1024, 600)]
SITE_ZONE = "America/New_York"  # not the test machine's: the clock must follow the config


def named_config() -> wire.KioskConfig:
    return wire.KioskConfig.build(
        version=1,
        generated_at=NOW,
        site="test",
        kiosk_id="kiosk-a",
        name="Test shed",
        lockers={
            slot: wire.LockerTool(tool_code=code, name=name) for slot, (code, name) in TOOLS.items()
        },
        timezone=SITE_ZONE,
    )


@pytest.fixture
def station(tmp_path) -> Iterator[Station]:
    settings = kiosk_settings(tmp_path / "kiosk", pins=PINS)
    hardware = SimulatedHardware(settings.lockers)
    running = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
    ).start(serve_screen=True)
    running.submit(lambda s: s.store.offer("allowlist", wire.encode(an_allowlist())))
    running.submit(lambda s: s.store.offer("config", wire.encode(named_config())))
    yield running
    running.stop()
    hardware.close()


class Walk:
    """The screen at one size: drive the simulation, check the frame, keep screenshots."""

    def __init__(self, page: Page, width: int, height: int) -> None:
        self.page, self.width, self.height = page, width, height
        self.folder = f"kiosk-{width}x{height}"
        self._numbers = count(1)

    def simulate(self, url: str, body: dict) -> None:
        status = self.page.evaluate(
            """([url, body]) => fetch(url, {method: "POST",
                 headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
               .then((response) => response.status)""",
            [url, body],
        )
        assert status == 200, (url, body, status)

    def tap(self, uid: str) -> None:
        self.simulate("/api/sim/tap", {"uid": uid})

    def door(self, slot: int, open_: bool) -> None:
        self.simulate("/api/sim/door", {"slot": slot, "open": open_})

    def step(self, name: str, primary: Locator) -> None:
        """Check the step on screen: its primary action in view, no page scroll; save it."""
        expect(primary).to_be_visible()
        self.assert_in_view(primary)
        scroll_height = self.page.evaluate("document.documentElement.scrollHeight")
        assert scroll_height <= self.height, f"{name}: the page is {scroll_height} px tall"
        screenshot(self.page, f"{self.folder}/{next(self._numbers):02d}-{name}.png")

    def assert_in_view(self, locator: Locator) -> None:
        box = locator.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= self.width, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= self.height, box


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def walk(request, station: Station, browser: Browser) -> Iterator[Walk]:
    width, height = request.param
    viewport = {"width": width, "height": height}
    with new_page(browser, f"{station.screen.url}/", viewport=viewport, has_touch=True) as page:
        yield Walk(page, width, height)


def test_borrow_return_needing_repair_and_a_repair_fit_the_screen(walk: Walk, station: Station):
    page = walk.page
    expect(page.locator("#title")).to_have_text("Tap your card")
    assert_site_clock(page)
    last_tool = page.locator("button[data-slot='10']")
    walk.step("idle", page.locator("#title"))
    last_tool.scroll_into_view_if_needed()  # the list scrolls inside its frame
    walk.step("idle-scrolled", last_tool)

    walk.tap(ADA)
    expect(page.locator("#title")).to_have_text("Hello, Ada")
    borrow = page.locator("button[data-action='borrow'][data-slot='1']")
    expect(borrow).to_contain_text("Cordless drill 18V")
    expect(borrow.locator("small")).to_contain_text("DRILL-1")
    walk.step("member-borrow", borrow)
    walk.assert_in_view(page.locator("button[data-done]"))

    borrow.click()
    expect(page.locator("#message")).to_have_text("Take Cordless drill 18V and close the door.")
    walk.step("open-borrow", page.locator("#title"))
    walk.door(1, True)
    walk.door(1, False)
    expect(page.locator("#title")).to_have_text("Thank you!")
    walk.step("done-borrow", page.locator("button[data-primary]"))

    walk.tap(ADA)
    expect(page.locator("button[data-tab='return']")).to_have_attribute("aria-selected", "true")
    returning = page.locator("button[data-action='return'][data-slot='1']")
    walk.step("member-return-first", returning)
    returning.click()
    expect(page.locator("#title")).to_have_text("Is Cordless drill 18V OK?")
    walk.step("return-question", page.locator("button[data-answer='ok']"))
    walk.assert_in_view(page.locator("button[data-answer='needs_repair']"))

    page.click("button[data-answer='needs_repair']")
    send = page.locator("button[data-send='return']")
    walk.step("return-needs-repair", send)
    send.click()  # no note yet: the refusal shows by the note
    assert_problem_beside(walk, "note", "Say what is wrong with it, in a few words.")
    walk.step("return-note-missing", send)
    page.click("button[data-chip='Broken part']")
    expect(page.locator("#note")).to_have_value("Broken part")
    send.click()
    expect(page.locator("#message")).to_have_text(
        "Put Cordless drill 18V back inside and close the door."
    )
    walk.door(1, True)
    walk.door(1, False)
    expect(page.locator("#title")).to_have_text("Thank you!")

    walk.tap(ADA)
    page.click("button[data-tab='repair']")
    repairable = page.locator("button[data-action='repair']")
    # out of service first: SAW-2 (the hub's allow-list) and DRILL-1 (reported just now)
    expect(repairable.nth(0)).to_contain_text("Cordless drill 18V")
    expect(repairable.nth(1)).to_contain_text("Circular saw")
    expect(repairable.nth(2)).to_contain_text("Orbital sander")
    walk.step("member-repair-list", repairable.nth(0))
    repairable.nth(1).click()
    expect(page.locator("#title")).to_have_text("Repair of Circular saw: how many hours?")
    log = page.locator("button[data-send='repair']")
    walk.step("repair-hours", log)
    page.fill("#note", "Replaced the blade guard")
    log.click()  # no hours chosen: the refusal shows by the hours
    assert_problem_beside(walk, "hours", "Choose how many hours.")
    walk.step("repair-hours-missing", log)
    page.click("button[data-hours='1.5']")
    expect(page.locator("#note")).to_have_value("Replaced the blade guard")  # kept
    expect(page.locator("[data-problem-for='hours']")).to_be_hidden()
    log.click()
    expect(page.locator("#message")).to_have_text(
        "1.5 hours on Circular saw logged. A steward will approve them."
    )
    walk.step("done-repair", page.locator("button[data-primary]"))
    assert station.figures["next_seq"] == 7  # door, loan, door, door, return, door, repair


def test_a_steward_sees_every_locker_in_a_frame_that_scrolls(walk: Walk):
    page = walk.page
    walk.tap(SAM)
    page.click("button[data-tab='steward']")
    last_ticket = page.locator("button[data-action='ticket'][data-tool='TILE-1']")
    last_ticket.scroll_into_view_if_needed()
    walk.step("steward", last_ticket)  # 01-steward.png
    walk.assert_in_view(page.locator("button[data-done]"))


def assert_problem_beside(walk: Walk, field: str, text: str) -> None:
    """The refusal shows right under its field, in plain words, in view."""
    problem = walk.page.locator(f"[data-problem-for='{field}']")
    expect(problem).to_have_text(text)
    walk.assert_in_view(problem)
    expect(walk.page.locator("#problem")).to_be_hidden()
    below = walk.page.locator(f"[data-field='{field}']").bounding_box()
    box = problem.bounding_box()
    assert below is not None and box is not None
    assert 0 <= box["y"] - (below["y"] + below["height"]) <= 16, (below, box)


def assert_site_clock(page: Page) -> None:
    """The bar's clock shows the time in the config's zone (either side of a minute turning)."""
    before = f"{datetime.now(ZoneInfo(SITE_ZONE)):%H:%M}"
    expect(page.locator("#clock")).to_have_attribute("data-timezone", SITE_ZONE)
    shown = page.locator("#clock").text_content()
    assert shown in {before, f"{datetime.now(ZoneInfo(SITE_ZONE)):%H:%M}"}, shown
