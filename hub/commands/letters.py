"""``commonshed hub letters ...``: the dead letters (what the hub could not take) and settling
them from the hub's shell, acting as the operator (audited like every door)."""

from __future__ import annotations

import click

from hub.cli import Hub, pass_hub
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.worker import inbox, letters
from hub.worker.inbox import DeadLetter


def register(hub_group: click.Group) -> None:
    """Add ``letters`` to ``commonshed hub``."""
    hub_group.add_command(letters_group)


@click.group("letters")
def letters_group() -> None:
    """Dead letters: messages the hub could not take, each kept until a steward settles it."""


@letters_group.command("list")
@click.option("--all", "every", is_flag=True, help="Settled letters too.")
@pass_hub
def letters_list(hub: Hub, every: bool) -> None:
    """List the newest dead letters waiting for a steward (with --all, settled ones too)."""
    with reading(hub.migrated_engine()) as session:
        rows = inbox.dead_letters(session, limit=100, unsettled=not every)
    for letter in rows:
        click.echo(_line(letter))
    if not rows:
        click.echo("No dead letters wait." if not every else "No dead letters.")


@letters_group.command("apply")
@click.argument("letter_id", type=int)
@pass_hub
def letters_apply(hub: Hub, letter_id: int) -> None:
    """Apply dead letter LETTER_ID's event again, as if it had just arrived."""
    with transaction(hub.migrated_engine()) as session:
        click.echo(_line(letters.apply_again(session, OPERATOR, letter_id)))


@letters_group.command("set-aside")
@click.argument("letter_id", type=int)
@click.option("--note", required=True, help="Why it is settled without applying it.")
@pass_hub
def letters_set_aside(hub: Hub, letter_id: int, note: str) -> None:
    """Settle dead letter LETTER_ID without applying it, saying why."""
    with transaction(hub.migrated_engine()) as session:
        click.echo(_line(letters.set_aside(session, OPERATOR, letter_id, note)))


def _line(letter: DeadLetter) -> str:
    state = f"settled: {letter.settlement}" if letter.settled_at else "waiting"
    when = f"{letter.received_at:%Y-%m-%d %H:%M}Z"
    return "\t".join((str(letter.id), when, letter.topic, state, letter.reason))
