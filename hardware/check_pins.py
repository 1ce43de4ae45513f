#!/usr/bin/env python3
"""Check that the wiring docs and the kiosk's pin config say the same thing.

    .venv/bin/python hardware/check_pins.py            # exit 0: they agree; 1: it prints what not

Sources (all paths can be overridden, see --help):

- kiosk/default.toml     the pins the software drives (BCM numbering): the source of truth
- hardware/wiring.md     every Markdown table whose header is
                         ``| signal | BCM GPIO | physical pin | notes |``
- hardware/wiring.svg    every element with ``data-signal`` / ``data-gpio`` / ``data-pin``
- hardware/pi-setup.md   the config.txt lines (``dtparam=``, ``dtoverlay=``, ``enable_uart=``,
                         ``gpio=``) inside fenced code blocks, and the serial-console step

What is checked:

1. every pin in the config (relays, doors, LEDs, buzzer, RC522 RST and its SPI lines) has a row
   in wiring.md and a label in wiring.svg with the same BCM GPIO, and no row or label names a
   GPIO the config does not;
2. every BCM GPIO <-> physical pin pair (and every 3V3/5V/GND row) agrees with the standard
   40-pin header, the same on the Pi 4, Pi 5 and Pi Zero 2 W;
3. no GPIO is used twice, in the config or in the docs; GPIO0/1 (the HAT ID EEPROM) unused;
4. relay pins sit where the power-on pull holds the relay released: GPIO9-27 (pulled down)
   when ``relay_active_high`` is true, GPIO0-8 (pulled up) when it is false;
5. the documented config.txt matches the pins in use: SPI on for the RC522, ``spi0-1cs`` when
   CE1 (GPIO7) is taken by something else, the UART and serial console off when GPIO14/15 are
   used, I2C off when GPIO2/3 are used by anything but I2C and on when there are expanders,
   ``strict_gpiod`` set, and a ``gpio=`` boot line, if any, naming exactly the relay pins (and
   the expanders' RESET line) at their "locked" level;
6. no door switch on an SPI or UART pin;
7. lockers on MCP23017 expanders (``[[lockers.banks]]`` with ``backend = "mcp23017"``): I2C bus
   1, addresses 0x20-0x27 and none twice, pins GPA0-7/GPB0-7 and none twice on a chip, no door
   on the output-only GPA7/GPB7, active-high relays; and every expander pin in the wiring
   doc's ``| signal | chip | expander pin | notes |`` tables and in the drawing's
   ``data-chip`` / ``data-xpin`` labels, both ways;
8. supervised door loops (a slot's ``door = {adc = 0x48, channel = 0}`` instead of its
   ``door_pin``): ADS1115 addresses 0x48-0x4B, inputs 0-3 and none twice, I2C bus 1, not both a
   loop and a door pin; they take GPIO2/3 for I2C like the expanders do.

Standard library only, so it runs anywhere with Python 3.11.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The 40-pin header (J8) of every Raspberry Pi since the B+: Pi 4, Pi 5, Pi Zero 2 W alike.
# Physical pin -> BCM GPIO number, or the name of a power/ground pin.
HEADER: dict[int, int | str] = {
    1: "3V3", 2: "5V", 3: 2, 4: "5V", 5: 3, 6: "GND", 7: 4, 8: 14, 9: "GND", 10: 15,
    11: 17, 12: 18, 13: 27, 14: "GND", 15: 22, 16: 23, 17: "3V3", 18: 24, 19: 10, 20: "GND",
    21: 9, 22: 25, 23: 11, 24: 8, 25: "GND", 26: 7, 27: 0, 28: 1, 29: 5, 30: "GND",
    31: 6, 32: 12, 33: 13, 34: "GND", 35: 19, 36: 16, 37: 26, 38: 20, 39: "GND", 40: 21,
}  # fmt: skip
PHYSICAL = {gpio: pin for pin, gpio in HEADER.items() if isinstance(gpio, int)}

# SPI buses on the header: bus -> (SCLK, MOSI, MISO, chip selects CE0, CE1, CE2).
SPI_BUSES = {0: (11, 10, 9, (8, 7)), 1: (21, 20, 19, (18, 17, 16))}
UART_PINS = (14, 15)
I2C_PINS = (2, 3)
ID_EEPROM_PINS = (0, 1)
PULLED_UP_AT_POWER_ON = range(0, 9)  # BCM2835..BCM2711 reset state: GPIO0-8 up, GPIO9-27 down
PULLED_DOWN_AT_POWER_ON = range(9, 28)

TABLE_HEADER = ("signal", "bcm gpio", "physical pin", "notes")
EXPANDER_HEADER = ("signal", "chip", "expander pin", "notes")
EXPANDER_ADDRESSES = range(0x20, 0x28)  # MCP23017: 0x20 + A2 A1 A0
EXPANDER_PIN = re.compile(r"(?i)GP([AB])([0-7])")
ADC_ADDRESSES = range(0x48, 0x4C)  # ADS1115: ADDR to GND, VDD, SDA, SCL
I2C_BUS_PINS = {1: (2, 3)}  # /dev/i2c-1 on the header: SDA GPIO2, SCL GPIO3
CONFIG_TXT_LINE = re.compile(r"^\s*(dtparam|dtoverlay|enable_uart|gpio)\s*=\s*(\S+)")


@dataclass(frozen=True)
class Row:
    """One pin as a document states it."""

    signal: str
    gpio: int | None  # None for a power or ground row
    pin: int | None
    where: str  # "wiring.md line 42", "wiring.svg <g data-signal=...>"
    power: str | None = None  # "3V3", "5V" or "GND" for a power row


class Problems(list[str]):
    def add(self, message: str) -> None:
        self.append(message)


# --- what the config says -------------------------------------------------------------------


def expected_pins(config: dict) -> dict[str, int]:
    """Return {signal name: BCM GPIO} for every pin the kiosk config uses."""
    pins: dict[str, int] = {}
    reader = config.get("reader", {})
    if reader.get("backend", "mfrc522") == "mfrc522":
        bus = int(reader.get("spi_bus", 0))
        device = int(reader.get("spi_device", 0))
        sclk, mosi, miso, selects = SPI_BUSES[bus]
        pins["RC522 SDA/CS"] = selects[device]
        pins["RC522 SCK"] = sclk
        pins["RC522 MOSI"] = mosi
        pins["RC522 MISO"] = miso
        pins["RC522 RST"] = int(reader["rst_pin"])
    feedback = config.get("feedback", {})
    for key, signal in (
        ("green_led_pin", "green LED"),
        ("red_led_pin", "red LED"),
        ("buzzer_pin", "buzzer"),
    ):
        if feedback.get(key) is not None:
            pins[signal] = int(feedback[key])
    for slot in gpio_slots(config):
        pins[f"locker {slot['slot']} relay"] = int(slot["relay_pin"])
        if slot.get("door_pin") is not None:  # else a supervised loop, on I2C
            pins[f"locker {slot['slot']} door"] = int(slot["door_pin"])
        if slot.get("led_pin") is not None:
            pins[f"locker {slot['slot']} LED"] = int(slot["led_pin"])
    buses = {int(bank.get("i2c_bus", 1)) for bank in expander_banks(config)}
    buses |= {int(door.get("i2c_bus", 1)) for _, door in door_loops(config)}
    for bus in sorted(buses):
        if bus in I2C_BUS_PINS:
            pins["I2C SDA"], pins["I2C SCL"] = I2C_BUS_PINS[bus]
    for bank in expander_banks(config):
        if bank.get("reset_pin") is not None:
            pins["expanders RESET"] = int(bank["reset_pin"])
    return pins


def gpio_slots(config: dict) -> list[dict]:
    """Return the locker entries on the Pi's own pins: [[lockers.slots]] and gpio banks."""
    lockers = config.get("lockers", {})
    banks = [bank for bank in lockers.get("banks", []) if bank.get("backend") == "gpio"]
    return [*lockers.get("slots", []), *(slot for bank in banks for slot in bank["slots"])]


