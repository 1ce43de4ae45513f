"""Lockers on MCP23017 expanders, through the register-level emulation of the chip and its bus."""

from __future__ import annotations

import logging

import pytest

from devices.errors import BadLockerConfig
from devices.lockers.bank import LockerBank
from devices.lockers.emulated_mcp23017 import (
    GPPU,
    IOCON,
    IODIR,
    OLAT,
    EmulatedI2cBus,
    EmulatedMcp23017,
    pin_number,
)
from devices.lockers.mcp23017 import IOCON_SETUP, ExpanderBus
from tests.fixtures.waiting import wait_until

FIRST = 0x20


def wait(condition, what: str = "the emulated chip to get there"):
    return wait_until(condition, 5, what)


def relay_and_door(n: int) -> tuple[str, str]:
    """The pins of a chip's nth locker (0-7) in the documented layout: per port, doors on 0-3
    and relays on 4-7 (GPA7/GPB7 are outputs only)."""
    port, k = "AB"[n // 4], n % 4
    return f"GP{port}{k + 4}", f"GP{port}{k}"


def relay(n: int) -> str:
    """The relay pin of a chip's locker ``n`` (1-8)."""
    return relay_and_door(n - 1)[0]


def door(n: int) -> str:
    """The door pin of a chip's locker ``n`` (1-8)."""
    return relay_and_door(n - 1)[1]


def expander_bank(address: int, first_slot: int, **extra: object) -> dict[str, object]:
    """Eight lockers on one chip, as hardware/wiring-16.md wires them."""
    slots = [
        {
            "slot": first_slot + n,
            "relay_pin": relay_and_door(n)[0],
            "door_pin": relay_and_door(n)[1],
        }
        for n in range(8)
    ]
    return {"backend": "mcp23017", "i2c_bus": 1, "address": address, "slots": slots, **extra}


def chips_on(bus: EmulatedI2cBus, count: int) -> list[EmulatedMcp23017]:
    """Attach ``count`` chips (0x20 up) with every door shut."""
    chips = [bus.attach(EmulatedMcp23017(FIRST + n)) for n in range(count)]
    for chip in chips:
        for n in range(8):
            chip.set_input(relay_and_door(n)[1], low=True)
    return chips


def build(bus: EmulatedI2cBus, chips: int, events, **settings: object) -> LockerBank:
    banks = [expander_bank(FIRST + n, 1 + 8 * n) for n in range(chips)]
    return LockerBank.from_config(
        {"banks": banks, **settings}, open_i2c=lambda number: bus, on_event=events
    )


@pytest.fixture
def bus() -> EmulatedI2cBus:
    return EmulatedI2cBus()


@pytest.fixture
def chip(bus) -> EmulatedMcp23017:
    return chips_on(bus, 1)[0]


@pytest.fixture
def bank(bus, chip, events):
    with build(bus, 1, events, pulse_seconds=0.05) as bank:
        yield bank


def expander(bank: LockerBank) -> ExpanderBus:
    return bank.expanders.buses[1]


# --- set-up: fail-secure from the first write --------------------------------------------------


def test_a_chip_powers_on_with_every_pin_an_input():
    chip = EmulatedMcp23017()
    assert [chip.output(n) for n in range(16)] == [None] * 16
    assert chip.registers[IODIR] == chip.registers[IODIR + 1] == 0xFF


def test_setup_writes_the_latch_before_it_makes_a_relay_pin_an_output(bus, chip, bank):
    writes = [(register, value) for _, register, value in bus.writes]
    first_output = next(i for i, (reg, val) in enumerate(writes) if reg == IODIR and val != 0xFF)
    assert (OLAT, 0) in writes[:first_output]
    assert all(value == 0 for reg, value in writes if reg == OLAT)  # nothing ever unlocked
    assert [chip.output(relay(n)) for n in range(1, 9)] == [False] * 8  # driven, released
    assert [chip.output(door(n)) for n in range(1, 9)] == [None] * 8  # doors stay inputs
    assert chip.registers[GPPU] == chip.registers[GPPU + 1] == 0x0F  # the doors' pull-ups
    assert chip.registers[IOCON] == IOCON_SETUP


def test_the_doors_are_read_at_start(bus, events):
    chip = chips_on(bus, 1)[0]
    chip.set_input(door(3), low=False)  # locker 3 stands open
    with build(bus, 1, events, door_open_alarm_seconds=60) as bank:
        assert bank[3].door_open and not bank[2].door_open


# --- pulses and doors -------------------------------------------------------------------------


def test_unlock_pulses_only_that_lockers_relay(chip, bank):
    bank.unlock(3, 5.0)
    wait(lambda: chip.output(relay(3)) is True, "relay 3 energised")
    assert [chip.output(relay(n)) for n in (1, 2, 4, 5, 6, 7, 8)] == [False] * 7
    bank[3].lock()
    assert chip.output(relay(3)) is False


def test_a_pulse_ends_by_itself(chip, bank):
    bank.unlock(1)
    wait(lambda: chip.output(relay(1)) is True, "relay 1 energised")
    wait(lambda: chip.output(relay(1)) is False)
    assert not bank[1].is_unlocked


def test_a_door_opened_during_a_pulse_is_opened_and_relocks(chip, bank, events):
    bank.unlock(1, 5.0)
    chip.set_input(door(1), low=False)
    assert events.wait_for("door_opened").locker_id == 1
    assert chip.output(relay(1)) is False  # relock_on_open
    chip.set_input(door(1), low=True)
    assert events.wait_for("door_closed").locker_id == 1


def test_a_door_opened_without_a_pulse_is_forced(chip, bank, events):
    chip.set_input(door(6), low=False)
    assert events.wait_for("door_forced").locker_id == 6
    assert events.kinds == ["door_forced"]


def test_close_releases_a_running_pulse_and_closes_the_bus(bus, chip, bank):
    bank.unlock(2, 30.0)
    wait(lambda: chip.output(relay(2)) is True, "relay 2 energised")
    bank.close()
    assert chip.output(relay(2)) is False
    assert chip.registers[OLAT] == 0
    assert bus.closed
    bank.close()  # twice is fine


# --- I2C errors and resets --------------------------------------------------------------------


def test_a_lost_chip_releases_every_relay_that_answers_and_its_doors_alarm(bus, events):
    first, second = chips_on(bus, 2)
    with build(bus, 2, events) as bank:
        bank.unlock(1, 30.0)  # NOTE: a pulse running on the lost chip would say door_opened
        wait(lambda: first.output(relay(1)) is True, "relay 1 energised")
        second.silent = True
        for slot in range(9, 17):  # every locker of the lost chip: the existing alarm
            wait(lambda slot=slot: (slot, "door_forced") in kinds_by_slot(events))
        assert first.output(relay(1)) is False  # the chip that answers is locked too
        assert not any(slot < 9 for slot, _ in kinds_by_slot(events))
        assert expander(bank).faults >= 1


def test_a_chip_that_answers_again_is_set_up_and_its_doors_close(bus, events):
    first, second = chips_on(bus, 2)
    with build(bus, 2, events) as bank:
        second.silent = True
        wait(lambda: len(events.events) == 8)
        second.reset()  # it lost power: every register at its power-on value
        second.silent = False
        for slot in range(9, 17):
            wait(lambda slot=slot: (slot, "door_closed") in kinds_by_slot(events))
        assert second.output(relay(1)) is False and second.registers[IOCON] == IOCON_SETUP
        bank.unlock(12, 30.0)
        wait(lambda: second.output(relay(4)) is True, "relay 4 energised")


def test_a_broken_bus_locks_and_alarms_every_locker(bus, events, caplog):
    chips_on(bus, 2)
    with caplog.at_level(logging.DEBUG, "devices.lockers.mcp23017"), build(bus, 2, events):
        bus.broken = True
        wait(lambda: len(events.events) == 16)
        wait(lambda: expander_faults(caplog) >= 3)  # it keeps trying
        bus.broken = False
        wait(lambda: len(events.events) == 32)
    assert sorted(kinds_by_slot(events)) == sorted(
        [(slot, "door_forced") for slot in range(1, 17)]
        + [(slot, "door_closed") for slot in range(1, 17)]
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "I2C error" in r.message]
    assert len(errors) == 2  # once per chip lost, not once per poll


def test_an_error_on_a_relay_write_locks_and_does_not_raise(bus, chip, bank, events):
    chip.silent = True
    bank.unlock(4, 30.0)  # the write fails inside gpiozero's pulse thread
    wait(lambda: len(events.events) == 8)
    chip.silent = False
    wait(lambda: len(events.events) == 16)
    assert chip.output(relay(4)) is False


def test_a_chip_reset_mid_pulse_is_set_up_again_locked(bus, chip, bank, events):
    bank.unlock(1, 30.0)
    wait(lambda: chip.output(relay(1)) is True, "relay 1 energised")
    before = len(bus.writes)
    chip.reset()  # every pin an input: only the pull-downs hold the relays off
    wait(lambda: expander(bank).resets == 1)
    assert chip.output(relay(1)) is False  # driven again, released: the pulse stays cut
    again = [(register, value) for _, register, value in bus.writes[before:]]
    assert again.index((OLAT, 0)) < next(i for i, (reg, _) in enumerate(again) if reg == IODIR)
    assert not bank[1].is_unlocked
    chip.set_input(door(2), low=False)
    assert events.wait_for("door_forced").locker_id == 2  # the doors are watched again


# --- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("chips", [2, 4], ids=["16 lockers", "32 lockers"])
def test_every_locker_of_a_wall_has_its_own_relay_and_door(bus, events, chips):
    emulated = chips_on(bus, chips)
    with build(bus, chips, events) as bank:
        assert bank.slots == tuple(range(1, 8 * chips + 1))
        for slot in bank.slots:
            chip, n = emulated[(slot - 1) // 8], (slot - 1) % 8
            bank.unlock(slot, 30.0)
            wait(lambda chip=chip, n=n: chip.output(relay(n + 1)) is True, "the relay energised")
            unlocked = [(c.address, p) for c in emulated for p in range(16) if c.output(p)]
            assert unlocked == [(chip.address, pin_number(relay(n + 1)))]
            chip.set_input(door(n + 1), low=False)
            wait(lambda slot=slot: (slot, "door_opened") in kinds_by_slot(events))
            chip.set_input(door(n + 1), low=True)
            wait(lambda slot=slot: (slot, "door_closed") in kinds_by_slot(events))
        assert "door_forced" not in events.kinds
        assert len(bank.expanders.buses) == 1  # one bus, one poll thread for every chip


def test_a_gpio_bank_and_an_expander_bank_together(bus, factory, events):
    chip = chips_on(bus, 1)[0]
    config = {
        "lockers": [{"slot": 1, "relay_pin": 17, "door_pin": 5}],
        "banks": [expander_bank(FIRST, 2)],
    }
    factory.pin(5).drive_low()
    with LockerBank.from_config(config, open_i2c=lambda n: bus, on_event=events) as bank:
        bank.unlock(1, 30.0)
        bank.unlock(2, 30.0)
        wait(lambda: factory.pin(17).state is True, "the GPIO relay energised")
        wait(lambda: chip.output(relay(1)) is True, "relay 1 energised")
        assert bank.slots == tuple(range(1, 10))


# --- config errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address": 0x28}, "address: 40 is not an MCP23017 address (0x20-0x27"),
        ({"address": "0x20"}, "address: '0x20' is not an MCP23017 address"),
        ({"i2c_bus": -1}, "i2c_bus: -1 is not a bus number"),
        ({"backend": "pcf8574"}, "backend: 'pcf8574' is not one of gpio, mcp23017"),
        ({"int_pin": 4}, "unknown keys int_pin"),
        ({"slots": []}, "slots: needs at least one locker"),
    ],
)
def test_a_bad_bank_is_named(bus, chip, change, message):
    bank = {**expander_bank(FIRST, 1), **change}
    with pytest.raises(BadLockerConfig, match=message.replace("(", r"\(")):
        LockerBank.from_config({"banks": [bank]}, open_i2c=lambda n: bus)


