"""Fixtures for the lockers: gpiozero's MockFactory per test, and a recorder of locker events."""

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from tests.devices.lockers.recorder import EventLog


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch):
    factory = MockFactory()
    monkeypatch.setattr(Device, "pin_factory", factory)
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture
def events() -> EventLog:
    return EventLog()