def expander_banks(config: dict) -> list[dict]:
    """Return the [[lockers.banks]] on MCP23017 expanders."""
    return [b for b in config.get("lockers", {}).get("banks", []) if b.get("backend") == "mcp23017"]


def door_loops(config: dict) -> list[tuple[dict, dict]]:
    """Return (locker entry, its door table) for every supervised door loop, in any bank."""
    lockers = config.get("lockers", {})
    banks = [bank.get("slots", []) for bank in lockers.get("banks", [])]
    entries = [*lockers.get("slots", []), *(slot for bank in banks for slot in bank)]
    return [(slot, slot["door"]) for slot in entries if isinstance(slot.get("door"), dict)]


def check_door_loops(config: dict, problems: Problems) -> None:
    """The supervised door loops: ADS1115 address, input, bus, and no input used twice."""
    taken: dict[tuple[object, int, object], str] = {}
    for slot, door in door_loops(config):
        where = f"kiosk config: locker {slot.get('slot')} door loop"
        address, channel, bus = door.get("adc"), door.get("channel"), door.get("i2c_bus", 1)
        if isinstance(address, str) and re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", address):
            address = int(address, 0)
        if slot.get("door_pin") is not None:
            problems.add(f"{where}: has a door_pin too; a door is a switch or a loop, not both")
        if not isinstance(address, int) or address not in ADC_ADDRESSES:
            problems.add(f"{where}: adc {door.get('adc')!r} is not an ADS1115 address (0x48-0x4B)")
            continue
        if channel not in range(4) or isinstance(channel, bool):
            problems.add(f"{where}: channel {channel!r} is not an ADS1115 input (0-3)")
        if bus not in I2C_BUS_PINS:
            problems.add(f"{where}: i2c_bus {bus!r}; the documented wiring is I2C bus 1 (GPIO2/3)")
        signal = f"locker {slot.get('slot')}"
        other = taken.get((bus, address, channel))
        if other is not None:
            problems.add(f"{where}: ADS1115 {address:#x} AIN{channel} is also {other}'s")
        taken.setdefault((bus, address, channel), signal)


