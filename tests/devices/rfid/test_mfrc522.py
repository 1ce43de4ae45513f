"""Mfrc522Reader driving the real mfrc522 library, whose SPI traffic reaches an emulated RC522."""

import logging
import queue
import sys
import time

import pytest

from devices.errors import BadBackend, DeviceClosed, DeviceError, ReaderError
from devices.rfid.emulated_rc522 import EmulatedCard
from devices.rfid.iso14443 import crc_a
from devices.rfid.mfrc522 import Mfrc522Reader

POLL = 0.05  # seconds between polls, as the reader's default


@pytest.fixture
def reader(chip, clock):
    reported = []
    with Mfrc522Reader(when_card=reported.append, clock=clock) as reader:
        reader.reported = reported
        yield reader


def poll_for(reader, clock, seconds):
    """Poll as the reader's thread would, on the fake clock, for ``seconds``."""
    for _ in range(round(seconds / POLL)):
        reader.poll()
        clock.advance(POLL)


def test_a_4_byte_card_reads_as_its_own_bytes_without_the_bcc(chip, reader):
    chip.present("DEADBEEF")
    assert reader.read_uid() == "DEADBEEF"


def test_the_library_alone_would_fold_the_bcc_into_the_number(chip, reader):
    from mfrc522 import SimpleMFRC522

    chip.present("DEADBEEF")
    assert SimpleMFRC522().read_id_no_block() == 0xDEADBEEF22


def test_a_7_byte_card_reads_through_both_cascade_levels(chip, reader):
    chip.present(EmulatedCard("04A224E2B35C80"))
    assert reader.read_uid() == "04A224E2B35C80"
    assert [frame[:2] for frame in chip.frames] == [
        b"\x26",  # REQA
        b"\x93\x20",  # anticollision, cascade level 1: 88 04 A2 24 + BCC
        b"\x93\x70",  # select level 1 (with the CRC from the chip's CalcCRC): SAK "more"
        b"\x95\x20",  # anticollision, cascade level 2: E2 B3 5C 80 + BCC
        b"\x95\x70",  # select level 2: the final SAK
    ]


def test_the_select_frames_carry_the_chips_crc_a(chip, reader):
    chip.present("04A224E2B35C80")
    reader.read_uid()
    level_1, level_2 = bytes.fromhex("93708804A2240A"), bytes.fromhex("9570E2B35C808D")
    assert chip.frames[2] == level_1 + crc_a(level_1)
    assert chip.frames[4] == level_2 + crc_a(level_2)
    assert chip.card.state == "active"


def test_no_card_reads_as_nothing_and_reports_nothing(chip, reader, clock):
    assert reader.read_uid() is None
    poll_for(reader, clock, 1.0)
    assert reader.reported == []
    assert chip.frames == [b"\x26"] * 21  # one unanswered REQA per read, and nothing more


def test_a_resting_card_is_reported_once(chip, reader, clock):
    card = chip.present("DEADBEEF")
    poll_for(reader, clock, 2.0)
    assert reader.reported == ["DEADBEEF"]
    assert card.wakeups >= 10  # the chip did see it again and again


def test_a_card_gone_briefly_is_still_the_same_tap(chip, reader, clock):
    card = chip.present("DEADBEEF")
    poll_for(reader, clock, 0.3)
    chip.remove()
    poll_for(reader, clock, 0.2)
    chip.present(card)
    poll_for(reader, clock, 0.3)
    assert reader.reported == ["DEADBEEF"]


def test_a_card_removed_and_presented_again_is_reported_again(chip, reader, clock):
    card = chip.present("DEADBEEF")
    poll_for(reader, clock, 0.3)
    chip.remove()
    poll_for(reader, clock, 0.6)
    chip.present(card)
    poll_for(reader, clock, 0.3)
    assert reader.reported == ["DEADBEEF", "DEADBEEF"]


def test_two_different_cards_are_both_reported(chip, reader, clock):
    chip.present("DEADBEEF")
    poll_for(reader, clock, 0.3)
    chip.present("04A224E2B35C80")
    poll_for(reader, clock, 0.3)
    assert reader.reported == ["DEADBEEF", "04A224E2B35C80"]


def test_poll_returns_only_the_reported_card(chip, reader):
    chip.present("DEADBEEF")
    assert reader.poll() == "DEADBEEF"
    assert reader.poll() is None  # the card rests; and this REQA went unanswered anyway
    assert reader.poll() is None


def test_a_10_byte_card_is_refused_with_a_clear_error(chip, reader):
    chip.present(bytes(range(1, 11)))
    with pytest.raises(ValueError, match="has 10 bytes"):
        reader.read_uid()


def test_the_thread_polls_and_delivers_to_a_queue(chip):
    cards = queue.Queue()
    with Mfrc522Reader(queue=cards, poll_seconds=0.01) as reader:
        reader.start()
        chip.present("DEADBEEF")
        assert cards.get(timeout=2) == "DEADBEEF"
        time.sleep(0.1)
        reader.stop()
    assert cards.empty()
    assert not reader.running


def test_spi_errors_are_logged_and_polling_goes_on(chip, caplog):
    caplog.set_level(logging.DEBUG, logger="devices")
    cards = queue.Queue()
    chip.present("DEADBEEF")
    with Mfrc522Reader(queue=cards, poll_seconds=0.01) as reader:
        chip.fail_transfers(30)
        reader.start()
        assert cards.get(timeout=2) == "DEADBEEF"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "emulated SPI fault" in warnings[0]
    assert len([w for w in warnings if w.startswith("polling")]) == 1  # repeats are quiet
    assert len([w for w in warnings if "not working" in w]) == 1
    assert any("re-initialised" in w for w in warnings)
    assert reader.health.ok


