"""``commonshed up``: start the whole system on its embedded defaults; one Ctrl-C stops it all.

Each part runs as its own process, as it would on real machines, and a second run reuses the
data directory the first one set up.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from broker.provision import ensure_hub_credentials, provision_kiosk
from hub.bulk.demo import DEMO_PIN, DEMO_STEWARD_PASSWORD, SITE, demo_password_in_force, demo_uid
from hub.bulk.demo import KIOSKS as DEMO_KIOSKS
from hub.infra import settings
from hub.infra.db import make_engine, reading

PYTHON = sys.executable
KIOSKS = tuple(DEMO_KIOSKS)  # the demo library's kiosks, each simulated


@dataclass
class Part:
    """One process of the system: a name for people and the command that runs it."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


class Supervisor:
    """Start parts in order, watch them, and stop them all (newest first) on the way out."""

    def __init__(self, log_dir: Path) -> None:
        self.parts: list[Part] = []
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, part: Part) -> Part:
        """Start ``part`` with its output in the log directory."""
        log = (self.log_dir / f"{part.name}.log").open("ab")
        part.process = subprocess.Popen(part.command, stdout=log, stderr=subprocess.STDOUT)
        self.parts.append(part)
        return part

    def first_exited(self) -> Part | None:
        """Return a part that has stopped on its own, if any has."""
        return next((p for p in self.parts if p.process and p.process.poll() is not None), None)

    def stop_all(self, grace: float = 8.0) -> None:
        """Ask every part to stop (SIGTERM), newest first; kill what lingers."""
        for part in reversed(self.parts):
            if part.process and part.process.poll() is None:
                part.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for part in reversed(self.parts):
            if part.process is None:
                continue
            try:
                part.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                part.process.kill()
                part.process.wait()


def commonshed(*args: str) -> list[str]:
    """Return the command line of ``commonshed ARGS`` in this interpreter."""
    return [PYTHON, "-m", "commonshed", *args]


def hub_command(data: Path, *args: str) -> list[str]:
    """Return the command line of ``commonshed hub`` on ``data``."""
    return commonshed("hub", "--data-dir", str(data), *args)


def prepare(data: Path) -> None:
    """Migrate the database, seed the demo library the first time, provision the kiosks."""
    for args in (("init",), ("demo-data",)):
        subprocess.run(hub_command(data, *args), check=True)
    ensure_hub_credentials(data)
    for kiosk_id in KIOSKS:
        provision_kiosk(data, kiosk_id, site=SITE)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where everything is kept (default $COMMONSHED_DATA_DIR or ./data).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web binds to.")
@click.option("--web-port", default=8000, show_default=True, type=int)
@click.option(
    "--mqtt-port",
    default=18830,
    show_default=True,
    type=int,
    help="Our Mosquitto's port (not 1883, which a system Mosquitto may hold).",
)
@click.option(
    "--kiosk-port",
    default=8081,
    show_default=True,
    type=int,
    help="First simulated kiosk screen's port; the next kiosk uses the next port.",
)
@click.option(
    "--mail-port",
    default=8025,
    show_default=True,
    type=int,
    help="The local mail sink's port: reminders are filed under DATA_DIR/mail/, never delivered.",
)
@click.option(
    "--i-know-this-is-a-demo",
    "demo_on_network",
    is_flag=True,
    help="Serve the web on a non-loopback --host although the published demo password works.",
)
def up(
    data_dir: Path | None,
    host: str,
    web_port: int,
    mqtt_port: int,
    kiosk_port: int,
    mail_port: int,
    demo_on_network: bool,
) -> None:
    """Start the whole system on its embedded defaults; Ctrl-C stops it all."""
    data = settings.data_dir(data_dir)
    send_mail_to_sink(mail_port)
    os.environ.setdefault(settings.PUBLIC_URL_ENV, f"http://{host}:{web_port}")  # mail links
    prepare(data)
    if not is_loopback(host) and not demo_on_network and _demo_password_works(data):
        raise click.UsageError(
            f"Refusing --host {host}: the steward password is still the published demo one "
            f"({DEMO_STEWARD_PASSWORD!r}), so anyone on the network could sign in as a steward. "
            "Set real passwords (`commonshed hub steward set-password NUMBER`), keep the "
            "default --host 127.0.0.1, or pass --i-know-this-is-a-demo for a demo on a "
            "network you trust."
        )
    supervisor = Supervisor(data / "logs")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for part in parts(data, host, web_port, mqtt_port, kiosk_port, mail_port):
            supervisor.start(part)
            if part.name == "mosquitto":
                _wait_for_port("127.0.0.1", mqtt_port, part)
            if part.name == "mail-sink":
                _wait_for_port("127.0.0.1", mail_port, part)
        _print_where_to_go(host, web_port, kiosk_port, data)
        _watch(supervisor)
    except KeyboardInterrupt:
        click.echo("\nStopping Commonshed ...")
    finally:
        supervisor.stop_all()
        click.echo("Stopped.")


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything: treat it as the network