def expected_expander_pins(config: dict) -> dict[str, tuple[int, str]]:
    """Return {signal name: (chip address, "GPA0")} for every locker pin on an expander."""
    pins: dict[str, tuple[int, str]] = {}
    for bank in expander_banks(config):
        for slot in bank.get("slots", []):
            for key, kind in (("relay_pin", "relay"), ("door_pin", "door"), ("led_pin", "LED")):
                if slot.get(key) is not None:
                    pins[f"locker {slot['slot']} {kind}"] = (
                        int(bank.get("address", -1)),
                        _expander_pin_name(slot[key]),
                    )
    return pins


def _expander_pin_name(pin: object) -> str:
    if isinstance(pin, int) and 0 <= pin <= 15:
        return f"GP{'AB'[pin // 8]}{pin % 8}"
    return str(pin).upper()


def signal_key(text: str) -> str | None:
    """Map a signal as a document spells it to the name ``expected_pins`` uses, or None."""
    text = " ".join(text.replace("*", "").replace("`", "").split())
    if match := re.match(r"(?i)locker\s+(\d+)\s+(relay|door|led)\b", text):
        kind = match.group(2).lower()
        return f"locker {int(match.group(1))} {'LED' if kind == 'led' else kind}"
    if match := re.match(r"(?i)rc522\s+(sda|cs|sck|sclk|mosi|miso|rst)\b", text):
        part = match.group(1).upper()
        return {"SDA": "RC522 SDA/CS", "CS": "RC522 SDA/CS", "SCLK": "RC522 SCK"}.get(
            part, f"RC522 {part}"
        )
    if re.match(r"(?i)expanders?\s+reset\b", text):
        return "expanders RESET"
    if match := re.match(r"(?i)i2c\s+(sda|scl)\b", text):
        return f"I2C {match.group(1).upper()}"
    for name in ("green LED", "red LED", "buzzer"):
        if text.lower().startswith(name.lower()):
            return name
    return None


# --- what the documents say -----------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _gpio_cell(cell: str) -> int | None | str:
    """'17', 'GPIO17', 'BCM 17' -> 17; '—', '-', '' -> None; anything else: the text."""
    cell = cell.replace("`", "").replace("*", "").strip()
    if cell in ("", "-", "—", "–", "n/a"):
        return None
    match = re.fullmatch(r"(?i)(?:gpio|bcm)?\s*(\d+)", cell)
    return int(match.group(1)) if match else cell


