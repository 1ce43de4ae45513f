"""``commonshed hub kiosk|locker|tool ...``: the inventory's doors for whoever holds the hub.

The commands act as the operator through the audited services (``hub.inventory.tools`` and
``hub.inventory.kiosks``), so what they change is in the audit log like a steward's page or
API call. Kiosk provisioning changes the broker kept in the broker's data directory (the hub's
data directory unless ``--broker-data-dir`` says otherwise), as ``commonshed broker`` does.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from broker.provision import DEFAULT_PORT
from broker.topics import Channel, kiosk_topic
from hub.infra.db import transaction
from hub.inventory import kiosks, registry, tools
from hub.members.ranks import OPERATOR

if TYPE_CHECKING:
    from hub.cli import Hub

# NOTE: the hub group's object is the Hub; not hub.cli's pass_hub, so that importing this module
# first (hub.infra.schema walks every module of the hub) does not import hub.cli half-way.
pass_hub = click.pass_obj

_BROKER_DATA_DIR = click.option(
    "--broker-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where `commonshed broker` keeps its files (default: the hub's data dir).",
)


def register(hub_group: click.Group) -> None:
    """Add the kiosk, locker and tool commands to their groups (the groups are ``hub.cli``'s)."""
    kiosk, locker, tool = (_group(hub_group, name) for name in ("kiosk", "locker", "tool"))
    for command in (kiosk_register, kiosk_rename, kiosk_provision, kiosk_revoke):
        kiosk.add_command(command)
    kiosk.add_command(kiosk_register, "add")
    for command in (locker_add, locker_remove):
        locker.add_command(command)
    for command in (tool_add, tool_edit, tool_move, tool_retire, tool_rename_category):
        tool.add_command(command)


def _group(hub_group: click.Group, name: str) -> click.Group:
    group = hub_group.commands[name]
    assert isinstance(group, click.Group), f"hub.cli's {name} is a group"
    return group


# --- kiosks -------------------------------------------------------------------------------


@click.command("register")
@click.argument("kiosk_id")
@click.option("--site", required=True)
@click.option("--name", required=True)
@click.option("--lockers", type=int, default=0, help="Also add lockers 1..N.")
@pass_hub
def kiosk_register(hub: Hub, kiosk_id: str, site: str, name: str, lockers: int) -> None:
    """Register a kiosk (then `kiosk provision` gives it its broker login)."""
    with transaction(hub.migrated_engine()) as session:
        added = kiosks.register_kiosk(
            session, OPERATOR, kiosk_id, site=site, name=name, slots=lockers
        )
        registered = f"Kiosk {added.id} registered at {added.site} with {lockers} lockers."
    click.echo(registered)


@click.command("rename")
@click.argument("kiosk_id")
@click.argument("name")
@pass_hub
def kiosk_rename(hub: Hub, kiosk_id: str, name: str) -> None:
    """Give kiosk KIOSK_ID the name NAME."""
    with transaction(hub.migrated_engine()) as session:
        renamed = kiosks.rename_kiosk(session, OPERATOR, kiosk_id, name).name
    click.echo(f"Kiosk {kiosk_id} is now called {renamed}.")


@click.command("provision")
@click.argument("kiosk_id")
@_BROKER_DATA_DIR
@click.option("--host", default=None, help="Broker host the kiosk connects to [this host].")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Broker port.")
@pass_hub
def kiosk_provision(
    hub: Hub, kiosk_id: str, broker_data_dir: Path | None, host: str | None, port: int
) -> None:
    """Give KIOSK_ID a new broker password and print its MQTT settings as JSON (shown once).

    Its old password, if it had one, stops working; a running broker takes the new one at once.
    """
    with transaction(hub.migrated_engine()) as session:
        login = kiosks.provision_kiosk(session, OPERATOR, kiosk_id, broker_data_dir or hub.data_dir)
    click.echo(json.dumps(_settings(login, host or socket.getfqdn(), port), indent=2))


def _settings(login: kiosks.KioskLogin, host: str, port: int) -> dict[str, Any]:
    """Return a kiosk's MQTT settings as `commonshed broker provision-kiosk` prints them."""
    return {
        "site": login.site,
        "kiosk_id": login.kiosk_id,
        "mqtt": {
            "host": host,
            "port": port,
            "username": login.username,
            "password": login.password,
            "client_id": login.client_id,
        },
        "topics": {c.value: kiosk_topic(login.site, login.kiosk_id, c) for c in Channel},
    }


@click.command("revoke")
@click.argument("kiosk_id")
@_BROKER_DATA_DIR
@pass_hub
def kiosk_revoke(hub: Hub, kiosk_id: str, broker_data_dir: Path | None) -> None:
    """Remove KIOSK_ID's broker login: it is disconnected and cannot log in again."""
    with transaction(hub.migrated_engine()) as session:
        kiosks.revoke_kiosk(session, OPERATOR, kiosk_id, broker_data_dir or hub.data_dir)
    click.echo(f"Kiosk {kiosk_id} is disconnected if it was connected, and can no longer log in.")


# --- lockers ------------------------------------------------------------------------------


@click.command("add")
@click.argument("kiosk_id")
@click.argument("slots", nargs=-1, required=True)
@click.option("--label", default=None)
@pass_hub
def locker_add(hub: Hub, kiosk_id: str, slots: tuple[str, ...], label: str | None) -> None:
    """Add lockers SLOTS (e.g. `9`, `9-12`, `1-4,7`) to kiosk KIOSK_ID: all, or none."""
    wanted = kiosks.parse_slots(",".join(slots))
    with transaction(hub.migrated_engine()) as session:
        kiosks.add_lockers(session, OPERATOR, kiosk_id, wanted, label=label)
    listed = ", ".join(str(slot) for slot in wanted)
    click.echo(f"Locker{'s' if len(wanted) > 1 else ''} {listed} added to {kiosk_id}.")


@click.command("remove")
@click.argument("kiosk_id")
@click.argument("slot", type=int)
@pass_hub
def locker_remove(hub: Hub, kiosk_id: str, slot: int) -> None:
    """Remove empty locker SLOT from kiosk KIOSK_ID."""
    with transaction(hub.migrated_engine()) as session:
        kiosks.remove_locker(session, OPERATOR, kiosk_id, slot)
    click.echo(f"Locker {slot} removed from {kiosk_id}.")


# --- tools --------------------------------------------------------------------------------


@click.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--category", required=True)
@click.option("--kiosk", "kiosk_id", default=None, help="Kiosk of the home locker.")
@click.option("--slot", type=int, default=None, help="Slot of the home locker.")
@click.option("--training", default=None, help="Training code the tool requires.")
@click.option("--loan-days", type=int, default=7, show_default=True)
@click.option("--notes", default=None, help="For stewards: where the spare blades are, say.")
@pass_hub
def tool_add(hub: Hub, code: str, **fields: Any) -> None:
    """Add tool CODE (its asset tag) to the library."""
    with transaction(hub.migrated_engine()) as session:
        added = tools.add_tool(session, OPERATOR, code=code, **fields)
        said = f"Tool {added.code} {added.name} added."
    click.echo(said)


@click.command("edit")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--category", default=None)
@click.option("--training", default=None, help="Training code it requires; '' for none.")
@click.option("--loan-days", type=int, default=None)
@click.option("--notes", default=None, help="'' clears them.")
@pass_hub
def tool_edit(hub: Hub, code: str, **fields: Any) -> None:
    """Change tool CODE's name, category, required training, loan days or notes."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("Say what to change: --name, --category, --training, ...")
    with transaction(hub.migrated_engine()) as session:
        found = registry.tool_by_code(session, code)
        tools.edit_tool(session, OPERATOR, found.id, **changes)
        said = f"Tool {found.code} changed: {', '.join(sorted(changes))}."
    click.echo(said)


@click.command("move")
@click.argument("code")
@click.argument("kiosk_id")
@click.argument("slot", type=int)
@pass_hub
def tool_move(hub: Hub, code: str, kiosk_id: str, slot: int) -> None:
    """Make locker SLOT of kiosk KIOSK_ID the home of tool CODE."""
    with transaction(hub.migrated_engine()) as session:
        found = registry.tool_by_code(session, code)
        tools.move_tool(session, OPERATOR, found.id, kiosk_id, slot)
        said = f"Tool {found.code} now lives in locker {slot} at {kiosk_id}."
    click.echo(said)


@click.command("retire")
@click.argument("code")
@click.option("--reason", required=True, help="Kept with the tool and in the audit log.")
@pass_hub
def tool_retire(hub: Hub, code: str, reason: str) -> None:
    """Retire tool CODE for good (not while it is on loan); its locker is freed."""
    with transaction(hub.migrated_engine()) as session:
        found = registry.tool_by_code(session, code)
        tools.retire_tool(session, OPERATOR, found.id, reason)
        said = f"Tool {found.code} retired: {reason}"
    click.echo(said)


@click.command("rename-category")
@click.argument("old")
@click.argument("new")
@pass_hub
def tool_rename_category(hub: Hub, old: str, new: str) -> None:
    """Move every tool of category OLD to category NEW."""
    with transaction(hub.migrated_engine()) as session:
        count = tools.rename_category(session, OPERATOR, old, new)
    click.echo(f"{count} tool(s) moved from {old!r} to {new!r}.")
