import logging
import time

import pytest
from gpiozero.exc import GPIOPinInUse
from gpiozero.pins.mock import MockFactory

from devices.errors import BadLockerConfig, DeviceClosed
from devices.lockers.events import LockerEventKind
from devices.lockers.locker import Locker
from tests.devices.clock import FakeClock
from tests.fixtures.waiting import wait_until

RELAY, DOOR, LED = 17, 27, 22
PULSE, ALARM, GRACE = 0.05, 0.2, 0.05


@pytest.fixture
def locker(factory, events):
    """Locker 1 with its door shut, its event log and pin histories cleared."""
    with Locker(
        RELAY,
        DOOR,
        locker_id=1,
        led_pin=LED,
        pulse_seconds=PULSE,
        door_open_alarm_seconds=ALARM,
        forced_grace_seconds=GRACE,
        on_event=events,
    ) as locker:
        factory.pin(DOOR).drive_low()
        events.clear()
        factory.pin(RELAY).clear_states()
        factory.pin(LED).clear_states()
        yield locker


def states(pin):
    return [state.state for state in pin.states]


def assert_one_pulse(pin, seconds, *, released=False):
    """Check the pin made exactly one pulse of about ``seconds``.

    Our own check rather than MockPin.assert_states_and_times, which zips (so ignores extra
    states) and allows only 50 ms of lateness on a busy test machine.
    """
    wait_until(lambda: len(pin.states) >= 3, 2, "the end of the pulse")
    assert states(pin) == [released, not released, released]
    assert seconds - 0.005 <= pin.states[2].timestamp < seconds + 0.25


def test_a_new_locker_is_locked(factory, locker):
    relay = factory.pin(RELAY)
    assert relay.function == "output"
    assert relay.state is False  # active-high relay: pin low, coil unpowered
    assert not locker.is_unlocked
    assert repr(locker) == "<Locker 1 locked, door closed>"


def test_unlock_is_a_timed_pulse(factory, locker):
    relay, led = factory.pin(RELAY), factory.pin(LED)
    locker.unlock()
    assert locker.is_unlocked
    assert_one_pulse(relay, PULSE)
    assert_one_pulse(led, PULSE)
    assert not locker.is_unlocked


def test_an_active_low_relay_pulses_low(factory, events):
    with Locker(RELAY, DOOR, relay_active_high=False, pulse_seconds=PULSE) as locker:
        relay = factory.pin(RELAY)
        assert states(relay) == [False, True]  # read low as an input, then driven high: locked
        relay.clear_states()
        locker.unlock()
        assert locker.is_unlocked
        assert_one_pulse(relay, PULSE, released=True)


def test_unlocking_again_restarts_the_pulse_without_a_gap(factory, locker):
    relay = factory.pin(RELAY)
    locker.unlock(0.1)
    time.sleep(0.05)
    locker.unlock(0.1)
    assert_one_pulse(relay, 0.15)


def test_unlock_for_a_chosen_time(factory, locker):
    locker.unlock(0.15)
    assert_one_pulse(factory.pin(RELAY), 0.15)


def test_lock_ends_the_pulse_at_once(factory, locker):
    locker.unlock(5.0)
    locker.lock()
    assert not locker.is_unlocked
    assert states(factory.pin(RELAY)) == [False, True, False]
    assert states(factory.pin(LED)) == [False, True, False]


@pytest.mark.parametrize("active_high", [True, False])
def test_close_during_a_pulse_leaves_the_relay_released(factory, active_high):
    locker = Locker(RELAY, DOOR, led_pin=LED, relay_active_high=active_high, pulse_seconds=5.0)
    relay = factory.pin(RELAY)
    relay.clear_states()  # forget the input reading before the pin became an output
    locker.unlock()
    started = time.monotonic()
    locker.close()
    assert time.monotonic() - started < 1
    released = not active_high
    assert states(relay) == [released, not released, released]
    assert factory.pin(LED).state is False
    time.sleep(0.05)
    assert len(relay.states) == 3  # and nothing turned it back on


def test_close_is_safe_twice_and_frees_the_pins(factory):
    locker = Locker(RELAY, DOOR, led_pin=LED)
    locker.close()
    locker.close()
    assert locker.closed
    assert repr(locker) == "<Locker 17 closed>"  # the relay pin is the default id
    with Locker(RELAY, DOOR, led_pin=LED) as again:
        assert not again.is_unlocked


def test_a_closed_locker_refuses_to_unlock(locker):
    locker.close()
    with pytest.raises(DeviceClosed, match="locker 1 is closed"):
        locker.unlock()
    with pytest.raises(DeviceClosed):
        locker.is_unlocked  # noqa: B018
    with pytest.raises(DeviceClosed):
        locker.lock()


def test_opening_during_the_pulse_is_door_opened_and_relocks(factory, locker, events):
    locker.unlock(5.0)
    before = time.monotonic()
    factory.pin(DOOR).drive_high()
    assert events.kinds == ["door_opened"]
    event = events.events[0]
    assert event.locker_id == 1
    assert before <= event.at <= time.monotonic()
    assert not locker.is_unlocked  # the latch re-engages when the door is shut
    assert locker.door_open


def test_without_relock_on_open_the_pulse_runs_its_course(factory, events):
    with Locker(RELAY, DOOR, pulse_seconds=0.1, relock_on_open=False, on_event=events) as locker:
        factory.pin(DOOR).drive_low()
        locker.unlock()
        factory.pin(DOOR).drive_high()
        assert locker.is_unlocked
        wait_until(lambda: not locker.is_unlocked, 2, "the end of the pulse")
        assert events.kinds == ["door_closed", "door_opened"]


