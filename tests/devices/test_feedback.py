import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from devices.errors import DeviceClosed
from devices.feedback import Feedback
from tests.fixtures.waiting import wait_until

BUZZER, GREEN, RED = 12, 16, 20


@pytest.fixture
def factory(monkeypatch):
    factory = MockFactory()
    monkeypatch.setattr(Device, "pin_factory", factory)
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture
def feedback(factory):
    with Feedback(buzzer_pin=BUZZER, green_led_pin=GREEN, red_led_pin=RED) as feedback:
        yield feedback


def test_accept_beeps_once_and_lights_green(factory, feedback):
    feedback.accept()
    assert factory.pin(GREEN).state is True
    wait_until(lambda: len(factory.pin(BUZZER).states) == 3, 2, "one beep")
    factory.pin(BUZZER).assert_states([False, True, False])
    assert factory.pin(RED).state is False


def test_refuse_beeps_three_times_and_lights_red(factory, feedback):
    feedback.refuse()
    assert factory.pin(RED).state is True
    wait_until(lambda: len(factory.pin(BUZZER).states) == 7, 2, "three beeps")
    factory.pin(BUZZER).assert_states([False, True, False, True, False, True, False])
    assert factory.pin(GREEN).state is False


def test_refuse_puts_out_the_green_light(factory, feedback):
    feedback.accept()
    feedback.refuse()
    assert factory.pin(GREEN).state is False
    assert factory.pin(RED).state is True


def test_any_part_may_be_left_out(factory):
    with Feedback(red_led_pin=RED) as feedback:
        feedback.accept()
        feedback.refuse()
        assert factory.pin(RED).state is True


def test_close_silences_everything_and_is_safe_twice(factory, feedback):
    feedback.refuse()
    feedback.close()
    feedback.close()
    assert [factory.pin(pin).state for pin in (BUZZER, GREEN, RED)] == [False] * 3
    with pytest.raises(DeviceClosed):
        feedback.accept()
