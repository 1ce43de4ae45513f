"""The locker banks of a kiosk config that are not on the Pi's own GPIO: MCP23017 expanders.

A bank in the config::

    {"backend": "mcp23017", "i2c_bus": 1, "address": 0x20, "poll_seconds": 0.02,
     "reset_pin": 17, "slots": [{"slot": 9, "relay_pin": "GPA4", "door_pin": "GPA0"}, ...]}

``reset_pin`` (optional, a Pi GPIO) drives the chips' RESET line: held high while the kiosk
runs, low when it closes. With a 10 kOhm pull-down on that line, a kiosk process that dies in
any way (even SIGKILL, with ``dtparam=strict_gpiod``) lets RESET fall: the chip resets, its
pins become inputs, and the relays' pull-downs lock every locker. Without it a chip keeps its
output latch, and a pulse running when the process died would stay on.

``backend = "gpio"`` is also accepted, for a bank of lockers on the Pi's own pins (the same as
the top-level ``lockers`` list). Banks on one ``i2c_bus`` share one ``ExpanderBus`` (one lock,
one poll thread); no two banks may share an address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from typing import Any

from gpiozero import DigitalOutputDevice
from gpiozero.pins import Factory

from devices.errors import BadLockerConfig
from devices.lockers.mcp23017 import DEFAULT_POLL_SECONDS, ExpanderBus, SMBusLike

BACKENDS = ("gpio", "mcp23017")
BANK_KEYS = {
    "gpio": frozenset(("backend", "slots")),
    "mcp23017": frozenset(("backend", "slots", "i2c_bus", "address", "poll_seconds", "reset_pin")),
}
Entries = list[Mapping[str, Any]]
CheckEntries = Callable[[Iterable[Mapping[str, Any]]], Entries]


class ExpanderBanks:
    """The I2C buses opened for a locker bank's expander banks; ``close()`` closes them all."""

    def __init__(
        self, open_i2c: Callable[[int], SMBusLike], pin_factory: Factory | None = None
    ) -> None:
        self._open_i2c = open_i2c
        self._pin_factory = pin_factory  # for the RESET lines, on the Pi's own pins
        self.buses: dict[int, ExpanderBus] = {}
        self.resets: dict[object, DigitalOutputDevice] = {}
        self._stack = ExitStack()

    def __enter__(self) -> ExpanderBanks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def build(
        self,
        banks: Iterable[Mapping[str, Any]],
        relay_active_high: bool,
        check_entries: CheckEntries,
    ) -> list[tuple[Entries, Factory | None]]:
        """Return each bank's checked locker entries with the pin factory to build them on."""
        groups: list[tuple[Entries, Factory | None]] = []
        addresses: set[tuple[int, int]] = set()
        for index, bank in enumerate(banks):
            where = f"locker bank {index}"
            backend = _checked_bank(where, bank)
            entries = check_entries(bank["slots"])
            if backend == "gpio":
                groups.append((entries, None))
                continue
            bus_number, address = bank.get("i2c_bus", 1), bank.get("address")
            address = _check_expander(where, bus_number, address, addresses)
            _check_active_high(where, entries, relay_active_high)
            if bank.get("reset_pin") is not None:
                self._hold_out_of_reset(bank["reset_pin"])
            groups.append((entries, self._bus(bus_number, bank).chip(address)))
        return groups

    def close(self) -> None:
        """Stop every poll, release every relay that answers, close the buses; safe twice."""
        self._stack.close()

    def _hold_out_of_reset(self, pin: object) -> None:
        """Drive the chips' RESET line high (running) until close() lets it fall."""
        if pin in self.resets:
            return  # several chips share one RESET line
        line = DigitalOutputDevice(pin, initial_value=True, pin_factory=self._pin_factory)
        self._stack.callback(line.close)
        self._stack.callback(line.off)  # first: reset the chips, every relay released
        self.resets[pin] = line

    def _bus(self, number: int, bank: Mapping[str, Any]) -> ExpanderBus:
        if number not in self.buses:
            poll = bank.get("poll_seconds", DEFAULT_POLL_SECONDS)
            bus = ExpanderBus(self._open_i2c(number), poll_seconds=poll)
            self._stack.callback(bus.close)
            self.buses[number] = bus
        return self.buses[number]


def _checked_bank(where: str, bank: Mapping[str, Any]) -> str:
    if not isinstance(bank, Mapping):
        raise BadLockerConfig(f"{where} is not a table: {bank!r}")
    backend = bank.get("backend")
    if backend not in BACKENDS:
        raise BadLockerConfig(f"{where} backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    unknown = set(bank) - BANK_KEYS[backend]
    if unknown:
        raise BadLockerConfig(f"{where} has unknown keys {', '.join(sorted(unknown))}")
    if not isinstance(bank.get("slots"), list) or not bank["slots"]:
        raise BadLockerConfig(f"{where} slots: needs at least one locker")
    return str(backend)


def _check_expander(where: str, bus: object, address: object, taken: set[tuple[int, int]]) -> int:
    if not isinstance(bus, int) or isinstance(bus, bool) or bus < 0:
        raise BadLockerConfig(f"{where} i2c_bus: {bus!r} is not a bus number (/dev/i2c-N)")
    if not isinstance(address, int) or isinstance(address, bool) or not 0x20 <= address <= 0x27:
        raise BadLockerConfig(
            f"{where} address: {address!r} is not an MCP23017 address (0x20-0x27, set by A2-A0)"
        )
    if (bus, address) in taken:
        raise BadLockerConfig(f"{where} address: {address:#x} on I2C bus {bus} is used twice")
    taken.add((bus, address))
    return address


def _check_active_high(where: str, entries: Entries, default: bool) -> None:
    # NOTE: at power-on the expander's pins are inputs; only a pull-down on an active-high relay
    # input holds the relay released then. An active-low board would unlock while the Pi boots.
    for entry in entries:
        if not entry.get("relay_active_high", default):
            raise BadLockerConfig(
                f"{where} slot {entry['slot']}: relays on an MCP23017 must be active-high "
                f"(relay_active_high = true), held released by a pull-down at power-on"
            )