def test_closing_the_door_is_door_closed(factory, locker, events):
    locker.unlock()
    factory.pin(DOOR).drive_high()
    factory.pin(DOOR).drive_low()
    assert events.kinds == ["door_opened", "door_closed"]
    assert not locker.door_open


def test_opening_with_no_pulse_is_door_forced(factory, locker, events):
    factory.pin(DOOR).drive_high()
    assert events.kinds == ["door_forced"]
    assert events.events[0].kind is LockerEventKind.DOOR_FORCED


def test_opening_after_the_pulse_and_its_grace_is_door_forced(factory, events):
    clock = FakeClock()
    with Locker(
        RELAY, DOOR, pulse_seconds=PULSE, forced_grace_seconds=GRACE, on_event=events, clock=clock
    ) as locker:
        factory.pin(DOOR).drive_low()
        locker.unlock()
        clock.advance(PULSE + GRACE + 0.05)
        factory.pin(DOOR).drive_high()
    assert events.kinds == ["door_closed", "door_forced"]


def test_opening_within_the_grace_after_the_pulse_is_door_opened(factory, events):
    with Locker(RELAY, DOOR, pulse_seconds=PULSE, forced_grace_seconds=1.0, on_event=events) as lk:
        factory.pin(DOOR).drive_low()
        lk.unlock()
        wait_until(lambda: not lk.is_unlocked, 2, "the end of the pulse")
        factory.pin(DOOR).drive_high()
        assert events.kinds == ["door_closed", "door_opened"]


def test_a_door_standing_open_raises_door_left_open_once(factory, locker, events):
    locker.unlock()
    factory.pin(DOOR).drive_high()
    opened = events.events[0]
    left_open = events.wait_for("door_left_open", timeout=2)
    assert ALARM - 0.005 <= left_open.at - opened.at < ALARM + 0.5
    wait_until(lambda: len(factory.pin(LED).states) >= 5, 2, "the alarm LED blinking")
    factory.pin(DOOR).drive_low()
    assert events.kinds == ["door_opened", "door_left_open", "door_closed"]
    assert factory.pin(LED).state is False


def test_a_door_shut_in_time_raises_no_alarm(factory, locker, events):
    locker.unlock()
    factory.pin(DOOR).drive_high()
    factory.pin(DOOR).drive_low()
    time.sleep(ALARM + 0.1)
    assert events.kinds == ["door_opened", "door_closed"]


def test_a_door_found_open_at_start_raises_only_the_alarm(factory, events):
    with Locker(RELAY, DOOR, door_open_alarm_seconds=ALARM, on_event=events) as locker:
        assert locker.door_open  # the pull-up reads a door with no magnet as open
        events.wait_for("door_left_open")
        assert events.kinds == ["door_left_open"]


def test_a_failing_on_event_is_logged_and_the_locker_carries_on(factory, locker, caplog):
    def broken(event):
        raise RuntimeError("kiosk bug")

    locker.on_event = broken
    factory.pin(DOOR).drive_high()
    factory.pin(DOOR).drive_low()
    failures = [r for r in caplog.records if "on_event failed" in r.getMessage()]
    assert len(failures) == 2
    assert any(
        r.levelno == logging.WARNING and "door_forced" in r.getMessage() for r in caplog.records
    )


def test_an_explicit_pin_factory_is_used(factory):
    own = MockFactory()
    with Locker(RELAY, DOOR, pin_factory=own, pulse_seconds=5.0) as locker:
        locker.unlock()
        assert own.pin(RELAY).state is True
        assert factory.pin(RELAY).function == "input"  # the global factory was not touched
    own.reset()
    own.close()


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"pulse_seconds": 0}, "pulse_seconds must be a positive"),
        ({"door_open_alarm_seconds": -1}, "door_open_alarm_seconds must be a positive"),
        ({"forced_grace_seconds": -0.1}, "forced_grace_seconds must be >= 0"),
    ],
)
def test_bad_timings_are_refused(factory, settings, complaint):
    with pytest.raises(BadLockerConfig, match=complaint) as caught:
        Locker(RELAY, DOOR, **settings)
    assert isinstance(caught.value, ValueError)


def test_a_bad_unlock_time_is_refused(locker):
    with pytest.raises(ValueError, match="seconds must be a positive"):
        locker.unlock(0)
    assert not locker.is_unlocked


def test_a_failed_construction_frees_the_pins_it_took(factory):
    with pytest.raises(GPIOPinInUse):
        Locker(RELAY, RELAY)
    with Locker(RELAY, DOOR) as locker:
        assert not locker.is_unlocked


def test_a_pulse_is_capped_at_the_coils_limit(factory, caplog):
    with Locker(RELAY, DOOR, pulse_seconds=PULSE, max_pulse_seconds=0.1) as locker:
        relay = factory.pin(RELAY)
        relay.clear_states()
        locker.unlock(60)
        assert_one_pulse(relay, 0.1)
    assert "the coil's cap is 0.1 s" in caplog.text


def test_a_pulse_longer_than_the_cap_is_a_bad_config(factory):
    with pytest.raises(BadLockerConfig, match="above the coil's cap of 30.0 s"):
        Locker(RELAY, DOOR, pulse_seconds=45)


def test_the_grace_after_a_pulse_runs_on_the_lockers_clock(factory, events):
    clock = FakeClock()
    with Locker(
        RELAY, DOOR, pulse_seconds=5.0, forced_grace_seconds=1.0, on_event=events, clock=clock
    ) as locker:
        factory.pin(DOOR).drive_low()
        locker.unlock()
        locker.lock()
        clock.advance(0.9)
        factory.pin(DOOR).drive_high()
        factory.pin(DOOR).drive_low()
        clock.advance(1.2)  # past the grace: no sleep needed
        factory.pin(DOOR).drive_high()
    assert events.kinds == ["door_closed", "door_opened", "door_closed", "door_forced"]
