"""``commonshed kiosk selftest`` on MockFactory pins, the emulated RC522 and a real Mosquitto."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from broker import messages as wire
from devices.rfid.mfrc522 import Mfrc522Reader
from kiosk.selftest import Timeouts, run_selftest
from tests.kiosk.builders import ADA, PINS, an_allowlist, kiosk_settings

SAFE = "not applicable (simulated pins)"


class Maker(threading.Thread):
    """The person commissioning the kiosk: follows the instructions the selftest prints (shuts
    a door it says is open) and, if ``opens``, opens each door whose lock clicks, then shuts it."""

    def __init__(self, factory: MockFactory, *, opens: bool = True) -> None:
        super().__init__(daemon=True)
        self.factory, self.opens = factory, opens
        self.stopping, self.opened, self.lines = threading.Event(), [], []

    def read(self, line: str) -> None:
        """Read one line of the selftest's output, and do what it asks."""
        self.lines.append(line)
        if asked := re.search(r"Locker (\d+): its door switch reads open; shut the door", line):
            door = {slot: door for slot, _, door in PINS}[int(asked.group(1))]
            self.factory.pin(door).drive_low()  # the magnet on its reed switch

    def run(self) -> None:
        while self.opens and not self.stopping.wait(0.01):
            for slot, relay, door in PINS:
                relay_on, door_open = self.factory.pin(relay).state, self.factory.pin(door).state
                if relay_on and not door_open:
                    self.factory.pin(door).drive_high()
                    self.opened.append(slot)
                elif door_open and not relay_on and slot in self.opened:
                    self.factory.pin(door).drive_low()


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture
def settings(mosquitto, tmp_path):
    settings = kiosk_settings(tmp_path / "kiosk")
    mqtt = replace(
        settings.mqtt,
        host=mosquitto.host,
        port=mosquitto.port,
        password=mosquitto.credentials["kiosk-a"].password,
    )
    return replace(settings, mqtt=mqtt)


def selftest(settings, factory, maker, **timeouts):
    return run_selftest(
        settings,
        open_reader=lambda: Mfrc522Reader(poll_seconds=0.005),
        safety=lambda: SAFE,
        pin_factory=factory,
        timeouts=Timeouts(**{"card": 5, "door": 5, "broker": 5, **timeouts}),
        say=maker.read,
    )


def test_a_well_built_kiosk_passes_every_check(settings, factory, mosquitto, chip):
    hub = mosquitto.connect("hub")
    hub.publish(
        mosquitto.topic("kiosk-a", "allowlist"), wire.encode(an_allowlist()), qos=1, retain=True
    ).wait_for_publish(5)
    chip.present(ADA)
    maker = Maker(factory)
    lines = maker.lines
    maker.start()
    try:
        report = selftest(settings, factory, maker)
    finally:
        maker.stopping.set()
        maker.join()
    assert report.passed, "\n".join(lines)
    passes = [line for line in lines if line.startswith("PASS")]
    assert passes[0] == f"PASS  lock safety: {SAFE}"
    assert "PASS  card reader: found (Mfrc522Reader, chip version 0x92)" in lines
    assert f"PASS  card read: {ADA}" in lines
    assert [line for line in lines if "door opened and shut" in line] == [
        f"PASS  locker {slot}: relay clicked, door opened and shut" for slot, _, _ in PINS
    ]
    assert "PASS  broker login as kiosk-a at 127.0.0.1" in lines
    assert any(line.startswith("PASS  allow-list: version") for line in lines)
    assert report.summary() == f"All {len(passes)} checks passed: this kiosk is ready."


def test_a_kiosk_with_faults_fails_each_and_says_what_to_check(settings, factory, chip):
    chip.disconnect(0xFF)  # no reader on the bus; nobody at the doors; no hub publishing
    maker = Maker(factory, opens=False)
    lines = maker.lines
    maker.start()
    try:
        report = selftest(settings, factory, maker, door=0.2, broker=0.5)
    finally:
        maker.stopping.set()
        maker.join()
    assert not report.passed
    fails = [line for line in lines if line.startswith("FAIL")]
    assert fails[0].startswith("FAIL  card reader: VersionReg reads 0xFF")
    assert "FAIL  locker 1: the door switch never read open (relay, lock, reed?)" in fails
    assert fails[-1] == "FAIL  allow-list: none within 0 s (is the hub running?)"
    assert all(factory.pin(relay).state is False for _, relay, _ in PINS)  # all locked again
    assert report.summary().endswith("checks failed: fix them and run selftest again.")


def test_a_wrong_password_fails_the_broker_login(settings, factory, chip):
    settings = replace(settings, mqtt=replace(settings.mqtt, password="not-it"))
    chip.present(ADA)
    maker = Maker(factory, opens=False)
    selftest(settings, factory, maker, door=0.2, broker=2)
    (login,) = [line for line in maker.lines if "broker login" in line]
    assert login.startswith("FAIL  broker login at 127.0.0.1:") and "refused" in login


def test_unsafe_gpio_settings_stop_the_selftest_before_any_relay_is_driven(settings, factory):
    def unsafe() -> str:
        raise RuntimeError("config.txt lacks dtparam=strict_gpiod")

    lines = []
    report = run_selftest(
        settings, open_reader=None, safety=unsafe, pin_factory=factory, say=lines.append
    )
    assert lines == ["FAIL  lock safety: config.txt lacks dtparam=strict_gpiod"]
    assert not report.passed
    assert all(factory.pin(relay).function == "input" for _, relay, _ in PINS)
