"""A 16-locker kiosk (kiosk/sixteen-lockers.toml) on emulated MCP23017s, for the selftest.

The chips are register-level emulations on an emulated I2C bus; the Pi's own pins (the
expanders' RESET line, the buzzer and LEDs) are gpiozero's MockFactory; the reader is the real
mfrc522 library on the emulated RC522; the broker a real Mosquitto.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from devices.lockers.emulated_mcp23017 import EmulatedI2cBus, EmulatedMcp23017, pin_number
from devices.rfid.mfrc522 import Mfrc522Reader
from kiosk.config import KioskSettings, load_settings
from kiosk.selftest import Report, Timeouts, run_selftest

SIXTEEN_LOCKERS = Path(__file__).parents[2] / "kiosk" / "sixteen-lockers.toml"
SAFE = "not applicable (simulated pins)"


@dataclass(frozen=True)
class Door:
    """Where one locker is: its chip, its relay pin and its door-switch pin."""

    chip: EmulatedMcp23017
    relay: str
    switch: str


def sixteen_locker_settings(mosquitto, data_dir: Path) -> KioskSettings:
    """kiosk/sixteen-lockers.toml as kiosk-a at the test broker's site."""
    settings = load_settings(SIXTEEN_LOCKERS)
    mqtt = replace(
        settings.mqtt,
        host=mosquitto.host,
        port=mosquitto.port,
        username="kiosk-a",
        password=mosquitto.credentials["kiosk-a"].password,
    )
    return replace(settings, kiosk_id="kiosk-a", site="test", data_dir=data_dir, mqtt=mqtt)


def expanders_for(settings: KioskSettings, bus: EmulatedI2cBus) -> dict[int, Door]:
    """Attach an emulated chip for each bank of ``settings``, every door shut; return the
    doors by slot."""
    doors: dict[int, Door] = {}
    for bank in settings.lockers["banks"]:
        chip = bus.attach(EmulatedMcp23017(bank["address"]))
        for entry in bank["slots"]:
            chip.set_input(entry["door_pin"], low=True)  # the magnet on its reed switch
            doors[entry["slot"]] = Door(chip, entry["relay_pin"], entry["door_pin"])
    return doors


class ExpanderMaker(threading.Thread):
    """The person commissioning the kiosk: shuts a door the selftest says is open and opens
    each door whose lock clicks, then shuts it, except the doors named ``stuck_shut`` (a reed
    switch that always reads shut) and ``left_open`` (opened, never shut)."""

    def __init__(
        self,
        doors: dict[int, Door],
        *,
        stuck_shut: frozenset[int] = frozenset(),
        left_open: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(daemon=True)
        self.doors, self.stuck_shut, self.left_open = doors, stuck_shut, left_open
        self.stopping = threading.Event()
        self.opened: list[int] = []
        self.lines: list[str] = []

    def read(self, line: str) -> None:
        """Read one line of the selftest's output, and do what it asks."""
        self.lines.append(line)
        if asked := re.search(r"Locker (\d+): its door switch reads open; shut the door", line):
            door = self.doors[int(asked.group(1))]
            door.chip.set_input(door.switch, low=True)

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            for slot, door in self.doors.items():
                relay_on = door.chip.output(door.relay) is True
                switch_open = door.chip.levels() >> pin_number(door.switch) & 1
                if relay_on and not switch_open and slot not in self.stuck_shut:
                    door.chip.set_input(door.switch, low=False)
                    self.opened.append(slot)
                elif switch_open and not relay_on and slot in self.opened:
                    if slot not in self.left_open:
                        door.chip.set_input(door.switch, low=True)

    def __enter__(self) -> ExpanderMaker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.join()


def selftest_on_expanders(
    settings: KioskSettings,
    factory: MockFactory,
    bus: EmulatedI2cBus,
    maker: ExpanderMaker,
    *,
    safety: Callable[[], str] = lambda: SAFE,
    **timeouts: float,
) -> Report:
    """Run the selftest on the emulated kiosk; the maker reads (and acts on) what it prints."""
    report = run_selftest(
        settings,
        open_reader=lambda: Mfrc522Reader(poll_seconds=0.005),
        safety=safety,
        pin_factory=factory,
        open_i2c=lambda number: bus,
        timeouts=Timeouts(**{"card": 5, "door": 5, "broker": 5, **timeouts}),
        say=maker.read,
    )
    maker.lines.append(report.summary())
    return report