def test_close_releases_spi_and_only_the_reset_pin(chip, gpio):
    reader = Mfrc522Reader(pin_rst=25)
    assert gpio.levels == {25: 1}
    reader.close()
    reader.close()
    assert chip.spi_devices[-1].closed
    assert gpio.cleanups == [25]  # not cleanup() of every pin, as Close_MFRC522 would
    assert not chip.antenna_on


def test_a_closed_reader_says_so(chip):
    reader = Mfrc522Reader()
    reader.close()
    with pytest.raises(DeviceClosed, match="Mfrc522Reader is closed"):
        reader.read_uid()
    with pytest.raises(DeviceClosed):
        reader.start()
    assert isinstance(DeviceClosed(), DeviceError)
    assert isinstance(DeviceClosed(), RuntimeError)


def test_readers_do_not_pile_up_log_handlers(chip):
    library_log = logging.getLogger("mfrc522Logger")
    before = list(library_log.handlers)
    for _ in range(3):
        Mfrc522Reader().close()
    assert library_log.handlers == before


def test_a_poll_interval_must_be_positive(chip):
    with pytest.raises(ValueError, match="poll_seconds must be positive"):
        Mfrc522Reader(poll_seconds=0)


def test_rpi_gpio_in_board_numbering_is_refused(chip, gpio):
    gpio.setmode(gpio.BOARD)
    with pytest.raises(ReaderError, match="BOARD numbering"):
        Mfrc522Reader()


def test_the_backend_says_when_the_hardware_libraries_are_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(BadBackend, match="RPi.GPIO") as caught:
        Mfrc522Reader()
    assert isinstance(caught.value, ImportError)


def test_a_chip_that_does_not_answer_at_start_is_a_reader_error(chip):
    chip.fail_transfers(1)
    with pytest.raises(ReaderError, match="/dev/spidev0.0"):
        Mfrc522Reader()


def test_a_missing_mfrc522_library_is_a_bad_backend(chip, monkeypatch):
    monkeypatch.setitem(sys.modules, "mfrc522", None)
    with pytest.raises(BadBackend, match="needs mfrc522"):
        Mfrc522Reader()


# --- the reader checks itself -----------------------------------------------------------------


def test_a_chip_absent_at_start_is_missing_and_nothing_is_polled(chip, clock):
    chip.disconnect(0xFF)
    with Mfrc522Reader(clock=clock) as reader:
        assert reader.health.state == "missing"
        assert "0xFF" in reader.health.error
        chip.present("DEADBEEF")
        sent = len(chip.frames)
        assert reader.poll() is None
        assert len(chip.frames) == sent  # no frame: a missing chip is no "no card"


@pytest.mark.parametrize("floating", [0x00, 0xFF])
def test_a_chip_that_comes_back_is_re_initialised_and_reads_again(chip, clock, floating):
    with Mfrc522Reader(clock=clock) as reader:
        chip.disconnect(floating)
        assert reader.check().state == "missing"
        chip.reconnect()  # powered afresh: antenna off, no timer
        health = reader.check()
        assert (health.state, health.reinitialised, health.version) == ("ok", 1, 0x92)
        assert chip.antenna_on
        chip.present("DEADBEEF")
        assert reader.read_uid() == "DEADBEEF"


def test_a_clone_chip_version_is_accepted(chip, clock):
    chip.version = 0x12  # a clone's VersionReg
    chip.brown_out()
    with Mfrc522Reader(clock=clock) as reader:
        assert reader.health.ok
        assert reader.check().version == 0x12


def test_a_brown_out_is_noticed_and_the_antenna_switched_on_again(chip, clock):
    with Mfrc522Reader(clock=clock) as reader:
        chip.brown_out()
        assert not chip.antenna_on
        assert reader.check().reinitialised == 1
        assert chip.antenna_on
        assert reader.check().reinitialised == 1  # a healthy chip is left alone


def test_the_reader_thread_recovers_from_a_brown_out_by_itself(chip):
    cards = queue.Queue()
    with Mfrc522Reader(queue=cards, poll_seconds=0.005, check_seconds=0.01) as reader:
        reader.start()
        chip.brown_out()
        chip.present("DEADBEEF")
        assert cards.get(timeout=5) == "DEADBEEF"
        assert reader.health.reinitialised == 1


def test_an_empty_poll_stops_on_the_timer_interrupt(chip, clock):
    with Mfrc522Reader(clock=clock) as reader:
        before = chip.transfers
        assert reader.read_uid() is None
        ours = chip.transfers - before
        before = chip.transfers
        status, _ = reader._chip.MFRC522_Request(reader._chip.PICC_REQIDL)  # the library's wait
        library = chip.transfers - before
    assert status != 0
    assert library == 2013  # 2,000 reads of CommIrqReg plus the frame's setup
    assert 15e-3 <= ours * chip.transfer_seconds <= 17e-3  # the timer's 15.5 ms, and no more


def test_a_chip_that_never_interrupts_is_a_reader_error(chip, clock):
    with Mfrc522Reader(clock=clock) as reader:
        chip.write_register(0x2A, 0x00)  # the timer no longer starts by itself
        with pytest.raises(ReaderError, match="no interrupt"):
            reader.read_uid()