def _power_kind(signal: str, notes: str = "") -> str | None:
    text = f"{signal} {notes}".upper().replace(" ", "")
    if re.search(r"\bGND\b|GROUND", f"{signal}".upper()):
        return "GND"
    if "3.3V" in text or "3V3" in text:
        return "3V3"
    if "5V" in text:
        return "5V"
    return None


def wiring_rows(path: Path, problems: Problems) -> list[Row]:
    """Read every pin table (header: signal | BCM GPIO | physical pin | notes) of wiring.md."""
    rows: list[Row] = []
    in_table = False
    tables = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if tuple(cell.lower() for cell in cells) == TABLE_HEADER:
            in_table = True
            tables += 1
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        where = f"{path.name} line {number}"
        if len(cells) != len(TABLE_HEADER):
            problems.add(f"{where}: a pin table row needs 4 cells, this one has {len(cells)}")
            continue
        signal, gpio_text, pin_text, notes = cells
        gpio = _gpio_cell(gpio_text)
        pin = _gpio_cell(pin_text)
        if isinstance(gpio, str) or isinstance(pin, str):
            problems.add(f"{where}: cannot read GPIO {gpio_text!r} / physical pin {pin_text!r}")
            continue
        if gpio is None and pin is None:
            continue  # e.g. "RC522 IRQ | — | — | not connected"
        power = _power_kind(signal, notes) if gpio is None else None
        if gpio is None and power is None:
            problems.add(f"{where}: {signal!r} has a physical pin but no GPIO and is not power")
            continue
        rows.append(Row(signal, gpio, pin, where, power))
    if not tables:
        problems.add(
            f"{path.name}: no table with the header | signal | BCM GPIO | physical pin | notes |"
        )
    return rows


def svg_rows(path: Path, problems: Problems) -> list[Row]:
    """Read every element of wiring.svg that carries data-signal (with data-gpio / data-pin)."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as error:
        problems.add(f"{path.name}: not well-formed XML: {error}")
        return []
    rows: list[Row] = []
    for element in tree.iter():
        signal = element.get("data-signal")
        if signal is None:
            continue
        where = f'{path.name} data-signal="{signal}"'
        gpio = _gpio_cell(element.get("data-gpio", ""))
        pin = _gpio_cell(element.get("data-pin", ""))
        if isinstance(gpio, str) or isinstance(pin, str):
            problems.add(f"{where}: cannot read data-gpio / data-pin")
            continue
        text = " ".join("".join(element.itertext()).split())
        if gpio is not None and not re.search(rf"\bGPIO{gpio}\b", text):
            problems.add(f"{where}: data-gpio is {gpio} but its label reads {text!r}")
        if pin is not None and text and not re.search(rf"\b{pin}\b", text):
            problems.add(f"{where}: data-pin is {pin} but its label reads {text!r}")
        power = _power_kind(signal) if gpio is None else None
        rows.append(Row(signal, gpio, pin, where, power))
    if not rows:
        problems.add(f"{path.name}: no element carries data-signal / data-gpio labels")
    return rows


def config_txt(paths: list[Path]) -> tuple[list[tuple[str, str]], str]:
    """Return the config.txt lines found in fenced code blocks, and the documents' whole text."""
    lines: list[tuple[str, str]] = []
    texts: list[str] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced and (match := CONFIG_TXT_LINE.match(line)):
                lines.append((match.group(1), match.group(2)))
    return lines, "\n".join(texts)


# --- the checks -----------------------------------------------------------------------------


