"""More ``commonshed hub`` commands, one module per area of the hub.

Each module here has ``register(hub_group)``, which adds its commands (or its subgroup) to the
``commonshed hub`` group of ``hub.cli``; the modules may import ``hub.cli`` for ``pass_hub`` and
the existing subgroups. Listed by name so adding an area is one line.

- ``bookings``   ``commonshed hub resource``: add and edit machines, close days, pause them
"""

from __future__ import annotations

import importlib

import click

AREAS: tuple[str, ...] = ("bookings",)


def register(hub_group: click.Group) -> None:
    """Add every area's commands to ``hub_group``."""
    for area in AREAS:
        importlib.import_module(f"hub.commands.{area}").register(hub_group)
