import pytest

from devices.lockers.door import DoorSwitch

DOOR = 27


@pytest.fixture
def door(factory):
    with DoorSwitch(DOOR) as door:
        yield door


def test_the_switch_is_pulled_up(factory, door):
    assert factory.pin(DOOR).pull == "up"


def test_a_low_pin_is_a_closed_door(factory, door):
    factory.pin(DOOR).drive_low()
    assert door.door_closed
    assert not door.door_open


def test_a_high_pin_is_an_open_door_or_a_cut_wire(factory, door):
    factory.pin(DOOR).drive_low()
    factory.pin(DOOR).drive_high()
    assert door.door_open
    assert not door.door_closed


def test_the_door_callbacks_follow_the_pin(factory, door):
    seen = []
    door.when_door_opened = lambda: seen.append("opened")
    door.when_door_closed = lambda: seen.append("closed")
    factory.pin(DOOR).drive_low()
    factory.pin(DOOR).drive_high()
    assert seen == ["closed", "opened"]
