import io
import sys

import pytest

from devices.errors import BadBackend
from devices.rfid import (
    KeyboardWedgeReader,
    Mfrc522Reader,
    SimulatedReader,
    open_reader,
)


def test_a_backend_is_picked_by_name():
    with open_reader("simulated", absent_seconds=1.0) as reader:
        assert isinstance(reader, SimulatedReader)
        assert reader.absent_seconds == 1.0
        assert not reader.running


def test_the_environment_picks_the_backend_when_the_config_does_not(monkeypatch):
    monkeypatch.setenv("COMMONSHED_CARD_READER", "keyboard_wedge")
    with open_reader(stream=io.StringIO()) as reader:
        assert isinstance(reader, KeyboardWedgeReader)


def test_the_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("COMMONSHED_CARD_READER", "keyboard_wedge")
    with open_reader("simulated") as reader:
        assert isinstance(reader, SimulatedReader)


def test_the_mfrc522_is_the_default(chip, monkeypatch):
    monkeypatch.delenv("COMMONSHED_CARD_READER", raising=False)
    with open_reader() as reader:
        assert isinstance(reader, Mfrc522Reader)
        chip.present("DEADBEEF")
        assert reader.read_uid() == "DEADBEEF"


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(BadBackend, match="choose one of keyboard_wedge, mfrc522, simulated"):
        open_reader("pn532")


def test_the_mfrc522_off_a_pi_is_a_bad_backend_and_an_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(ImportError):
        open_reader("mfrc522")
