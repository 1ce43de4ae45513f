import time

import pytest
from gpiozero.exc import GPIOPinInUse

from devices.errors import BadLockerConfig, DeviceClosed, LockerError, UnknownLocker
from devices.lockers.bank import LockerBank
from devices.lockers.locker import Locker
from tests.fixtures.waiting import wait_until

CONFIG = [
    {"slot": 1, "relay_pin": 17, "door_pin": 27, "led_pin": None},
    {"slot": 2, "relay_pin": 18, "door_pin": 23, "led_pin": 24},
    {"slot": 3, "relay_pin": 5, "door_pin": 6, "pulse_seconds": 0.2},
]


@pytest.fixture
def bank(factory, events):
    with LockerBank(CONFIG, pulse_seconds=0.05, on_event=events) as bank:
        for door in (27, 23, 6):
            factory.pin(door).drive_low()
        events.clear()
        yield bank


def test_lockers_are_addressed_by_slot(bank):
    assert bank.slots == (1, 2, 3)
    assert len(bank) == 3
    assert 2 in bank and 4 not in bank
    assert all(isinstance(locker, Locker) for locker in bank)
    assert [locker.locker_id for locker in bank] == [1, 2, 3]


def test_unlock_pulses_only_that_slots_relay(factory, bank):
    bank.unlock(2)
    assert factory.pin(18).state is True
    assert factory.pin(24).state is True  # slot 2's LED
    assert factory.pin(17).state is False
    assert factory.pin(5).state is False
    wait_until(lambda: not bank[2].is_unlocked, 2, "slot 2 locked again")
    assert len(factory.pin(18).states) == 3


def test_bank_defaults_apply_unless_an_entry_overrides_them(bank):
    assert bank[1].pulse_seconds == 0.05
    assert bank[3].pulse_seconds == 0.2
    assert bank[1].door_open_alarm_seconds == 60.0


def test_events_carry_the_slot(factory, bank, events):
    bank.unlock(3)
    factory.pin(6).drive_high()
    factory.pin(27).drive_high()
    assert [(e.kind, e.locker_id) for e in events.events] == [
        ("door_opened", 3),
        ("door_forced", 1),
    ]


def test_on_event_can_be_replaced_for_every_locker(factory, bank, events):
    later = []
    bank.on_event = later.append
    factory.pin(23).drive_high()
    assert events.events == []
    assert [(e.kind, e.locker_id) for e in later] == [("door_forced", 2)]


def test_an_unknown_slot_is_a_clear_key_error(bank):
    with pytest.raises(UnknownLocker) as caught:
        bank[9]
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, LockerError)
    assert str(caught.value) == "there is no locker in slot 9"
    with pytest.raises(KeyError):
        bank.unlock(9)


@pytest.mark.parametrize("active_high", [True, False])
def test_close_leaves_every_lock_locked_even_mid_pulse(factory, active_high):
    bank = LockerBank(CONFIG, relay_active_high=active_high, pulse_seconds=5.0)
    lockers = list(bank)
    bank.unlock(1)
    bank.unlock(2)
    started = time.monotonic()
    bank.close()
    bank.close()
    assert time.monotonic() - started < 1
    assert [factory.pin(pin).state for pin in (17, 18, 5)] == [not active_high] * 3
    assert all(locker.closed for locker in lockers)
    with pytest.raises(DeviceClosed):
        bank[1]


def test_from_config_reads_bank_settings(factory):
    config = {"lockers": CONFIG[:1], "relay_active_high": False, "pulse_seconds": 2.5}
    with LockerBank.from_config(config) as bank:
        assert bank[1].pulse_seconds == 2.5
        assert factory.pin(17).state is True  # active-low relay, released


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"lockers": [], "pulse": 5}, "unknown locker-bank settings: pulse"),
        ({"pulse_seconds": 5}, "has no 'lockers' list"),
    ],
)
def test_from_config_refuses_a_malformed_config(factory, config, complaint):
    with pytest.raises(BadLockerConfig, match=complaint):
        LockerBank.from_config(config)


@pytest.mark.parametrize(
    ("lockers", "complaint"),
    [
        ([{"slot": 1, "relay_pin": 17}], "entry 0 lacks door_pin"),
        ([{"slot": 1, "relay_pin": 17, "door_pin": 27, "colour": "red"}], "unknown keys colour"),
        ([{"slot": "1", "relay_pin": 17, "door_pin": 27}], "slot '1'; a slot is a whole number"),
        ([{"slot": True, "relay_pin": 17, "door_pin": 27}], "a slot is a whole number"),
        (["slot 1"], "entry 0 is not a mapping"),
        (CONFIG[:1] + [{"slot": 1, "relay_pin": 5, "door_pin": 6}], "slot 1 appears twice"),
        (
            CONFIG[:1] + [{"slot": 2, "relay_pin": 5, "door_pin": 17}],
            "pin 17 is both slot 1's relay_pin and slot 2's door_pin",
        ),
    ],
)
def test_a_malformed_locker_entry_is_refused_before_any_pin_is_touched(factory, lockers, complaint):
    with pytest.raises(BadLockerConfig, match=complaint):
        LockerBank(lockers)
    assert factory.pins == {}


def test_a_locker_that_fails_to_build_frees_the_ones_built_before(factory):
    clash = CONFIG[:1] + [{"slot": 2, "relay_pin": "GPIO17", "door_pin": 6}]
    with pytest.raises(GPIOPinInUse):
        LockerBank(clash)
    with LockerBank(CONFIG) as bank:  # slot 1's pins were released
        assert not bank[1].is_unlocked
