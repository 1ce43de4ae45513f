"""Read a kiosk's TOML configuration (see kiosk/default.toml) into settings, or say which key
is wrong."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from broker.topics import validate_kiosk_id, validate_site_id

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.toml"
# The toml says "keyboard"; devices/rfid names that backend "keyboard_wedge".
READER_ALIASES = {"keyboard": "keyboard_wedge"}
# [reader] keys of default.toml -> Mfrc522Reader keywords
MFRC522_OPTIONS = {"spi_bus": "bus", "spi_device": "device", "rst_pin": "pin_rst"}
FEEDBACK_KEYS = ("green_led_pin", "red_led_pin", "buzzer_pin")


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
    reader_backend: str = "mfrc522"
    reader_options: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, Any] = field(default_factory=dict)
    lockers: dict[str, Any] = field(default_factory=dict)  # LockerBank.from_config's input

    @property
    def pulse_seconds(self) -> float:
        """How long the relay of an unlocked locker stays energised."""
        return float(self.lockers.get("pulse_seconds", 5.0))

    @property
    def forced_grace_seconds(self) -> float:
        """How long after a pulse an opening door still counts as unlocked by it."""
        return float(self.lockers.get("forced_grace_seconds", 1.0))

    @property
    def slots(self) -> tuple[int, ...]:
        """The locker slots wired to this kiosk."""
        return tuple(entry["slot"] for entry in self.lockers.get("lockers", ()))


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


def settings_from(document: dict[str, Any], *, base: Path = Path(".")) -> KioskSettings:
    """Build settings from a parsed TOML document; relative paths are taken from ``base``."""
    kiosk = _table(document, "kiosk")
    kiosk_id = _checked(_required(kiosk, "kiosk", "id", str), "kiosk", "id", validate_kiosk_id)
    reader = document.get("reader", {})
    backend = READER_ALIASES.get(reader.get("backend", "mfrc522"), reader.get("backend"))
    return KioskSettings(
        kiosk_id=kiosk_id,
        site=_checked(_required(kiosk, "kiosk", "site", str), "kiosk", "site", validate_site_id),
        data_dir=base / _required(kiosk, "kiosk", "data_dir", str),
        screen_host=_optional(kiosk, "kiosk", "screen_host", str, "127.0.0.1"),
        screen_port=_port(kiosk, "kiosk", "screen_port", 8080),
        session_timeout_s=float(_optional(kiosk, "kiosk", "session_timeout_s", int | float, 30)),
        mqtt=_mqtt(_table(document, "mqtt"), kiosk_id, base),
        reader_backend=backend,
        reader_options=_reader_options(backend, reader),
        feedback={
            key: value
            for key, value in document.get("feedback", {}).items()
            if key in FEEDBACK_KEYS
        },
        lockers=_lockers(_table(document, "lockers")),
    )


def _mqtt(table: dict[str, Any], kiosk_id: str, base: Path) -> MqttSettings:
    password_file = _optional(table, "mqtt", "password_file", str, None)
    return MqttSettings(
        host=_required(table, "mqtt", "host", str),
        port=_port(table, "mqtt", "port", 1883),
        username=_optional(table, "mqtt", "username", str, kiosk_id),
        password_file=None if password_file is None else base / password_file,
        tls=_optional(table, "mqtt", "tls", bool, False),
        reconnect_max_s=float(_optional(table, "mqtt", "reconnect_max_s", int | float, 30)),
    )


def _reader_options(backend: str | None, table: dict[str, Any]) -> dict[str, Any]:
    if backend != "mfrc522":
        return {}
    return {MFRC522_OPTIONS[key]: value for key, value in table.items() if key in MFRC522_OPTIONS}


def _lockers(table: dict[str, Any]) -> dict[str, Any]:
    """Turn ``[lockers]`` with its ``[[lockers.slots]]`` into LockerBank.from_config's input."""
    slots = table.get("slots")
    if not isinstance(slots, list) or not slots:
        raise ConfigError("[lockers] slots: needs at least one [[lockers.slots]] entry")
    return {"lockers": slots, **{key: value for key, value in table.items() if key != "slots"}}


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}]: the table is missing")
    return table


def _required(table: dict[str, Any], where: str, key: str, kind: type) -> Any:
    if key not in table:
        raise ConfigError(f"[{where}] {key}: missing")
    return _optional(table, where, key, kind, None)


def _optional(table: dict[str, Any], where: str, key: str, kind: Any, default: Any) -> Any:
    value = table.get(key, default)
    # NOTE: bool is an int in Python; a port of `true` is a mistake, not 1.
    if value is not default and (
        not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
    ):
        raise ConfigError(f"[{where}] {key}: {value!r} is not a {getattr(kind, '__name__', kind)}")
    return value


def _port(table: dict[str, Any], where: str, key: str, default: int) -> int:
    port = _optional(table, where, key, int, default)
    if not 0 <= port <= 65535:  # 0: any free port (tests)
        raise ConfigError(f"[{where}] {key}: {port} is not a TCP port")
    return port


def _checked(value: str, where: str, key: str, validate: Any) -> str:
    try:
        return validate(value)
    except ValueError as error:
        raise ConfigError(f"[{where}] {key}: {error}") from None
