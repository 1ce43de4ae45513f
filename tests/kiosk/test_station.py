"""The kiosk under supervision: a loop that fails is logged, retried, and goes on working; one
that keeps failing ends the process non-zero; a missing card reader is shown and reported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from broker import messages as wire
from broker.client import make_client
from broker.topics import Channel, kiosk_topic
from devices.rfid.mfrc522 import Mfrc522Reader
from hub.infra.db import reading
from hub.queries.fleet import fleet_health
from kiosk.screen import create_screen
from kiosk.screen.server import ScreenServer
from kiosk.simulation import SimulatedHardware
from kiosk.station import READER_PROBLEM, Station
from kiosk.supervisor import EXIT_GAVE_UP, Supervisor
from tests.fixtures.waiting import wait_until
from tests.kiosk.builders import ADA, a_config, an_allowlist, kiosk_settings
from tests.kiosk.harness import start_hub, stock_library

ROOT = Path(__file__).resolve().parents[2]


class Faults:
    """Make ``owner.name`` raise the next ``times`` calls, then behave again."""

    def __init__(self, monkeypatch, owner, name: str, times: int) -> None:
        self.left, self._real = times, getattr(owner, name)
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        if self.left > 0:
            self.left -= 1
            raise RuntimeError(f"injected fault ({self.left} left)")
        return self._real(*args, **kwargs)


def a_station(settings, hardware, **options) -> Station:
    station = Station(
        settings,
        reader=options.pop("reader", hardware.reader),
        pin_factory=hardware.factory,
        simulation=hardware,
        supervisor=Supervisor(backoff_initial=0.01, **options.pop("supervision", {})),
        **options,
    )
    return station


def stock(station: Station) -> Station:
    station.submit(lambda s: s.store.offer("allowlist", wire.encode(an_allowlist())))
    station.submit(lambda s: s.store.offer("config", wire.encode(a_config())))
    return station


@pytest.fixture
def hardware(tmp_path):
    hardware = SimulatedHardware(kiosk_settings(tmp_path / "kiosk").lockers)
    yield hardware
    hardware.close()


@pytest.fixture
def station(tmp_path, hardware):
    station = stock(a_station(kiosk_settings(tmp_path / "kiosk"), hardware, connect=False).start())
    yield station
    station.stop()


def test_a_tap_after_a_drawing_error_still_opens_the_locker(station, hardware, monkeypatch, caplog):
    client = create_screen(station).test_client()
    faults = Faults(monkeypatch, station.board, "show", times=2)
    client.post("/api/sim/tap", json={"uid": ADA})
    client.post("/api/actions/borrow", json={"slot": 1})
    assert faults.left == 0
    assert hardware.relay_pin(1).state  # the relay energised although the screen failed
    view = wait_until(lambda: station.board.view.get("title") == "Locker 1 is open", 5, "redraw")
    assert view
    failures = [r.getMessage() for r in caplog.records if "kiosk loop" in r.getMessage()]
    assert failures[0].startswith("kiosk loop kiosk-worker failed (1 of 5 in a row)")
    assert station.health().last_error.startswith("kiosk-worker: RuntimeError: injected fault")
    assert not station.supervisor.gave_up.is_set()


def test_a_screen_server_failure_is_retried_and_the_screen_still_serves(station, monkeypatch):
    screen = ScreenServer(
        create_screen(station), "127.0.0.1", 0, guard=station.supervisor.guard("kiosk-screen")
    )
    faults = Faults(monkeypatch, screen, "_serve_once", times=2)
    screen.start()
    try:
        with urllib.request.urlopen(f"{screen.url}/", timeout=10) as page:
            assert page.status == 200
        assert faults.left == 0
        assert station.supervisor.loops["kiosk-screen"].failures == 0
    finally:
        screen.stop()


def test_a_link_failure_is_retried_and_events_and_health_still_reach_the_broker(
    mosquitto, tmp_path, hardware, monkeypatch
):
    settings = kiosk_settings(tmp_path / "kiosk")
    mqtt = replace(
        settings.mqtt,
        host=mosquitto.host,
        port=mosquitto.port,
        password=mosquitto.credentials["kiosk-a"].password,
    )
    statuses = listen(mosquitto, kiosk_topic("test", "kiosk-a", Channel.STATUS))
    station = a_station(replace(settings, mqtt=mqtt), hardware, locks_safety="not_applicable")
    faults = Faults(monkeypatch, station.link, "_send", times=2)
    try:
        stock(station.start())
        hardware.tap(ADA)
        station.submit(lambda s: s.borrow(1))
        hardware.set_door(1, True)  # the loan is a fact once the door opens
        wait_until(lambda: station.link.figures.published >= 1, 10, "the loan event sent")
        assert faults.left == 0 and not station.supervisor.gave_up.is_set()
        status = wait_until(lambda: statuses and statuses[-1], 10, "a status")
        assert status["state"] == "online" and status["reader"] == "ok"
        assert status["locks_safety"] == "not_applicable"
        assert status["last_error"].startswith("kiosk-link: RuntimeError: injected fault")
        assert status["oldest_unacked_s"] >= 0  # no hub here: the loan waits for its ack
    finally:
        station.stop()
        statuses.client.loop_stop()
        statuses.client.disconnect()


class Heard(list):
    client: object


def listen(mosquitto, topic: str) -> Heard:
    """Collect the JSON payloads on ``topic`` as the hub would hear them."""
    heard = Heard()
    hub = mosquitto.credentials["hub"]
    client = make_client(
        "test-listener", hub.username, hub.password, host=mosquitto.host, port=mosquitto.port
    )
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, m: heard.append(json.loads(m.payload))
    client.loop_start()
    heard.client = client
    return heard


def test_a_missing_reader_is_shown_and_reported_and_recovers(
    chip,
    tmp_path,
    hardware,
):
    chip.disconnect(0x00)
    reader = Mfrc522Reader(poll_seconds=0.005, check_seconds=0.01)
    settings = kiosk_settings(tmp_path / "kiosk")
    station = stock(a_station(settings, hardware, reader=reader, connect=False).start())
    try:
        assert station.health().reader == "missing"
        wait_until(
            lambda: station.board.view["kiosk"]["reader_problem"] == READER_PROBLEM,
            5,
            "the screen saying the reader does not work",
        )
        chip.reconnect()
        wait_until(lambda: station.health().reader == "ok", 5, "the reader back")
        assert station.health().reader_reinitialised == 1
        wait_until(lambda: station.board.view["kiosk"]["reader_problem"] is None, 5, "all clear")
        chip.present(ADA)
        wait_until(lambda: station.board.view["state"] == "member", 5, "the card read")
    finally:
        station.stop()


def test_a_reader_reset_is_healed_without_a_word_on_the_screen(chip, tmp_path, hardware):
    reader = Mfrc522Reader(poll_seconds=0.005, check_seconds=0.01)
    station = stock(
        a_station(
            kiosk_settings(tmp_path / "kiosk"), hardware, reader=reader, connect=False
        ).start()
    )
    try:
        chip.brown_out()
        wait_until(lambda: station.health().reader_reinitialised == 1, 5, "the re-init")
        chip.present(ADA)
        wait_until(lambda: station.board.view["state"] == "member", 5, "the card read")
    finally:
        station.stop()


def test_a_reader_that_fails_to_open_finds_the_relays_driven_locked(tmp_path, hardware):
    def broken_reader():
        assert all(pin.state is False for pin in map(hardware.relay_pin, hardware.slots))
        assert hardware.relay_pin(1).function == "output"  # built, driven low: locked
        raise OSError("no /dev/spidev0.0")

    with pytest.raises(OSError, match="spidev"):
        a_station(kiosk_settings(tmp_path / "kiosk"), hardware, reader=broken_reader)


GIVE_UP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kiosk.cli import _serve
    from kiosk.simulation import SimulatedHardware
    from kiosk.station import Station
    from tests.kiosk.builders import kiosk_settings

    settings = kiosk_settings(Path(sys.argv[1]), max_loop_failures=3)
    hardware = SimulatedHardware(settings.lockers)
    station = Station(settings, reader=hardware.reader, pin_factory=hardware.factory,
                      simulation=hardware, connect=False)
    def broken(view):
        raise RuntimeError("the screen cannot be drawn")
    station.board.show = broken
    _serve(station)
    """
)


