"""Supervised door loops: end-of-line resistors read by an ADS1115, four states and tamper.

The loop (hardware/build.md, "Supervised door loops"): 3.3 V -- Rp 4.7 kOhm -- ADC input --
cable -- R1 4.7 kOhm -- reed switch (NO) in parallel with R2 4.7 kOhm -- GND. Its voltage tells:

    shorted cable  0 V      door shut (R1)  1.65 V      door open (R1 + R2)  2.2 V      cut  3.3 V

The thresholds sit half-way between those nominal levels, rounded to the nearest 0.05 V (0.8,
1.9, 2.75 V, as the hardware doc says): with 1 % resistors and a 3.3 V rail within +-5 % the
shut level stays in 1.55-1.75 V and the open level in 2.07-2.33 V, at least 0.15 V inside its
band (hardware/build.md has the sums). A state counts once ``settle_reads`` readings in a row
agree (debounce: a reed switch bounces, and a cable knocked in passing must not alarm).

To the ``Locker`` a supervised door is a door switch: shut is closed, open is open. Cut and
shorted, and a converter that does not answer (I2C error), are *tamper*: the door reads open
(nobody knows it is shut), the locker locks and reports ``door_forced``, the alarm stewards get.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devices.errors import BadLockerConfig
from devices.lockers.ads1115 import Ads1115, BlockBus

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.05  # 16 loops take about 30 ms to read at 860 samples/s
SETTLE_READS = 3  # with the poll: a state holds 0.1-0.15 s before it counts
DOOR_KEYS = frozenset(("adc", "channel", "i2c_bus"))


class LoopState(StrEnum):
    """What a supervised loop reads; each compares equal to its string."""

    SHORTED = "shorted"
    CLOSED = "closed"
    OPEN = "open"
    CUT = "cut"
    NO_ADC = "no_adc"  # the converter does not answer: the door's state is unknown


TAMPER = frozenset((LoopState.SHORTED, LoopState.CUT, LoopState.NO_ADC))


@dataclass(frozen=True)
class Thresholds:
    """The band edges in volts: below ``shorted_below`` is shorted, and so on up to cut."""

    shorted_below: float = 0.8
    closed_below: float = 1.9
    open_below: float = 2.75

    def classify(self, volts: float) -> LoopState:
        """Return the state a reading of ``volts`` means."""
        if volts < self.shorted_below:
            return LoopState.SHORTED
        if volts < self.closed_below:
            return LoopState.CLOSED
        if volts < self.open_below:
            return LoopState.OPEN
        return LoopState.CUT


DoorCallback = Callable[[], object]
TamperCallback = Callable[[LoopState], object]


class SupervisedDoor:
    """One door on one ADS1115 input, with the callbacks a ``Locker`` listens on.

    ``poll()`` takes one reading and fires, outside any lock of this object,
    ``when_door_opened`` / ``when_door_closed`` when the door moves between shut and open,
    and ``when_tampered(state)`` when the loop enters cut, shorted or no_adc (or moves between
    them). Leaving a tamper state for shut fires ``when_door_closed``; for open, nothing (the
    door already read open).
    """

    def __init__(
        self,
        adc: Ads1115,
        channel: int,
        *,
        settle_reads: int = SETTLE_READS,
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        if channel not in range(4):
            raise BadLockerConfig(f"an ADS1115 channel is 0-3, not {channel!r}")
        if settle_reads < 1:
            raise BadLockerConfig(f"settle_reads must be 1 or more, not {settle_reads!r}")
        self.adc, self.channel = adc, channel
        self.settle_reads, self.thresholds = settle_reads, thresholds
        self.when_door_opened: DoorCallback | None = None
        self.when_door_closed: DoorCallback | None = None
        self.when_tampered: TamperCallback | None = None
        self.volts: float | None = None  # the latest reading
        self.last_tamper: LoopState | None = None  # the latest tamper state entered (selftest)
        self._lock = threading.Lock()
        self._candidate: LoopState | None = None
        self._seen = 0
        self.state = self._read()  # at start, one reading: nothing to debounce against yet

    def __repr__(self) -> str:
        return f"<SupervisedDoor {self.adc.address:#x} AIN{self.channel} {self.state}>"

    @property
    def door_open(self) -> bool:
        """Whether the door reads open: open, or a loop in tamper (its state is unknown)."""
        return self.state != LoopState.CLOSED

    @property
    def door_closed(self) -> bool:
        return self.state == LoopState.CLOSED

    @property
    def tampered(self) -> bool:
        """Whether the loop reads cut or shorted, or its converter does not answer."""
        return self.state in TAMPER

    def poll(self) -> None:
        """Take one reading, debounce it, and fire the callbacks of a change of state."""
        reading = self._read()
        with self._lock:
            before, after = self.state, self._settle(reading)
            self.state = after
        if after != before:
            self._fire(before, after)

    def close(self) -> None:
        """Stop reporting (the loop's poller keeps the converter)."""
        self.when_door_opened = self.when_door_closed = self.when_tampered = None

    def _read(self) -> LoopState:
        try:
            self.volts = self.adc.read_volts(self.channel)
        except OSError as error:
            self.volts = None
            if getattr(self, "state", None) != LoopState.NO_ADC:  # once per loss, not per poll
                logger.error("I2C error at ADS1115 %#x: %s", self.adc.address, error)
            return LoopState.NO_ADC
        return self.thresholds.classify(self.volts)

    def _settle(self, reading: LoopState) -> LoopState:
        """Return the state after ``reading``: a lost converter at once, others once settled."""
        if reading == self.state or reading == LoopState.NO_ADC:
            self._candidate, self._seen = None, 0
            return reading
        if reading != self._candidate:
            self._candidate, self._seen = reading, 0
        self._seen += 1
        if self._seen < self.settle_reads:
            return self.state
        self._candidate, self._seen = None, 0
        return reading

    def _fire(self, before: LoopState, after: LoopState) -> None:
        if after in TAMPER:
            self.last_tamper = after
            logger.warning(
                "door loop at ADS1115 %#x AIN%d: %s (was %s)",
                self.adc.address,
                self.channel,
                after,
                before,
            )
            _call(self.when_tampered, after)
        elif after == LoopState.CLOSED:
            _call(self.when_door_closed)
        elif before == LoopState.CLOSED:
            _call(self.when_door_opened)


def _call(callback: Callable[..., object] | None, *args: object) -> None:
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:  # the poll must go on: a dead poll would hide every door
        logger.exception("a door loop callback failed")


class SupervisedLoops:
    """The supervised doors of a locker bank, their converters and the thread polling them.

    ``door(where, table)`` builds a door from a config entry's
    ``door = {adc = 0x48, channel = 0, i2c_bus = 1}`` (``adc`` may be a string "0x48";
    ``i2c_bus`` defaults to 1). ``close()`` stops the poll and closes the buses it opened.
    """

    def __init__(
        self,
        open_i2c: Callable[[int], BlockBus],
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        settle_reads: int = SETTLE_READS,
    ) -> None:
        self._open_i2c = open_i2c
        self.poll_seconds, self.settle_reads = poll_seconds, settle_reads
        self.doors: list[SupervisedDoor] = []
        self._adcs: dict[tuple[int, int], Ads1115] = {}
        self._buses: dict[int, BlockBus] = {}
        self._taken: dict[tuple[int, int, int], str] = {}
        self._stack = ExitStack()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SupervisedLoops:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def door(self, where: str, table: object) -> SupervisedDoor:
        """Build the supervised door ``table`` describes, or raise BadLockerConfig."""
        bus_number, address, channel = _checked_door(where, table)
        if (bus_number, address, channel) in self._taken:
            raise BadLockerConfig(
                f"{where} door: ADS1115 {address:#x} AIN{channel} on I2C bus {bus_number} is "
                f"also {self._taken[bus_number, address, channel]}'s"
            )
        self._taken[bus_number, address, channel] = where
        if (bus_number, address) not in self._adcs:
            self._adcs[bus_number, address] = Ads1115(self._bus(bus_number), address)
        door = SupervisedDoor(
            self._adcs[bus_number, address], channel, settle_reads=self.settle_reads
        )
        self.doors.append(door)
        return door

    def start(self) -> None:
        """Start polling every door (once; does nothing with no doors or after close)."""
        if self.doors and self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="door-loops", daemon=True)
            self._thread.start()

    def poll(self) -> None:
        """Read every door once."""
        for door in self.doors:
            door.poll()

    def close(self) -> None:
        """Stop polling and close the I2C buses; safe twice."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._stack.close()

    def _bus(self, number: int) -> BlockBus:
        if number not in self._buses:
            bus = self._open_i2c(number)
            self._stack.callback(bus.close)
            self._buses[number] = bus
        return self._buses[number]

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # the poll must go on: a dead poll would hide every door
                logger.exception("door loop poll failed")


def _checked_door(where: str, table: object) -> tuple[int, int, int]:
    if not isinstance(table, Mapping):
        raise BadLockerConfig(f"{where} door: {table!r} is not a table like {{adc = 0x48, ...}}")
    unknown = set(table) - DOOR_KEYS
    if unknown:
        raise BadLockerConfig(f"{where} door has unknown keys {', '.join(sorted(unknown))}")
    address = _address(where, table.get("adc"))
    channel, bus = table.get("channel"), table.get("i2c_bus", 1)
    if not isinstance(channel, int) or isinstance(channel, bool) or channel not in range(4):
        raise BadLockerConfig(f"{where} door channel: {channel!r} is not an ADS1115 input 0-3")
    if not isinstance(bus, int) or isinstance(bus, bool) or bus < 0:
        raise BadLockerConfig(f"{where} door i2c_bus: {bus!r} is not a bus number (/dev/i2c-N)")
    return bus, address, channel


def _address(where: str, value: object) -> int:
    number: Any = value
    if isinstance(value, str):
        try:
            number = int(value, 0)
        except ValueError:
            number = None
    if not _whole(number) or not 0x48 <= number <= 0x4B:
        raise BadLockerConfig(
            f"{where} door adc: {value!r} is not an ADS1115 address (0x48-0x4B, set by ADDR)"
        )
    return int(number)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
