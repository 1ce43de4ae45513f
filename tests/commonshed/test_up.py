"""The whole system, started by `commonshed up` as separate processes, through real browsers.

The users' day: a member borrows a drill at kiosk 1 and returns it "needs repair" at kiosk 2;
the steward sees it; a fixer logs the repair at the kiosk; the steward approves the hours; the
fixer's balance shows them; a volunteer books the laser cutter on the tablet and checks in
with a card tap. Real Mosquitto, real hub ingest and web (waitress), real kiosk processes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from broker.runner import free_port
from hub.bulk.demo import DEMO_PIN, DEMO_STEWARD_PASSWORD, demo_uid
from tests.fixtures.browser import screenshot
from tests.fixtures.waiting import wait_until

BORROWER = demo_uid(5)  # Amina Haddad, member 1006
FIXER = demo_uid(4)  # Kofi Nakamura, member 1005
VOLUNTEER = ("1004", demo_uid(3))  # Mary Moreau, a volunteer with the laser induction

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class System:
    web: str
    kiosks: tuple[str, str]
    data: Path


@pytest.fixture(scope="module")
def system(tmp_path_factory) -> Iterator[System]:
    """Run `commonshed up` on free ports in a fresh data dir; Ctrl-C it afterwards."""
    data = tmp_path_factory.mktemp("up") / "data"
    web, mqtt, kiosk = free_port(), free_port(), _two_free_ports()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commonshed",
            "up",
            "--data-dir",
            str(data),
            "--web-port",
            str(web),
            "--mqtt-port",
            str(mqtt),
            "--kiosk-port",
            str(kiosk),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    said = _Transcript(process)
    try:
        running = System(
            f"http://127.0.0.1:{web}",
            (f"http://127.0.0.1:{kiosk}", f"http://127.0.0.1:{kiosk + 1}"),
            data,
        )
        said.wait_for("Commonshed is running")
        for url in (running.web + "/healthz", *(k + "/api/screen" for k in running.kiosks)):
            _wait_for_url(url)
    except AssertionError as error:
        _stop(process, said)
        raise AssertionError(f"{error}\n--- commonshed up said:\n{said.tail()}") from None
    try:
        yield running
    finally:
        _stop(process, said)
    assert process.returncode == 0, said.tail()


class _Transcript:
    """Read everything `commonshed up` prints, in a thread, so its pipe never fills.

    NOTE: a full pipe blocks every thread of `up` that logs, the web server's included.
    """

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        with process.stdout:
            for line in process.stdout:
                self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 240.0) -> None:
        def said_it() -> bool:
            if any(text in line for line in self.lines):
                return True
            if not self._reader.is_alive():  # the pipe closed: `up` ended without saying it
                raise AssertionError(f"commonshed up ended before saying {text!r}")
            return False

        wait_until(said_it, timeout, f"commonshed up to say {text!r}")

    def finish(self, timeout: float = 30.0) -> None:
        self._reader.join(timeout)

    def tail(self, characters: int = 3000) -> str:
        return "".join(self.lines)[-characters:]


def _stop(process: subprocess.Popen, said: _Transcript) -> None:
    """Ctrl-C `commonshed up` once (it stops every part), or kill it after 30 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        raise
    finally:
        said.finish()


def _page(browser: Browser, url: str, **options) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    return page


def test_a_day_at_the_tool_shed_and_the_makerspace(system: System, browser: Browser):
    kiosk_1, kiosk_2 = (_page(browser, url + "/") for url in system.kiosks)
    borrow_drill(kiosk_1)
    return_drill_needing_repair(kiosk_2)
    steward = sign_in_steward(browser, system.web)
    expect(steward.locator("body")).to_contain_text("DRILL-1", timeout=30_000)
    expect(steward.locator("body")).to_contain_text("stick", timeout=30_000)  # the note
    _shot(steward, "e2e-steward-front")
    log_repair(kiosk_2)
    approve_repair(steward)
    balance = fixer_balance(steward, "1005")
    assert balance == "1.50", balance
    book_and_check_in(browser, system.web)


