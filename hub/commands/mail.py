"""``commonshed hub mail ...``: the reminder mail, from the shell (as the operator)."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli import Hub, pass_hub
from hub.infra.db import transaction
from hub.mail import reminders, sink

SINK_PORT = 8025


def register(hub_group: click.Group) -> None:
    """Add the ``mail`` group to ``commonshed hub``."""
    hub_group.add_command(mail)


@click.group()
def mail() -> None:
    """Reminder mail: send what is due now, or run a local mail sink for the demo."""


@mail.command("send")
@pass_hub
def mail_send(hub: Hub) -> None:
    """Queue the reminders due now and send the queued mail (the worker does this each pass)."""
    engine = hub.migrated_engine()
    with transaction(engine) as session:
        queued = reminders.queue_reminders(session)
    with transaction(engine) as session:
        sent = reminders.send_queued_mail(session)
    click.echo(f"Queued {queued} reminder(s); sent {sent} mail(s).")


@mail.command("sink")
@click.option("--port", default=SINK_PORT, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@pass_hub
def mail_sink(hub: Hub, port: int, host: str) -> None:
    """Accept mail on HOST:PORT and file each message under DATA_DIR/mail/ (never delivered)."""
    folder: Path = hub.data_dir / "mail"
    click.echo(f"Filing mail sent to {host}:{port} under {folder}")
    sink.serve(folder, host=host, port=port)
