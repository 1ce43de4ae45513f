"""The sync version: one number that moves whenever something a kiosk must know changes.

Any ORM flush that touches members, cards, trainings, tools, lockers or kiosks bumps it in the
same transaction; the allow-list publisher polls it (a one-row read) and republishes when it
moves. Writes that bypass the ORM (CSV imports) call :func:`bump` themselves.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session, SQLModel

# What a kiosk's allow-list and configuration are built from.
WATCHED_TABLES = frozenset(
    {"member", "card", "training", "membertraining", "tool", "locker", "kiosk"}
)


class SyncState(SQLModel, table=True):
    id: int = Field(default=1, primary_key=True)
    version: int = 0


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


@event.listens_for(OrmSession, "before_flush")
def _bump_when_kiosk_data_changes(
    session: OrmSession, _flush_context: object, _instances: object
) -> None:
    touched = chain(session.new, session.dirty, session.deleted)
    if any(getattr(row, "__tablename__", None) in WATCHED_TABLES for row in touched):
        bump(session)
