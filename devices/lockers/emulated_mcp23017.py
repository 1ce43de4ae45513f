"""MCP23017 I2C GPIO expanders in software, at register level, behind an smbus2-like bus.

It lets the expander locker backend run off a Pi, as ``devices/rfid/emulated_rc522.py`` does
for the card reader::

    bus = EmulatedI2cBus()
    chip = bus.attach(EmulatedMcp23017(0x20))
    factory = Mcp23017Factory(ExpanderBus(bus), 0x20)
    chip.set_input("GPB0", low=True)   # a reed switch closed by its door's magnet

Emulated (IOCON.BANK = 0 addresses): IODIR, IPOL, GPINTEN, DEFVAL, INTCON, IOCON, GPPU, INTF,
INTCAP, GPIO and OLAT of both ports; a GPIO read of an output pin returns its latch; an input
with no pull-up and nothing driving it reads high (as a board's external pull-up makes it);
interrupt-on-change against the previous level or DEFVAL, cleared by reading GPIO or INTCAP,
and the INT output (INTA/INTB, mirrored when IOCON.MIRROR is set). Fault injection: a bus that
raises ``OSError(EIO)`` (as smbus2 does when a chip does not acknowledge), a chip that stops
answering (``silent``), and ``reset()``,
which returns every register to its power-on value (a brown-out, or a pulse on RESET).
Not emulated: sequential (block) transfers, IOCON.BANK = 1, INT polarity and open-drain levels.
"""

from __future__ import annotations

import errno
import threading
from typing import Protocol, TypeVar

REGISTER_COUNT = 0x16
IODIR, IPOL, GPINTEN, DEFVAL, INTCON, IOCON, GPPU, INTF, INTCAP, GPIO, OLAT = (
    0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x10, 0x12, 0x14,
)  # fmt: skip
IOCON_MIRROR = 0x40
POWER_ON = {IODIR: 0xFF, IODIR + 1: 0xFF}  # every other register powers on as 0x00


def pin_number(name: str | int) -> int:
    """Return 0-15 for a pin given as 0-15 or as "GPA0".."GPA7", "GPB0".."GPB7"."""
    if isinstance(name, int) and not isinstance(name, bool) and 0 <= name <= 15:
        return name
    if isinstance(name, str) and len(name) == 4 and name[:3].upper() in ("GPA", "GPB"):
        if name[3].isdigit() and int(name[3]) <= 7:
            return (8 if name[2].upper() == "B" else 0) + int(name[3])
    raise ValueError(f"{name!r} is not an MCP23017 pin (GPA0-GPA7, GPB0-GPB7 or 0-15)")


class EmulatedMcp23017:
    """One MCP23017's registers and the levels on its 16 pins."""

    def __init__(self, address: int = 0x20) -> None:
        if not 0x20 <= address <= 0x27:
            raise ValueError(f"an MCP23017 address is 0x20-0x27 (A2-A0), not {address:#x}")
        self.address = address
        self.registers = [0] * REGISTER_COUNT
        self.driven_low = 0  # input pins pulled to ground from outside (closed reed switches)
        self.silent = False  # does not acknowledge: unpowered, or its SDA/SCL wire cut
        self.resets = 0
        self.reset()

    def reset(self) -> None:
        """Return every register to its power-on value, as a brown-out or RESET pulse does."""
        self.registers = [POWER_ON.get(register, 0) for register in range(REGISTER_COUNT)]
        self.resets += 1

    def set_input(self, pin: str | int, *, low: bool) -> None:
        """Pull ``pin`` to ground from outside (``low``) or let it go, as a reed switch does."""
        bit = 1 << pin_number(pin)
        before = self.levels()
        self.driven_low = self.driven_low | bit if low else self.driven_low & ~bit
        self._latch_interrupts(before, self.levels())

    def output(self, pin: str | int) -> bool | None:
        """Return the level ``pin`` drives (True high), or None while it is an input."""
        bit = pin_number(pin)
        if self._word(IODIR) >> bit & 1:
            return None
        return bool(self._word(OLAT) >> bit & 1)

    def levels(self) -> int:
        """Return the 16 pin levels (bit 8 + n is GPBn): outputs drive, inputs read high
        unless pulled low from outside."""
        outputs = ~self._word(IODIR) & 0xFFFF
        inputs = ~self.driven_low & 0xFFFF
        return (self._word(OLAT) & outputs) | (inputs & ~outputs & 0xFFFF)

    @property
    def interrupt(self) -> tuple[bool, bool]:
        """Whether INTA and INTB are asserted (with IOCON.MIRROR, both say either port)."""
        flags = self._word(INTF)
        port_a, port_b = bool(flags & 0xFF), bool(flags >> 8)
        if self.registers[IOCON] & IOCON_MIRROR:
            return port_a or port_b, port_a or port_b
        return port_a, port_b

    def read(self, register: int) -> int:
        """Read one register, with the side effects of a real read (GPIO/INTCAP clear INTF)."""
        self._check_register(register)
        port = register & 1
        base = register & ~1
        if base == GPIO:
            value = (self.levels() >> (8 * port)) & 0xFF
            value ^= self.registers[IPOL + port] & self.registers[IODIR + port]
            self.registers[INTF + port] = 0
            return value
        if base == INTCAP:
            self.registers[INTF + port] = 0
        if base == IOCON:
            return self.registers[IOCON]
        return self.registers[register]

    def write(self, register: int, value: int) -> None:
        """Write one register; GPIO writes go to OLAT, INTF and INTCAP are read-only."""
        self._check_register(register)
        if not 0 <= value <= 0xFF:
            raise ValueError(f"a register value is one byte, not {value!r}")
        base = register & ~1
        if base in (INTF, INTCAP):
            return
        if base == GPIO:
            register = OLAT + (register & 1)
        if base == IOCON:
            self.registers[IOCON] = self.registers[IOCON + 1] = value & 0x7E  # bit 7: BANK
            return
        self.registers[register] = value

    def _word(self, base: int) -> int:
        return self.registers[base] | self.registers[base + 1] << 8

    def _latch_interrupts(self, before: int, after: int) -> None:
        enabled = self._word(GPINTEN) & self._word(IODIR)
        against_defval = self._word(INTCON)
        reference = (against_defval & self._word(DEFVAL)) | (~against_defval & before)
        fired = enabled & (after ^ reference) & ~self._word(INTF)
        for port in (0, 1):
            if (fired >> (8 * port)) & 0xFF:
                self.registers[INTF + port] |= (fired >> (8 * port)) & 0xFF
                self.registers[INTCAP + port] = (after >> (8 * port)) & 0xFF

    @staticmethod
    def _check_register(register: int) -> None:
        if not 0 <= register < REGISTER_COUNT:
            raise OSError(errno.EIO, f"register {register:#x} does not exist")


