"""``commonshed up``: start the whole system on its embedded defaults; one Ctrl-C stops it all.

Each part runs as its own process, as it would on real machines, and a second run reuses the
data directory the first one set up. With ``--sites N`` (2 and more) the demo is a network of
sheds: each site gets its own Mosquitto (``DATA/sites/<site>/``, made as ``commonshed broker
provision-site`` makes one), bridged to the network's broker, which then serves the hub only;
each site's simulated kiosks connect to their site's broker.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from broker.provision import ensure_hub_credentials, provision_kiosk, provision_site_bridge
from broker.sites import Central, prepare_site_broker
from hub.bulk.demo import (
    DEMO_PIN,
    DEMO_STEWARD_PASSWORD,
    SITE,
    SITES,
    demo_password_in_force,
    demo_uid,
    site_kiosks,
)
from hub.bulk.demo import KIOSKS as DEMO_KIOSKS
from hub.infra import settings
from hub.infra.db import make_engine, reading

PYTHON = sys.executable
KIOSKS = tuple(DEMO_KIOSKS)  # the demo library's kiosks, each simulated
# A site broker that stops is restarted, as the site box's service manager would; one that
# stops this often within a minute stops the demo.
SITE_BROKER_RESTARTS = 3


@dataclass
class Part:
    """One process of the system: a name for people and the command that runs it."""

    name: str
    command: list[str]
    port: int | None = None  # the next part starts once this one accepts connections here
    restart: bool = False  # restarted when it stops (a site's broker), not the end of the demo
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Site:
    """A site of a ``--sites`` demo network: its broker (data directory, port) and kiosks."""

    name: str
    data: Path
    port: int
    kiosks: tuple[str, ...]

    @property
    def broker(self) -> str:
        """The name of the site broker's part (and of its log)."""
        return f"mosquitto-{self.name}"


class Supervisor:
    """Start parts in order, watch them, and stop them all (newest first) on the way out."""

    def __init__(self, log_dir: Path) -> None:
        self.parts: list[Part] = []
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, part: Part) -> Part:
        """Start ``part`` with its output in the log directory."""
        with (self.log_dir / f"{part.name}.log").open("ab") as log:
            part.process = subprocess.Popen(part.command, stdout=log, stderr=subprocess.STDOUT)
        if part not in self.parts:
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
                part.process.send_signal(signal.SIGCONT)  # one paused (a cut-off site) too
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


def demo_sites(data: Path, count: int, mqtt_port: int) -> list[Site]:
    """Return the sites of a ``--sites count`` network, each broker on the port after the
    previous one's (the first after ``mqtt_port``); none for one site (no bridges)."""
    if count == 1:
        return []
    return [
        Site(name, data / "sites" / name, mqtt_port + 1 + index, tuple(site_kiosks(name)))
        for index, name in enumerate(SITES[:count])
    ]


def _one_site(data: Path, mqtt_port: int) -> Site:
    """The demo of one site: its kiosks on the network's broker, no bridge."""
    return Site(SITE, data, mqtt_port, KIOSKS)


