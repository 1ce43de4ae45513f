"""Read a kiosk's TOML configuration (see kiosk/default.toml) into settings, or say which key
is wrong."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from broker.topics import validate_kiosk_id, validate_site_id

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.toml"
# The toml says "keyboard"; devices/rfid names that backend "keyboard_wedge".
READER_ALIASES = {"keyboard": "keyboard_wedge"}
# [reader] keys of default.toml -> Mfrc522Reader keywords
MFRC522_OPTIONS = {"spi_bus": "bus", "spi_device": "device", "rst_pin": "pin_rst"}
FEEDBACK_KEYS = ("green_led_pin", "red_led_pin", "buzzer_pin")

Table = Mapping[str, object]  # a TOML table as parsed: each value is checked where it is read
# A table handed to a device as it is: the device checks it and names the key at fault
# (BadLockerConfig, BadBackend, gpiozero's pin errors), so its values are left untyped here.
DeviceTable = dict[str, Any]
T = TypeVar("T")
D = TypeVar("D")


class ConfigError(ValueError):
    """A kiosk configuration that cannot be used; the text names the file and the key."""


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how the kiosk logs in."""

    host: str
    port: int
    username: str
    password: str | None = None
    password_file: Path | None = None
    tls: bool = False
    reconnect_max_s: float = 30.0

    def with_password(self) -> MqttSettings:
        """Return these settings with the password read from ``password_file`` (stripped)."""
        if self.password is not None:
            return self
        if self.password_file is None:
            raise ConfigError("[mqtt] password_file: not set, and no password was given")
        try:
            password = self.password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f"[mqtt] password_file: cannot read {self.password_file}: {error.strerror}"
            ) from None
        if not password:
            raise ConfigError(f"[mqtt] password_file: {self.password_file} is empty")
        return replace(self, password=password)


@dataclass(frozen=True)
class KioskSettings:
    """Everything a kiosk process needs to start."""

    kiosk_id: str
    site: str
    data_dir: Path
    mqtt: MqttSettings
    screen_host: str = "127.0.0.1"
    screen_port: int = 8080
    session_timeout_s: float = 30.0
    max_loop_failures: int = 5  # failures in a row of one loop before the process exits
    reader_backend: str | None = "mfrc522"  # None: $COMMONSHED_CARD_READER, else mfrc522
    reader_options: DeviceTable = field(default_factory=dict)
    feedback: DeviceTable = field(default_factory=dict)
    lockers: DeviceTable = field(default_factory=dict)  # LockerBank.from_config's input
    # The relay board's trigger jumper ("high" or "low"), as the person who set it recorded it.
    relay_board_trigger: str | None = None

    @property
    def pulse_seconds(self) -> float:
        """How long the relay of an unlocked locker stays energised."""
        return float(self.lockers.get("pulse_seconds", 5.0))

    @property
    def forced_grace_seconds(self) -> float:
        """How long after a pulse an opening door still counts as unlocked by it."""
        return float(self.lockers.get("forced_grace_seconds", 1.0))

    @property
    def relay_active_high(self) -> bool:
        """Which pin level energises a relay (every locker's, unless one overrides it)."""
        return bool(self.lockers.get("relay_active_high", True))

    @property
    def relay_pins(self) -> tuple[int, ...]:
        """The GPIO of every locker's relay."""
        return tuple(int(entry["relay_pin"]) for entry in self.lockers.get("lockers", ()))

    @property
    def slots(self) -> tuple[int, ...]:
        """The locker slots wired to this kiosk."""
        banks = [bank.get("slots", ()) for bank in self.lockers.get("banks", ())]
        entries = [*self.lockers.get("lockers", ()), *(entry for bank in banks for entry in bank)]
        return tuple(entry["slot"] for entry in entries)