def test_an_address_used_twice_is_named(bus, chip):
    banks = [expander_bank(FIRST, 1), expander_bank(FIRST, 9)]
    with pytest.raises(BadLockerConfig, match="address: 0x20 on I2C bus 1 is used twice"):
        LockerBank.from_config({"banks": banks}, open_i2c=lambda n: bus)
    assert bus.closed  # nothing left open by a refused config


def test_active_low_relays_are_refused_on_an_expander(bus, chip):
    with pytest.raises(BadLockerConfig, match="must be active-high"):
        LockerBank.from_config(
            {"banks": [expander_bank(FIRST, 1)], "relay_active_high": False},
            open_i2c=lambda n: bus,
        )


def test_a_slot_on_two_banks_is_named(bus):
    chips_on(bus, 2)
    banks = [expander_bank(FIRST, 1), expander_bank(FIRST + 1, 8)]
    with pytest.raises(BadLockerConfig, match="slot 8 appears twice"):
        LockerBank.from_config({"banks": banks}, open_i2c=lambda n: bus)


def test_a_door_on_an_output_only_pin_is_refused(bus, chip):
    bank = expander_bank(FIRST, 1)
    bank["slots"] = [{"slot": 1, "relay_pin": "GPA0", "door_pin": "GPB7"}]
    with pytest.raises(BadLockerConfig, match="GPB7 is an output only"):
        LockerBank.from_config({"banks": [bank]}, open_i2c=lambda n: bus)
    assert chip.output("GPA0") is False  # the relay built before it: closed, released


