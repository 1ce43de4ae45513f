"""Supervised door loops through the emulated ADS1115: four states, debounce and tamper."""

from __future__ import annotations

import pytest

from devices.errors import BadLockerConfig
from devices.lockers.ads1115 import Ads1115
from devices.lockers.bank import LockerBank
from devices.lockers.emulated_ads1115 import EmulatedAds1115
from devices.lockers.emulated_mcp23017 import EmulatedI2cBus
from devices.lockers.locker import Locker
from devices.lockers.supervised import LoopState, SupervisedDoor, Thresholds
from tests.devices.clock import FakeClock
from tests.fixtures.waiting import wait_until

# The loop's nominal voltages (hardware/build.md): 3.3 V over Rp = R1 = R2 = 4.7 kOhm.
LEVELS = {"shorted": 0.0, "closed": 1.65, "open": 2.2, "cut": 3.3}
RELAY = 17


def loop_volts(supply: float, rp: float, r1: float, r2: float, state: str) -> float:
    """The voltage at the ADC input for a loop in ``state``, from the resistor values."""
    loop = {"shorted": 0.0, "closed": r1, "open": r1 + r2, "cut": float("inf")}[state]
    return supply if loop == float("inf") else supply * loop / (rp + loop)


@pytest.fixture
def bus() -> EmulatedI2cBus:
    return EmulatedI2cBus()


@pytest.fixture
def adc(bus: EmulatedI2cBus) -> EmulatedAds1115:
    chip = bus.attach(EmulatedAds1115(0x48))
    chip.set_voltage(0, LEVELS["closed"])
    return chip


