"""The audit log: who did what to which record, when, and what it looked like before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import inspect
from sqlmodel import Field, Session, SQLModel, select

from hub.infra.clock import utcnow


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    action: str = Field(max_length=60)
    target: str = Field(max_length=120, index=True)
    before: str | None = None
    after: str | None = None


class Acting(Protocol):
    """Whoever acts: a member (their id) or the operator at the hub's shell (id None)."""

    @property
    def id(self) -> int | None: ...


@dataclass(frozen=True)
class Action:
    """A kind of audited change: its name in the log and the fields of its record it shows.

    Defined once, beside the model it changes, so every door (page, API, CLI) records the
    same action alike: ``TOOL_RETIRE = audit.Action("tool.retire", ("status", "retired_at"))``.
    """

    name: str
    fields: tuple[str, ...]


@contextmanager
def audited(
    session: Session, actor: Acting, action: Action, row: SQLModel, target: str
) -> Iterator[dict[str, Any]]:
    """Record ``action`` by ``actor`` on ``row``: its fields before and after the block, in the
    caller's transaction, so the entry stands or falls with the change.

    The block may add notes the row has no column for (a reason, a count) to the yielded dict;
    they are kept with the after-image. A row created in the block has no before-image: pass a
    new row (no primary key yet) and it is recorded as created.
    """
    created = _is_new(row)
    before = None if created else snapshot(row, *action.fields)
    notes: dict[str, Any] = {}
    yield notes
    session.flush()  # the new row's id, and defaults, for the after-image
    record(
        session,
        actor_member_id=actor.id,
        action=action.name,
        target=target,
        before=before,
        after=snapshot(row, *action.fields) | notes,
    )


def _is_new(row: SQLModel) -> bool:
    state = inspect(row)
    return bool(state.transient or state.pending)


def record(
    session: Session,
    *,
    actor_member_id: int | None,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write an audit entry in the caller's transaction, so it stands or falls with the change."""
    entry = AuditEntry(
        actor_member_id=actor_member_id,
        action=action,
        target=target,
        before=_dump(before),
        after=_dump(after),
    )
    session.add(entry)
    return entry


def snapshot(row: SQLModel, *fields: str) -> dict[str, Any]:
    """Return the named fields of ``row`` (all of them if none are named) for an audit entry."""
    data = row.model_dump()
    return {key: data[key] for key in fields} if fields else data


def recent(session: Session, *, limit: int = 100, target: str | None = None) -> list[AuditEntry]:
    """Return the newest audit entries, optionally for one target."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    return list(session.exec(query))


def _dump(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, default=str, sort_keys=True)
