"""A kiosk with no hardware: gpiozero's MockFactory pins and a SimulatedReader.

The same session, lockers and outbox run as on a Pi; only the pins and the reader are
pretend. Lockers on MCP23017 expanders (``[[lockers.banks]]``) run on the register-level
emulation of the chips (devices/lockers/emulated_mcp23017.py), through the real driver, and
supervised door loops (a slot's ``door`` table) on emulated ADS1115s at their loop voltages. The
screen's simulation panel (and tests) tap cards and open or shut doors here.
"""

from __future__ import annotations

from typing import TypedDict

from gpiozero.pins.mock import MockFactory, MockPin

from devices.lockers.emulated_ads1115 import EmulatedAds1115
from devices.lockers.emulated_mcp23017 import EmulatedI2cBus, EmulatedMcp23017, pin_number
from devices.rfid import SimulatedReader
from kiosk.config import DeviceTable

LOOP_VOLTS = {False: 1.65, True: 2.2}  # a supervised loop shut, open (hardware/build.md)


class SimulatedLocker(TypedDict):
    """A locker's door and relay, as the simulation panel shows them."""

    slot: int
    door_open: bool
    unlocked: bool


class SimulatedHardware:
    """Mock pins for every locker, feedback device and door, emulated MCP23017s for the
    lockers on expanders, and a reader to tap cards on."""

    def __init__(self, lockers_config: DeviceTable) -> None:
        self.factory = MockFactory()
        # NOTE: no debounce: the panel's "tap" puts a card on and takes it off at once, and a
        # demo may tap the same card twice in a row.
        self.reader = SimulatedReader(absent_seconds=0.0)
        self._entries: dict[int, DeviceTable] = {
            entry["slot"]: entry for entry in lockers_config.get("lockers", ())
        }
        self._active_high = lockers_config.get("relay_active_high", True)
        self.i2c_buses: dict[int, EmulatedI2cBus] = {}
        self._chips: dict[int, EmulatedMcp23017] = {}  # by slot, for the lockers on one
        self._loops: dict[int, tuple[EmulatedAds1115, int]] = {}  # by slot: converter, input
        for bank in lockers_config.get("banks", ()):
            self._add_bank(bank)
        for slot, entry in self._entries.items():
            if isinstance(entry.get("door"), dict):
                self._add_loop(slot, entry["door"])

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(self._entries)

    def open_i2c(self, number: int) -> EmulatedI2cBus:
        """Open I2C bus ``number`` as LockerBank does: the emulated one with the chips on it."""
        return self.i2c_buses.setdefault(number, EmulatedI2cBus())

    def _add_bank(self, bank: DeviceTable) -> None:
        if bank.get("backend") != "mcp23017":
            self._entries.update({entry["slot"]: entry for entry in bank.get("slots", ())})
            return
        bus = self.open_i2c(bank.get("i2c_bus", 1))
        chip = bus.attach(EmulatedMcp23017(bank["address"]))
        for entry in bank["slots"]:
            self._entries[entry["slot"]] = entry
            self._chips[entry["slot"]] = chip
            # NOTE: shut before the lockers are built: the driver polls its doors, and a door
            # shut by start() only after the chip's first read would be a "closed" edge to come.
            chip.set_input(entry["door_pin"], low=True)

    def _add_loop(self, slot: int, door: DeviceTable) -> None:
        """Put the slot's loop on an emulated ADS1115, shut (before the lockers read it)."""
        given = door["adc"]
        address = int(given, 0) if isinstance(given, str) else int(given)
        bus = self.open_i2c(door.get("i2c_bus", 1))
        adc = bus.chips.get(address)
        if not isinstance(adc, EmulatedAds1115):
            adc = bus.attach(EmulatedAds1115(address))
        self._loops[slot] = adc, door["channel"]
        adc.set_voltage(door["channel"], LOOP_VOLTS[False])

    def relay_pin(self, slot: int) -> MockPin:
        """Return the mock pin of locker ``slot``'s relay (its ``states`` are its history); a
        locker on the Pi's pins only."""
        return self.factory.pin(self._entries[slot]["relay_pin"])

    def door_pin(self, slot: int) -> MockPin:
        """Return the mock pin of locker ``slot``'s door switch (on the Pi's pins only)."""
        return self.factory.pin(self._entries[slot]["door_pin"])

    def tap(self, uid: str) -> bool:
        """Tap a card: put it on the reader and take it off; return whether it was reported."""
        reported = self.reader.present(uid)
        self.reader.remove()
        return reported

    def set_door(self, slot: int, open_: bool) -> None:
        """Open or shut the door of locker ``slot`` (its reed switch reads high when open)."""
        if slot in self._loops:
            adc, channel = self._loops[slot]
            adc.set_voltage(channel, LOOP_VOLTS[open_])
            return
        if slot in self._chips:
            self._chips[slot].set_input(self._entries[slot]["door_pin"], low=not open_)
            return
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
                "door_open": self._door_open(slot),
                "unlocked": self._relay_active(slot),
            }
            for slot in self._entries
        ]

    def close(self) -> None:
        """Release the reader and the mock pins."""
        self.reader.close()
        self.factory.reset()
        self.factory.close()

    def _door_open(self, slot: int) -> bool:
        if slot in self._loops:
            adc, channel = self._loops[slot]
            return adc.voltages[channel] > LOOP_VOLTS[False]
        if slot in self._chips:
            door = pin_number(self._entries[slot]["door_pin"])
            return bool(self._chips[slot].levels() >> door & 1)
        return bool(self.door_pin(slot).state)

    def _relay_active(self, slot: int) -> bool:
        entry = self._entries[slot]
        if slot in self._chips:  # expander relays are active-high (LockerBank checks)
            return self._chips[slot].output(entry["relay_pin"]) is True
        active_high: object = entry.get("relay_active_high", self._active_high)
        return bool(self.relay_pin(slot).state) == active_high
