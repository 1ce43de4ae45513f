"""``commonshed up``: start the whole system on its embedded defaults; one Ctrl-C stops it all.

Each part runs as its own process, as it would on real machines, and a second run reuses the
data directory the first one set up.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from hub import settings

PYTHON = sys.executable


@dataclass
class Part:
    """One process of the system: a name for people and the command that runs it."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)


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


def hub_command(data: Path, *args: str) -> list[str]:
    """Return the command line of ``commonshed hub`` on ``data``."""
    return [PYTHON, "-m", "commonshed", "hub", "--data-dir", str(data), *args]


def prepare_hub(data: Path) -> None:
    """Migrate the database and seed the demo library the first time."""
    for args in (("init",), ("demo-data",)):
        subprocess.run(hub_command(data, *args), check=True)


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where everything is kept (default $COMMONSHED_DATA_DIR or ./data).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web binds to.")
@click.option("--web-port", default=8000, show_default=True, type=int)
def up(data_dir: Path | None, host: str, web_port: int) -> None:
    """Start the whole system on its embedded defaults; Ctrl-C stops it all."""
    data = settings.data_dir(data_dir)
    prepare_hub(data)
    supervisor = Supervisor(data / "logs")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        supervisor.start(Part("hub-web", hub_command(data, "serve", "--host", host,
                                                     "--port", str(web_port))))
        _print_where_to_go(host, web_port, data)
        _watch(supervisor)
    except KeyboardInterrupt:
        click.echo("\nStopping Commonshed ...")
    finally:
        supervisor.stop_all()
        click.echo("Stopped.")


def _watch(supervisor: Supervisor) -> None:
    """Wait until a part dies (then say which and where its log is) or Ctrl-C."""
    while (dead := supervisor.first_exited()) is None:
        time.sleep(0.5)
    raise click.ClickException(
        f"{dead.name} stopped (exit {dead.process.returncode}); see "
        f"{supervisor.log_dir / (dead.name + '.log')}")


def _print_where_to_go(host: str, web_port: int, data: Path) -> None:
    base = f"http://{host}:{web_port}"
    click.echo(f"""
Commonshed is running. Data and logs: {data}
  Tool library (open records)  {base}/
Press Ctrl-C to stop everything.
""")