@pytest.fixture
def door(bus, adc) -> SupervisedDoor:
    return SupervisedDoor(Ads1115(bus, 0x48), 0, settle_reads=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def locker(factory, door, events, clock):
    with Locker(RELAY, door=door, locker_id=1, on_event=events, clock=clock) as locker:
        yield locker


def settle(door: SupervisedDoor, adc: EmulatedAds1115, state: str) -> None:
    adc.set_voltage(door.channel, LEVELS[state])
    for _ in range(door.settle_reads):
        door.poll()


@pytest.mark.parametrize("state", LEVELS)
def test_each_nominal_level_reads_as_its_state(bus, adc, state):
    adc.set_voltage(1, LEVELS[state])
    assert SupervisedDoor(Ads1115(bus, 0x48), 1).state == state


@pytest.mark.parametrize("state", ["closed", "open", "cut"])
@pytest.mark.parametrize("supply", [3.3 * 0.95, 3.3 * 1.05])
@pytest.mark.parametrize("tolerance", [-0.01, 0.01])
def test_the_thresholds_hold_1_percent_resistors_and_a_5_percent_supply(state, supply, tolerance):
    r_low, r_high = 4700 * (1 + tolerance), 4700 * (1 - tolerance)
    for rp, r in ((r_low, r_high), (r_high, r_low)):
        volts = loop_volts(supply, rp, r, r, state)
        assert Thresholds().classify(volts) == state, (supply, rp, r, volts)


def test_a_short_glitch_does_not_change_the_state(door, adc):
    adc.set_voltage(0, LEVELS["open"])
    door.poll()
    door.poll()
    adc.set_voltage(0, LEVELS["closed"])
    door.poll()
    adc.set_voltage(0, LEVELS["open"])
    door.poll()
    door.poll()
    assert door.state == "closed"  # never three open readings in a row
    door.poll()
    assert door.state == "open"


def test_closed_and_open_behave_as_a_plain_door_switch(locker, door, adc, events, clock):
    locker.unlock()
    settle(door, adc, "open")
    assert events.kinds == ["door_opened"] and locker.door_open
    settle(door, adc, "closed")
    assert events.kinds == ["door_opened", "door_closed"] and not locker.door_open
    clock.advance(locker.pulse_seconds + locker.forced_grace_seconds + 1)
    settle(door, adc, "open")  # no pulse now
    assert events.kinds == ["door_opened", "door_closed", "door_forced"]


@pytest.mark.parametrize("state", ["cut", "shorted"])
def test_a_cut_or_shorted_loop_locks_and_alarms(factory, locker, door, adc, events, state):
    locker.unlock()
    assert factory.pin(RELAY).state == 1
    settle(door, adc, state)
    assert door.state == state and door.tampered
    assert events.kinds == ["door_forced"]  # even during the pulse: tamper is never expected
    assert factory.pin(RELAY).state == 0 and not locker.is_unlocked
    assert locker.door_open  # a tampered loop cannot say the door is shut


def test_an_open_door_that_is_then_cut_alarms(locker, door, adc, events):
    locker.unlock()
    settle(door, adc, "open")
    settle(door, adc, "cut")
    assert events.kinds == ["door_opened", "door_forced"]


def test_a_shorted_loop_mended_and_shut_reports_the_door_closed(locker, door, adc, events):
    settle(door, adc, "shorted")
    settle(door, adc, "open")  # mended, door still open: it already read open
    assert events.kinds == ["door_forced"]
    settle(door, adc, "closed")
    assert events.kinds == ["door_forced", "door_closed"]


def test_cut_then_shorted_alarms_again(locker, door, adc, events):
    settle(door, adc, "cut")
    settle(door, adc, "shorted")
    assert events.kinds == ["door_forced", "door_forced"]


def test_a_lost_converter_locks_and_alarms_at_once_and_recovers(
    factory, bus, locker, door, adc, events, caplog
):
    locker.unlock()
    adc.silent = True
    door.poll()  # no debounce: an I2C error is not a bouncing reed
    door.poll()
    assert door.state == LoopState.NO_ADC and door.volts is None
    assert events.kinds == ["door_forced"]
    assert factory.pin(RELAY).state == 0
    assert sum("I2C error at ADS1115" in r.getMessage() for r in caplog.records) == 1
    adc.silent = False
    settle(door, adc, "closed")
    assert events.kinds == ["door_forced", "door_closed"]


def test_a_loop_found_cut_at_start_alarms_at_once(factory, bus, adc, events):
    adc.set_voltage(0, LEVELS["cut"])
    with Locker(RELAY, door=SupervisedDoor(Ads1115(bus, 0x48), 0), on_event=events) as locker:
        assert events.kinds == ["door_forced"] and locker.door_open


def test_a_locker_needs_a_door_pin_or_a_loop_not_both(factory, door):
    with pytest.raises(BadLockerConfig, match="not both"):
        Locker(RELAY, 27, door=door)
    with pytest.raises(BadLockerConfig, match="not neither"):
        Locker(RELAY)


def bank_config(door: object, **extra: object) -> dict[str, object]:
    return {"lockers": [{"slot": 1, "relay_pin": RELAY, "door": door, **extra}]}


def test_a_bank_polls_its_loops_and_reports_tamper(factory, bus, adc, events):
    opened: list[int] = []

    def open_i2c(number: int) -> EmulatedI2cBus:
        opened.append(number)
        return bus

    config = bank_config({"adc": "0x48", "channel": 0})
    with LockerBank.from_config(config, on_event=events, open_i2c=open_i2c) as bank:
        assert opened == [1] and len(bank.loops.doors) == 1
        adc.set_voltage(0, LEVELS["shorted"])
        wait_until(lambda: events.kinds == ["door_forced"], 5, "the shorted loop's alarm")
        adc.set_voltage(0, LEVELS["closed"])
        wait_until(lambda: "door_closed" in events.kinds, 5, "the mended loop's door_closed")
        assert not bank[1].door_open
    assert bus.closed


def test_a_bank_without_loops_opens_no_bus(factory, events):
    def open_i2c(number: int) -> EmulatedI2cBus:
        raise AssertionError("a bank of plain door switches opened an I2C bus")

    config = {"lockers": [{"slot": 1, "relay_pin": RELAY, "door_pin": 27}]}
    with LockerBank.from_config(config, on_event=events, open_i2c=open_i2c) as bank:
        assert bank.loops.doors == []


@pytest.mark.parametrize(
    ("door", "extra", "message"),
    [
        ({"adc": 0x20, "channel": 0}, {}, "not an ADS1115 address"),
        ({"adc": "forty", "channel": 0}, {}, "not an ADS1115 address"),
        ({"adc": 0x48, "channel": 4}, {}, "not an ADS1115 input 0-3"),
        ({"adc": 0x48}, {}, "not an ADS1115 input 0-3"),
        ({"adc": 0x48, "channel": 0, "pin": 3}, {}, "unknown keys pin"),
        ({"adc": 0x48, "channel": 0, "i2c_bus": -1}, {}, "not a bus number"),
        ("0x48", {}, "is not a table"),
        ({"adc": 0x48, "channel": 0}, {"door_pin": 27}, "not both"),
    ],
)
def test_a_bad_door_table_is_refused_naming_the_slot(factory, bus, adc, door, extra, message):
    with pytest.raises(BadLockerConfig, match=message):
        LockerBank.from_config(bank_config(door, **extra), open_i2c=lambda n: bus)


def test_two_doors_on_one_input_are_refused(factory, bus, adc):
    same = {"adc": 0x48, "channel": 2}
    config = {
        "lockers": [
            {"slot": 1, "relay_pin": 17, "door": same},
            {"slot": 2, "relay_pin": 22, "door": same},
        ]
    }
    with pytest.raises(BadLockerConfig, match="slot 2 door: ADS1115 0x48 AIN2 .* slot 1's"):
        LockerBank.from_config(config, open_i2c=lambda n: bus)
