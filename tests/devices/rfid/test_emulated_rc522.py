"""The emulated chip and cards themselves, at register level, without the mfrc522 library."""

import pytest

from devices.rfid.emulated_rc522 import (
    BIT_FRAMING_REG,
    COMM_IRQ_REG,
    COMMAND_REG,
    CRC_RESULT_LSB_REG,
    CRC_RESULT_MSB_REG,
    DIV_IRQ_REG,
    FIFO_DATA_REG,
    FIFO_LEVEL_REG,
    TX_CONTROL_REG,
    VERSION_REG,
    EmulatedCard,
    EmulatedRc522,
)
from devices.rfid.iso14443 import REQA, WUPA, crc_a

TRANSCEIVE, CALC_CRC, SOFT_RESET = 0x0C, 0x03, 0x0F


def write(chip, register, value):
    assert chip.transfer([(register << 1) & 0x7E, value]) == [0, 0]


def read(chip, register):
    return chip.transfer([((register << 1) & 0x7E) | 0x80, 0])[1]


def send(chip, frame, last_bits=0):
    """Transceive one frame the way the library does; return the FIFO's answer or None."""
    write(chip, FIFO_LEVEL_REG, 0x80)
    for byte in frame:
        write(chip, FIFO_DATA_REG, byte)
    write(chip, COMM_IRQ_REG, 0x7F)  # clear every interrupt bit
    write(chip, COMMAND_REG, TRANSCEIVE)
    write(chip, BIT_FRAMING_REG, 0x80 | last_bits)
    if not read(chip, COMM_IRQ_REG) & 0x30:  # neither RxIRq nor IdleIRq: nobody answered
        return None
    return bytes(read(chip, FIFO_DATA_REG) for _ in range(read(chip, FIFO_LEVEL_REG)))


@pytest.fixture
def powered_chip():
    chip = EmulatedRc522()
    write(chip, TX_CONTROL_REG, 0x83)
    return chip


def test_registers_are_written_and_read_in_the_spi_byte_format():
    chip = EmulatedRc522()
    write(chip, 0x11, 0x3D)
    assert read(chip, 0x11) == 0x3D
    assert read(chip, VERSION_REG) == 0x92


def test_a_multi_byte_read_answers_each_address_in_turn():
    chip = EmulatedRc522()
    write(chip, 0x2C, 0x12)
    write(chip, 0x2D, 0x34)
    assert chip.transfer([0x80 | (0x2C << 1), 0x80 | (0x2D << 1), 0]) == [0, 0x12, 0x34]


def test_the_fifo_queues_bytes_and_flushes_on_request():
    chip = EmulatedRc522()
    chip.transfer([FIFO_DATA_REG << 1, 1, 2, 3])
    assert read(chip, FIFO_LEVEL_REG) == 3
    assert read(chip, FIFO_DATA_REG) == 1
    write(chip, FIFO_LEVEL_REG, 0x80)
    assert read(chip, FIFO_LEVEL_REG) == 0


def test_calc_crc_puts_the_crc_a_of_the_fifo_into_the_result_registers():
    chip = EmulatedRc522()
    for byte in b"\x93\x70\xde\xad\xbe\xef\x22":
        write(chip, FIFO_DATA_REG, byte)
    write(chip, COMMAND_REG, CALC_CRC)
    assert read(chip, DIV_IRQ_REG) & 0x04
    crc = bytes((read(chip, CRC_RESULT_LSB_REG), read(chip, CRC_RESULT_MSB_REG)))
    assert crc == crc_a(b"\x93\x70\xde\xad\xbe\xef\x22")


def test_an_irq_register_write_sets_or_clears_the_marked_bits():
    chip = EmulatedRc522()
    write(chip, COMM_IRQ_REG, 0x7F)
    assert read(chip, COMM_IRQ_REG) == 0x00
    write(chip, COMM_IRQ_REG, 0x80 | 0x21)
    assert read(chip, COMM_IRQ_REG) == 0x21
    write(chip, COMM_IRQ_REG, 0x01)
    assert read(chip, COMM_IRQ_REG) == 0x20


def test_no_card_answers_while_the_antenna_is_off():
    chip = EmulatedRc522()
    chip.present("DEADBEEF")
    assert send(chip, [REQA], last_bits=7) is None
    assert read(chip, COMM_IRQ_REG) & 0x71 == 0x40  # sent (TxIRq); no timer set up to end it


def test_a_card_answers_reqa_with_its_atqa(powered_chip):
    powered_chip.present("DEADBEEF")
    assert send(powered_chip, [REQA], last_bits=7) == b"\x04\x00"
    assert read(powered_chip, COMM_IRQ_REG) == 0x70  # TxIRq, RxIRq, IdleIRq
    assert powered_chip.frames == [bytes([REQA])]


