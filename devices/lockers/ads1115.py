"""A small ADS1115 driver over smbus2: one single-shot, single-ended reading at a time.

The supervised door loops (devices/lockers/supervised.py) need four voltage levels told apart,
which a digital input cannot do. The ADS1115 (16 bit, 4 inputs, I2C 0x48-0x4B) is read in
single-shot mode: write the config with OS = 1 (start), wait until OS reads 1 again (done, about
1.2 ms at 860 samples/s), read the conversion register. Range: PGA +-4.096 V, which holds the
loop's 0-3.3 V with room for a supply on the high side of its tolerance. The comparator is off.

I2C errors are smbus2's ``OSError``; they reach the caller (the loop poller), which reads the
doors of a silent converter as tampered: locked, and an alarm.
"""

from __future__ import annotations

import errno
import time
from typing import Protocol

from devices.errors import BadLockerConfig, LockerError
from devices.lockers.emulated_ads1115 import ADDRESSES, CONFIG, CONVERSION, OS_BIT

PGA_4_096 = 0x0200  # bits 11:9 = 001: full scale +-4.096 V
FULL_SCALE_VOLTS = 4.096
MODE_SINGLE = 0x0100
RATE_860 = 0x00E0  # bits 7:5 = 111: 860 samples/s, 1.2 ms a conversion
COMPARATOR_OFF = 0x0003
CONVERSION_SECONDS = 1 / 860
MAX_BUSY_READS = 10  # ten times a conversion's time: the chip is stuck, not slow


class BlockBus(Protocol):
    """What the driver needs of ``smbus2.SMBus``: two-byte register reads and writes."""

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int]) -> None: ...

    def close(self) -> None: ...


def open_block_bus(number: int) -> BlockBus:
    """Open /dev/i2c-``number`` with smbus2 (imported here: only a Pi needs it)."""
    from smbus2 import SMBus

    try:
        bus: BlockBus = SMBus(number)
    except OSError as error:
        raise LockerError(
            f"cannot open /dev/i2c-{number} for the ADS1115 door loops: {error.strerror} (is "
            f"dtparam=i2c_arm=on in config.txt, and the kiosk's user in the i2c group?)"
        ) from None
    return bus


class Ads1115:
    """One ADS1115 at ``address`` on ``bus``; ``read_volts(channel)`` measures AIN0-AIN3."""

    def __init__(self, bus: BlockBus, address: int) -> None:
        if address not in ADDRESSES:
            raise BadLockerConfig(
                f"an ADS1115 address is 0x48-0x4B (set by its ADDR pin), not {address!r}"
            )
        self.bus = bus
        self.address = address

    def __repr__(self) -> str:
        return f"<Ads1115 {self.address:#x}>"

    def read_volts(self, channel: int) -> float:
        """Convert AIN``channel`` against GND once and return volts; OSError if the chip fails."""
        if channel not in range(4):
            raise BadLockerConfig(f"an ADS1115 channel is 0-3, not {channel!r}")
        mux = (4 + channel) << 12  # 100-111: AINn against GND
        config = OS_BIT | mux | PGA_4_096 | MODE_SINGLE | RATE_860 | COMPARATOR_OFF
        self._write(CONFIG, config)
        for _ in range(MAX_BUSY_READS):
            if self._read(CONFIG) & OS_BIT:
                break
            time.sleep(CONVERSION_SECONDS)
        else:
            raise OSError(errno.ETIMEDOUT, f"ADS1115 {self.address:#x} never finished converting")
        raw = self._read(CONVERSION)
        signed = raw - 0x10000 if raw & 0x8000 else raw
        return signed * FULL_SCALE_VOLTS / 32768

    def _read(self, register: int) -> int:
        high, low = self.bus.read_i2c_block_data(self.address, register, 2)
        return high << 8 | low

    def _write(self, register: int, value: int) -> None:
        self.bus.write_i2c_block_data(self.address, register, [value >> 8, value & 0xFF])