def prepare(data: Path, sites: Sequence[Site] = (), mqtt_port: int = 18830) -> None:
    """Migrate the database, seed the demo library the first time, provision the kiosks: on
    the network's broker, or (``sites``) each site's bridge there and its own broker."""
    demo_data = ("demo-data", "--sites", str(len(sites))) if sites else ("demo-data",)
    for args in (("init",), demo_data):
        subprocess.run(hub_command(data, *args), check=True)
    ensure_hub_credentials(data)
    if not sites:
        for kiosk_id in KIOSKS:
            provision_kiosk(data, kiosk_id, site=SITE)
    central = Central("127.0.0.1", mqtt_port)
    for site in sites:  # what `commonshed broker provision-site` does (the bridge follows a port)
        bridge = provision_site_bridge(data, site.name)
        prepare_site_broker(
            site.data,
            site=site.name,
            port=site.port,
            central=central,
            bridge=bridge,
            kiosks=site.kiosks,
        )


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
    "--sites",
    default=1,
    show_default=True,
    type=click.IntRange(1, len(SITES)),
    help=f"Sites of the demo network ({', '.join(SITES)}). From 2, each site has its own "
    "Mosquitto on the ports after --mqtt-port, bridged to ours, and its own kiosks.",
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
    sites: int,
    kiosk_port: int,
    mail_port: int,
    demo_on_network: bool,
) -> None:
    """Start the whole system on its embedded defaults; Ctrl-C stops it all."""
    data = settings.data_dir(data_dir)
    send_mail_to_sink(mail_port)
    os.environ.setdefault(settings.PUBLIC_URL_ENV, f"http://{host}:{web_port}")  # mail links
    network = demo_sites(data, sites, mqtt_port)
    prepare(data, network, mqtt_port)
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
        for part in parts(data, host, web_port, mqtt_port, kiosk_port, mail_port, network):
            supervisor.start(part)
            if part.port is not None:
                _wait_for_port("127.0.0.1", part.port, part)
        screens = screen_ports(kiosk_port, network or [_one_site(data, mqtt_port)])
        _print_sites(supervisor, network, mqtt_port)
        _print_where_to_go(host, web_port, screens, data)
        watch(supervisor)
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
    data: Path,
    host: str,
    web_port: int,
    mqtt_port: int,
    kiosk_port: int,
    mail_port: int = 8025,
    sites: Sequence[Site] = (),
) -> list[Part]:
    """Return the processes of the whole system, in the order they must start: the network's
    broker and the hub, then each site's broker before its kiosks (without ``sites``, the
    kiosks of the one site on the network's broker)."""
    mqtt = ["--mqtt-host", "127.0.0.1", "--mqtt-port", str(mqtt_port)]
    network = sites or [_one_site(data, mqtt_port)]
    screens = screen_ports(kiosk_port, network)
    site_parts: list[Part] = []
    for site in network:
        if sites:
            command = ["broker", "run", "--data-dir", str(site.data), "--port", str(site.port)]
            site_parts.append(Part(site.broker, commonshed(*command), site.port, restart=True))
        site_parts += [
            Part(
                kiosk_id,
                commonshed(
                    "kiosk",
                    "simulate",
                    "--kiosk-id",
                    kiosk_id,
                    "--site",
                    site.name,
                    "--mqtt-host",
                    "127.0.0.1",
                    "--mqtt-port",
                    str(site.port),
                    "--broker-data-dir",
                    str(site.data),
                    "--screen-port",
                    str(screens[kiosk_id]),
                    "--data-dir",
                    str(data / "kiosks" / kiosk_id),
                ),
            )
            for kiosk_id in site.kiosks
        ]
    return [
        Part(
            "mosquitto",
            commonshed("broker", "run", "--data-dir", str(data), "--port", str(mqtt_port)),
            mqtt_port,
        ),
        Part("mail-sink", hub_command(data, "mail", "sink", "--port", str(mail_port)), mail_port),
        Part("hub-ingest", hub_command(data, "ingest", *mqtt, "--broker-data-dir", str(data))),
        Part("hub-web", hub_command(data, "serve", "--host", host, "--port", str(web_port))),
        *site_parts,
    ]


def screen_ports(kiosk_port: int, network: Sequence[Site]) -> dict[str, int]:
    """Return each simulated kiosk's screen port: ``kiosk_port`` and on, site after site."""
    kiosks = [kiosk_id for site in network for kiosk_id in site.kiosks]
    return {kiosk_id: kiosk_port + index for index, kiosk_id in enumerate(kiosks)}


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def _wait_for_port(host: str, port: int, part: Part, timeout: float = 60.0) -> None:
    """Wait until ``part`` accepts connections on ``port``, or fail saying which part (at once
    if it stops; a minute otherwise, as `broker run` may take seconds on a busy small box)."""
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


def watch(supervisor: Supervisor) -> None:
    """Wait until a part dies (then say which and where its log is) or Ctrl-C; restart a site
    broker that stops, unless it keeps stopping."""
    restarts: dict[str, list[float]] = {}
    while True:
        while (dead := supervisor.first_exited()) is None:
            time.sleep(0.5)
        exit_code = dead.process.returncode if dead.process is not None else None
        log = supervisor.log_dir / (dead.name + ".log")
        now = time.monotonic()
        recent = [t for t in restarts.get(dead.name, []) if now - t < 60] + [now]
        if not dead.restart or len(recent) > SITE_BROKER_RESTARTS:
            raise click.ClickException(f"{dead.name} stopped (exit {exit_code}); see {log}")
        restarts[dead.name] = recent
        supervisor.start(dead)
        _wait_for_port("127.0.0.1", dead.port or 0, dead)
        pid = dead.process.pid if dead.process is not None else None
        click.echo(f"{dead.name} stopped (exit {exit_code}; see {log}); restarted as pid {pid}.")


def _print_where_to_go(host: str, web_port: int, screens: dict[str, int], data: Path) -> None:
    base = f"http://{host}:{web_port}"
    kiosk_lines = "\n".join(
        f"  Kiosk {kiosk_id} screen + simulator  http://127.0.0.1:{port}/"
        for kiosk_id, port in screens.items()
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


def _print_sites(supervisor: Supervisor, sites: Sequence[Site], mqtt_port: int) -> None:
    """Say where each site's broker is, and how to cut a site off the network and back."""
    if not sites:
        return
    pids = {part.name: part.process.pid for part in supervisor.parts if part.process}
    click.echo(f"A network of {len(sites)} sites, bridged to the network's broker :{mqtt_port}:")
    for site in sites:
        click.echo(
            f"  Site {site.name}: broker 127.0.0.1:{site.port} (pid {pids[site.broker]}, data "
            f"{site.data}), kiosks {', '.join(site.kiosks)}"
        )
    pid = pids[sites[-1].broker]
    click.echo(
        f"Cut site {sites[-1].name} off: kill -STOP {pid} (back: kill -CONT {pid}); the kiosks "
        "page says so within 30 s. A site broker that stops is restarted."
    )
