"""Lockers on MCP23017 I2C GPIO expanders: a gpiozero pin factory per chip, over smbus2.

Each chip gives 16 pins (GPA0-GPA7, GPB0-GPB7), up to 8 chips on one bus (addresses 0x20-0x27).
A ``Locker`` built with ``pin_factory=Mcp23017Factory(bus, 0x20)`` works as on the Pi's own GPIO:
its relay is an output pin, its door switch an input with the chip's pull-up.

Fail-secure, as on the Pi's GPIO (see hardware/wiring-16.md):

- at power-on and after a reset every pin is an input (IODIR = 0xFF), so nothing drives the
  relay boards: a 10 kOhm pull-down on each relay input holds the relay released (locked). Hence
  expander relays must be active-high;
- the driver writes OLAT = 0 (released) *before* it turns a pin into an output, so a relay
  never energises while the chip is set up;
- an I2C error (the chip does not answer, a cut wire) makes the bus write OLAT = 0 to every chip
  that still answers, and every door of a chip that did not answer reads *open*: as with a cut
  reed-switch wire, each locker reports ``door_forced`` (its existing alarm), and
  ``door_closed`` once the chip answers again and has been set up anew;
- a chip found reset (IOCON back at its power-on 0x00: a brown-out or a glitch on RESET) is set
  up again with every relay released, and the reset is logged and counted.

Door inputs are polled (``poll_seconds``, 20 ms by default: well inside a door's opening time and
a reed switch's bounce): one IOCON read and two GPIO reads per chip per poll. The chip's INT
output is set to open-drain and mirrored, so the INT pins of every chip can share one Pi GPIO if
a later version waits on it instead of polling.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from gpiozero.pins import Factory, Pin, PinInfo

from devices.errors import BadLockerConfig, DeviceClosed, LockerError
from devices.lockers.emulated_mcp23017 import GPIO, GPPU, IOCON, IODIR, OLAT, pin_number

logger = logging.getLogger(__name__)

ADDRESSES = range(0x20, 0x28)
IOCON_SETUP = 0x44  # MIRROR (one INT for both ports) | ODR (open-drain INT, shareable)
DEFAULT_POLL_SECONDS = 0.02
OUTPUT_ONLY = (7, 15)  # GPA7, GPB7
Edge = tuple["Mcp23017Pin", float, bool]  # a pin, when, its new level


class SMBusLike(Protocol):
    """What the driver needs of ``smbus2.SMBus``: byte reads and writes of one register."""

    def read_byte_data(self, i2c_addr: int, register: int) -> int: ...

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None: ...

    def close(self) -> None: ...


def open_smbus(number: int) -> SMBusLike:
    """Open /dev/i2c-``number`` with smbus2 (imported here: only a Pi needs it)."""
    from smbus2 import SMBus

    try:
        bus: SMBusLike = SMBus(number)
    except OSError as error:
        raise LockerError(
            f"cannot open /dev/i2c-{number} for the MCP23017 lockers: {error.strerror} (is "
            f"dtparam=i2c_arm=on in config.txt, and the kiosk's user in the i2c group?)"
        ) from None
    return bus


class ExpanderBus:
    """One I2C bus, the MCP23017 chips on it, and the thread that polls their inputs.

    Every transfer takes one lock, so relay writes (from gpiozero's blink threads) and the poll
    never interleave. ``faults`` counts I2C errors, ``resets`` chips found reset.
    """

    def __init__(self, smbus: SMBusLike, *, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        if not poll_seconds > 0:
            raise BadLockerConfig(f"poll_seconds must be a positive number, not {poll_seconds!r}")
        self.smbus = smbus
        self.poll_seconds = poll_seconds
        self.faults = 0
        self.resets = 0
        self.polls = 0
        self._chips: dict[int, Mcp23017Factory] = {}
        self._lock = threading.RLock()
        self.lock = self._lock  # for the chips' pin tables
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def chip(self, address: int) -> Mcp23017Factory:
        """Return the factory of the chip at ``address``, set up with every pin an input."""
        with self._lock:
            if address not in self._chips:
                self._chips[address] = Mcp23017Factory(self, address)
            return self._chips[address]

    @property
    def chips(self) -> tuple[Mcp23017Factory, ...]:
        return tuple(self._chips.values())

    def start(self) -> None:
        """Start polling the chips' inputs (once; further calls do nothing)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="mcp23017-poll", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop polling, release every relay that answers, and close the bus; safe twice."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            for chip in self._chips.values():
                chip.release_outputs()
            self.smbus.close()

    def read(self, address: int, register: int) -> int:
        with self._lock:
            return self.smbus.read_byte_data(address, register)

    def write(self, address: int, register: int, value: int) -> None:
        with self._lock:
            self.smbus.write_byte_data(address, register, value)

    def poll(self) -> None:
        """Read every chip's inputs once: set up again chips found reset or lost; fire edges.

        The door callbacks run after the bus lock is let go: a callback may take a locker's
        lock, and a thread holding that lock may be waiting for the bus.
        """
        with self._lock:
            self.polls += 1
            edges = [edge for chip in self._chips.values() for edge in chip.poll()]
        for pin, ticks, state in edges:
            pin.changed(ticks, state)

    def fault(self, error: OSError, chip: Mcp23017Factory) -> None:
        """An I2C transfer failed: release every relay that answers; the next poll sets the
        chip up again or, if it still does not answer, reads its doors as open."""
        with self._lock:
            self.faults += 1
            # once per loss, not once per poll: a cut wire would fill the log at 50 lines/s
            level = logging.ERROR if chip.answering else logging.DEBUG
            logger.log(
                level, "I2C error at MCP23017 %#x: %s; every relay released", chip.address, error
            )
            for each in self._chips.values():
                each.release_outputs()
            chip.release_outputs()
            chip.answering = False

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # the poll must go on: a dead poll would hide every door
                logger.exception("MCP23017 poll failed")


class Mcp23017Factory(Factory):
    """A gpiozero pin factory for the 16 pins of one MCP23017 on an ``ExpanderBus``."""

    def __init__(self, bus: ExpanderBus, address: int) -> None:
        super().__init__()
        if address not in ADDRESSES:
            raise BadLockerConfig(
                f"an MCP23017 address is 0x20-0x27 (set by A2-A0), not {address:#x}"
            )
        self.bus = bus
        self.address = address
        self.iodir = 0xFFFF  # what the driver has set: 1 = input
        self.olat = 0x0000
        self.gppu = 0x0000
        self.levels = 0xFFFF  # the inputs as last read; all open until read
        self.answering = False
        self._pins: dict[int, Mcp23017Pin] = {}
        self._owners: dict[int, object] = {}
        self.setup()

    def __repr__(self) -> str:
        return f"<Mcp23017Factory {self.address:#x}>"

    # --- gpiozero's Factory ---------------------------------------------------------------

    def pin(self, name: Any) -> Mcp23017Pin:
        number = _pin(name)
        with self.bus.lock:  # the poll thread may be reading the pins of this chip
            pin = self._pins.get(number)
            if pin is None or pin.closed:
                pin = self._pins[number] = Mcp23017Pin(self, number)
            return pin

    def reserve_pins(self, requester: Any, *names: Any) -> None:
        for name in names:
            number = _pin(name)
            if self._owners.get(number) not in (None, requester):
                raise BadLockerConfig(f"MCP23017 {self.address:#x} pin {name} is already in use")
            self._owners[number] = requester

    def release_pins(self, reserver: Any, *names: Any) -> None:
        for name in names:
            number = _pin(name)
            if self._owners.get(number) is reserver:
                del self._owners[number]

    def release_all(self, reserver: Any) -> None:
        for number in [n for n, owner in self._owners.items() if owner is reserver]:
            del self._owners[number]

    def ticks(self) -> float:
        return time.monotonic()

    def ticks_diff(self, later: float, earlier: float) -> float:
        return later - earlier

    def _get_board_info(self) -> None:
        return None

    # --- the chip ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Write the chip's registers from the driver's view and read its inputs."""
        try:
            self._configure()
            self.levels = self._read_levels()
            self.answering = True
        except OSError as error:
            logger.error("MCP23017 %#x does not answer at start: its doors read open", self.address)
            self.bus.fault(error, self)

    def poll(self) -> list[Edge]:
        """Check the chip still holds its setup (else set it up again) and read its inputs;
        return the input edges to fire. A chip that does not answer reads every input high:
        each door open, as a cut reed-switch wire reads."""
        try:
            if not self.answering or self.bus.read(self.address, IOCON) != IOCON_SETUP:
                self._set_up_again()
            levels = self._read_levels()
        except OSError as error:
            self.bus.fault(error, self)
            levels = 0xFFFF
        return self._edges(levels)

    def release_outputs(self) -> None:
        """Write OLAT = 0 (every relay released) if the chip answers; never raise."""
        self.olat = 0
        try:
            for port in (0, 1):
                self.bus.smbus.write_byte_data(self.address, OLAT + port, 0)
        except OSError:
            pass  # the poll keeps trying to set the chip up, OLAT = 0 first

    def _set_up_again(self) -> None:
        if self.answering:
            self.bus.resets += 1
            logger.error("MCP23017 %#x was reset: every relay released, set up again", self.address)
        self.olat = 0  # a pulse cut by a reset stays cut: locked is the safe side
        self._configure()
        if not self.answering:
            logger.warning("MCP23017 %#x answers again and is set up", self.address)
        self.answering = True

    def _configure(self) -> None:
        """OLAT before IODIR, so that an output starts released, then the rest."""
        for port in (0, 1):
            self.bus.write(self.address, OLAT + port, self._byte(self.olat, port))
        self.bus.write(self.address, IOCON, IOCON_SETUP)
        for port in (0, 1):
            self.bus.write(self.address, GPPU + port, self._byte(self.gppu, port))
            self.bus.write(self.address, IODIR + port, self._byte(self.iodir, port))

    def write_olat(self, number: int, high: bool) -> None:
        bit = 1 << number
        self.olat = self.olat | bit if high else self.olat & ~bit
        self._write_port(OLAT, self.olat, number)

    def set_direction(self, number: int, output: bool) -> None:
        bit = 1 << number
        if output:
            self._write_port(OLAT, self.olat, number)  # the latch first: released, then drive
        self.iodir = self.iodir & ~bit if output else self.iodir | bit
        self._write_port(IODIR, self.iodir, number)
        if not output:
            self._refresh_levels()

    def set_pull_up(self, number: int, up: bool) -> None:
        bit = 1 << number
        self.gppu = self.gppu | bit if up else self.gppu & ~bit
        self._write_port(GPPU, self.gppu, number)
        self._refresh_levels()

    def _refresh_levels(self) -> None:
        """Read the inputs anew after an input is set up, without firing edges for it."""
        try:
            self.levels = self._read_levels()
        except OSError as error:
            self.bus.fault(error, self)

    def _write_port(self, base: int, word: int, number: int) -> None:
        port = number // 8
        try:
            self.bus.write(self.address, base + port, self._byte(word, port))
        except OSError as error:
            self.bus.fault(error, self)

    def _read_levels(self) -> int:
        return self.bus.read(self.address, GPIO) | self.bus.read(self.address, GPIO + 1) << 8

    def _edges(self, levels: int) -> list[Edge]:
        changed = (levels ^ self.levels) & self.iodir
        self.levels = levels
        ticks = self.ticks()
        return [
            (pin, ticks, bool(levels >> number & 1))
            for number, pin in list(self._pins.items())
            if changed >> number & 1
        ]

    @staticmethod
    def _byte(word: int, port: int) -> int:
        return (word >> (8 * port)) & 0xFF


class Mcp23017Pin(Pin):
    """One pin of an MCP23017: output (a relay, an LED) or input with pull-up (a door)."""

    def __init__(self, factory: Mcp23017Factory, number: int) -> None:
        super().__init__()
        self._factory = factory
        self._number = number
        self._function = "input"
        self._bounce: float | None = None
        self._edges = "both"
        self._when_changed: Callable[[float, bool], object] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<Mcp23017Pin {self._factory.address:#x} {_name(self._number)}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._function == "output":
            self._factory.write_olat(self._number, False)
        self._when_changed = None
        self._closed = True

    def output_with_state(self, state: bool) -> None:
        self._factory.olat = (
            self._factory.olat | 1 << self._number
            if state
            else self._factory.olat & ~(1 << self._number)
        )
        self._set_function("output")

    def changed(self, ticks: float, state: bool) -> None:
        callback = self._when_changed
        if callback is None or self._function != "input":
            return
        if self._edges == "both" or (self._edges == "rising") == state:
            callback(ticks, state)

    def _get_info(self) -> PinInfo:
        name = _name(self._number)
        return PinInfo(
            number=self._number,
            name=name,
            names=frozenset({name, self._number}),
            pull="",
            row=self._number + 1,
            col=1,
            interfaces=frozenset({"gpio"}),
        )

    def _get_function(self) -> str:
        return self._function

    def _set_function(self, value: str) -> None:
        if value not in ("input", "output"):
            raise BadLockerConfig(f"an MCP23017 pin is an input or an output, not {value!r}")
        self._check_open()
        if value == "input" and self._number in OUTPUT_ONLY:
            raise BadLockerConfig(
                f"{_name(self._number)} is an output only (MCP23017 rev. D: an input there can "
                f"corrupt SDA): put door switches on GPA0-GPA6 or GPB0-GPB6"
            )
        self._function = value
        self._factory.set_direction(self._number, value == "output")

    def _get_state(self) -> bool:
        if self._function == "output":
            return bool(self._factory.olat >> self._number & 1)
        return bool(self._factory.levels >> self._number & 1)

    def _set_state(self, value: bool) -> None:
        self._check_open()
        if self._function != "output":
            raise BadLockerConfig(f"{self!r} is an input: it cannot be set")
        self._factory.write_olat(self._number, bool(value))

    def _get_pull(self) -> str:
        return "up" if self._factory.gppu >> self._number & 1 else "floating"

    def _set_pull(self, value: str) -> None:
        if value not in ("up", "floating"):
            raise BadLockerConfig(f"an MCP23017 pin has a pull-up or none, not {value!r}")
        self._factory.set_pull_up(self._number, value == "up")

    def _get_bounce(self) -> float | None:
        return self._bounce

    def _set_bounce(self, value: float | None) -> None:
        self._bounce = value  # the poll interval is the debounce: a reed switch settles in 1 ms

    def _get_edges(self) -> str:
        return self._edges

    def _set_edges(self, value: str) -> None:
        self._edges = value

    def _get_when_changed(self) -> Callable[[float, bool], object] | None:
        return self._when_changed

    def _set_when_changed(self, value: Callable[[float, bool], object] | None) -> None:
        self._when_changed = value
        if value is not None:
            self._factory.bus.start()

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosed(f"{self!r} is closed")


def _pin(name: Any) -> int:
    try:
        return pin_number(name)
    except ValueError as error:
        raise BadLockerConfig(str(error)) from None


def _name(number: int) -> str:
    return f"GP{'AB'[number // 8]}{number % 8}"
