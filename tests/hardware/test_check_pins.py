"""hardware/check_pins.py: the wiring docs and the kiosk config agree, and it notices when not."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "hardware" / "check_pins.py"
FILES = {
    "config": ROOT / "kiosk" / "default.toml",
    "wiring": ROOT / "hardware" / "wiring.md",
    "svg": ROOT / "hardware" / "wiring.svg",
    "setup": ROOT / "hardware" / "pi-setup.md",
}


def _load_module():
    spec = importlib.util.spec_from_file_location("check_pins", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_pins"] = module
    spec.loader.exec_module(module)
    return module


check_pins = _load_module()


def run(paths: dict[str, Path] | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(SCRIPT)]
    for name, path in (paths or {}).items():
        args += [f"--{name}", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def copy(tmp_path: Path) -> dict[str, Path]:
    """A copy of the four files, to alter."""
    paths = {}
    for name, source in FILES.items():
        paths[name] = tmp_path / source.name
        shutil.copyfile(source, paths[name])
    return paths


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def failed(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stdout, f"{fragment!r} not in:\n{result.stdout}"
    return result.stdout


# --- the real files ---------------------------------------------------------------------------


def test_the_repository_files_agree():
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "24 pins agree" in result.stdout


def test_an_unaltered_copy_agrees(copy):
    assert run(copy).returncode == 0


def test_every_config_pin_is_in_the_table_and_the_diagram():
    problems = check_pins.Problems()
    expected = check_pins.expected_pins(check_pins.tomllib.loads(FILES["config"].read_text()))
    table = {
        check_pins.signal_key(r.signal) for r in check_pins.wiring_rows(FILES["wiring"], problems)
    }
    svg = {check_pins.signal_key(r.signal) for r in check_pins.svg_rows(FILES["svg"], problems)}
    assert not problems
    assert set(expected) <= table
    assert set(expected) <= svg
    assert len(expected) == 24  # 8 relays, 8 doors, 3 feedback, RC522 RST + 4 SPI lines


@pytest.mark.parametrize("revision", ["c03111", "c04170", "902120"], ids=["pi4", "pi5", "zero2w"])
def test_the_embedded_header_map_is_gpiozeros(revision):
    from gpiozero.pins.pi import PiBoardInfo

    pins = PiBoardInfo.from_revision(int(revision, 16)).headers["J8"].pins
    assert set(pins) == set(check_pins.HEADER)
    for number, info in pins.items():
        expected = check_pins.HEADER[number]
        assert info.name == (f"GPIO{expected}" if isinstance(expected, int) else expected)


# --- altered copies ---------------------------------------------------------------------------


def test_a_relay_on_the_wrong_gpio_in_the_table_is_named(copy):
    edit(copy["wiring"], "| locker 3 relay | GPIO22 | 15 |", "| locker 3 relay | GPIO23 | 16 |")
    out = failed(run(copy), "locker 3 relay is GPIO23 here but GPIO22 in the kiosk config")
    assert "GPIO23 is used twice" in out


def test_a_wrong_physical_pin_is_named(copy):
    edit(copy["wiring"], "| locker 1 door | GPIO5 | 29 |", "| locker 1 door | GPIO5 | 31 |")
    failed(run(copy), "locker 1 door: GPIO5 is physical pin 29, not pin 31")


def test_a_wrong_power_pin_is_named(copy):
    edit(copy["wiring"], "| RC522 3.3 V | — | 1 |", "| RC522 3.3 V | — | 2 |")
    failed(run(copy), "RC522 3.3 V is on physical pin 2, which is 5V, not 3V3")


def test_a_pin_missing_from_the_table_is_named(copy):
    edit(copy["wiring"], "| buzzer | GPIO14 | 8 |", "| (buzzer removed) | — | — |")
    failed(run(copy), "wiring.md: buzzer (GPIO14, physical pin 8) is missing")


def test_a_changed_config_pin_is_named_in_both_documents(copy):
    edit(copy["config"], "rst_pin = 25", "rst_pin = 3")
    out = failed(run(copy))
    assert re.search(r"wiring\.md line \d+: RC522 RST is GPIO25 here but GPIO3", out)
    assert 'wiring.svg data-signal="RC522 RST": RC522 RST is GPIO25 here but GPIO3' in out


def test_a_diagram_label_that_disagrees_is_named(copy):
    edit(copy["svg"], 'data-gpio="17" data-pin="11"', 'data-gpio="27" data-pin="13"')
    failed(
        run(copy),
        'wiring.svg data-signal="locker 1 relay": data-gpio is 27 but its label reads',
        "locker 1 relay is GPIO27 here but GPIO17 in the kiosk config",
    )


def test_a_relay_on_a_pin_pulled_up_at_power_on_is_refused(copy):
    edit(copy["config"], "relay_pin = 17", "relay_pin = 2")
    failed(
        run(copy),
        "locker 1 relay is GPIO2; with relay_active_high = true it must be one of GPIO9-27",
    )


def test_active_low_relays_must_sit_on_gpio0_to_8(copy):
    edit(copy["config"], "relay_active_high = true", "relay_active_high = false")
    out = failed(run(copy), "locker 1 relay is GPIO17; with relay_active_high = false")
    assert "relays must be driven 'dh'" in out


def test_a_gpio_used_twice_in_the_config_is_named(copy):
    edit(copy["config"], "door_pin = 6", "door_pin = 5")
    failed(run(copy), "kiosk config: GPIO5 is used twice: locker 1 door and locker 2 door")


def test_gpio7_as_an_output_needs_spi0_1cs(copy):
    edit(copy["config"], "green_led_pin = 18", "green_led_pin = 7")
    for name in ("setup", "wiring"):
        edit(copy[name], "dtoverlay=spi0-1cs\n", "", count=10)
    failed(run(copy), "GPIO7 (SPI0 CE1) is green LED but dtoverlay=spi0-1cs is not documented")


def test_no_door_switch_sits_on_an_spi_pin(copy):
    edit(copy["config"], "door_pin = 2 ", "door_pin = 7 ")
    failed(run(copy), "kiosk config: locker 8 door is GPIO7, an SPI pin")


def test_no_door_switch_sits_on_a_uart_pin(copy):
    edit(copy["config"], "door_pin = 5", "door_pin = 15")
    failed(run(copy), "kiosk config: locker 1 door is GPIO15, a UART pin")


def test_no_default_door_is_on_an_spi_or_uart_pin():
    expected = check_pins.expected_pins(check_pins.tomllib.loads(FILES["config"].read_text()))
    doors = {gpio for signal, gpio in expected.items() if signal.endswith("door")}
    assert len(doors) == 8
    assert not doors & {7, 8, 9, 10, 11, 14, 15}


def test_uart_pins_need_the_uart_and_console_off(copy):
    for name in ("setup", "wiring"):
        edit(copy[name], "enable_uart=0\n", "", count=10)
        edit(copy[name], "console=serial0", "the console", count=10)
    failed(
        run(copy),
        "GPIO14 (buzzer), GPIO15 (red LED) in use but enable_uart=0 is not documented",
        "removing console=serial0 from cmdline.txt is not documented",
    )


def test_strict_gpiod_must_be_documented(copy):
    for name in ("setup", "wiring"):
        edit(copy[name], "dtparam=strict_gpiod\n", "", count=10)
    failed(run(copy), "dtparam=strict_gpiod is not documented")


def test_the_boot_gpio_line_must_name_exactly_the_relays(copy):
    edit(copy["config"], "relay_pin = 20", "relay_pin = 3")
    failed(run(copy), "should name exactly the relay pins; missing GPIO3; not relays: GPIO20")


def test_a_missing_file_fails(copy):
    copy["svg"].unlink()
    result = run(copy)
    assert result.returncode == 1
    assert "missing" in result.stderr


# --- the diagram and the service units --------------------------------------------------------


def test_the_diagram_is_self_contained_and_scalable():
    text = FILES["svg"].read_text(encoding="utf-8")
    root = check_pins.ET.fromstring(text)
    assert root.get("viewBox") == "0 0 1400 1000"
    assert not re.search(r"(?:href|src)\s*=\s*\"(?:https?:|//|file:)", text)
    assert "@import" not in text and "@font-face" not in text


def _unit(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (ROOT / "hardware" / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_kiosk_unit_restarts_and_never_requires_the_network():
    unit = _unit("commonshed-kiosk.service")
    assert unit["Restart"] == ["always"] and unit["RestartSec"] == ["2"]
    assert unit["User"] == ["commonshed"] and unit["Group"] == ["gpio"]
    assert "spi" in unit["SupplementaryGroups"][0].split()
    assert "network-online.target" in unit["After"][0]
    assert "Requires" not in unit and "Requisite" not in unit and "BindsTo" not in unit
    assert not any("network-online" in value for value in unit.get("Wants", []))
    assert unit["ExecStart"][0].endswith("kiosk run --config /etc/commonshed/kiosk.toml")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("commonshed-hub-web.service", "commonshed hub serve"),
        ("commonshed-hub-ingest.service", "commonshed hub ingest"),
        ("commonshed-broker.service", "commonshed broker run"),
    ],
)
def test_the_central_host_units_share_the_hub_environment(name, command):
    unit = _unit(name)
    assert unit["EnvironmentFile"] == ["/etc/commonshed/hub.env"]
    assert command in unit["ExecStart"][0].replace("/opt/commonshed/src/.venv/bin/", "")
    assert unit["Restart"] == ["always"]


def test_the_ingest_unit_is_watched_by_systemd():
    unit = _unit("commonshed-hub-ingest.service")
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    # half of it is the beat; it must outlast the supervisor's stall limit (45 s)
    assert int(unit["WatchdogSec"][0]) >= 60


# --- the 16-locker layout on MCP23017 expanders -----------------------------------------------

FILES_16 = {
    "config": ROOT / "kiosk" / "sixteen-lockers.toml",
    "wiring": ROOT / "hardware" / "wiring-16.md",
    "svg": ROOT / "hardware" / "wiring-16.svg",
    "setup": ROOT / "hardware" / "pi-setup.md",
}


@pytest.fixture
def copy16(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, source in FILES_16.items():
        paths[name] = tmp_path / source.name
        shutil.copyfile(source, paths[name])
    return paths


def test_the_sixteen_locker_files_agree():
    result = run(FILES_16)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 pins (and 32 expander pins) agree" in result.stdout


def test_the_expander_tables_name_every_locker_once():
    config = check_pins.tomllib.loads(FILES_16["config"].read_text())
    expected = check_pins.expected_expander_pins(config)
    rows = check_pins.expander_rows(FILES_16["wiring"], check_pins.Problems())
    assert len(expected) == len(rows) == 32
    assert {check_pins.signal_key(signal) for signal, *_ in rows} == set(expected)
    assert {address for address, _ in expected.values()} == {0x20, 0x21}


PLANTED_16 = [
    ("config", "address = 0x21", "address = 0x20", "address 0x20 on I2C bus 1 is also bank 0"),
    ("config", "address = 0x21", "address = 0x28", "address 40 is not an MCP23017 address"),
    ("config", 'relay_pin = "GPA7"', 'relay_pin = "GPC3"', "locker 4 relay is 'GPC3', not GPA0"),
    ("config", 'door_pin = "GPB2"', 'door_pin = "GPA5"', "0x20 GPA5 is used twice"),
    (
        "config",
        'door_pin = "GPB3"',
        'door_pin = "GPB7"',
        "locker 8 door is GPB7, which is an output",
    ),
    ("config", "relay_active_high = true", "relay_active_high = false", "must be active-high"),
    ("config", "i2c_bus = 1", "i2c_bus = 3", "i2c_bus 3; the documented wiring is I2C bus 1"),
    (
        "wiring",
        "| locker 5 door | 0x20 | GPB0 |",
        "| locker 5 door | 0x20 | GPB1 |",
        "locker 5 door is 0x20 GPB1 here but 0x20 GPB0 in the kiosk config",
    ),
    (
        "wiring",
        "| locker 12 relay | 0x21 | GPA7 |",
        "| locker 12 relay | 0x22 | GPA7 |",
        "locker 12 relay is 0x22 GPA7 here but 0x21 GPA7",
    ),
    (
        "wiring",
        "| locker 16 door | 0x21 | GPB3 |",
        "| (door 16 removed) | 0x21 | GPB3 |",
        "wiring-16.md: locker 16 door (0x21 GPB3) is missing",
    ),
    (
        "svg",
        'data-chip="0x21" data-xpin="GPA4"',
        'data-chip="0x21" data-xpin="GPA5"',
        "locker 9 relay is 0x21 GPA5 here but 0x21 GPA4",
    ),
    ("wiring", "dtparam=i2c_arm=on\n", "", "dtparam=i2c_arm=on is not documented"),
    (
        "wiring",
        "| expanders RESET | GPIO17 | 11 |",
        "| expanders RESET | GPIO27 | 13 |",
        "expanders RESET is GPIO27 here but GPIO17 in the kiosk config",
    ),
    (
        "wiring",
        "| I2C SDA | GPIO2 | 3 |",
        "| I2C SDA | GPIO4 | 7 |",
        "I2C SDA is GPIO4 here but GPIO2 in the kiosk config",
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "message"), PLANTED_16, ids=[p[3][:40] for p in PLANTED_16]
)
def test_a_planted_error_in_the_sixteen_locker_files_is_named(copy16, name, old, new, message):
    edit(copy16[name], old, new)
    failed(run(copy16), message)


# --- supervised door loops (ADS1115) -----------------------------------------------------------


def loop_config(*doors: dict, **slot_extra: object) -> dict:
    slots = [
        {"slot": n, "relay_pin": 16 + n, "door": door, **slot_extra}
        for n, door in enumerate(doors, start=1)
    ]
    return {"reader": {"backend": "keyboard"}, "lockers": {"slots": slots}}


def test_a_supervised_loop_takes_i2c_instead_of_a_door_gpio():
    config = loop_config({"adc": "0x48", "channel": 0}, {"adc": 0x48, "channel": 1})
    problems = check_pins.Problems()
    check_pins.check_door_loops(config, problems)
    assert list(problems) == []
    pins = check_pins.expected_pins(config)
    assert "locker 1 door" not in pins and pins["locker 1 relay"] == 17
    assert (pins["I2C SDA"], pins["I2C SCL"]) == (2, 3)


def test_the_boot_config_must_turn_i2c_on_for_door_loops():
    config = loop_config({"adc": 0x48, "channel": 0})
    problems = check_pins.Problems()
    check_pins.check_boot_config(
        config, check_pins.expected_pins(config), [("dtparam=strict_gpiod", "")], "", problems
    )
    assert any("door loops are on I2C converters" in p for p in problems)


@pytest.mark.parametrize(
    ("doors", "extra", "message"),
    [
        ([{"adc": 0x20, "channel": 0}], {}, "adc 32 is not an ADS1115 address"),
        ([{"adc": 0x48, "channel": 4}], {}, "channel 4 is not an ADS1115 input"),
        ([{"adc": 0x48, "channel": 0, "i2c_bus": 3}], {}, "i2c_bus 3"),
        ([{"adc": 0x49, "channel": 2}] * 2, {}, "locker 2 door loop: ADS1115 0x49 AIN2 is also"),
        ([{"adc": 0x48, "channel": 0}], {"door_pin": 5}, "not both"),
    ],
)
def test_a_planted_error_in_a_door_loop_is_named(doors, extra, message):
    problems = check_pins.Problems()
    check_pins.check_door_loops(loop_config(*doors, **extra), problems)
    assert any(message in p for p in problems), list(problems)