def check_document(name: str, rows: list[Row], expected: dict[str, int], problems: Problems):
    """A document's pins against the config, the header map, and each other."""
    seen: dict[str, Row] = {}
    by_gpio: dict[int, Row] = {}
    for row in rows:
        if row.pin is not None and row.pin not in HEADER:
            problems.add(f"{row.where}: physical pin {row.pin} does not exist (1-40)")
            continue
        if row.gpio is None:  # power / ground
            if row.pin is not None and HEADER[row.pin] != row.power:
                problems.add(
                    f"{row.where}: {row.signal} is on physical pin {row.pin}, which is "
                    f"{_describe(HEADER[row.pin])}, not {row.power}"
                )
            continue
        if row.pin is not None and PHYSICAL.get(row.gpio) != row.pin:
            problems.add(
                f"{row.where}: {row.signal}: GPIO{row.gpio} is physical pin "
                f"{PHYSICAL.get(row.gpio, '(none: not on the header)')}, not pin {row.pin}"
            )
        if row.gpio in by_gpio and signal_key(by_gpio[row.gpio].signal) != signal_key(row.signal):
            problems.add(
                f"{row.where}: GPIO{row.gpio} is used twice: {by_gpio[row.gpio].signal!r} "
                f"and {row.signal!r}"
            )
        by_gpio.setdefault(row.gpio, row)
        key = signal_key(row.signal)
        if key is None:
            problems.add(
                f"{row.where}: {row.signal!r} (GPIO{row.gpio}) is not a pin of the kiosk config"
            )
            continue
        if key not in expected:
            problems.add(f"{row.where}: {row.signal!r} is not in kiosk config (GPIO{row.gpio})")
        elif expected[key] != row.gpio:
            problems.add(
                f"{row.where}: {key} is GPIO{row.gpio} here but GPIO{expected[key]} in the "
                f"kiosk config (physical pin {PHYSICAL.get(expected[key])})"
            )
        seen.setdefault(key, row)
    for key, gpio in expected.items():
        if key not in seen:
            problems.add(
                f"{name}: {key} (GPIO{gpio}, physical pin {PHYSICAL.get(gpio)}) is missing"
            )


def check_config(config: dict, expected: dict[str, int], problems: Problems) -> None:
    """The config on its own: GPIOs exist, none twice, relays where power-on holds them off."""
    owners: dict[int, str] = {}
    for signal, gpio in expected.items():
        if gpio not in PHYSICAL:
            problems.add(f"kiosk config: {signal} is GPIO{gpio}, which is not on the 40-pin header")
            continue
        if gpio in ID_EEPROM_PINS:
            problems.add(f"kiosk config: {signal} is GPIO{gpio}, reserved for the HAT ID EEPROM")
        if gpio in owners:
            problems.add(f"kiosk config: GPIO{gpio} is used twice: {owners[gpio]} and {signal}")
        owners.setdefault(gpio, signal)
    lockers = config.get("lockers", {})
    active_high = lockers.get("relay_active_high", True)
    _check_doors_off_bus_pins(config, expected, problems)
    for slot in gpio_slots(config):
        gpio = int(slot["relay_pin"])
        signal = f"locker {slot['slot']} relay"
        if active_high and gpio not in PULLED_DOWN_AT_POWER_ON:
            problems.add(
                f"kiosk config: {signal} is GPIO{gpio}; with relay_active_high = true it must be "
                f"one of GPIO9-27, pulled down at power-on (GPIO0-8 are pulled up: the relay "
                f"would energise and unlock while the Pi boots)"
            )
        if not active_high and gpio not in PULLED_UP_AT_POWER_ON:
            problems.add(
                f"kiosk config: {signal} is GPIO{gpio}; with relay_active_high = false it must "
                f"be one of GPIO0-8, pulled up at power-on (GPIO9-27 are pulled down: the relay "
                f"would energise and unlock while the Pi boots)"
            )


def _check_doors_off_bus_pins(config: dict, expected: dict[str, int], problems: Problems):
    """A door switch on an SPI or UART pin works only while nothing claims the pin for its bus
    (raspi-config's SPI or serial toggle takes it back): keep doors off them."""
    reader = config.get("reader", {})
    reader_on = reader.get("backend", "mfrc522") == "mfrc522"
    buses = {0} | ({int(reader.get("spi_bus", 0))} if reader_on else set())
    spi = {pin for bus in buses for pin in _spi_pins(bus)}
    for signal, gpio in expected.items():
        if not signal.endswith(" door"):
            continue
        if gpio in spi:
            problems.add(
                f"kiosk config: {signal} is GPIO{gpio}, an SPI pin; a door switch there reads "
                f"nonsense once SPI claims it: use a free GPIO or an expander pin"
            )
        if gpio in UART_PINS:
            problems.add(
                f"kiosk config: {signal} is GPIO{gpio}, a UART pin; a door switch there reads "
                f"the serial line once the UART is on: use a free GPIO or an expander pin"
            )


