"""Gather the whole schema: import every hub module so ``SQLModel.metadata`` holds every table.

Alembic's environment and the test fixtures import this. Nothing is listed by hand: a table
defined in any module under ``hub/`` is found, so a new feature cannot forget to register one.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlmodel import SQLModel

import hub

# Modules that are doors or programs rather than holders of tables: importing them would pull
# in click and the MQTT client for nothing.
_NOT_SCHEMA = ("hub.cli", "hub.commands", "hub.infra.migrations")


def import_all_tables() -> None:
    """Import every module under ``hub`` so each table registers itself."""
    for module in pkgutil.walk_packages(hub.__path__, prefix="hub."):
        if not module.name.startswith(_NOT_SCHEMA):
            importlib.import_module(module.name)


import_all_tables()
metadata = SQLModel.metadata