def _demo_password_works(data: Path) -> bool:
    """Tell whether a steward of the database in ``data`` still has the demo password."""
    engine = make_engine(settings.database_url(data))
    try:
        with reading(engine) as session:
            return demo_password_in_force(session)
    finally:
        engine.dispose()


def send_mail_to_sink(mail_port: int) -> None:
    """Point the hub's mail at the local sink (the parts inherit it), unless SMTP is set."""
    if not os.environ.get(settings.SMTP_HOST_ENV):
        os.environ[settings.SMTP_HOST_ENV] = "127.0.0.1"
        os.environ[settings.SMTP_PORT_ENV] = str(mail_port)
        os.environ[settings.SMTP_TLS_ENV] = "none"


def parts(
    data: Path, host: str, web_port: int, mqtt_port: int, kiosk_port: int, mail_port: int = 8025
) -> list[Part]:
    """Return the processes of the whole system, in the order they must start."""
    mqtt = ["--mqtt-host", "127.0.0.1", "--mqtt-port", str(mqtt_port)]
    kiosks = [
        Part(
            kiosk_id,
            commonshed(
                "kiosk",
                "simulate",
                "--kiosk-id",
                kiosk_id,
                "--site",
                SITE,
                *mqtt,
                "--broker-data-dir",
                str(data),
                "--screen-port",
                str(kiosk_port + index),
                "--data-dir",
                str(data / "kiosks" / kiosk_id),
            ),
        )
        for index, kiosk_id in enumerate(KIOSKS)
    ]
    return [
        Part(
            "mosquitto",
            commonshed("broker", "run", "--data-dir", str(data), "--port", str(mqtt_port)),
        ),
        Part("mail-sink", hub_command(data, "mail", "sink", "--port", str(mail_port))),
        Part("hub-ingest", hub_command(data, "ingest", *mqtt, "--broker-data-dir", str(data))),
        Part("hub-web", hub_command(data, "serve", "--host", host, "--port", str(web_port))),
        *kiosks,
    ]


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def _wait_for_port(host: str, port: int, part: Part, timeout: float = 15.0) -> None:
    """Wait until ``part`` accepts connections on ``port``, or fail saying which part."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if part.process and part.process.poll() is not None:
            break
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise click.ClickException(f"{part.name} did not start on port {port}; see its log.")


def _watch(supervisor: Supervisor) -> None:
    """Wait until a part dies (then say which and where its log is) or Ctrl-C."""
    while (dead := supervisor.first_exited()) is None:
        time.sleep(0.5)
    exit_code = dead.process.returncode if dead.process is not None else None
    raise click.ClickException(
        f"{dead.name} stopped (exit {exit_code}); see {supervisor.log_dir / (dead.name + '.log')}"
    )


def _print_where_to_go(host: str, web_port: int, kiosk_port: int, data: Path) -> None:
    base = f"http://{host}:{web_port}"
    kiosk_lines = "\n".join(
        f"  Kiosk {kiosk_id} screen + simulator  http://127.0.0.1:{kiosk_port + i}/"
        for i, kiosk_id in enumerate(KIOSKS)
    )
    click.echo(f"""
Commonshed is running. Data and logs: {data}
  Steward dashboard            {base}/steward/   (member 1001, password {DEMO_STEWARD_PASSWORD!r})
  Booking tablet               {base}/tablet/
  Member pages                 {base}/me/   (member number and PIN; every demo PIN is {DEMO_PIN})
  Reminder mail (never sent)   {data / "mail"}/
  Tool library (open records)  {base}/
{kiosk_lines}
Demo cards: {", ".join(demo_uid(i) for i in range(4))} (tap them on a kiosk's simulator panel).
Press Ctrl-C to stop everything.
""")
