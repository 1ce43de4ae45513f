"""A kiosk with one locker on a supervised door loop (emulated ADS1115), and the maker at it."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

from gpiozero.pins.mock import MockFactory

from devices.rfid.mfrc522 import Mfrc522Reader
from kiosk.selftest import Timeouts, run_selftest

SAFE = "not applicable (simulated pins)"

LOOP_VOLTS = {"shorted": 0.0, "closed": 1.65, "open": 2.2, "cut": 3.3}


class LoopMaker(threading.Thread):
    """The maker at a locker with a supervised loop on AIN0: opens the door while its relay
    clicks, shuts it after, and shorts or cuts the loop when the selftest asks, holding each
    until the converter has read it a few times."""

    def __init__(self, factory: MockFactory, adc, *, tampers: bool = True) -> None:
        super().__init__(daemon=True)
        self.factory, self.adc, self.tampers = factory, adc, tampers
        self.stopping, self.lines, self.asked = threading.Event(), [], []
        self.opened = False

    def read(self, line: str) -> None:
        self.lines.append(line)
        if self.tampers and (asked := re.search(r"\((a short|a cut)\), then put it back", line)):
            self.asked.append("shorted" if asked.group(1) == "a short" else "cut")

    def hold(self, state: str) -> None:
        self.adc.set_voltage(0, LOOP_VOLTS[state])
        start = self.adc.conversions
        while self.adc.conversions < start + 6 and not self.stopping.wait(0.01):
            pass
        self.adc.set_voltage(0, LOOP_VOLTS["closed"])

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            if self.asked:
                self.hold(self.asked.pop(0))
            relay_on = self.factory.pin(17).state
            if relay_on and not self.opened:
                self.adc.set_voltage(0, LOOP_VOLTS["open"])
                self.opened = True
            elif self.opened and not relay_on:
                self.adc.set_voltage(0, LOOP_VOLTS["closed"])


def loop_selftest(settings, factory, maker, i2c, **timeouts):
    lockers = {k: v for k, v in settings.lockers.items() if k not in ("lockers", "banks")}
    lockers["lockers"] = [{"slot": 1, "relay_pin": 17, "door": {"adc": 0x48, "channel": 0}}]
    maker.start()
    try:
        return run_selftest(
            replace(settings, lockers=lockers),
            open_reader=lambda: Mfrc522Reader(poll_seconds=0.005),
            safety=lambda: SAFE,
            pin_factory=factory,
            open_i2c=lambda number: i2c,
            timeouts=Timeouts(**{"card": 0.2, "door": 5, "broker": 0.5, **timeouts}),
            say=maker.read,
        )
    finally:
        maker.stopping.set()
        maker.join()