def _spi_pins(bus: int) -> set[int]:
    sclk, mosi, miso, selects = SPI_BUSES[bus]
    return {sclk, mosi, miso, *selects}


def check_expanders(config: dict, problems: Problems) -> None:
    """The expander banks: bus, addresses, pins, and relays that power on released."""
    lockers = config.get("lockers", {})
    taken: dict[tuple[int, int], int] = {}
    for index, bank in enumerate(expander_banks(config)):
        where = f"kiosk config: lockers bank {index}"
        bus, address = bank.get("i2c_bus", 1), bank.get("address")
        if bus not in I2C_BUS_PINS:
            problems.add(f"{where}: i2c_bus {bus!r}; the documented wiring is I2C bus 1 (GPIO2/3)")
        if not isinstance(address, int) or address not in EXPANDER_ADDRESSES:
            problems.add(f"{where}: address {address!r} is not an MCP23017 address (0x20-0x27)")
            continue
        if (bus, address) in taken:
            problems.add(
                f"{where}: address {address:#x} on I2C bus {bus} is also bank {taken[bus, address]}"
            )
        taken.setdefault((bus, address), index)
        used: dict[str, str] = {}
        for slot in bank.get("slots", []):
            for key in ("relay_pin", "door_pin", "led_pin"):
                if slot.get(key) is None:
                    continue
                name = _expander_pin_name(slot[key])
                signal = f"locker {slot['slot']} {key.removesuffix('_pin')}"
                if not EXPANDER_PIN.fullmatch(name):
                    problems.add(f"{where}: {signal} is {slot[key]!r}, not GPA0-GPA7 or GPB0-GPB7")
                elif key == "door_pin" and name in ("GPA7", "GPB7"):
                    problems.add(
                        f"{where}: {signal} is {name}, which is an output only on the MCP23017 "
                        f"(rev. D: an input there can corrupt SDA)"
                    )
                elif name in used:
                    problems.add(
                        f"{where}: {address:#x} {name} is used twice: {used[name]} and {signal}"
                    )
                used.setdefault(name, signal)
            if not slot.get("relay_active_high", lockers.get("relay_active_high", True)):
                problems.add(
                    f"{where}: locker {slot['slot']} relay must be active-high on an expander "
                    f"(its pins are inputs at power-on; only the pull-down holds the relay off)"
                )


def expander_rows(path: Path, problems: Problems) -> list[tuple[str, int, str, str]]:
    """Read the expander tables (| signal | chip | expander pin | notes |): (signal, address,
    pin, where)."""
    rows: list[tuple[str, int, str, str]] = []
    in_table = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        cells = _cells(line) if line.lstrip().startswith("|") else []
        if tuple(cell.lower() for cell in cells) == EXPANDER_HEADER:
            in_table = True
            continue
        if not cells:
            in_table = False
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        where = f"{path.name} line {number}"
        chip, pin = cells[1].replace("`", "").strip(), cells[2].replace("`", "").strip().upper()
        if not re.fullmatch(r"0x2[0-7]", chip) or not EXPANDER_PIN.fullmatch(pin):
            problems.add(f"{where}: cannot read chip {cells[1]!r} / expander pin {cells[2]!r}")
            continue
        rows.append((cells[0], int(chip, 16), pin, where))
    return rows


def svg_expander_rows(path: Path) -> list[tuple[str, int, str, str]]:
    """Read the diagram's elements with data-signal, data-chip and data-xpin."""
    try:
        tree = ET.parse(path)
    except ET.ParseError:
        return []  # svg_rows has said so
    rows = []
    for element in tree.iter():
        signal, chip, pin = (element.get(k) for k in ("data-signal", "data-chip", "data-xpin"))
        if signal is None or chip is None or pin is None:
            continue
        rows.append((signal, int(chip, 16), pin.upper(), f'{path.name} data-signal="{signal}"'))
    return rows


