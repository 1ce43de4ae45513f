import queue

import pytest

from devices.errors import DeviceClosed
from devices.rfid.simulated import SimulatedReader


@pytest.fixture
def reader(clock):
    reported = []
    with SimulatedReader(when_card=reported.append, clock=clock) as reader:
        reader.reported = reported
        yield reader


def test_a_presented_card_is_reported_at_once(reader):
    reader.start()
    assert reader.present("de:ad:be:ef") is True
    assert reader.reported == ["DEADBEEF"]
    assert reader.card == "DEADBEEF"


def test_a_resting_card_is_reported_once(reader, clock):
    reader.start()
    for _ in range(10):
        reader.present("DEADBEEF")
        clock.advance(1.0)
    assert reader.reported == ["DEADBEEF"]


def test_a_card_back_within_absent_seconds_is_the_same_tap(reader, clock):
    reader.start()
    reader.present("DEADBEEF")
    clock.advance(10)  # resting a long time...
    reader.remove()
    clock.advance(0.3)  # ...then off for less than absent_seconds
    assert reader.present("DEADBEEF") is False
    assert reader.reported == ["DEADBEEF"]


def test_a_card_back_after_absent_seconds_is_reported_again(reader, clock):
    reader.start()
    reader.present("DEADBEEF")
    reader.remove()
    clock.advance(0.5)
    reader.present("DEADBEEF")
    assert reader.reported == ["DEADBEEF", "DEADBEEF"]


def test_two_different_cards_are_both_reported(reader):
    reader.start()
    reader.present("DEADBEEF")
    reader.present("04A224E2B35C80")
    reader.present("DEADBEEF")
    assert reader.reported == ["DEADBEEF", "04A224E2B35C80", "DEADBEEF"]


def test_nothing_is_reported_before_start_or_after_stop(reader):
    reader.present("DEADBEEF")
    assert reader.reported == []
    reader.start()
    assert reader.reported == ["DEADBEEF"]  # a card already resting is read at start
    reader.stop()
    reader.present("04A224E2B35C80")
    assert reader.reported == ["DEADBEEF"]


def test_cards_go_to_the_queue_too(clock):
    cards = queue.Queue()
    with SimulatedReader(queue=cards, clock=clock) as reader:
        reader.start()
        reader.present([0xDE, 0xAD, 0xBE, 0xEF])
    assert cards.get_nowait() == "DEADBEEF"


def test_a_bad_uid_is_refused(reader):
    reader.start()
    with pytest.raises(ValueError, match="has 5 bytes"):
        reader.present("DEADBEEF22")
    assert reader.reported == []


def test_a_closed_simulated_reader_says_so(reader):
    reader.close()
    with pytest.raises(DeviceClosed):
        reader.present("DEADBEEF")
    with pytest.raises(DeviceClosed):
        reader.remove()
