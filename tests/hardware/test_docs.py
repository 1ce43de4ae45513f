"""The hardware docs say what the code does: the figures and registers they quote are the code's."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.lockers.mcp23017 import DEFAULT_POLL_SECONDS, IOCON_SETUP, OUTPUT_ONLY
from kiosk.config import DEFAULT_CONFIG, load_settings

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"


def table(text: str, header: str) -> list[list[str]]:
    """Return the rows (cells) of the Markdown table that starts with ``header``."""
    rows = []
    for line in text[text.index(header) :].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _range(cell: str) -> tuple[int, int]:
    low, high = cell.replace("*", "").split("-")
    return int(low), int(high)


@pytest.mark.parametrize("column", [1, 2], ids=["8 lockers", "16 lockers"])
def test_the_cost_table_adds_up(column):
    rows = table((HARDWARE / "build.md").read_text(), "| item | 8 lockers | 16 lockers |")
    *items, total = rows
    assert total[0] == "**total**"
    lows, highs = zip(*(_range(row[column]) for row in items), strict=True)
    assert (sum(lows), sum(highs)) == _range(total[column])


def test_the_expander_doc_quotes_the_drivers_figures():
    text = (HARDWARE / "wiring-16.md").read_text()
    assert f"`poll_seconds` ({DEFAULT_POLL_SECONDS} s by default)" in text
    assert f"the {IOCON_SETUP:#04x} the kiosk wrote" in text
    assert OUTPUT_ONLY == (7, 15) and "GPA7 and GPB7 are outputs only" in text


def test_the_sixteen_locker_example_polls_as_documented():
    settings = load_settings(DEFAULT_CONFIG.with_name("sixteen-lockers.toml"))
    assert {bank["poll_seconds"] for bank in settings.lockers["banks"]} == {DEFAULT_POLL_SECONDS}
    assert {bank["i2c_bus"] for bank in settings.lockers["banks"]} == {1}


def test_the_pi_extra_installs_rpi_lgpio_and_never_rpi_gpio():
    import tomllib

    project = tomllib.loads((HARDWARE.parent / "pyproject.toml").read_text())["project"]
    names = [
        req.split(">")[0].split(";")[0].strip().lower()
        for req in project["optional-dependencies"]["pi"]
    ]
    assert "rpi-lgpio" in names
    assert "rpi.gpio" not in names and "rpi-gpio" not in names  # both would install `RPi`
    assert "smbus2" in [r.split(">")[0].lower() for r in project["optional-dependencies"]["kiosk"]]
