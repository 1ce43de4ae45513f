"""Fixtures for the card readers: a fake clock, and the emulated RC522 behind the real library."""

import sys

import pytest

from devices.rfid.emulated_rc522 import EmulatedGpio, EmulatedRc522, hardware_modules
from tests.devices.clock import FakeClock

MFRC522_MODULES = ("mfrc522", "mfrc522.MFRC522", "mfrc522.SimpleMFRC522")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gpio() -> EmulatedGpio:
    return EmulatedGpio()


@pytest.fixture
def chip(monkeypatch: pytest.MonkeyPatch, gpio: EmulatedGpio) -> EmulatedRc522:
    """Wire a fresh emulated RC522 under a freshly imported ``mfrc522`` library.

    The library binds ``spidev`` and ``RPi.GPIO`` when first imported, so it is imported anew
    for each test and forgotten afterwards; monkeypatch undoes every sys.modules change.
    """
    chip = EmulatedRc522()
    for name, module in hardware_modules(chip, gpio).items():
        monkeypatch.setitem(sys.modules, name, module)
    for name in MFRC522_MODULES:
        monkeypatch.setitem(sys.modules, name, None)  # remembers what to restore
        monkeypatch.delitem(sys.modules, name)
    return chip