def check_expander_document(
    name: str,
    rows: list[tuple[str, int, str, str]],
    expected: dict[str, tuple[int, str]],
    problems: Problems,
) -> None:
    """A document's expander pins against the config, both ways."""
    seen: set[str] = set()
    places: dict[tuple[int, str], str] = {}
    for signal, address, pin, where in rows:
        key = signal_key(signal)
        if (address, pin) in places and places[address, pin] != key:
            problems.add(
                f"{where}: {address:#x} {pin} is used twice: {places[address, pin]} and {key}"
            )
        places.setdefault((address, pin), str(key))
        if key is None or key not in expected:
            problems.add(f"{where}: {signal!r} ({address:#x} {pin}) is not in the kiosk config")
            continue
        if expected[key] != (address, pin):
            want_address, want_pin = expected[key]
            problems.add(
                f"{where}: {key} is {address:#x} {pin} here but {want_address:#x} {want_pin} in "
                f"the kiosk config"
            )
        seen.add(key)
    for key, (address, pin) in expected.items():
        if key not in seen:
            problems.add(f"{name}: {key} ({address:#x} {pin}) is missing")


def check_boot_config(
    config: dict,
    expected: dict[str, int],
    lines: list[tuple[str, str]],
    text: str,
    problems: Problems,
) -> None:
    """The documented config.txt against the pins in use."""
    where = "pi-setup.md config.txt"
    settings = {f"{key}={value}" for key, value in lines}
    used = set(expected.values())
    reader = config.get("reader", {})
    if reader.get("backend", "mfrc522") == "mfrc522":
        bus, device = int(reader.get("spi_bus", 0)), int(reader.get("spi_device", 0))
        if (
            bus == 0
            and "dtparam=spi=on" not in settings
            and not any(s.startswith("dtoverlay=spi0-") for s in settings)
        ):
            problems.add(f"{where}: the RC522 is on SPI0 but dtparam=spi=on is not documented")
        if bus == 1 and not any(s.startswith("dtoverlay=spi1-") for s in settings):
            problems.add(f"{where}: the RC522 is on SPI1 but no dtoverlay=spi1-Ncs is documented")
        if bus == 0:
            others = {g for s, g in expected.items() if not s.startswith("RC522")}
            one_cs = "dtoverlay=spi0-1cs" in settings
            if 7 in others and not one_cs:
                problems.add(
                    f"{where}: GPIO7 (SPI0 CE1) is {_owner(expected, 7)} but dtoverlay=spi0-1cs "
                    f"is not documented; with plain dtparam=spi=on the kernel claims GPIO7"
                )
            if one_cs and device != 0:
                problems.add(
                    f"{where}: dtoverlay=spi0-1cs leaves only CE0, but spi_device={device}"
                )
    if used & set(UART_PINS):
        if "enable_uart=0" not in settings:
            pins = ", ".join(f"GPIO{g} ({_owner(expected, g)})" for g in UART_PINS if g in used)
            problems.add(f"{where}: {pins} in use but enable_uart=0 is not documented")
        if "console=serial0" not in text:
            problems.add(
                "pi-setup.md: GPIO14/15 are in use but removing console=serial0 from "
                "cmdline.txt is not documented"
            )
    i2c_on = any(s.startswith("dtparam=i2c_arm=on") for s in settings)
    others_on_i2c = {g for s, g in expected.items() if not s.startswith("I2C ")} & set(I2C_PINS)
    if others_on_i2c and i2c_on:
        problems.add(f"{where}: GPIO2/3 are in use but dtparam=i2c_arm=on claims them for I2C")
    if expander_banks(config) and not i2c_on:
        problems.add(
            f"{where}: the lockers are on I2C expanders but dtparam=i2c_arm=on is not documented"
        )
    elif door_loops(config) and not i2c_on:
        problems.add(
            f"{where}: the door loops are on I2C converters but dtparam=i2c_arm=on is not "
            f"documented"
        )
    if not any(s.startswith("dtparam=strict_gpiod") for s in settings):
        problems.add(
            f"{where}: dtparam=strict_gpiod is not documented (without it an output stays "
            f"driven after the kiosk is killed: a relay could stay energised)"
        )
    _check_gpio_boot_lines(config, lines, problems)