def test_a_loop_failing_n_times_in_a_row_ends_the_process_non_zero(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", GIVE_UP, str(tmp_path / "kiosk")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_GAVE_UP, done.stderr
    assert "kiosk loop kiosk-worker failed (3 of 3 in a row)" in done.stderr
    assert "gave up: loop kiosk-worker failed 3 times in a row" in done.stderr


def test_a_reader_failure_shows_at_the_hub_as_sick_with_an_alarm_and_clears(
    chip, mosquitto, sqlite_engine, tmp_path, hardware
):
    stock_library(sqlite_engine)
    hub = start_hub(sqlite_engine, mosquitto)
    settings = kiosk_settings(tmp_path / "kiosk")
    mqtt = replace(
        settings.mqtt,
        host=mosquitto.host,
        port=mosquitto.port,
        password=mosquitto.credentials["kiosk-a"].password,
    )
    reader = Mfrc522Reader(poll_seconds=0.005, check_seconds=0.01)
    station = a_station(
        replace(settings, mqtt=mqtt), hardware, reader=reader, locks_safety="not_applicable"
    )

    def kiosk_a():
        with reading(sqlite_engine) as session:
            return next(k for k in fleet_health(session) if k.kiosk.id == "kiosk-a")

    try:
        station.start()
        wait_until(lambda: kiosk_a().online and kiosk_a().status.reader == "ok", 20, "online")
        chip.disconnect(0xFF)
        sick = wait_until(lambda: (k := kiosk_a()).sick and k, 10, "the hub seeing it sick")
        assert sick.problems == ("card reader not working",)
        assert [a.kind for a in sick.open_alarms] == ["reader_missing"]
        chip.reconnect()
        well = wait_until(lambda: (k := kiosk_a()).healthy and k, 10, "the hub seeing it well")
        assert well.status.reader_reinitialised == 1
    finally:
        station.stop()
        hub.stop()