class EmulatedChip(Protocol):
    """A chip the emulated bus can carry: an MCP23017 or an ADS1115 (emulated_ads1115.py)."""

    address: int
    silent: bool

    def read(self, register: int) -> int: ...

    def write(self, register: int, value: int) -> None: ...


Chip = TypeVar("Chip", bound=EmulatedChip)


class EmulatedI2cBus:
    """An smbus2.SMBus look-alike with emulated chips on it, and a switch to break it."""

    def __init__(self) -> None:
        self.chips: dict[int, EmulatedChip] = {}
        self.broken = False  # every transfer fails, as with a cut SDA/SCL wire
        self.transfers = 0
        self.writes: list[tuple[int, int, int]] = []  # (address, register, value), in order
        self.closed = False
        self._lock = threading.Lock()

    def attach(self, chip: Chip) -> Chip:
        """Put ``chip`` on the bus at its address and return it."""
        if chip.address in self.chips:
            raise ValueError(f"two chips answer at {chip.address:#x}")
        self.chips[chip.address] = chip
        return chip

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        """Read one register of the chip at ``i2c_addr``."""
        with self._lock:
            return self._chip(i2c_addr).read(register)

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        """Write one register of the chip at ``i2c_addr``."""
        with self._lock:
            self._chip(i2c_addr).write(register, value)
            self.writes.append((i2c_addr, register, value))

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        """Read ``length`` bytes from ``register`` (chips with block transfers: the ADS1115)."""
        with self._lock:
            read_block = getattr(self._chip(i2c_addr), "read_block", None)
            if read_block is None:
                raise OSError(errno.EIO, f"block reads are not emulated at {i2c_addr:#x}")
            data: list[int] = list(read_block(register, length))
            return data

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int]) -> None:
        """Write ``data`` to ``register`` (chips with block transfers: the ADS1115)."""
        with self._lock:
            write_block = getattr(self._chip(i2c_addr), "write_block", None)
            if write_block is None:
                raise OSError(errno.EIO, f"block writes are not emulated at {i2c_addr:#x}")
            write_block(register, list(data))
            self.writes.append((i2c_addr, register, int.from_bytes(bytes(data), "big")))

    def close(self) -> None:
        """Close the bus, as smbus2 closes its /dev/i2c-N file."""
        self.closed = True

    def _chip(self, address: int) -> EmulatedChip:
        self.transfers += 1
        if self.closed:
            raise OSError(errno.EBADF, "the I2C bus is closed")
        chip = self.chips.get(address)
        if self.broken or chip is None or chip.silent:
            raise OSError(errno.EIO, f"no acknowledge from {address:#x}")  # smbus2's error
        return chip
