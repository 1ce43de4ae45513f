"""``commonshed broker ...``: run the project's Mosquitto and give kiosks their credentials."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import click

from broker.dynsec import DynsecError
from broker.provision import (
    DEFAULT_BIND_ADDRESS,
    DEFAULT_PORT,
    DEFAULT_SITE,
    Credentials,
    broker_is_running,
    broker_paths,
    default_data_dir,
    ensure_hub_credentials,
    migrate_password_file,
    provision_kiosk,
    provision_site_bridge,
    render_config,
    revoke,
)
from broker.runner import mosquitto_executable
from broker.sites import Central, prepare_site_broker
from broker.topics import (
    Channel,
    kiosk_topic,
    site_bridge_username,
    validate_kiosk_id,
    validate_site_id,
)

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
    except DynsecError as error:
        raise click.ClickException(f"The broker did not take kiosk {kiosk_id}: {error}") from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="KIOSK_ID / --site") from None
    if broker_is_running(data_dir):
        click.echo("The running broker took the kiosk's credentials.", err=True)
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


@broker.command("provision-site")
@click.argument("site")
@_DATA_DIR
@click.option(
    "--site-data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the site broker's files (then copy them to the site's box).",
)
@click.option("--central-host", required=True, help="The network's broker, as the site sees it.")
@click.option("--central-port", default=DEFAULT_PORT, show_default=True)
@click.option("--cafile", default=None, help="CA of the network broker's TLS certificate.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="The site broker's port.")
@click.option("--bind", default="0.0.0.0", show_default=True, help="The site broker's address.")
@click.option("--kiosk", "kiosks", multiple=True, help="A kiosk of the site (repeatable).")
@click.option("--rotate", is_flag=True, help="Give the site's bridge a new password.")
def provision_site_command(
    site: str,
    data_dir: Path | None,
    site_data_dir: Path,
    central_host: str,
    central_port: int,
    cafile: str | None,
    port: int,
    bind: str,
    kiosks: tuple[str, ...],
    rotate: bool,
) -> None:
    """Add site SITE to the network: its bridge's credentials on this (the network's) broker,
    confined to SITE's topics, and a site broker for its kiosks, bridged here.

    Prefer `commonshed hub sites provision SITE` (or the dashboard's Sites page): it records
    the site's bridge login and audits it; then `broker join-network` on the site's box.
    """
    try:
        bridge = provision_site_bridge(data_dir or default_data_dir(), site, rotate=rotate)
        central = Central(central_host, central_port, cafile)
        paths, given = prepare_site_broker(
            site_data_dir,
            site=site,
            port=port,
            central=central,
            bridge=bridge,
            kiosks=kiosks,
            bind_address=bind,
        )
    except DynsecError as error:
        raise click.ClickException(
            f"The network's broker did not take site {site}: {error}"
        ) from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="SITE / --kiosk") from None
    click.echo(f"Site {site}: its bridge logs in here as {bridge.username}.")
    click.echo(f"Its broker's files are in {paths.root}; on the site's box run:")
    click.echo(f"  commonshed broker run --data-dir {site_data_dir} --port {port} --bind {bind}")
    for kiosk_id in given:
        click.echo(f"Kiosk {kiosk_id} connects to the site broker (password in its credentials).")
    click.echo(
        f"More kiosks: commonshed broker provision-kiosk ID --site {site} "
        f"--data-dir {site_data_dir}"
    )


@broker.command("join-network")
@click.argument("site")
@_DATA_DIR
@click.option("--central-host", required=True, help="The network's broker, as the site sees it.")
@click.option("--central-port", default=DEFAULT_PORT, show_default=True)
@click.option("--cafile", default=None, help="CA of the network broker's TLS certificate.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="The site broker's port.")
@click.option("--bind", default="0.0.0.0", show_default=True, help="The site broker's address.")
def join_network_command(
    site: str,
    data_dir: Path | None,
    central_host: str,
    central_port: int,
    cafile: str | None,
    port: int,
    bind: str,
) -> None:
    """On site SITE's box: make this data dir SITE's broker, bridged to the network's broker
    with the bridge password read from standard input (as `commonshed hub sites provision`
    or the dashboard's Sites page showed it, once)."""
    data_dir = data_dir or default_data_dir()
    password = sys.stdin.read().strip()
    if not password:
        raise click.BadParameter("the bridge's password is required on standard input.")
    try:
        site = validate_site_id(site)
        bridge = Credentials(site_bridge_username(site), password, site)
        paths, _given = prepare_site_broker(
            data_dir,
            site=site,
            port=port,
            central=Central(central_host, central_port, cafile),
            bridge=bridge,
            bind_address=bind,
        )
    except DynsecError as error:
        raise click.ClickException(str(error)) from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="SITE / --central-host") from None
    click.echo(f"Site {site}'s broker: {paths.root}, bridged to {central_host}:{central_port}.")
    click.echo(f"Run it: commonshed broker run --data-dir {data_dir} --port {port} --bind {bind}")


@broker.command("revoke-kiosk")
@click.argument("kiosk_id")
@_DATA_DIR
def revoke_kiosk_command(kiosk_id: str, data_dir: Path | None) -> None:
    """Remove KIOSK_ID's broker credentials: it is disconnected and cannot log in again."""
    data_dir = data_dir or default_data_dir()
    try:
        removed = revoke(data_dir, validate_kiosk_id(kiosk_id))
    except DynsecError as error:
        raise click.ClickException(f"The broker did not revoke kiosk {kiosk_id}: {error}") from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="KIOSK_ID") from None
    if not removed:
        raise click.ClickException(f"Kiosk {kiosk_id} has no broker credentials.")
    click.echo(f"Kiosk {kiosk_id} is disconnected if it was connected, and can no longer log in.")


@broker.command("migrate-to-dynsec")
@_DATA_DIR
def migrate_command(data_dir: Path | None) -> None:
    """Move the users of a password-file install into the dynamic-security plugin.

    Every kiosk keeps its password; `broker run` does this by itself on start.
    """
    data_dir = data_dir or default_data_dir()
    try:
        report = migrate_password_file(data_dir)
    except (DynsecError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if not report:
        click.echo("Nothing to migrate: no password file with users.")
    for line in report:
        click.echo(f"migrated {line}")


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
    try:
        for line in migrate_password_file(data_dir):
            click.echo(f"migrated from the password file: {line}", err=True)
        site_broker = broker_paths(data_dir).bridge.exists()  # bridged: the hub is elsewhere
        hub = None if site_broker else ensure_hub_credentials(data_dir)
        paths = render_config(data_dir, port=port, bind_address=bind)
    except DynsecError as error:
        raise click.ClickException(str(error)) from None
    who = (
        f"hub credentials {broker_paths(data_dir).credentials(hub.username)}"
        if hub
        else f"a site broker, bridged as in {paths.bridge}"
    )
    click.echo(f"Mosquitto on {bind}:{port}; config {paths.config}; {who}", err=True)
    executable = mosquitto_executable()
    try:
        os.execv(executable, [executable, "-c", str(paths.config)])
    except OSError as error:
        raise click.ClickException(f"Cannot run {executable}: {error}") from None
