"""A kiosk's lockers, built from its config and addressed by slot number."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

from gpiozero.pins import Factory

from devices.errors import BadLockerConfig, DeviceClosed, UnknownLocker
from devices.lockers.events import EventCallback
from devices.lockers.expanders import ExpanderBanks
from devices.lockers.locker import MAX_PULSE_SECONDS, Clock, Locker
from devices.lockers.mcp23017 import SMBusLike, open_smbus
from devices.lockers.supervised import SupervisedLoops

PIN_KEYS = ("relay_pin", "door_pin", "led_pin")
# Settings a bank applies to every locker, and that one locker's entry may override.
BANK_SETTINGS = (
    "relay_active_high",
    "pulse_seconds",
    "door_open_alarm_seconds",
    "forced_grace_seconds",
    "relock_on_open",
    "max_pulse_seconds",
)
LOCKER_KEYS = frozenset(("slot", "door", *PIN_KEYS, *BANK_SETTINGS))


class LockerBank:
    """The lockers of one kiosk, by slot: ``bank[3].unlock()`` or ``bank.unlock(3)``.

    ``lockers`` is the kiosk config's list of entries such as
    ``{"slot": 1, "relay_pin": 17, "door_pin": 27, "led_pin": None}``; an entry may also set any
    of the bank-wide keywords for itself. Every event carries the slot as its ``locker_id``.
    ``close()`` releases every relay (all locked) and is safe to call twice.

    ``banks`` adds lockers on other pins than the Pi's own: each bank is
    ``{"backend": "mcp23017", "i2c_bus": 1, "address": 0x20, "slots": [...]}`` (or
    ``"backend": "gpio"`` with ``slots``, like ``lockers``); see devices/lockers/expanders.py.
    ``open_i2c`` opens an I2C bus by number (smbus2 on a Pi; tests pass an emulated bus).

    An entry may have a supervised door loop instead of a ``door_pin``:
    ``"door": {"adc": 0x48, "channel": 0}`` (an ADS1115 input; see devices/lockers/supervised.py).
    """

    def __init__(
        self,
        lockers: Iterable[Mapping[str, Any]],
        *,
        relay_active_high: bool = True,
        pulse_seconds: float = 5.0,
        door_open_alarm_seconds: float = 60.0,
        forced_grace_seconds: float = 1.0,
        relock_on_open: bool = True,
        max_pulse_seconds: float = MAX_PULSE_SECONDS,
        pin_factory: Factory | None = None,
        on_event: EventCallback | None = None,
        clock: Clock = time.monotonic,
        banks: Iterable[Mapping[str, Any]] = (),
        open_i2c: Callable[[int], SMBusLike] = open_smbus,
    ) -> None:
        defaults = {
            "relay_active_high": relay_active_high,
            "pulse_seconds": pulse_seconds,
            "door_open_alarm_seconds": door_open_alarm_seconds,
            "forced_grace_seconds": forced_grace_seconds,
            "relock_on_open": relock_on_open,
            "max_pulse_seconds": max_pulse_seconds,
        }
        self._closed = False
        self._on_event = on_event
        with ExitStack() as stack:  # a locker that fails to build closes those built before it
            self._expanders = stack.enter_context(ExpanderBanks(open_i2c, pin_factory))
            groups = [(_checked_entries(lockers), pin_factory)]
            groups += self._expanders.build(banks, relay_active_high, _checked_entries)
            _check_unique_slots(entry for entries, _ in groups for entry in entries)
            # NOTE: entered after the expanders, so closed before them: a bus both share in a
            # test's emulation stays open until the expanders have released their relays.
            self._loops = stack.enter_context(SupervisedLoops(open_i2c))  # type: ignore[arg-type]
            self._lockers = {
                entry["slot"]: stack.enter_context(
                    Locker(
                        locker_id=entry["slot"],
                        pin_factory=factory,
                        on_event=on_event,
                        clock=clock,
                        **{**defaults, **self._door(entry)},
                    )
                )
                for entries, factory in groups
                for entry in entries
            }
            self._loops.start()
            stack.pop_all()

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        pin_factory: Factory | None = None,
        on_event: EventCallback | None = None,
        clock: Clock = time.monotonic,
        open_i2c: Callable[[int], SMBusLike] = open_smbus,
    ) -> LockerBank:
        """Build a bank from ``{"lockers": [...], "banks": [...], "pulse_seconds": 5.0, ...}``."""
        unknown = set(config) - {"lockers", "banks", *BANK_SETTINGS}
        if unknown:
            raise BadLockerConfig(f"unknown locker-bank settings: {', '.join(sorted(unknown))}")
        if "lockers" not in config and "banks" not in config:
            raise BadLockerConfig("the locker-bank config has no 'lockers' list and no 'banks'")
        settings = {k: v for k, v in config.items() if k not in ("lockers", "banks")}
        return cls(
            config.get("lockers", ()),
            banks=config.get("banks", ()),
            pin_factory=pin_factory,
            on_event=on_event,
            open_i2c=open_i2c,
            clock=clock,
            **settings,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"slots {list(self._lockers)}"
        return f"<LockerBank {state}>"

    def __getitem__(self, slot: int) -> Locker:
        self._check_open()
        try:
            return self._lockers[slot]
        except KeyError:
            raise UnknownLocker(f"there is no locker in slot {slot!r}") from None

    def __contains__(self, slot: object) -> bool:
        return slot in self._lockers

    def __iter__(self) -> Iterator[Locker]:
        self._check_open()
        return iter(self._lockers.values())

    def __len__(self) -> int:
        return len(self._lockers)

    @property
    def slots(self) -> tuple[int, ...]:
        """The slot numbers, in config order."""
        return tuple(self._lockers)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    @property
    def on_event(self) -> EventCallback | None:
        """The callback every locker of the bank reports to."""
        return self._on_event

    @on_event.setter
    def on_event(self, callback: EventCallback | None) -> None:
        self._on_event = callback
        for locker in self._lockers.values():
            locker.on_event = callback

    def unlock(self, slot: int, seconds: float | None = None) -> None:
        """Pulse the lock of ``slot`` open (see ``Locker.unlock``)."""
        self[slot].unlock(seconds)

    def close(self) -> None:
        """Close every locker, leaving each one locked; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        with ExitStack() as stack:  # one failing locker must not leave the others unclosed
            stack.callback(self._expanders.close)  # last: the lockers release their relays first
            stack.callback(self._loops.close)
            for locker in self._lockers.values():
                stack.callback(locker.close)

    @property
    def loops(self) -> SupervisedLoops:
        """The supervised door loops of this bank (none when every door is a plain switch)."""
        return self._loops

    def _door(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Return the entry's Locker keywords, its door table turned into a SupervisedDoor."""
        keywords = _without(entry, "slot")
        if "door" in keywords:
            keywords["door"] = self._loops.door(f"slot {entry['slot']}", keywords["door"])
        return keywords

    @property
    def expanders(self) -> ExpanderBanks:
        """The I2C expander buses of this bank (none for a bank on the Pi's GPIO alone)."""
        return self._expanders

    def __enter__(self) -> LockerBank:
        self._check_open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosed("the locker bank is closed")


def _checked_entries(lockers: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the config's locker entries, or raise BadLockerConfig naming what is wrong."""
    entries = list(lockers)
    pins: dict[object, str] = {}
    for index, entry in enumerate(entries):
        _check_entry(index, entry)
        _claim_pins(entry, pins)
    _check_unique_slots(entries)
    return entries


def _check_unique_slots(entries: Iterable[Mapping[str, Any]]) -> None:
    slots: set[int] = set()
    for entry in entries:
        if entry["slot"] in slots:
            raise BadLockerConfig(f"slot {entry['slot']} appears twice in the locker config")
        slots.add(entry["slot"])


def _check_entry(index: int, entry: Mapping[str, Any]) -> None:
    if not isinstance(entry, Mapping):
        raise BadLockerConfig(f"locker entry {index} is not a mapping: {entry!r}")
    needed = ("slot", "relay_pin") if "door" in entry else ("slot", "relay_pin", "door_pin")
    missing = [key for key in needed if key not in entry]
    if missing:
        raise BadLockerConfig(f"locker entry {index} lacks {', '.join(missing)}")
    unknown = set(entry) - LOCKER_KEYS
    if unknown:
        raise BadLockerConfig(f"locker entry {index} has unknown keys {', '.join(sorted(unknown))}")
    slot = entry["slot"]
    if not isinstance(slot, int) or isinstance(slot, bool):
        raise BadLockerConfig(f"locker entry {index} has slot {slot!r}; a slot is a whole number")


def _claim_pins(entry: Mapping[str, Any], pins: dict[object, str]) -> None:
    # gpiozero would refuse a reused pin too, but only after half the bank is built, and
    # without saying which slots clash.
    for key in PIN_KEYS:
        pin = entry.get(key)
        if pin is None:
            continue
        user = f"slot {entry['slot']}'s {key}"
        if pin in pins:
            raise BadLockerConfig(f"pin {pin!r} is both {pins[pin]} and {user}")
        pins[pin] = user


def _without(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in mapping.items() if name != key}