def test_a_soft_reset_switches_the_antenna_off(powered_chip):
    powered_chip.present("DEADBEEF")
    write(powered_chip, COMMAND_REG, SOFT_RESET)
    assert not powered_chip.antenna_on
    assert send(powered_chip, [REQA], last_bits=7) is None


def test_an_spi_fault_fails_only_the_transfers_asked_for():
    chip = EmulatedRc522()
    chip.fail_transfers(1)
    with pytest.raises(OSError):
        read(chip, VERSION_REG)
    assert read(chip, VERSION_REG) == 0x92


def test_a_single_size_card_walks_wake_anticollision_select():
    card = EmulatedCard("DEADBEEF")
    assert card.answer(bytes([REQA]), 7) == b"\x04\x00"
    assert card.answer(b"\x93\x20", 8) == bytes.fromhex("DEADBEEF22")
    select = b"\x93\x70" + bytes.fromhex("DEADBEEF22")
    assert card.answer(select + crc_a(select), 8) == b"\x08" + crc_a(b"\x08")
    assert card.state == "active"


def test_a_double_size_card_answers_two_cascade_levels():
    card = EmulatedCard("04A224E2B35C80")
    assert card.answer(bytes([REQA]), 7) == b"\x44\x00"
    assert card.answer(b"\x93\x20", 8) == bytes.fromhex("8804A2240A")
    select1 = b"\x93\x70" + bytes.fromhex("8804A2240A")
    assert card.answer(select1 + crc_a(select1), 8) == b"\x04" + crc_a(b"\x04")
    assert card.answer(b"\x95\x20", 8) == bytes.fromhex("E2B35C808D")
    select2 = b"\x95\x70" + bytes.fromhex("E2B35C808D")
    assert card.answer(select2 + crc_a(select2), 8) == b"\x00" + crc_a(b"\x00")


def test_a_select_with_a_bad_crc_sends_the_card_back_to_idle():
    card = EmulatedCard("DEADBEEF")
    card.answer(bytes([REQA]), 7)
    assert card.answer(b"\x93\x70" + bytes.fromhex("DEADBEEF22") + b"\x00\x00", 8) is None
    assert card.state == "idle"


def test_a_resting_card_answers_every_other_reqa():
    card = EmulatedCard("DEADBEEF")
    answers = [card.answer(bytes([REQA]), 7) for _ in range(4)]
    assert answers == [b"\x04\x00", None, b"\x04\x00", None]
    assert card.wakeups == 2


def test_a_halted_card_wakes_only_for_wupa():
    card = EmulatedCard("DEADBEEF")
    card.answer(bytes([REQA]), 7)
    select = b"\x93\x70" + bytes.fromhex("DEADBEEF22")
    card.answer(select + crc_a(select), 8)
    assert card.answer(b"\x50\x00" + crc_a(b"\x50\x00"), 8) is None
    assert card.answer(bytes([REQA]), 7) is None
    assert card.answer(bytes([WUPA]), 7) == b"\x04\x00"


@pytest.mark.parametrize("floating", [0x00, 0xFF])
def test_a_disconnected_chip_reads_as_the_floating_bus(powered_chip, floating):
    powered_chip.disconnect(floating)
    powered_chip.transfer([TX_CONTROL_REG << 1, 0x80])  # lost
    assert read(powered_chip, VERSION_REG) == floating
    powered_chip.reconnect()
    assert read(powered_chip, VERSION_REG) == 0x92
    assert not powered_chip.antenna_on  # back from power-off: reset


def test_a_brown_out_resets_the_chip_with_its_antenna_off(powered_chip):
    powered_chip.brown_out()
    assert not powered_chip.antenna_on
    assert powered_chip.resets == 1


def test_the_timer_fires_after_its_period_of_bus_time(powered_chip):
    for register, value in ((0x2A, 0x8D), (0x2B, 0x3E), (0x2C, 0), (0x2D, 30)):
        write(powered_chip, register, value)  # the mfrc522 library's timer settings
    assert powered_chip.timer_period() == pytest.approx(0.0155, abs=1e-4)
    assert send(powered_chip, [REQA], last_bits=7) is None
    assert not read(powered_chip, COMM_IRQ_REG) & 0x01
    powered_chip.advance(0.016)
    assert read(powered_chip, COMM_IRQ_REG) & 0x41 == 0x41  # TxIRq and TimerIRq


def test_a_card_can_enter_the_field_at_a_given_bus_time(powered_chip):
    powered_chip.present("DEADBEEF", at=powered_chip.elapsed + 1.0)
    assert send(powered_chip, [REQA], last_bits=7) is None
    powered_chip.advance(1.0)
    assert send(powered_chip, [REQA], last_bits=7) == b"\x04\x00"
