"""``commonshed hub member edit``, ``card lost`` and ``training revoke``: the members' doors the
older commands of ``hub.cli`` lacked.

Each goes through the hub service the pages and the API use, acting as the operator, so each is
audited alike.
"""

from __future__ import annotations

import click

from hub.cli import Hub, card, member, pass_hub, training
from hub.infra.db import transaction
from hub.members import cards, roster, standing, trainings
from hub.members.ranks import OPERATOR


def register(hub_group: click.Group) -> None:
    """Add the members' commands to the existing ``member``, ``card`` and ``training`` groups."""
    member.add_command(member_edit)
    card.add_command(card_lost)
    training.add_command(training_revoke)


@click.command("edit")
@click.argument("number")
@click.option("--name", default=None, help="A new name.")
@click.option("--email", default=None, help="A new email ('' clears it).")
@click.option("--phone", default=None, help="A new phone number ('' clears it).")
@pass_hub
def member_edit(
    hub: Hub, number: str, name: str | None, email: str | None, phone: str | None
) -> None:
    """Change member NUMBER's name, email or phone (only the options given); audited."""
    typed = {"name": name, "email": email, "phone": phone}
    changes = {key: value for key, value in typed.items() if value is not None}
    if not changes:
        raise click.UsageError("Give at least one of --name, --email, --phone.")
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        edited = standing.edit_member(session, OPERATOR, found.id, changes)
        click.echo(
            f"Member {edited.number}: {edited.name}, {edited.email or 'no email'}, "
            f"{edited.phone or 'no phone'}."
        )


@click.command("lost")
@click.argument("uid")
@pass_hub
def card_lost(hub: Hub, uid: str) -> None:
    """Revoke card UID as lost (audited); its holder's other cards still work."""
    with transaction(hub.migrated_engine()) as session:
        held = roster.card_by_uid(session, uid)
        lost = cards.report_lost(session, OPERATOR, held.member_id, uid)
        holder = roster.get_member(session, lost.member_id)
        click.echo(f"Card {lost.uid} of member {holder.number} revoked as lost.")


@click.command("revoke")
@click.argument("number")
@click.argument("code")
@pass_hub
def training_revoke(hub: Hub, number: str, code: str) -> None:
    """Take training CODE away from member NUMBER; audited."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        trainings.revoke_training(session, OPERATOR, found.id, code)
    click.echo(f"Member {number} no longer holds {code}.")
