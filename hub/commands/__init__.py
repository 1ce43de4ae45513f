"""More ``commonshed hub`` commands, one module per area of the hub.

Each module here has ``register(hub_group)``, which adds its commands (or its subgroup) to the
``commonshed hub`` group of ``hub.cli``; the modules may import ``hub.cli`` for ``pass_hub`` and
the existing subgroups. Listed by name so adding an area is one line.

- ``mail``  send the reminders due now; the local mail sink ``commonshed up`` runs
- ``holds``  ``hold`` queues and the borrowing ``policy``
- ``inventory``  kiosks (register, rename, provision, revoke), lockers, tools (add, edit, move,
  retire, rename a category)
- ``upkeep``  plans, services, tickets, repair claims and the ledger's corrections; ``loan return``
- ``members``  member edit, card lost, training revoke (the members' doors ``hub.cli`` lacked)
- ``bookings``   ``commonshed hub resource``: add and edit machines, close days, pause them;
  ``member lift-booking-pause``
- ``sites``  the network's sites: add, rename, who may borrow (policy, allow, disallow), the
  bridge's login (provision, revoke)
- ``market``  categories, hiding a post, deciding proposals, paying a spend, asking fixers,
  exporting the open records
- ``letters``  dead letters: list them, apply one again, set one aside
- ``reports``  the reports for the whole network or one site, as text or JSON
"""

from __future__ import annotations

import importlib

import click

AREAS: tuple[str, ...] = (
    "mail",
    "holds",
    "inventory",
    "upkeep",
    "members",
    "market",
    "bookings",
    "letters",
    "sites",
    "reports",
)


def register(hub_group: click.Group) -> None:
    """Add every area's commands to ``hub_group``."""
    for area in AREAS:
        importlib.import_module(f"hub.commands.{area}").register(hub_group)
