"""What every reader shares, shown on the simplest ones."""

import io
import logging
import os
import queue
import threading

import pytest

from devices.errors import DeviceClosed
from devices.rfid.keyboard_wedge import KeyboardWedgeReader
from devices.rfid.reader import CardDebouncer
from devices.rfid.simulated import SimulatedReader


def test_the_debouncer_reports_a_first_sighting():
    assert CardDebouncer(0.5).is_new_sighting("DEADBEEF", 0.0)


def test_the_debouncer_holds_a_card_seen_regularly():
    debouncer = CardDebouncer(0.5)
    debouncer.is_new_sighting("DEADBEEF", 0.0)
    assert not any(debouncer.is_new_sighting("DEADBEEF", t / 10) for t in range(1, 50))


def test_the_debouncer_reports_a_card_after_an_absence():
    debouncer = CardDebouncer(0.5)
    debouncer.is_new_sighting("DEADBEEF", 0.0)
    assert debouncer.is_new_sighting("DEADBEEF", 0.5)


def test_the_debouncer_reports_a_different_card_at_once():
    debouncer = CardDebouncer(0.5)
    debouncer.is_new_sighting("DEADBEEF", 0.0)
    assert debouncer.is_new_sighting("04A224E2B35C80", 0.1)


def test_mark_seen_extends_a_resting_card_without_reporting_it():
    debouncer = CardDebouncer(0.5)
    debouncer.is_new_sighting("DEADBEEF", 0.0)
    debouncer.mark_seen("DEADBEEF", 9.0)
    assert not debouncer.is_new_sighting("DEADBEEF", 9.2)


def test_a_negative_absence_is_refused():
    with pytest.raises(ValueError, match="absent_seconds"):
        CardDebouncer(-1)


def test_a_card_goes_to_both_the_callback_and_the_queue():
    cards, seen = queue.Queue(), []
    with SimulatedReader(when_card=seen.append, queue=cards) as reader:
        reader.start()
        reader.present("DEADBEEF")
    assert seen == ["DEADBEEF"]
    assert cards.get_nowait() == "DEADBEEF"


def test_a_failing_callback_is_logged_and_reading_goes_on(caplog):
    cards = queue.Queue()

    def broken(uid):
        raise RuntimeError(f"kiosk bug on {uid}")

    with SimulatedReader(when_card=broken, queue=cards) as reader:
        reader.start()
        reader.present("DEADBEEF")
        reader.present("04A224E2B35C80")
    assert [cards.get_nowait(), cards.get_nowait()] == ["DEADBEEF", "04A224E2B35C80"]
    assert "when_card failed for card DEADBEEF" in caplog.records[0].getMessage()


def test_a_full_queue_drops_the_card_with_a_warning(caplog):
    cards = queue.Queue(maxsize=1)
    with SimulatedReader(queue=cards) as reader:
        reader.start()
        reader.present("DEADBEEF")
        reader.present("04A224E2B35C80")
    assert cards.get_nowait() == "DEADBEEF"
    assert caplog.records[0].levelno == logging.WARNING
    assert "04A224E2B35C80 dropped" in caplog.records[0].getMessage()


def test_when_card_must_be_callable():
    with pytest.raises(TypeError, match="when_card must be callable"):
        SimulatedReader(when_card="print")


def test_close_is_safe_twice_and_a_closed_reader_refuses_to_start():
    reader = SimulatedReader()
    reader.close()
    reader.close()
    assert reader.closed
    assert repr(reader) == "<SimulatedReader closed>"
    with pytest.raises(DeviceClosed, match="SimulatedReader is closed"):
        reader.start()
    with pytest.raises(DeviceClosed):
        with reader:
            pass


def test_start_twice_runs_one_thread_and_close_ends_it():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stream:
        reader = KeyboardWedgeReader(stream)
        reader.start()
        reader.start()
        threads = [t for t in threading.enumerate() if t.name.startswith("KeyboardWedgeReader")]
        reader.close()
    os.close(write_end)
    assert len(threads) == 1
    assert not threads[0].is_alive()


def test_a_callback_may_stop_its_own_reader():
    stopped = threading.Event()
    reader = KeyboardWedgeReader(io.StringIO("DEADBEEF\n04A224E2B35C80\n"))

    def stop_after_first(uid):
        reader.stop()
        stopped.set()

    reader.when_card = stop_after_first
    reader.start()
    assert stopped.wait(1)
    assert not reader.running
    reader.close()
