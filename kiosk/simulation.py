"""A kiosk with no hardware: gpiozero's MockFactory pins and a SimulatedReader.

The same session, lockers and outbox run as on a Pi; only the pins and the reader are
pretend. The screen's simulation panel (and tests) tap cards and open or shut doors here.
"""

from __future__ import annotations

from typing import TypedDict

from gpiozero.pins.mock import MockFactory, MockPin

from devices.rfid import SimulatedReader
from kiosk.config import DeviceTable


class SimulatedLocker(TypedDict):
    """A locker's door and relay, as the simulation panel shows them."""

    slot: int
    door_open: bool
    unlocked: bool


class SimulatedHardware:
    """Mock pins for every locker, feedback device and door, and a reader to tap cards on."""

    def __init__(self, lockers_config: DeviceTable) -> None:
        self.factory = MockFactory()
        # NOTE: no debounce: the panel's "tap" puts a card on and takes it off at once, and a
        # demo may tap the same card twice in a row.
        self.reader = SimulatedReader(absent_seconds=0.0)
        self._entries: dict[int, DeviceTable] = {
            entry["slot"]: entry for entry in lockers_config["lockers"]
        }
        self._active_high = lockers_config.get("relay_active_high", True)

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(self._entries)

    def relay_pin(self, slot: int) -> MockPin:
        """Return the mock pin of locker ``slot``'s relay (its ``states`` are its history)."""
        return self.factory.pin(self._entries[slot]["relay_pin"])

    def door_pin(self, slot: int) -> MockPin:
        """Return the mock pin of locker ``slot``'s door switch."""
        return self.factory.pin(self._entries[slot]["door_pin"])

    def tap(self, uid: str) -> bool:
        """Tap a card: put it on the reader and take it off; return whether it was reported."""
        reported = self.reader.present(uid)
        self.reader.remove()
        return reported

    def set_door(self, slot: int, open_: bool) -> None:
        """Open or shut the door of locker ``slot`` (its reed switch reads high when open)."""
        pin = self.door_pin(slot)
        pin.drive_high() if open_ else pin.drive_low()

    def shut_all_doors(self) -> None:
        """Shut every door, as at the start of a day."""
        for slot in self._entries:
            self.set_door(slot, False)

    def lockers(self) -> list[SimulatedLocker]:
        """Return each locker's door and relay as the panel shows them."""
        return [
            {
                "slot": slot,
                "door_open": bool(self.door_pin(slot).state),
                "unlocked": self._relay_active(slot),
            }
            for slot in self._entries
        ]

    def close(self) -> None:
        """Release the reader and the mock pins."""
        self.reader.close()
        self.factory.reset()
        self.factory.close()

    def _relay_active(self, slot: int) -> bool:
        entry = self._entries[slot]
        active_high: object = entry.get("relay_active_high", self._active_high)
        return bool(self.relay_pin(slot).state) == active_high
