import io
import logging
import os
import queue
import sys
import threading

import pytest

from devices.errors import DeviceClosed
from devices.rfid.keyboard_wedge import KeyboardWedgeReader, parse_wedge_line


@pytest.mark.parametrize(
    ("line", "uid"),
    [
        ("DEADBEEF\n", "DEADBEEF"),
        ("de:ad:be:ef\r\n", "DEADBEEF"),
        ("3735928559\n", "DEADBEEF"),
        ("0000000001", "00000001"),
        ("04A224E2B35C80", "04A224E2B35C80"),
        ("12345678", "12345678"),  # 8 digits: hex, as 8 digits cannot be a padded decimal
    ],
)
def test_a_typed_line_becomes_a_canonical_uid(line, uid):
    assert parse_wedge_line(line) == uid


def test_decimal_can_be_read_little_endian():
    assert parse_wedge_line("4022250974", decimal_byteorder="little") == "DEADBEEF"


@pytest.mark.parametrize("line", ["hello", "4294967296", "DEADBEEF22", "123"])
def test_junk_lines_are_refused(line):
    with pytest.raises(ValueError):
        parse_wedge_line(line)


def test_feed_reports_each_new_card_once(clock):
    reported = []
    reader = KeyboardWedgeReader(io.StringIO(), when_card=reported.append, clock=clock)
    assert reader.feed("DEADBEEF\n") == "DEADBEEF"
    assert reader.feed("3735928559\n") is None  # the same card, typed twice in a row
    clock.advance(0.6)
    assert reader.feed("deadbeef\n") == "DEADBEEF"
    assert reported == ["DEADBEEF", "DEADBEEF"]


def test_junk_is_logged_and_ignored(clock, caplog):
    reported = []
    reader = KeyboardWedgeReader(io.StringIO(), when_card=reported.append, clock=clock)
    assert reader.feed("not a card at all\n") is None
    assert reader.feed("   \n") is None
    assert reader.feed("DEADBEEF\n") == "DEADBEEF"
    assert reported == ["DEADBEEF"]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "is not hexadecimal" in caplog.records[0].getMessage()


def test_a_long_junk_line_is_shortened_in_the_log(caplog):
    reader = KeyboardWedgeReader(io.StringIO())
    reader.feed("x" * 500)
    assert len(caplog.records[0].getMessage()) < 200


def test_lines_are_read_from_a_stream_in_a_thread():
    cards = queue.Queue()
    stream = io.StringIO("DEADBEEF\njunk\n3735928559\n04A224E2B35C80")
    reader = KeyboardWedgeReader(stream, queue=cards)
    reader.start()
    assert cards.get(timeout=2) == "DEADBEEF"
    assert cards.get(timeout=2) == "04A224E2B35C80"  # the last line needs no Enter
    reader.close()
    assert cards.empty()  # the decimal DEADBEEF came too soon to be a new tap


def test_a_pipe_is_read_as_the_reader_types_and_stop_does_not_wait_for_input():
    read_end, write_end = os.pipe()
    cards = queue.Queue()
    with os.fdopen(read_end) as stream, KeyboardWedgeReader(stream, queue=cards) as reader:
        reader.start()
        os.write(write_end, b"DEAD")
        os.write(write_end, b"BEEF\r\n")
        assert cards.get(timeout=2) == "DEADBEEF"
        # Nothing more is typed and the pipe stays open: stop must not wait for input.
        stopping = threading.Thread(target=reader.stop)
        stopping.start()
        stopping.join(timeout=30)
        assert not stopping.is_alive() and not reader.running
    os.close(write_end)


def test_the_default_stream_is_stdin():
    assert KeyboardWedgeReader().stream is sys.stdin


def test_a_bad_byte_order_is_refused():
    with pytest.raises(ValueError, match="'big' or 'little'"):
        KeyboardWedgeReader(io.StringIO(), decimal_byteorder="middle")


def test_a_closed_wedge_reader_takes_no_lines():
    reader = KeyboardWedgeReader(io.StringIO())
    reader.close()
    with pytest.raises(DeviceClosed):
        reader.feed("DEADBEEF")
