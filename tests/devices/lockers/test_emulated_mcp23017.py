"""The MCP23017 emulation behaves as the datasheet says, so tests through it mean something."""

import errno

import pytest

from devices.lockers.emulated_mcp23017 import (
    DEFVAL,
    GPINTEN,
    GPIO,
    INTCAP,
    INTCON,
    INTF,
    IOCON,
    IODIR,
    IPOL,
    OLAT,
    EmulatedI2cBus,
    EmulatedMcp23017,
    pin_number,
)


@pytest.fixture
def bus():
    return EmulatedI2cBus()


@pytest.fixture
def chip(bus):
    return bus.attach(EmulatedMcp23017(0x21))


def test_pin_names_map_to_bits():
    assert [pin_number(n) for n in ("GPA0", "GPA7", "GPB0", "gpb7", 12)] == [0, 7, 8, 15, 12]
    for bad in ("GPC0", "GPA8", 16, -1, True):
        with pytest.raises(ValueError, match="is not an MCP23017 pin"):
            pin_number(bad)


def test_power_on_values(chip):
    assert chip.registers[IODIR] == chip.registers[IODIR + 1] == 0xFF
    assert all(value == 0 for register, value in enumerate(chip.registers) if register > 1)


def test_a_write_to_gpio_goes_to_the_latch_and_outputs_read_back(bus, chip):
    bus.write_byte_data(0x21, IODIR, 0xF0)
    bus.write_byte_data(0x21, GPIO, 0x05)
    assert bus.read_byte_data(0x21, OLAT) == 0x05
    assert bus.read_byte_data(0x21, GPIO) == 0xF5  # inputs float high, outputs read their latch
    assert chip.output(0) is True and chip.output(1) is False and chip.output(4) is None


def test_inputs_read_low_when_pulled_low_and_ipol_inverts_them(bus, chip):
    chip.set_input("GPB3", low=True)
    assert bus.read_byte_data(0x21, GPIO + 1) == 0xF7
    bus.write_byte_data(0x21, IPOL + 1, 0x08)
    assert bus.read_byte_data(0x21, GPIO + 1) == 0xFF


def test_interrupt_on_change_latches_and_clears_on_read(bus, chip):
    bus.write_byte_data(0x21, GPINTEN + 1, 0x01)
    chip.set_input("GPB0", low=True)
    assert chip.interrupt == (False, True)
    assert bus.read_byte_data(0x21, INTF + 1) == 0x01
    assert bus.read_byte_data(0x21, INTCAP + 1) == 0xFE
    assert chip.interrupt == (False, False)  # reading INTCAP cleared it
    bus.write_byte_data(0x21, IOCON, 0x40)  # MIRROR
    chip.set_input("GPB0", low=False)
    assert chip.interrupt == (True, True)
    bus.read_byte_data(0x21, GPIO + 1)
    assert chip.interrupt == (False, False)


def test_interrupt_against_defval(bus, chip):
    bus.write_byte_data(0x21, GPINTEN, 0x02)
    bus.write_byte_data(0x21, INTCON, 0x02)
    bus.write_byte_data(0x21, DEFVAL, 0x02)
    chip.set_input("GPA2", low=True)  # not enabled
    assert chip.interrupt == (False, False)
    chip.set_input("GPA1", low=True)
    assert chip.interrupt[0]


def test_reset_returns_every_register_to_power_on(bus, chip):
    bus.write_byte_data(0x21, IODIR, 0x00)
    bus.write_byte_data(0x21, OLAT, 0xFF)
    chip.reset()
    assert chip.output(0) is None
    assert chip.registers[OLAT] == 0 and chip.registers[IODIR] == 0xFF


def test_faults_raise_oserror_as_smbus2_does(bus, chip):
    with pytest.raises(OSError) as absent:
        bus.read_byte_data(0x22, GPIO)
    assert absent.value.errno == errno.EIO
    chip.silent = True
    with pytest.raises(OSError):
        bus.write_byte_data(0x21, OLAT, 1)
    chip.silent = False
    bus.broken = True
    with pytest.raises(OSError):
        bus.read_byte_data(0x21, GPIO)
    bus.broken = False
    bus.close()
    with pytest.raises(OSError):
        bus.read_byte_data(0x21, GPIO)


def test_addresses_are_checked(bus, chip):
    with pytest.raises(ValueError, match="0x20-0x27"):
        EmulatedMcp23017(0x28)
    with pytest.raises(ValueError, match="two chips answer at 0x21"):
        bus.attach(EmulatedMcp23017(0x21))