def borrow_drill(kiosk: Page) -> None:
    """The borrower taps at kiosk 1, takes the drill from locker 1 and shuts the door."""
    _wait_online(kiosk)
    kiosk.click(f"#sim-cards button[data-uid='{BORROWER}']")
    expect(kiosk.locator("#title")).to_have_text(re.compile("Hello"))
    kiosk.click("button[data-action='borrow'][data-slot='1']")
    expect(kiosk.locator("#title")).to_have_text("Locker 1 is open")
    _door(kiosk, 1, "Open door")
    _door(kiosk, 1, "Shut door")
    expect(kiosk.locator("#title")).to_have_text("Thank you!")
    _wait_backlog_empty(kiosk)


def return_drill_needing_repair(kiosk: Page) -> None:
    """At kiosk 2 the borrower puts the drill into the empty locker 8: it needs repair."""
    _wait_online(kiosk)
    offer = kiosk.locator("button[data-action='return']", has_text="DRILL-1")
    # the hub's new allow-list (with the loan) reaches kiosk 2 within a second
    wait_until(
        _offered(kiosk, BORROWER, offer, "return"),
        30,
        "kiosk 2 offering to take DRILL-1 back",
        interval=0.5,
    )
    offer.click()
    kiosk.click("button[data-answer='needs_repair']")
    kiosk.fill("#note", "Chuck does not grip; bits stick")
    kiosk.click("button[data-send='return']")
    expect(kiosk.locator("#title")).to_have_text("Locker 8 is open")
    _door(kiosk, 8, "Open door")
    _door(kiosk, 8, "Shut door")
    _wait_backlog_empty(kiosk)
    _shot(kiosk, "e2e-kiosk-2-return")


def log_repair(kiosk: Page) -> None:
    """The fixer taps at kiosk 2, where the drill now lives, and logs 1.5 hours."""
    offer = kiosk.locator("button[data-action='repair'][data-tool='DRILL-1']")
    # kiosk 2's new config (the drill lives here now) arrives within a second
    wait_until(
        _offered(kiosk, FIXER, offer, "repair"),
        30,
        "kiosk 2 offering to log DRILL-1's repair",
        interval=0.5,
    )
    offer.click()
    kiosk.click("button[data-hours='1.5']")
    kiosk.fill("#note", "Cleaned and re-greased the chuck")
    kiosk.click("button[data-send='repair']")
    expect(kiosk.locator("#message")).to_contain_text("1.5")
    _wait_backlog_empty(kiosk)


