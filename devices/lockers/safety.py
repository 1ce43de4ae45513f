"""Check, before any lock is driven, that the Pi keeps the locks fail-secure when software dies.

hardware/power-and-fail-secure.md relies on three things the kiosk cannot set for itself:

- ``dtparam=strict_gpiod`` in config.txt: a pin released by a process that is killed goes back
  to an input (the pull-downs hold the relay off) instead of staying driven;
- a ``gpio=<relay pins>=op,dl`` line (``dh`` for active-low relays): the firmware drives every
  relay locked from power-on until the kiosk takes the pins over;
- the relay board's trigger jumper (high or low level), recorded in the kiosk config as
  ``relay_board_trigger``, agreeing with ``relay_active_high``: otherwise "locked" energises
  the coil.

``check_fail_secure`` returns ``verified``, or ``not_applicable`` off a Raspberry Pi (a laptop
running the simulation, pins from gpiozero's MockFactory), and raises ``UnsafeGpioSettings``
naming every setting that does not hold. The paths are keywords so that tests can point them
at their own files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devices.errors import LockerError

CONFIG_TXT_PATHS = (Path("/boot/firmware/config.txt"), Path("/boot/config.txt"))
MODEL_PATH = Path("/proc/device-tree/model")
TRIGGERS = ("high", "low")


class UnsafeGpioSettings(LockerError, RuntimeError):
    """The Pi's settings would let a lock open (or stay open) when the kiosk's software dies."""


@dataclass(frozen=True)
class SafetyReport:
    """The outcome of the check: ``verified`` or ``not_applicable``, and what was looked at."""

    state: Literal["verified", "not_applicable"]
    detail: str


def check_fail_secure(
    relay_pins: Iterable[int],
    *,
    relay_active_high: bool,
    relay_board_trigger: str | None,
    simulated: bool = False,
    config_paths: Iterable[Path] = CONFIG_TXT_PATHS,
    model_path: Path = MODEL_PATH,
) -> SafetyReport:
    """Return whether the settings were verified; raise UnsafeGpioSettings when they fail."""
    if simulated:
        return SafetyReport("not_applicable", "simulated pins: no GPIO to keep safe")
    model = _read(model_path)
    if model is None or "Raspberry Pi" not in model:
        return SafetyReport("not_applicable", f"not a Raspberry Pi ({model_path} says so)")
    config_path, text = _config_txt(config_paths)
    problems = _trigger_problems(relay_active_high, relay_board_trigger)
    if text is None:
        problems.append("no config.txt at " + " or ".join(map(str, config_paths)))
    else:
        problems += config_problems(text, set(relay_pins), relay_active_high)
    if problems:
        raise UnsafeGpioSettings(
            "refusing to drive the locks: "
            + "; ".join(problems)
            + " (see hardware/power-and-fail-secure.md)"
        )
    return SafetyReport("verified", f"{config_path}: strict_gpiod and gpio= relay line hold")


def config_problems(text: str, relays: set[int], relay_active_high: bool) -> list[str]:
    """Return what config.txt's ``text`` lacks to keep relays ``relays`` locked."""
    settings = _settings(text)
    problems = []
    if not any(re.fullmatch(r"dtparam=strict_gpiod(=on)?", s) for s in settings):
        problems.append("config.txt lacks dtparam=strict_gpiod (a killed kiosk's relay stays on)")
    level = "dl" if relay_active_high else "dh"
    held: set[int] = set()
    for setting in settings:
        if setting.startswith("gpio="):
            pins, _, attributes = setting[len("gpio=") :].partition("=")
            if {"op", level} <= set(attributes.split(",")):
                held |= _pin_set(pins)
    if not relays <= held:
        missing = ", ".join(f"GPIO{pin}" for pin in sorted(relays - held))
        problems.append(f"config.txt has no gpio=...=op,{level} line for relay pins {missing}")
    return problems


def _trigger_problems(relay_active_high: bool, trigger: str | None) -> list[str]:
    if trigger not in TRIGGERS:
        return [
            f"[lockers] relay_board_trigger is {trigger!r}: record the relay board's jumper "
            f"as 'high' or 'low'"
        ]
    if (trigger == "high") != relay_active_high:
        return [
            f"relay_active_high = {str(relay_active_high).lower()} but the relay board's "
            f"jumper is set to {trigger} level: 'locked' would energise the coils"
        ]
    return []


def _settings(text: str) -> list[str]:
    """Return config.txt's settings, comments and blanks dropped, spaces removed."""
    lines = (line.partition("#")[0].strip() for line in text.splitlines())
    return [line.replace(" ", "") for line in lines if line and not line.startswith("[")]


def _pin_set(text: str) -> set[int]:
    pins: set[int] = set()
    for part in text.split(","):
        if match := re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip()):
            pins.update(range(int(match.group(1)), int(match.group(2) or match.group(1)) + 1))
    return pins


def _config_txt(paths: Iterable[Path]) -> tuple[Path | None, str | None]:
    for path in paths:
        text = _read(path)
        if text is not None:
            return path, text
    return None, None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip("\0\n")
    except OSError:
        return None
