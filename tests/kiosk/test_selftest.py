"""``commonshed kiosk selftest`` on MockFactory pins, the emulated RC522 and a real Mosquitto."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from broker import messages as wire
from devices.lockers.emulated_ads1115 import EmulatedAds1115
from devices.lockers.emulated_mcp23017 import EmulatedI2cBus
from devices.rfid.mfrc522 import Mfrc522Reader
from kiosk.selftest import Timeouts, run_selftest
from tests.kiosk.builders import ADA, PINS, an_allowlist, kiosk_settings
from tests.kiosk.expander_kiosk import (
    ExpanderMaker,
    expanders_for,
    selftest_on_expanders,
    sixteen_locker_settings,
)
from tests.kiosk.loop_kiosk import LOOP_VOLTS, LoopMaker, loop_selftest

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


# --- lockers on MCP23017 expanders (kiosk/sixteen-lockers.toml) ---------------------------------


@pytest.fixture
def i2c():
    return EmulatedI2cBus()


@pytest.fixture
def sixteen(mosquitto, tmp_path):
    return sixteen_locker_settings(mosquitto, tmp_path / "kiosk")


def test_a_sixteen_locker_kiosk_finds_each_expander_and_tries_each_locker(
    sixteen, factory, i2c, mosquitto, chip
):
    hub = mosquitto.connect("hub")
    hub.publish(
        mosquitto.topic("kiosk-a", "allowlist"), wire.encode(an_allowlist()), qos=1, retain=True
    ).wait_for_publish(5)
    chip.present(ADA)
    doors = expanders_for(sixteen, i2c)
    with ExpanderMaker(doors) as maker:
        report = selftest_on_expanders(sixteen, factory, i2c, maker)
    lines = maker.lines
    assert report.passed, "\n".join(lines)
    relays = "PASS  lockers: 16 relays driven locked (8 on MCP23017 0x20, 8 on MCP23017 0x21)"
    assert relays in lines
    assert [line for line in lines if "expander" in line] == [
        "PASS  expander: MCP23017 at 0x20 on I2C bus 1 answers (lockers 1-8)",
        "PASS  expander: MCP23017 at 0x21 on I2C bus 1 answers (lockers 9-16)",
    ]
    assert [line for line in lines if "door opened and shut" in line] == [
        f"PASS  locker {slot}: relay clicked, door opened and shut" for slot in range(1, 17)
    ]
    assert sorted(maker.opened) == list(range(1, 17))  # each relay clicked, in turn
    assert all(door.chip.output(door.relay) is not True for door in doors.values())


def test_a_chip_not_answering_fails_by_address_and_no_locker_on_its_bus_is_tried(
    sixteen, factory, i2c, chip
):
    chip.present(ADA)
    doors = expanders_for(sixteen, i2c)
    i2c.chips[0x21].silent = True  # unpowered, or its SDA/SCL wire cut
    with ExpanderMaker(doors) as maker:
        report = selftest_on_expanders(sixteen, factory, i2c, maker, door=0.5, broker=0.5)
    fails = [line for line in maker.lines if line.startswith("FAIL")]
    assert not report.passed
    assert "PASS  expander: MCP23017 at 0x20 on I2C bus 1 answers (lockers 1-8)" in maker.lines
    assert fails[0] == (
        "FAIL  expander: MCP23017 at 0x21 on I2C bus 1 does not answer (its 3.3 V, GND, SDA/SCL "
        "wires, A2-A0 address jumpers? `i2cdetect -y 1` lists the chips found)"
    )
    assert fails[1:17] == [
        f"FAIL  locker {slot}: not tried: the MCP23017 at 0x21 on its I2C bus does not answer, "
        f"and every relay on that bus stays locked until it does"
        for slot in range(1, 17)
    ]
    assert maker.opened == []  # no relay was driven
    assert i2c.chips[0x20].output("GPA4") is not True


def test_a_door_switch_that_never_confirms_fails_its_locker_alone(sixteen, factory, i2c, chip):
    chip.present(ADA)
    doors = expanders_for(sixteen, i2c)
    with ExpanderMaker(doors, stuck_shut=frozenset({3}), left_open=frozenset({12})) as maker:
        report = selftest_on_expanders(sixteen, factory, i2c, maker, door=0.5, broker=0.5)
    lockers = [line for line in maker.lines if re.match(r"(PASS|FAIL)  locker ", line)]
    assert not report.passed
    assert lockers == [
        "FAIL  locker 3: the door switch never read open (relay, lock, reed?)"
        if slot == 3
        else "FAIL  locker 12: the door opened but its switch never read shut again"
        if slot == 12
        else f"PASS  locker {slot}: relay clicked, door opened and shut"
        for slot in range(1, 17)
    ]
    assert all(door.chip.output(door.relay) is not True for door in doors.values())


# --- a supervised door loop (ADS1115) ----------------------------------------------------------


def test_a_supervised_loop_reads_shut_opens_and_shows_a_short_and_a_cut(
    settings, factory, i2c, chip
):
    adc = i2c.attach(EmulatedAds1115(0x48))
    adc.set_voltage(0, LOOP_VOLTS["closed"])
    maker = LoopMaker(factory, adc)
    loop_selftest(settings, factory, maker, i2c)
    lines = maker.lines
    assert "PASS  door loop: locker 1 reads closed (1.65 V)" in lines, "\n".join(lines)
    assert "PASS  locker 1: relay clicked, door opened and shut" in lines
    assert "PASS  locker 1: door loop tamper seen: shorted and cut" in lines
    assert factory.pin(17).state is False


def test_a_loop_that_never_shows_tamper_fails_and_a_cut_loop_is_named(settings, factory, i2c, chip):
    adc = i2c.attach(EmulatedAds1115(0x48))
    adc.set_voltage(0, LOOP_VOLTS["closed"])
    maker = LoopMaker(factory, adc, tampers=False)
    loop_selftest(settings, factory, maker, i2c, door=0.5)
    assert "FAIL  locker 1: the door loop never read shorted (R1, R2, Rp?)" in maker.lines

    adc.set_voltage(0, LOOP_VOLTS["cut"])
    maker, again = LoopMaker(factory, adc, tampers=False), EmulatedI2cBus()  # the first closed
    again.attach(adc)
    loop_selftest(settings, factory, maker, again)
    assert (
        "FAIL  door loop: locker 1 reads cut (3.30 V): a loop wire is off or broken, or R2 is "
        "missing with the door open" in maker.lines
    )
    assert not any("relay clicked" in line for line in maker.lines)  # not tried
