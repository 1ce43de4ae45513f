"""``commonshed kiosk run`` (a Pi) and ``commonshed kiosk simulate`` (no hardware)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from broker.provision import Credentials, default_data_dir, load_credentials
from devices.errors import DeviceError
from devices.lockers import SafetyReport, check_fail_secure
from devices.rfid import open_reader
from kiosk.config import DEFAULT_CONFIG, ConfigError, KioskSettings, load_settings
from kiosk.selftest import Timeouts, run_selftest
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from kiosk.supervisor import EXIT_GAVE_UP
from kiosk.watchdog import Heartbeat, Notifier

log = logging.getLogger("commonshed.kiosk")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.group()
def kiosk() -> None:
    """Run a kiosk, on a Pi or simulated."""


@kiosk.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The kiosk's TOML file (kiosk/default.toml is the template).",
)
def run(config_path: Path) -> None:
    """Run the kiosk on its hardware: MFRC522 reader, gpiozero's default pins."""
    settings = _settings(config_path)
    try:
        safety = check_locks_safety(settings)
        station = Station(
            settings,
            reader=lambda: open_reader(settings.reader_backend, **settings.reader_options),
            locks_safety=safety.state,
        )
    except (ConfigError, DeviceError) as error:
        raise click.ClickException(str(error)) from None
    _serve(station)


@kiosk.command()
@click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--kiosk-id", help="Override [kiosk] id (also the MQTT username).")
@click.option("--site", help="Override [kiosk] site (default: the credentials' site).")
@click.option("--mqtt-host", default="127.0.0.1", show_default=True)
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option(
    "--broker-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read the kiosk's password from broker/credentials/<kiosk>.json there.",
)
@click.option("--screen-port", type=int, help="Override [kiosk] screen_port (0: any free).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the allow-list and outbox live (default <data>/kiosks/<kiosk>).",
)
@click.option(
    "--clock-skew",
    type=float,
    default=0.0,
    show_default=True,
    help="Run the kiosk's clock this many seconds fast (negative: slow), as a Pi without NTP.",
)
def simulate(
    config_path: Path,
    kiosk_id: str | None,
    site: str | None,
    mqtt_host: str,
    mqtt_port: int,
    broker_data_dir: Path | None,
    screen_port: int | None,
    data_dir: Path | None,
    clock_skew: float,
) -> None:
    """Run a kiosk with simulated pins and reader; its screen has a panel to drive them.

    Lockers on MCP23017 expanders run on emulated chips (kiosk/sixteen-lockers.toml works).
    """
    settings = _settings(config_path)
    kiosk_id = kiosk_id or settings.kiosk_id
    mqtt = replace(settings.mqtt, host=mqtt_host, port=mqtt_port, username=kiosk_id)
    if broker_data_dir is not None:
        credentials = _credentials(broker_data_dir, kiosk_id)
        mqtt = replace(mqtt, password=credentials.password)
        site = site or credentials.site
    settings = replace(
        settings,
        kiosk_id=kiosk_id,
        site=site or settings.site,
        mqtt=mqtt,
        data_dir=data_dir or default_data_dir() / "kiosks" / kiosk_id,
        screen_port=settings.screen_port if screen_port is None else screen_port,
    )
    hardware = SimulatedHardware(settings.lockers)
    try:
        station = Station(
            settings,
            reader=hardware.reader,
            pin_factory=hardware.factory,
            simulation=hardware,
            utcnow=lambda: datetime.now(UTC) + timedelta(seconds=clock_skew),
            locks_safety="not_applicable",  # simulated pins: nothing to keep safe
        )
    except (ConfigError, DeviceError) as error:
        hardware.close()
        raise click.ClickException(str(error)) from None
    try:
        _serve(station)
    finally:
        hardware.close()


@kiosk.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The kiosk's TOML file.",
)
@click.option("--card-timeout", default=30.0, show_default=True, help="Seconds to wait for a tap.")
@click.option("--door-timeout", default=20.0, show_default=True, help="Seconds per door.")
def selftest(config_path: Path, card_timeout: float, door_timeout: float) -> None:
    """Check a kiosk part by part for commissioning (stop the kiosk service first)."""
    settings = _settings(config_path)
    report = run_selftest(
        settings,
        open_reader=lambda: open_reader(settings.reader_backend, **settings.reader_options),
        safety=lambda: check_locks_safety(settings).detail,
        timeouts=Timeouts(card=card_timeout, door=door_timeout),
        say=click.echo,
    )
    click.echo(report.summary())
    if not report.passed:
        raise SystemExit(1)


def check_locks_safety(settings: KioskSettings, **paths: Any) -> SafetyReport:
    """Check the Pi's fail-secure settings before any relay is driven; log what was found.

    Raise UnsafeGpioSettings (a DeviceError) when they do not hold. Pins from gpiozero's
    MockFactory (``GPIOZERO_PIN_FACTORY=mock``) make the check not applicable.
    """
    report = check_fail_secure(
        settings.relay_pins,
        relay_active_high=settings.relay_active_high,
        relay_board_trigger=settings.relay_board_trigger,
        simulated=os.environ.get("GPIOZERO_PIN_FACTORY") == "mock",
        **paths,
    )
    log.info("lock safety %s: %s", report.state.replace("_", " "), report.detail)
    return report


def _settings(path: Path) -> KioskSettings:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        return load_settings(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _credentials(broker_data_dir: Path, kiosk_id: str) -> Credentials:
    try:
        return load_credentials(broker_data_dir, kiosk_id)
    except FileNotFoundError:
        raise click.ClickException(
            f"no broker credentials for {kiosk_id!r} in {broker_data_dir}: "
            f"run `commonshed broker provision-kiosk {kiosk_id}`"
        ) from None


def _serve(station: Station) -> None:
    """Run ``station`` until SIGTERM or Ctrl-C, or until a loop keeps failing; then stop it,
    every lock left locked, and in the last case exit non-zero for systemd to restart it."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    supervisor = station.supervisor
    heartbeat = Heartbeat(Notifier(), supervisor.making_progress)
    try:
        screen = station.start(serve_screen=True).screen
        if screen is not None:
            click.echo(f"Kiosk {station.settings.kiosk_id}: screen at {screen.url}/", err=True)
        heartbeat.start()
        while not stopping.wait(0.5) and not supervisor.gave_up.is_set():
            pass
    finally:
        log.info("stopping kiosk %s", station.settings.kiosk_id)
        heartbeat.stop()
        station.stop()
    if supervisor.gave_up.is_set():
        click.echo(f"Kiosk {station.settings.kiosk_id} gave up: {supervisor.reason}", err=True)
        raise SystemExit(EXIT_GAVE_UP)
