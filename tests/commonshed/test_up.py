"""The whole system, started by `commonshed up` as separate processes, through real browsers.

The users' day: a member borrows a drill at kiosk 1 and returns it "needs repair" at kiosk 2;
the steward sees it; a fixer logs the repair at the kiosk; the steward approves the hours; the
fixer's balance shows them; a volunteer books the laser cutter on the tablet and checks in
with a card tap. Real Mosquitto, real hub ingest and web (waitress), real kiosk processes.

`commonshed up --sites 2`: a network of two sites, each with its own broker bridged to the
network's, and a tap at the second site's kiosk reaching the hub, also after its site broker
was killed (and restarted by `up`).
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

import click
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import select

from broker.runner import free_port
from commonshed.up import Part, Supervisor, demo_sites, parts, watch
from hub.bulk.demo import DEMO_PIN, DEMO_STEWARD_PASSWORD, demo_uid
from hub.infra import settings
from hub.infra.db import make_engine, reading
from hub.worker.inbox import InboxEvent
from tests.fixtures.browser import screenshot
from tests.fixtures.waiting import wait_until

BORROWER = demo_uid(5)  # Amina Haddad, member 1006
FIXER = demo_uid(4)  # Kofi Nakamura, member 1005
VOLUNTEER = ("1004", demo_uid(3))  # Mary Moreau, a volunteer with the laser induction

UNKNOWN_CARD = "DEADBEEF"
# A stand-in for a site broker that stops a second after it started listening on argv[1].
LISTEN_A_MOMENT = """
import socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
print("listening", flush=True)
time.sleep(1)
sys.exit(3)
"""  # on no allow-list: every tap of it is a refusal the hub records


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
    process = _start_up(data, web, mqtt, kiosk)
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


def _start_up(data: Path, web: int, mqtt: int, kiosk: int, *more: str) -> subprocess.Popen:
    """Run `commonshed up` on these ports (a free mail port too), saying all on a pipe."""
    return subprocess.Popen(
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
            "--mail-port",
            str(free_port()),
            *more,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


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


@pytest.mark.browser
@pytest.mark.slow
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
    return _free_ports_in_a_row(2)


def _free_ports_in_a_row(count: int) -> int:
    """Return a port p such that p, p + 1, ... p + count - 1 are all free."""
    for _ in range(50):
        port = free_port()
        if port + count <= 65536 and all(_is_free(port + n) for n in range(1, count)):
            return port
    raise RuntimeError(f"no {count} adjacent free ports")


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


# --- a network of sites (`commonshed up --sites N`) ----------------------------------------


def test_two_sites_start_each_site_broker_before_its_kiosks_which_connect_to_it(tmp_path):
    sites = demo_sites(tmp_path, 2, mqtt_port=18830)
    started = parts(tmp_path, "127.0.0.1", 8000, 18830, 8081, 8025, sites)
    assert [part.name for part in started] == [
        "mosquitto",
        "mail-sink",
        "hub-ingest",
        "hub-web",
        "mosquitto-north",
        "shed-1",
        "shed-2",
        "mosquitto-south",
        "south-1",
    ]
    by_name = {part.name: part for part in started}
    for site, port, kiosks in (
        ("north", 18831, ("shed-1", "shed-2")),
        ("south", 18832, ("south-1",)),
    ):
        broker = by_name[f"mosquitto-{site}"]
        assert broker.port == port and broker.restart  # `up` waits for it, and restarts it
        assert _option(broker, "--data-dir") == str(tmp_path / "sites" / site)
        assert _option(broker, "--port") == str(port)
        for kiosk_id in kiosks:
            kiosk = by_name[kiosk_id]
            assert _option(kiosk, "--mqtt-port") == str(port)
            assert _option(kiosk, "--broker-data-dir") == str(tmp_path / "sites" / site)
            assert _option(kiosk, "--site") == site
    assert _option(by_name["mosquitto"], "--port") == "18830" and not by_name["mosquitto"].restart
    assert _option(by_name["hub-ingest"], "--mqtt-port") == "18830"
    screens = [_option(by_name[k], "--screen-port") for k in ("shed-1", "shed-2", "south-1")]
    assert screens == ["8081", "8082", "8083"]


def test_one_site_is_the_kiosks_on_the_network_broker_as_before(tmp_path):
    assert demo_sites(tmp_path, 1, mqtt_port=18830) == []
    started = parts(tmp_path, "127.0.0.1", 8000, 18830, 8081)
    assert [part.name for part in started] == [
        "mosquitto",
        "mail-sink",
        "hub-ingest",
        "hub-web",
        "shed-1",
        "shed-2",
    ]
    for kiosk in started[-2:]:
        assert _option(kiosk, "--mqtt-port") == "18830"
        assert _option(kiosk, "--broker-data-dir") == str(tmp_path)
        assert _option(kiosk, "--site") == "north"
    assert not any(part.restart for part in started)


def test_a_site_broker_that_keeps_stopping_is_restarted_then_stops_the_demo(tmp_path):
    port = free_port()
    command = [sys.executable, "-c", LISTEN_A_MOMENT, str(port)]
    supervisor = Supervisor(tmp_path / "logs")
    try:
        supervisor.start(Part("mosquitto-south", command, port, restart=True))
        with pytest.raises(click.ClickException) as stopped:
            watch(supervisor)
    finally:
        supervisor.stop_all()
    log = tmp_path / "logs" / "mosquitto-south.log"
    assert stopped.value.message == f"mosquitto-south stopped (exit 3); see {log}"
    assert log.read_text().count("listening") == 4  # started, then restarted three times


def test_a_part_that_is_not_a_site_broker_stops_the_demo_at_once(tmp_path):
    port = free_port()
    supervisor = Supervisor(tmp_path / "logs")
    try:
        supervisor.start(Part("hub-web", [sys.executable, "-c", LISTEN_A_MOMENT, str(port)]))
        with pytest.raises(click.ClickException, match="hub-web stopped \\(exit 3\\)"):
            watch(supervisor)
    finally:
        supervisor.stop_all()
    assert (tmp_path / "logs" / "hub-web.log").read_text().count("listening") == 1


@pytest.mark.slow
def test_a_tap_at_the_second_site_reaches_the_hub_through_its_bridge(tmp_path):
    """`up --sites 2` on free ports: a tap at south-1 lands at the hub through south's broker
    and its bridge; south's broker SIGKILLed is restarted, and the next tap lands too."""
    data = tmp_path / "data"
    web, mqtt, kiosk = free_port(), _free_ports_in_a_row(3), _free_ports_in_a_row(3)
    process = _start_up(data, web, mqtt, kiosk, "--sites", "2")
    said = _Transcript(process)
    south_1 = f"http://127.0.0.1:{kiosk + 2}"
    engine = make_engine(settings.database_url(data))
    try:
        said.wait_for("Commonshed is running")
        assert f"Site south: broker 127.0.0.1:{mqtt + 2}" in said.tail()
        assert f"Kiosk south-1 screen + simulator  {south_1}/" in said.tail()
        _wait_for_url(south_1 + "/api/screen")
        _tap(south_1, UNKNOWN_CARD)
        wait_until(lambda: _events_of(engine, "south-1") == [0], 90, "south-1's tap at the hub")
        south_broker = int(re.search(r"Site south: broker \S+ \(pid (\d+)", said.tail()).group(1))
        os.kill(south_broker, signal.SIGKILL)  # south's box loses power
        said.wait_for("mosquitto-south stopped (exit -9")
        _tap(south_1, UNKNOWN_CARD)
        wait_until(lambda: _events_of(engine, "south-1") == [0, 1], 90, "the tap after the kill")
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- commonshed up said:\n{said.tail()}") from None
    finally:
        engine.dispose()
        _stop(process, said)
    assert process.returncode == 0, said.tail()
    assert _processes_using(data) == [], "a part of `commonshed up` outlived it"


def _option(part: Part, name: str) -> str:
    """Return the value given to option ``name`` in ``part``'s command."""
    return part.command[part.command.index(name) + 1]


def _tap(kiosk: str, uid: str) -> None:
    request = urllib.request.Request(
        kiosk + "/api/sim/tap",
        data=f'{{"uid": "{uid}"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _events_of(engine, kiosk_id: str) -> list[int]:
    with reading(engine) as session:
        query = select(InboxEvent.seq).where(InboxEvent.kiosk_id == kiosk_id)
        return sorted(session.exec(query).all())


def _processes_using(data: Path) -> list[str]:
    """Return the command lines of the processes running that mention ``data``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        if str(data) in command:
            found.append(command)
    return found
