"""hardware/commissioning.md quotes `commonshed kiosk selftest` as it really prints.

The selftest runs here on the 16-locker example config (kiosk/sixteen-lockers.toml): its
MCP23017s emulated at register level, the Pi's own pins on gpiozero's MockFactory, the real
mfrc522 library on the emulated RC522, a real Mosquitto, and the real lock-safety check on
the config.txt lines hardware/wiring-16.md documents. It runs once well built and three times
with faults. Every selftest line the doc quotes must be one of the lines printed, with three
substitutions, the only differences between this bench and the doc's kiosk: the test broker's
kiosk-a at 127.0.0.1 is the example's shed-1 at hub.local, the temporary config.txt is
/boot/firmware/config.txt, and the waits ("within N s") are the command's defaults.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from broker import messages as wire
from devices.lockers.emulated_ads1115 import EmulatedAds1115
from devices.lockers.emulated_mcp23017 import EmulatedI2cBus
from kiosk.cli import check_locks_safety
from kiosk.config import KioskSettings
from kiosk.selftest import Timeouts
from tests.kiosk.builders import ADA, an_allowlist
from tests.kiosk.expander_kiosk import (
    ExpanderMaker,
    expanders_for,
    selftest_on_expanders,
    sixteen_locker_settings,
)
from tests.kiosk.loop_kiosk import LOOP_VOLTS, LoopMaker, loop_selftest

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"
COMMISSIONING = HARDWARE / "commissioning.md"
QUOTED = re.compile(r"(PASS|FAIL)  |      \S|All \d+ checks passed|\d+ of \d+ checks failed")
DEFAULTS = Timeouts()


def quoted_lines(text: str) -> list[str]:
    """Return the selftest lines quoted in the doc's ```text blocks."""
    blocks = re.findall(r"```text\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if QUOTED.match(line)]


def boot_config(tmp_path: Path) -> dict[str, object]:
    """The config.txt lines of hardware/wiring-16.md, and a Pi 4's device-tree model."""
    text = (HARDWARE / "wiring-16.md").read_text()
    section = text[text.index("These lines go in `/boot/firmware/config.txt`") :]
    config = tmp_path / "config.txt"
    config.write_text(re.search(r"```ini\n(.*?)```", section, re.S).group(1))
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    return {"config_paths": [config], "model_path": model}


class Bench:
    """The emulated 16-locker kiosk, run as many times as asked; collects every line."""

    def __init__(self, settings: KioskSettings, mosquitto, rc522, tmp_path: Path) -> None:
        self.settings, self.mosquitto, self.rc522 = settings, mosquitto, rc522
        self.paths = boot_config(tmp_path)
        self.lines: list[str] = []

    def run(
        self, settings: KioskSettings | None = None, *, silent=(), card=True, quick=True, **faults
    ) -> bool:
        """Run the selftest on fresh pins and chips; return whether it passed. ``quick``: short
        waits, for a run where a door or the broker is meant to fail."""
        settings = settings or self.settings
        factory, bus = MockFactory(), EmulatedI2cBus()
        doors = expanders_for(settings, bus)
        for address in silent:
            bus.chips[address].silent = True
        if card:
            self.rc522.present(ADA)
        else:
            self.rc522.remove()
        timeouts = {"card": 0.5, "door": 0.5, "broker": 1} if quick else {"card": 5}
        try:
            with ExpanderMaker(doors, **faults) as maker:
                report = selftest_on_expanders(
                    settings,
                    factory,
                    bus,
                    maker,
                    safety=lambda: check_locks_safety(settings, **self.paths).detail,
                    **timeouts,
                )
        finally:
            factory.reset()
            factory.close()
        self.lines += [self.as_in_the_doc(line) for line in maker.lines]
        return report.passed

    def as_in_the_doc(self, line: str) -> str:
        port = self.mosquitto.port
        line = line.replace(f"127.0.0.1:{port}", "hub.local:1883").replace("127.0.0.1", "hub.local")
        line = line.replace("kiosk-a", "shed-1")
        line = line.replace(str(self.paths["config_paths"][0]), "/boot/firmware/config.txt")
        line = re.sub(r"within \d+ s(?= \(is the hub)", f"within {DEFAULTS.broker:.0f} s", line)
        return re.sub(r"within \d+ s(?! \(is the hub)", f"within {DEFAULTS.card:.0f} s", line)


@pytest.fixture
def printed(mosquitto, chip, tmp_path) -> list[str]:
    """Every line the selftest printed on the bench, well built and with faults."""
    settings = sixteen_locker_settings(mosquitto, tmp_path / "kiosk")
    bench = Bench(settings, mosquitto, chip, tmp_path)
    # no card tapped, two doors at fault, and no hub running
    bench.run(card=False, stuck_shut=frozenset({3}), left_open=frozenset({12}))
    wrong = replace(settings, mqtt=replace(settings.mqtt, password="not-it"))
    bench.run(wrong, silent=(0x21,))
    bench.run(replace(settings, relay_board_trigger=None))  # stops at the lock safety
    hub = mosquitto.connect("hub")
    hub.publish(
        mosquitto.topic("kiosk-a", "allowlist"), wire.encode(an_allowlist()), qos=1, retain=True
    ).wait_for_publish(5)
    assert bench.run(quick=False), "\n".join(bench.lines)
    chip.disconnect(0xFF)
    bench.run()
    return bench.lines + loop_lines(settings)


def loop_lines(settings: KioskSettings) -> list[str]:
    """The lines of a kiosk whose locker 1 is on a supervised door loop: a sound loop with the
    maker shorting and cutting it when asked, one where nothing reads tamper, and a cut one."""
    lines: list[str] = []
    for state, tampers in (("closed", True), ("closed", False), ("cut", False)):
        factory, bus = MockFactory(), EmulatedI2cBus()
        adc = bus.attach(EmulatedAds1115(0x48))
        adc.set_voltage(0, LOOP_VOLTS[state])
        maker = LoopMaker(factory, adc, tampers=tampers)
        try:
            loop_selftest(settings, factory, maker, bus, door=5 if tampers else 0.5)
        finally:
            factory.reset()
            factory.close()
        lines += maker.lines
    return lines


def test_every_selftest_line_the_doc_quotes_is_one_it_prints(printed):
    quoted = quoted_lines(COMMISSIONING.read_text())
    print("\n".join(printed))  # shown when it fails: the lines there are to quote
    assert [line for line in quoted if line not in printed] == []


def test_the_doc_quotes_each_check():
    quoted = "\n".join(quoted_lines(COMMISSIONING.read_text()))
    for check in (
        "PASS  lock safety",
        "PASS  lockers: 16 relays",
        "PASS  expander: ",
        "FAIL  expander: ",
        "PASS  card reader: found",
        "FAIL  card reader: ",
        "PASS  card read: ",
        "PASS  locker 16: relay clicked",
        "FAIL  locker 3: ",
        "FAIL  locker 12: ",
        "PASS  buzzer and LEDs",
        "PASS  door loop: locker 1 reads closed",
        "PASS  locker 1: door loop tamper seen",
        "FAIL  door loop: locker 1 reads cut",
        "FAIL  locker 1: the door loop never read shorted",
        "PASS  broker login",
        "FAIL  broker login",
        "PASS  allow-list",
        "FAIL  allow-list",
        "checks passed: this kiosk is ready.",
    ):
        assert check in quoted, f"hardware/commissioning.md does not quote {check!r}"


def test_the_readme_links_the_commissioning_doc():
    assert "(commissioning.md)" in (HARDWARE / "README.md").read_text()
