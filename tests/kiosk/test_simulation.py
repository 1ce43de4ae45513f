"""A simulated kiosk with lockers on MCP23017 expanders runs on the emulated chips."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace

import pytest

from devices.lockers import LockerEventKind
from kiosk.config import load_settings
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.fixtures.waiting import wait_until
from tests.kiosk.expander_kiosk import SIXTEEN_LOCKERS
from tests.kiosk.harness import KioskProcess


@pytest.fixture
def hardware():
    hardware = SimulatedHardware(load_settings(SIXTEEN_LOCKERS).lockers)
    yield hardware
    hardware.close()


def test_the_sixteen_locker_config_runs_its_lockers_on_the_emulated_expanders(hardware, tmp_path):
    settings = load_settings(SIXTEEN_LOCKERS)
    settings = replace(settings, data_dir=tmp_path / "kiosk")
    station = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
        locks_safety="not_applicable",
    )
    events = []
    try:
        station.start()
        station.bank.on_event = lambda event: events.append((event.locker_id, event.kind))
        assert hardware.slots == tuple(range(1, 17))
        assert sorted(hardware.i2c_buses[1].chips) == [0x20, 0x21]
        station.bank.unlock(12, 5.0)
        assert [locker["slot"] for locker in hardware.lockers() if locker["unlocked"]] == [12]
        assert hardware.i2c_buses[1].chips[0x21].output("GPA7") is True  # slot 12's relay
        hardware.set_door(12, True)
        wait_until(lambda: (12, LockerEventKind.DOOR_OPENED) in events, 5, "door 12 opened")
        assert [locker["slot"] for locker in hardware.lockers() if locker["door_open"]] == [12]
    finally:
        station.stop()
    assert not any(locker["unlocked"] for locker in hardware.lockers())  # stopped: all locked


def test_kiosk_simulate_runs_the_sixteen_locker_config(mosquitto, tmp_path):
    kiosk = KioskProcess(
        mosquitto,
        tmp_path / "kiosk",
        tmp_path / "kiosk.log",
        "--config",
        str(SIXTEEN_LOCKERS),
    ).start()
    try:
        kiosk.door(16, True)
        with urllib.request.urlopen(f"{kiosk.url}/api/sim", timeout=5) as response:
            lockers = json.loads(response.read())["lockers"]
    finally:
        assert kiosk.stop() == 0
    assert [locker["slot"] for locker in lockers] == list(range(1, 17))
    assert [locker["slot"] for locker in lockers if locker["door_open"]] == [16]
    assert "LockerError" not in (tmp_path / "kiosk.log").read_text()


def test_a_supervised_loop_runs_on_the_emulated_adc_and_its_tamper_reaches_the_outbox(tmp_path):
    from kiosk.config import DEFAULT_CONFIG
    from kiosk.outbox import Outbox

    settings = load_settings(DEFAULT_CONFIG)
    entries = [dict(entry) for entry in settings.lockers["lockers"]]
    del entries[0]["door_pin"]
    entries[0]["door"] = {"adc": "0x48", "channel": 0}
    lockers = {**settings.lockers, "lockers": entries}
    settings = replace(settings, data_dir=tmp_path / "kiosk", lockers=lockers)
    hardware = SimulatedHardware(lockers)
    station = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
        locks_safety="not_applicable",
    )
    try:
        station.start()
        loop = station.bank[1].door_loop
        station.bank.unlock(1, 5.0)
        hardware.set_door(1, True)
        wait_until(lambda: loop.state == "open", 5, "door 1 read open")
        assert [locker["slot"] for locker in hardware.lockers() if locker["door_open"]] == [1]
        hardware.set_door(1, False)
        wait_until(lambda: loop.state == "closed", 5, "door 1 read shut")
        hardware.i2c_buses[1].chips[0x48].set_voltage(0, 0.0)  # the loop shorted
        wait_until(lambda: loop.state == "shorted", 5, "the short read")
    finally:
        station.stop()
        hardware.close()
    outbox = Outbox(settings.data_dir / "outbox.db", settings.kiosk_id)
    try:
        types = [json.loads(pending.payload)["type"] for pending in outbox.pending()]
    finally:
        outbox.close()
    assert types == ["door_opened", "door_closed", "door_forced"]