def _check_gpio_boot_lines(config: dict, lines: list[tuple[str, str]], problems: Problems):
    lockers = config.get("lockers", {})
    relays = {int(slot["relay_pin"]) for slot in gpio_slots(config)}
    level = "dl" if lockers.get("relay_active_high", True) else "dh"
    pins_in_use = expected_pins(config)
    # a RESET line driven low holds the expanders in reset: as safe as a relay driven low
    used = {g for signal, g in pins_in_use.items() if signal != "expanders RESET"}
    relays_or_resets = relays | {g for s, g in pins_in_use.items() if s == "expanders RESET"}
    for key, value in lines:
        if key != "gpio":
            continue
        pin_list, _, attributes = value.partition("=")
        pins = _pin_set(pin_list)
        attrs = set(attributes.split(","))
        where = f"pi-setup.md config.txt gpio={value}"
        if pins is None:
            problems.add(f"{where}: cannot read the pin list")
            continue
        if not relays and not pins & used:
            continue  # no relay on the Pi's pins: the line drives unused pins (or RESET) low
        if pins not in (relays, relays_or_resets):
            missing = ", ".join(f"GPIO{g}" for g in sorted(relays - pins))
            extra = ", ".join(f"GPIO{g}" for g in sorted(pins - relays))
            problems.add(
                f"{where}: should name exactly the relay pins"
                + (f"; missing {missing}" if missing else "")
                + (f"; not relays: {extra}" if extra else "")
            )
        if "op" in attrs and level not in attrs:
            problems.add(f"{where}: relays must be driven '{level}' (locked) at boot")


def _pin_set(text: str) -> set[int] | None:
    pins: set[int] = set()
    for part in text.split(","):
        if match := re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip()):
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            pins.update(range(low, high + 1))
        else:
            return None
    return pins


def _owner(expected: dict[str, int], gpio: int) -> str:
    return next((signal for signal, g in expected.items() if g == gpio), "unused")


def _describe(header_entry: int | str) -> str:
    return f"GPIO{header_entry}" if isinstance(header_entry, int) else header_entry


# --- running it -----------------------------------------------------------------------------


def check(config_path: Path, wiring: Path, svg: Path, setup: Path) -> list[str]:
    """Run every check; return the problems found (empty: all agree)."""
    problems = Problems()
    with config_path.open("rb") as file:
        config = tomllib.load(file)
    expected = expected_pins(config)
    check_config(config, expected, problems)
    check_expanders(config, problems)
    check_door_loops(config, problems)
    check_document(wiring.name, wiring_rows(wiring, problems), expected, problems)
    check_document(svg.name, svg_rows(svg, problems), expected, problems)
    expected_x = expected_expander_pins(config)
    if expected_x or expander_rows(wiring, Problems()):
        check_expander_document(wiring.name, expander_rows(wiring, problems), expected_x, problems)
        check_expander_document(svg.name, svg_expander_rows(svg), expected_x, problems)
    lines, text = config_txt([setup, wiring])
    check_boot_config(config, expected, lines, text, problems)
    return list(dict.fromkeys(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "kiosk" / "default.toml")
    parser.add_argument("--wiring", type=Path, default=ROOT / "hardware" / "wiring.md")
    parser.add_argument("--svg", type=Path, default=ROOT / "hardware" / "wiring.svg")
    parser.add_argument("--setup", type=Path, default=ROOT / "hardware" / "pi-setup.md")
    args = parser.parse_args(argv)
    missing = [p for p in (args.config, args.wiring, args.svg, args.setup) if not p.is_file()]
    if missing:
        print("check_pins: missing " + ", ".join(str(p) for p in missing), file=sys.stderr)
        return 1
    problems = check(args.config, args.wiring, args.svg, args.setup)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_pins: {len(problems)} disagreement(s) with {args.config}")
        return 1
    with args.config.open("rb") as file:
        config = tomllib.load(file)
    count, on_expanders = len(expected_pins(config)), len(expected_expander_pins(config))
    names = ", ".join(path.name for path in (args.config, args.wiring, args.svg, args.setup))
    extra = f" (and {on_expanders} expander pins)" if on_expanders else ""
    print(f"check_pins: {count} pins{extra} agree across {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
