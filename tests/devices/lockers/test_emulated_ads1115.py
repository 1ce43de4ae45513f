"""The ADS1115 emulation at register level, and the driver against it."""

from __future__ import annotations

import pytest

from devices.errors import BadLockerConfig
from devices.lockers.ads1115 import Ads1115
from devices.lockers.emulated_ads1115 import CONFIG, CONFIG_POWER_ON, CONVERSION, EmulatedAds1115
from devices.lockers.emulated_mcp23017 import EmulatedI2cBus


@pytest.fixture
def bus() -> EmulatedI2cBus:
    return EmulatedI2cBus()


@pytest.fixture
def chip(bus: EmulatedI2cBus) -> EmulatedAds1115:
    return bus.attach(EmulatedAds1115(0x48))


def word(bus: EmulatedI2cBus, register: int) -> int:
    high, low = bus.read_i2c_block_data(0x48, register, 2)
    return high << 8 | low


def test_the_config_powers_on_as_the_datasheet_says(bus, chip):
    assert word(bus, CONFIG) == CONFIG_POWER_ON == 0x8583
    assert word(bus, CONVERSION) == 0


def test_a_single_shot_converts_the_chosen_input_at_the_chosen_range(bus, chip):
    chip.set_voltage(2, 1.024)
    # OS=1, MUX=110 (AIN2 to GND), PGA=001 (+-4.096 V), single-shot, 860 SPS, comparator off
    bus.write_i2c_block_data(0x48, CONFIG, [0xE3, 0xE3])
    assert word(bus, CONVERSION) == 8192  # a quarter of full scale
    assert chip.conversions == 1
    assert word(bus, CONFIG) & 0x8000  # done


def test_a_reading_beyond_full_scale_clips(bus, chip):
    chip.set_voltage(0, 5.0)
    bus.write_i2c_block_data(0x48, CONFIG, [0xC5, 0xE3])  # AIN0, PGA=010: +-2.048 V
    assert word(bus, CONVERSION) == 0x7FFF


def test_a_negative_differential_reads_as_twos_complement(bus, chip):
    chip.set_voltage(0, 0.0)
    chip.set_voltage(1, 1.024)
    bus.write_i2c_block_data(0x48, CONFIG, [0x83, 0xE3])  # MUX=000: AIN0 - AIN1
    assert word(bus, CONVERSION) == (-8192) & 0xFFFF


def test_the_driver_reads_volts_and_waits_out_a_busy_converter(bus, chip):
    chip.set_voltage(3, 2.2)
    chip.busy_reads = 3
    assert Ads1115(bus, 0x48).read_volts(3) == pytest.approx(2.2, abs=0.001)
    assert chip.busy_reads == 0


def test_the_driver_gives_up_on_a_converter_that_never_finishes(bus, chip):
    chip.busy_reads = 1000
    with pytest.raises(OSError, match="never finished"):
        Ads1115(bus, 0x48).read_volts(0)


def test_a_silent_chip_or_a_broken_bus_raises_smbus2s_oserror(bus, chip):
    adc = Ads1115(bus, 0x48)
    chip.silent = True
    with pytest.raises(OSError):
        adc.read_volts(0)
    chip.silent, bus.broken = False, True
    with pytest.raises(OSError):
        adc.read_volts(0)


@pytest.mark.parametrize("address", [0x47, 0x4C, 0x20])
def test_an_address_off_the_chips_range_is_refused(bus, address):
    with pytest.raises(BadLockerConfig, match="0x48-0x4B"):
        Ads1115(bus, address)
    with pytest.raises(ValueError, match="0x48-0x4B"):
        EmulatedAds1115(address)


def test_a_channel_off_the_chips_range_is_refused(bus, chip):
    with pytest.raises(BadLockerConfig, match="channel is 0-3"):
        Ads1115(bus, 0x48).read_volts(4)
