"""``commonshed hub sites ...``: the sheds of the network, who may borrow at each, and each
site's bridge login on the network's broker.

The commands act as the operator through the audited services (``hub.inventory.sites``), so
what they change is in the audit log like a steward's page or API call. The bridge login is
made on the broker kept in the broker's data directory (the hub's data directory unless
``--broker-data-dir`` says otherwise), as ``commonshed broker`` does.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click

from broker.provision import DEFAULT_PORT
from hub.infra.db import reading, transaction
from hub.inventory import sites as site_doors
from hub.members.ranks import OPERATOR
from hub.queries import sites as site_rows

if TYPE_CHECKING:
    from hub.cli import Hub

# NOTE: the hub group's object is the Hub (see hub.commands.inventory for why not pass_hub).
pass_hub = click.pass_obj

_BROKER_DATA_DIR = click.option(
    "--broker-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where `commonshed broker` keeps its files (default: the hub's data dir).",
)
_REASON = click.option("--reason", default=None, help="Why, for the audit log.")
_POLICY = click.Choice([policy.value for policy in site_doors.SitePolicy])


def register(hub_group: click.Group) -> None:
    """Add the ``sites`` group to ``commonshed hub``."""
    hub_group.add_command(sites)


@click.group()
def sites() -> None:
    """The network's sites: who may borrow at each (stewards always may), bridge logins."""


@sites.command("list")
@pass_hub
def site_list(hub: Hub) -> None:
    """List each site: its policy, link, kiosks, members listed and cards on its allow-list."""
    with reading(hub.migrated_engine()) as session:
        for row in site_rows.site_summaries(session):
            link = "never seen" if row.link is None else ("up" if row.link.connected else "cut off")
            click.echo(
                f"{row.site.id}  {row.site.name}  policy {row.site.policy}  link {link}  "
                f"bridge {row.bridge}  kiosks {','.join(row.kiosks) or '-'}  "
                f"listed {len(row.members)}  cards {row.cards}"
            )


@sites.command("add")
@click.argument("site_id")
@click.option("--name", required=True)
@click.option("--policy", type=_POLICY, default="everyone", show_default=True)
@pass_hub
def site_add(hub: Hub, site_id: str, name: str, policy: str) -> None:
    """Add site SITE_ID (who may borrow there: everyone, or the listed members)."""
    with transaction(hub.migrated_engine()) as session:
        added = site_doors.add_site(session, OPERATOR, site_id, name=name, policy=policy)
        said = f"Site {added.id} ({added.name}) added, policy {added.policy}."
    click.echo(said)


@sites.command("rename")
@click.argument("site_id")
@click.argument("name")
@pass_hub
def site_rename(hub: Hub, site_id: str, name: str) -> None:
    """Give site SITE_ID the name NAME."""
    with transaction(hub.migrated_engine()) as session:
        renamed = site_doors.rename_site(session, OPERATOR, site_id, name).name
    click.echo(f"Site {site_id} is now called {renamed}.")


@sites.command("policy")
@click.argument("site_id")
@click.argument("policy", type=_POLICY)
@pass_hub
def site_policy(hub: Hub, site_id: str, policy: str) -> None:
    """Say who may borrow at SITE_ID: everyone, or the listed members (stewards always may)."""
    with transaction(hub.migrated_engine()) as session:
        site_doors.set_policy(session, OPERATOR, site_id, policy)
    who = "everyone" if policy == "everyone" else "its listed members and stewards"
    click.echo(f"At site {site_id} {who} may borrow; its kiosks get the new allow-list.")


@sites.command("allow")
@click.argument("site_id")
@click.argument("numbers", nargs=-1, required=True)
@pass_hub
def site_allow(hub: Hub, site_id: str, numbers: tuple[str, ...]) -> None:
    """List members NUMBERS at SITE_ID (all of them, or none)."""
    with transaction(hub.migrated_engine()) as session:
        for number in numbers:
            site_doors.allow_member(session, OPERATOR, site_id, number)
    click.echo(f"Allowed at site {site_id}: {', '.join(numbers)}.")


@sites.command("disallow")
@click.argument("site_id")
@click.argument("number")
@pass_hub
def site_disallow(hub: Hub, site_id: str, number: str) -> None:
    """Take member NUMBER off SITE_ID's list."""
    with transaction(hub.migrated_engine()) as session:
        site_doors.disallow_member(session, OPERATOR, site_id, number)
    click.echo(f"Member {number} is no longer listed at site {site_id}.")


@sites.command("provision")
@click.argument("site_id")
@_BROKER_DATA_DIR
@click.option("--central-host", default=None, help="This broker, as the site sees it [this host].")
@click.option("--central-port", default=DEFAULT_PORT, show_default=True)
@_REASON
@pass_hub
def site_provision(
    hub: Hub,
    site_id: str,
    broker_data_dir: Path | None,
    central_host: str | None,
    central_port: int,
    reason: str | None,
) -> None:
    """Give SITE_ID's bridge a new login on the network's broker and print it (shown once),
    with the commands for the site's box. Its old password, if any, stops working."""
    broker_dir = broker_data_dir or hub.data_dir
    with transaction(hub.migrated_engine()) as session:
        login = site_doors.provision_bridge(session, OPERATOR, site_id, broker_dir, reason)
    host = central_host or socket.getfqdn()
    click.echo(f"Site {login.site}'s bridge logs in as {login.username}; password (shown once):")
    click.echo(login.password)
    click.echo("On the site's box:")
    for line in login.setup_commands(host, central_port):
        click.echo(f"  {line}")


@sites.command("revoke")
@click.argument("site_id")
@_BROKER_DATA_DIR
@_REASON
@pass_hub
def site_revoke(hub: Hub, site_id: str, broker_data_dir: Path | None, reason: str | None) -> None:
    """Remove SITE_ID's bridge login: the bridge is cut off and cannot log in again."""
    with transaction(hub.migrated_engine()) as session:
        broker_dir = broker_data_dir or hub.data_dir
        site_doors.revoke_bridge(session, OPERATOR, site_id, broker_dir, reason)
    click.echo(f"Site {site_id}'s bridge is cut off if it was connected, and can no longer log in.")
