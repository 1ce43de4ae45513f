"""The sync version: one number that moves whenever something a kiosk must know changes.

A table whose rows reach kiosks (in the allow-list or a kiosk's configuration) says so by
inheriting :class:`KioskVisible`. Any flush of the hub's own sessions (``hub.infra.db``) that
touches such a row bumps the version in the same transaction; the allow-list publisher polls it
(a one-row read) and republishes when it moves. Writes that bypass the ORM (CSV imports) call
:func:`bump` themselves.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Field, Session, SQLModel


class KioskVisible:
    """Mark a table whose changes kiosks must learn of: a flush touching it bumps the version."""


class SyncState(SQLModel, table=True):
    id: int = Field(default=1, primary_key=True)
    version: int = 0


def watched_tables() -> frozenset[str]:
    """Return the names of the kiosk-visible tables, as the models declare them."""
    return frozenset(
        mapper.local_table.name
        for mapper in SQLModel._sa_registry.mappers
        if issubclass(mapper.class_, KioskVisible)
    )


def bump(session: Session) -> None:
    """Move the sync version on, inside the caller's transaction."""
    connection = session.connection()
    moved = connection.execute(
        update(SyncState).where(SyncState.id == 1).values(version=SyncState.version + 1)
    )
    if moved.rowcount == 0:  # an emptied table (the migration seeds the row): start again
        connection.execute(insert(SyncState).values(id=1, version=2))


def current_version(session: Session) -> int:
    """Return the sync version (0 before anything was synced)."""
    state = session.get(SyncState, 1)
    return state.version if state else 0


def bump_when_kiosk_data_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Bump the version if this flush adds, changes or deletes a kiosk-visible row, once per
    transaction: the publisher reads the version after the commit, so one move is enough.

    NOTE: inside a savepoint it bumps every time (a savepoint rolled back takes its bump with
    it); an ingest batch of 500 events otherwise bumped the one row 190 times.
    """
    touched = chain(session.new, session.dirty, session.deleted)
    if not any(isinstance(row, KioskVisible) for row in touched):
        return
    root = session.get_transaction()
    if session.in_nested_transaction():
        bump(session)
    elif session.info.get("bumped_in") is not root:
        bump(session)
        session.info["bumped_in"] = root