def load_settings(path: Path | str = DEFAULT_CONFIG) -> KioskSettings:
    """Read the kiosk's TOML file at ``path``; raise ConfigError naming the key at fault."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return settings_from(document, base=path.parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def settings_from(document: Table, *, base: Path = Path(".")) -> KioskSettings:
    """Build settings from a parsed TOML document; relative paths are taken from ``base``."""
    kiosk = _table(document, "kiosk")
    kiosk_id = _checked(_required(kiosk, "kiosk", "id", str), "kiosk", "id", validate_kiosk_id)
    reader = _optional_table(document, "reader")
    named = _optional(reader, "reader", "backend", str, None)
    backend = READER_ALIASES.get(named, named) if named is not None else None
    return KioskSettings(
        kiosk_id=kiosk_id,
        site=_checked(_required(kiosk, "kiosk", "site", str), "kiosk", "site", validate_site_id),
        data_dir=base / _required(kiosk, "kiosk", "data_dir", str),
        screen_host=_optional(kiosk, "kiosk", "screen_host", str, "127.0.0.1"),
        screen_port=_port(kiosk, "kiosk", "screen_port", 8080),
        session_timeout_s=_number(kiosk, "kiosk", "session_timeout_s", 30),
        max_loop_failures=_positive_int(kiosk, "kiosk", "max_loop_failures", 5),
        mqtt=_mqtt(_table(document, "mqtt"), kiosk_id, base),
        reader_backend=backend,
        reader_options=_reader_options(backend, reader),
        feedback={
            key: value
            for key, value in _optional_table(document, "feedback").items()
            if key in FEEDBACK_KEYS
        },
        lockers=_lockers(_table(document, "lockers")),
        relay_board_trigger=_optional(
            _table(document, "lockers"), "lockers", "relay_board_trigger", str, None
        ),
    )


def _mqtt(table: Table, kiosk_id: str, base: Path) -> MqttSettings:
    password_file = _optional(table, "mqtt", "password_file", str, None)
    return MqttSettings(
        host=_required(table, "mqtt", "host", str),
        port=_port(table, "mqtt", "port", 1883),
        username=_optional(table, "mqtt", "username", str, kiosk_id),
        password_file=None if password_file is None else base / password_file,
        tls=_optional(table, "mqtt", "tls", bool, False),
        reconnect_max_s=_number(table, "mqtt", "reconnect_max_s", 30),
    )


def _reader_options(backend: str | None, table: Table) -> DeviceTable:
    if backend != "mfrc522":
        return {}
    return {MFRC522_OPTIONS[key]: value for key, value in table.items() if key in MFRC522_OPTIONS}


def _lockers(table: Table) -> DeviceTable:
    """Turn ``[lockers]`` with its ``[[lockers.slots]]`` (lockers on the Pi's GPIO) and its
    ``[[lockers.banks]]`` (e.g. on MCP23017 expanders) into LockerBank.from_config's input."""
    slots = table.get("slots", [])
    banks = table.get("banks", [])
    if not isinstance(slots, list) or not isinstance(banks, list) or not (slots or banks):
        raise ConfigError(
            "[lockers] slots: needs at least one [[lockers.slots]] or [[lockers.banks]] entry"
        )
    own = ("slots", "relay_board_trigger")  # the kiosk's, not the locker bank's
    return {"lockers": slots, **{key: value for key, value in table.items() if key not in own}}


def _table(document: Table, name: str) -> Table:
    table = document.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}]: the table is missing")
    return table


def _optional_table(document: Table, name: str) -> Table:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}]: {table!r} is not a table")
    return table


def _required(table: Table, where: str, key: str, kind: type[T]) -> T:
    if key not in table:
        raise ConfigError(f"[{where}] {key}: missing")
    value = _optional(table, where, key, kind, None)
    if value is None:
        raise ConfigError(f"[{where}] {key}: missing")
    return value


def _optional(table: Table, where: str, key: str, kind: type[T], default: D) -> T | D:
    value = table.get(key, default)
    if value is default:
        return default
    # NOTE: bool is an int in Python; a port of `true` is a mistake, not 1.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"[{where}] {key}: {value!r} is not a {kind.__name__}")
    return value


def _number(table: Table, where: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if value is not default and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise ConfigError(f"[{where}] {key}: {value!r} is not a int | float")
    return float(value)


def _positive_int(table: Table, where: str, key: str, default: int) -> int:
    value = _optional(table, where, key, int, default)
    if value < 1:
        raise ConfigError(f"[{where}] {key}: {value} is not a whole number of at least 1")
    return value


def _port(table: Table, where: str, key: str, default: int) -> int:
    port = _optional(table, where, key, int, default)
    if not 0 <= port <= 65535:  # 0: any free port (tests)
        raise ConfigError(f"[{where}] {key}: {port} is not a TCP port")
    return port


def _checked(value: str, where: str, key: str, validate: Callable[[str], str]) -> str:
    try:
        return validate(value)
    except ValueError as error:
        raise ConfigError(f"[{where}] {key}: {error}") from None
