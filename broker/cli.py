"""``commonshed broker ...``: run the project's Mosquitto and give kiosks their credentials."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import click

from broker.provision import (
    DEFAULT_BIND_ADDRESS,
    DEFAULT_PORT,
    DEFAULT_SITE,
    broker_paths,
    default_data_dir,
    ensure_hub_credentials,
    provision_kiosk,
    render_config,
    revoke,
)
from broker.runner import mosquitto_executable, signal_running_broker
from broker.topics import Channel, kiosk_topic, validate_kiosk_id

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $COMMONSHED_DATA_DIR or ./data).",
)


@click.group(name="broker")
def broker() -> None:
    """Run the MQTT broker and manage the kiosks' broker credentials."""


@broker.command("provision-kiosk")
@click.argument("kiosk_id")
@click.option("--site", default=DEFAULT_SITE, show_default=True, help="Site the kiosk is at.")
@_DATA_DIR
@click.option("--host", default=None, help="Broker host the kiosk connects to [this host].")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Broker port.")
@click.option("--rotate", is_flag=True, help="Replace the kiosk's password with a new one.")
def provision_kiosk_command(
    kiosk_id: str, site: str, data_dir: Path | None, host: str | None, port: int, rotate: bool
) -> None:
    """Create (or show) KIOSK_ID's broker credentials and print the kiosk's MQTT settings."""
    data_dir = data_dir or default_data_dir()
    try:
        credentials = provision_kiosk(data_dir, kiosk_id, site=site, rotate=rotate)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="KIOSK_ID / --site") from None
    if signal_running_broker(broker_paths(data_dir).pid):
        click.echo("The running broker reloaded its password file.", err=True)
    settings = {
        "site": site,
        "kiosk_id": kiosk_id,
        "mqtt": {
            "host": host or socket.getfqdn(),
            "port": port,
            "username": credentials.username,
            "password": credentials.password,
            "client_id": kiosk_id,
        },
        "topics": {channel.value: kiosk_topic(site, kiosk_id, channel) for channel in Channel},
    }
    click.echo(json.dumps(settings, indent=2))


@broker.command("revoke-kiosk")
@click.argument("kiosk_id")
@_DATA_DIR
def revoke_kiosk_command(kiosk_id: str, data_dir: Path | None) -> None:
    """Remove KIOSK_ID's broker credentials; it cannot log in again."""
    data_dir = data_dir or default_data_dir()
    try:
        removed = revoke(data_dir, validate_kiosk_id(kiosk_id))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="KIOSK_ID") from None
    if not removed:
        raise click.ClickException(f"Kiosk {kiosk_id} has no broker credentials.")
    signal_running_broker(broker_paths(data_dir).pid)
    click.echo(f"Kiosk {kiosk_id} can no longer log in; its open connection stays until it drops.")


@broker.command("run")
@_DATA_DIR
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port to listen on.")
@click.option(
    "--bind",
    default=DEFAULT_BIND_ADDRESS,
    show_default=True,
    help="Address to listen on; 0.0.0.0 for kiosks on the LAN.",
)
def run_command(data_dir: Path | None, port: int, bind: str) -> None:
    """Render the broker config, make sure the hub has credentials, and run Mosquitto.

    Mosquitto replaces this process, so Ctrl-C or a service manager's SIGTERM stops it directly
    (and it saves its persistence on the way out).
    """
    data_dir = data_dir or default_data_dir()
    hub = ensure_hub_credentials(data_dir)
    paths = render_config(data_dir, port=port, bind_address=bind)
    click.echo(
        f"Mosquitto on {bind}:{port}; config {paths.config}; "
        f"hub credentials {broker_paths(data_dir).credentials(hub.username)}",
        err=True,
    )
    executable = mosquitto_executable()
    try:
        os.execv(executable, [executable, "-c", str(paths.config)])
    except OSError as error:
        raise click.ClickException(f"Cannot run {executable}: {error}") from None
