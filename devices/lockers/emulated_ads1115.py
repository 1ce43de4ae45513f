"""The ADS1115 analogue-to-digital converter in software, at register level.

It lets the supervised door loops (devices/lockers/supervised.py) run off a Pi, on the same
``EmulatedI2cBus`` as the emulated MCP23017 expanders::

    bus = EmulatedI2cBus()
    adc = bus.attach(EmulatedAds1115(0x48))
    adc.set_voltage(0, 1.65)   # a shut door's loop: 3.3 V over 4.7 kOhm and 4.7 kOhm

Emulated: the pointer-addressed 16-bit registers (conversion 0, config 1, Lo_thresh 2,
Hi_thresh 3; big-endian, two-byte block transfers as smbus2's ``read_i2c_block_data`` and
``write_i2c_block_data`` make them), the config's power-on value 0x8583, single-shot conversions
started by writing OS = 1 in power-down mode (done at once; ``busy_reads`` makes the next config
reads say "converting" that many times), continuous mode, the eight MUX inputs (single-ended and
differential) and the six PGA ranges with the converter's clipping at full scale. Inputs are
voltages set by tests (``set_voltage``). Faults: ``silent`` (the chip does not acknowledge) and
the bus's ``broken``. Not emulated: the comparator and ALERT/RDY pin, data rate timing, noise.
"""

from __future__ import annotations

import errno

CONVERSION, CONFIG, LO_THRESH, HI_THRESH = 0, 1, 2, 3
CONFIG_POWER_ON = 0x8583
OS_BIT = 0x8000
MODE_SINGLE = 0x0100
FULL_SCALE = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)  # by PGA bits 11:9
MUX = ((0, 1), (0, 3), (1, 3), (2, 3), (0, None), (1, None), (2, None), (3, None))  # by bits 14:12
ADDRESSES = range(0x48, 0x4C)  # ADDR pin to GND, VDD, SDA, SCL


class EmulatedAds1115:
    """One ADS1115's four registers and the voltages on its four inputs."""

    def __init__(self, address: int = 0x48) -> None:
        if address not in ADDRESSES:
            raise ValueError(f"an ADS1115 address is 0x48-0x4B (set by ADDR), not {address:#x}")
        self.address = address
        self.voltages = [0.0, 0.0, 0.0, 0.0]
        self.silent = False  # does not acknowledge: unpowered, or its SDA/SCL wire cut
        self.busy_reads = 0  # config reads still to say "converting" after a start
        self.conversions = 0
        self.registers = [0, CONFIG_POWER_ON, 0x8000, 0x7FFF]
        self.pointer = CONVERSION

    def set_voltage(self, channel: int, volts: float) -> None:
        """Put ``volts`` on input AIN``channel`` (0-3)."""
        if channel not in range(4):
            raise ValueError(f"an ADS1115 input is 0-3, not {channel!r}")
        self.voltages[channel] = volts

    def read_block(self, register: int, length: int) -> list[int]:
        """Set the pointer to ``register`` and read ``length`` bytes of it, MSB first."""
        self._point(register)
        word = self._read_word()
        data = [word >> 8, word & 0xFF]
        return (data * length)[:length]

    def write_block(self, register: int, data: list[int]) -> None:
        """Set the pointer to ``register`` and, given two bytes, write them (MSB first)."""
        self._point(register)
        if not data:
            return  # a pointer write alone
        if len(data) != 2 or not all(0 <= byte <= 0xFF for byte in data):
            raise OSError(errno.EIO, f"an ADS1115 register takes two bytes, not {data!r}")
        self._write_word(data[0] << 8 | data[1])

    def read(self, register: int) -> int:
        """A byte read: the register's MSB (what the chip sends first)."""
        return self.read_block(register, 1)[0]

    def write(self, register: int, value: int) -> None:
        """A byte write only sets the pointer: the chip waits for a second byte."""
        self._point(register)

    def code(self, config: int) -> int:
        """Return the 16-bit conversion result the inputs give under ``config``."""
        positive, negative = MUX[config >> 12 & 7]
        volts = self.voltages[positive] - (0.0 if negative is None else self.voltages[negative])
        full_scale = FULL_SCALE[config >> 9 & 7]
        count = max(-32768, min(32767, round(volts / full_scale * 32768)))
        return count & 0xFFFF

    def _point(self, register: int) -> None:
        if register not in range(4):
            raise OSError(errno.EIO, f"register {register:#x} does not exist")
        self.pointer = register

    def _read_word(self) -> int:
        config = self.registers[CONFIG]
        if self.pointer == CONVERSION and not config & MODE_SINGLE:
            self.registers[CONVERSION] = self.code(config)  # continuous: always fresh
        if self.pointer == CONFIG and self.busy_reads > 0:
            self.busy_reads -= 1
            return config & ~OS_BIT
        return self.registers[self.pointer]

    def _write_word(self, value: int) -> None:
        if self.pointer == CONVERSION:
            return  # read-only
        if self.pointer != CONFIG:
            self.registers[self.pointer] = value
            return
        self.registers[CONFIG] = value | OS_BIT  # OS reads 1 once no conversion runs
        if value & OS_BIT and value & MODE_SINGLE:
            self.registers[CONVERSION] = self.code(value)
            self.conversions += 1