def sign_in_steward(browser: Browser, web: str) -> Page:
    page = _page(browser, web + "/steward/")
    page.fill("#number", "1001")
    page.fill("#password", DEMO_STEWARD_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("What needs me")
    return page


def approve_repair(steward: Page) -> None:
    """The steward approves the fixer's pending claim (from the front page's list)."""
    claim = steward.locator("[data-claim]", has_text="DRILL-1").first
    expect(claim).to_be_visible(timeout=30_000)
    steward.once("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    claim.locator("button", has_text="Approve").click()
    expect(steward.locator(".flash")).to_contain_text("pprove")


def fixer_balance(steward: Page, number: str) -> str:
    """Read the fixer's balance from the open ledger."""
    steward.goto(steward.url.split("/steward")[0] + "/steward/ledger")
    row = steward.locator("tr", has_text=number).first
    return re.search(r"-?\d+\.\d\d", row.inner_text()).group(0)


def book_and_check_in(browser: Browser, web: str) -> None:
    """The volunteer books the laser cutter's next slot on the tablet, then taps their card."""
    tablet = _page(browser, web + "/tablet/enrol", has_touch=True)
    enrol_tablet(tablet, web)
    number, uid = VOLUNTEER
    tablet.fill("#number", number)
    tablet.fill("#pin", DEMO_PIN)
    tablet.locator("#pin").press("Enter")
    tablet.click("a.machine[href$='/machines/laser']")
    start = _bookable_now(tablet)
    tablet.click(f"a.slot.free[data-start='{start}']")
    tablet.click("#confirm-booking")
    expect(tablet.locator("body")).to_contain_text("Booked: Laser cutter")
    _shot(tablet, "e2e-tablet-booked")
    tablet.goto(web + "/tablet/")
    tablet.locator("form[action$='/leave'] button").first.click()
    tablet.fill("#card-uid", uid)
    tablet.locator("#card-uid").press("Enter")
    expect(tablet.locator("body")).to_contain_text("Checked in: Laser cutter")
    _shot(tablet, "e2e-tablet-checked-in")


def enrol_tablet(tablet: Page, web: str) -> None:
    """A steward signs in on the tablet, enrols it (cards are read only there) and signs out."""
    tablet.fill("#number", "1001")
    tablet.fill("#password", DEMO_STEWARD_PASSWORD)
    tablet.click("button[type=submit]")
    tablet.fill("#tablet-name", "Makerspace door")
    tablet.click("text=Enrol this browser as a tablet")
    expect(tablet.locator(".flash")).to_contain_text("is now tablet")
    tablet.click("text=Sign out (steward)")
    tablet.goto(web + "/tablet/")


def _bookable_now(tablet: Page) -> str:
    """Return the start of the free slot a tap can check in now (under way or within 10 min)."""
    now = datetime.now(UTC)
    for start in tablet.locator("a.slot.free").evaluate_all(
        "links => links.map(l => l.dataset.start)"
    ):
        begins = datetime.fromisoformat(start)
        if begins - now <= timedelta(minutes=9) and begins + timedelta(minutes=27) > now:
            return start
    raise AssertionError("no laser slot is free now; the demo makerspace is open all day")


def _offered(kiosk: Page, card: str, offer: Locator, tab: str) -> Callable[[], bool]:
    """Return a check that taps ``card``, opens the ``tab`` list and tells whether ``offer``
    shows (else taps Done)."""

    def tap_and_look() -> bool:
        kiosk.click(f"#sim-cards button[data-uid='{card}']")
        # NOTE: look only once the member's screen is drawn; counting straight after the tap
        # read the idle screen still showing, every time the kiosk answered a little late.
        expect(kiosk.locator("#title")).to_have_text(re.compile("Hello"))
        # The member's lists sit behind tabs ("Return" first for a member with loans).
        wanted_tab = kiosk.locator(f"button[data-tab='{tab}']")
        if wanted_tab.count():
            wanted_tab.click()
        if offer.count():
            return True
        kiosk.click("text=Done")
        expect(kiosk.locator("#title")).to_have_text(re.compile("Tap your card"))
        return False

    return tap_and_look


def _door(kiosk: Page, slot: int, label: str) -> None:
    kiosk.click(f".sim-locker[data-slot='{slot}'] button:has-text('{label}')")


def _wait_online(kiosk: Page) -> None:
    expect(kiosk.locator("body")).to_contain_text("Online", timeout=30_000)


def _wait_backlog_empty(kiosk: Page, timeout: float = 30.0) -> None:
    """Wait until the kiosk's outbox is empty: the hub acknowledged every event."""
    url = kiosk.url.rstrip("/") + "/api/screen"

    def backlog_empty() -> bool:
        with urllib.request.urlopen(url, timeout=5) as response:
            return '"backlog":0' in response.read().decode().replace(" ", "")

    wait_until(backlog_empty, timeout, f"the hub to acknowledge every event of {url}", interval=0.3)


def _shot(page: Page, name: str) -> None:
    screenshot(page, f"{name}.png", full_page=True)


def _two_free_ports() -> int:
    """Return a port p such that p and p + 1 are both free (one per simulated kiosk)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and _is_free(port + 1):
            return port
    raise RuntimeError("no two adjacent free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _wait_for_url(url: str, timeout: float = 180.0) -> None:
    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError as refused:
            refused.close()  # it holds the response's socket: an unclosed one warns at GC
            return False
        except OSError:
            return False

    wait_until(answers, timeout, f"{url} to answer", interval=0.3)