def test_a_pin_that_is_not_on_the_chip_is_named(bus, chip):
    bank = expander_bank(FIRST, 1)
    bank["slots"] = [{"slot": 1, "relay_pin": "GPC0", "door_pin": "GPB0"}]
    with pytest.raises(BadLockerConfig, match="'GPC0' is not an MCP23017 pin"):
        LockerBank.from_config({"banks": [bank]}, open_i2c=lambda n: bus)


# --- helpers ----------------------------------------------------------------------------------


def kinds_by_slot(events) -> list[tuple[int, str]]:
    return [(event.locker_id, str(event.kind)) for event in list(events.events)]


def expander_faults(caplog) -> int:
    return sum("I2C error" in record.message for record in caplog.records)


def test_the_reset_line_is_high_while_the_kiosk_runs_and_falls_at_close(bus, factory):
    chips_on(bus, 2)
    banks = [expander_bank(FIRST + n, 1 + 8 * n, reset_pin=17) for n in range(2)]
    with LockerBank.from_config(
        {"banks": banks}, open_i2c=lambda n: bus, pin_factory=factory
    ) as bank:
        assert factory.pin(17).state is True  # one line for both chips
        assert list(bank.expanders.resets) == [17]
    assert factory.pin(17).state is False  # RESET low: the chips reset, every relay released


def test_a_chip_missing_at_start_is_logged_and_set_up_when_it_answers(bus, events, caplog):
    chip = chips_on(bus, 1)[0]
    chip.silent = True
    with caplog.at_level(logging.ERROR), build(bus, 1, events) as bank:
        assert "MCP23017 0x20 does not answer at start" in caplog.text
        assert all(locker.door_open for locker in bank)  # unknown reads as open, never as shut
        chip.silent = False
        wait(lambda: not any(locker.door_open for locker in bank), "the doors read shut")
        assert sorted(kinds_by_slot(events)) == [(slot, "door_closed") for slot in range(1, 9)]


def test_a_missing_i2c_bus_is_a_locker_error_that_says_what_to_check():
    from devices.errors import LockerError
    from devices.lockers.mcp23017 import open_smbus

    with pytest.raises(LockerError, match=r"cannot open /dev/i2c-99 .*dtparam=i2c_arm=on"):
        open_smbus(99)
